/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "os-release.h"
#include "tests.h"
#include "util/util.h"

static const struct {
        const char *text, *pretty;
        int r;
} parse_table[] = {
        { "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n",
          "Debian GNU/Linux 12 (bookworm)", 0 },
        { "NAME=Fedora\n", "Fedora", 0 },
        { "NAME='single quoted'\n", "single quoted", 0 },
        { "PRETTY_NAME=\"a \\\"b\\\" \\\\ \\$c\"\n", "a \"b\" \\ $c", 0 },
        { "NAME=x\nPRETTY_NAME=\n", "x", 0 },
        { "PRETTY_NAME=\"trailing\"   \r\nNAME=y", "trailing", 0 },
        { "PRETTY_NAME=first\nPRETTY_NAME=last\n", "last", 0 },
        { "ID=debian\nVERSION_ID=12\n", NULL, -ENODATA },
        { "", NULL, -ENODATA },
        { "XPRETTY_NAME=no\n", NULL, -ENODATA },
        /* Escape sequences are data here; whoever prints them escapes them. */
        { "PRETTY_NAME=\"\x1b]0;owned\x07\"\n", "\x1b]0;owned\x07", 0 },
};

TEST(parse_pretty_name) {
        for (size_t i = 0; i < ELEMENTSOF(parse_table); i++) {
                _cleanup_free_ char *p = NULL;
                int r = os_release_parse_pretty_name(parse_table[i].text, &p);
                ASSERT_EQ(r, parse_table[i].r);
                if (r >= 0)
                        ASSERT_STREQ(p, parse_table[i].pretty);
        }
}

TEST(tree) {
        char dir[64], cmd[96];
        _cleanup_close_ int root = -EBADF, fd = -EBADF;
        _cleanup_free_ char *p = NULL;

        snprintf(dir, sizeof dir, "%s/os-release.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        ASSERT_TRUE(mkdtemp(dir));
        root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(root >= 0);
        ASSERT_TRUE(mkdirat(root, "etc", 0755) >= 0);
        ASSERT_TRUE(mkdirat(root, "usr", 0755) >= 0);
        ASSERT_TRUE(mkdirat(root, "usr/lib", 0755) >= 0);
        ASSERT_ERROR(os_release_pretty_name_at(root, &p), ENOENT);

        /* /usr/lib/os-release when /etc has none; /etc/os-release as a symlink to it */
        fd = openat(root, "usr/lib/os-release", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(loop_write(fd, "NAME=Lib\n", 9));
        fd = safe_close(fd);
        ASSERT_OK(os_release_pretty_name_at(root, &p));
        ASSERT_STREQ(p, "Lib");
        free(p);
        p = NULL;
        ASSERT_TRUE(symlinkat("../usr/lib/os-release", root, "etc/os-release") >= 0);
        ASSERT_OK(os_release_pretty_name_at(root, &p));
        ASSERT_STREQ(p, "Lib");
        free(p);
        p = NULL;

        /* a fifo at /etc/os-release: refused at once, no fallback to the other file */
        ASSERT_TRUE(unlinkat(root, "etc/os-release", 0) >= 0);
        ASSERT_TRUE(mkfifoat(root, "etc/os-release", 0644) >= 0);
        ASSERT_ERROR(os_release_pretty_name_at(root, &p), EBADFD);
        /* a sparse 600 MB one: refused from its size */
        ASSERT_TRUE(unlinkat(root, "etc/os-release", 0) >= 0);
        fd = openat(root, "etc/os-release", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(ftruncate(fd, (off_t) 600 << 20) >= 0);
        ASSERT_ERROR(os_release_pretty_name_at(root, &p), EFBIG);

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}
