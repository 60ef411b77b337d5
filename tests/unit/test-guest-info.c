/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest-info.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

static const struct {
        const char *text;
        const char *const want[12]; /* KEY, VALUE, ... NULL */
} env_table[] = {
        { "", { NULL } },
        { "ID=debian\n", { "ID", "debian", NULL } },
        { "ID=debian", { "ID", "debian", NULL } },
        { "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n",
          { "PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)", "ID", "debian", NULL } },
        { "NAME='single quoted'\n", { "NAME", "single quoted", NULL } },
        { "A=\"esc \\\"q\\\" \\\\ \\$x\"\n", { "A", "esc \"q\" \\x5c $x", NULL } },
        { "# comment\n\n   \nA=1\n", { "A", "1", NULL } },
        { "  A=1\n", { "A", "1", NULL } },
        { "A=1   \n", { "A", "1", NULL } },
        { "A=two words\nB=2\n", { "B", "2", NULL } },       /* unquoted blank: skipped */
        { "A=\"unterminated\nB=2\n", { "B", "2", NULL } }, /* skipped */
        { "1A=x\nA-B=y\n=z\nC=3\n", { "C", "3", NULL } },  /* bad keys: skipped */
        { "A=1\nA=2\n", { "A", "2", NULL } },                /* the last one wins */
        { "A=\n", { "A", "", NULL } },
        { "A=x\x1b[31my\n", { "A", "x\\x1b[31my", NULL } },  /* ESC escaped */
        { "A=\xc2\x9b" "2J\n", { "A", "\\u009b2J", NULL } }, /* C1 (CSI) escaped */
        { "A=\xff\xfe\n", { "A", "\\xff\\xfe", NULL } },     /* invalid UTF-8 escaped */
        { "A=caf\xc3\xa9\n", { "A", "caf\xc3\xa9", NULL } }, /* valid UTF-8 kept */
        { "no equals sign\nB=1\n", { "B", "1", NULL } },
        { "A=a\"b c\"d\n", { "A", "ab cd", NULL } },
};

TEST(env_text_parse_table) {
        for (size_t i = 0; i < ELEMENTSOF(env_table); i++) {
                _cleanup_strv_free_ char **l = NULL;
                size_t n = 0;
                ASSERT_OK(env_text_parse(env_table[i].text, &l));
                while (env_table[i].want[n])
                        n++;
                if (strv_length(l) != n)
                        fprintf(stderr, "case %zu: got %zu strings\n", i, strv_length(l));
                ASSERT_EQ(strv_length(l), n);
                for (size_t j = 0; j < n; j++)
                        ASSERT_STREQ(l[j], env_table[i].want[j]);
        }
}

TEST(env_text_parse_bounds) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *text = NULL, *big = NULL;
        size_t n = 0;

        /* More keys than allowed: the first GUEST_ENV_PAIRS_MAX are kept. */
        text = malloc(GUEST_ENV_PAIRS_MAX * 2 * 16);
        ASSERT_TRUE(text);
        for (unsigned i = 0; i < GUEST_ENV_PAIRS_MAX * 2; i++)
                n += (size_t) sprintf(text + n, "K%u=v\n", i);
        ASSERT_OK(env_text_parse(text, &l));
        ASSERT_EQ(strv_length(l), (size_t) GUEST_ENV_PAIRS_MAX * 2);
        l = strv_free(l);

        /* A huge value is cut. */
        big = malloc(3 + GUEST_VALUE_MAX * 2 + 1);
        ASSERT_TRUE(big);
        memcpy(big, "A=", 2);
        memset(big + 2, 'x', GUEST_VALUE_MAX * 2);
        big[2 + GUEST_VALUE_MAX * 2] = 0;
        ASSERT_OK(env_text_parse(big, &l));
        ASSERT_EQ(strv_length(l), (size_t) 2);
        ASSERT_TRUE(strlen(l[1]) <= GUEST_VALUE_MAX + 3);
}

TEST(guest_first_line) {
        static const char *const table[][2] = {
                { "box\n", "box" }, { "  box  \nother\n", "box" }, { "", "" },
                { "\n", "" }, { "a\x07" "b", "a\\x07b" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *s = NULL;
                ASSERT_OK(guest_first_line(table[i][0], &s));
                ASSERT_STREQ(s, table[i][1]);
        }
}

TEST(guest_read_file_at) {
        char dir[] = "/tmp/test-guest-file.XXXXXX";
        _cleanup_close_ int root = -EBADF;
        _cleanup_free_ char *s = NULL;
        char path[256];
        int fd;

        ASSERT_TRUE(mkdtemp(dir));
        root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(root >= 0);
        ASSERT_OK(mkdirat(root, "etc", 0755) < 0 ? -errno : 0);
        fd = openat(root, "etc/hostname", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(loop_write(fd, "box\n", 4));
        close(fd);
        ASSERT_OK(symlinkat("/etc/hostname", root, "etc/abs"));          /* inside the root */
        ASSERT_OK(symlinkat("../../../../../etc/passwd", root, "etc/up")); /* stays inside */
        ASSERT_OK(mkfifoat(root, "etc/fifo", 0644) < 0 ? -errno : 0);
        fd = openat(root, "etc/nul", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(loop_write(fd, "a\0b", 3));
        close(fd);
        fd = openat(root, "etc/big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(ftruncate(fd, 600 * 1024 * 1024) < 0 ? -errno : 0); /* sparse */
        close(fd);

        ASSERT_OK(guest_read_file_at(root, "/etc/hostname", 100, 0, &s, NULL));
        ASSERT_STREQ(s, "box\n");
        s = mfree(s);
        ASSERT_OK(guest_read_file_at(root, "etc/abs", 100, 0, &s, NULL));
        ASSERT_STREQ(s, "box\n");
        s = mfree(s);
        ASSERT_ERROR(guest_read_file_at(root, "/etc/up", 100, 0, &s, NULL), ENOENT);
        ASSERT_ERROR(guest_read_file_at(root, "/etc/fifo", 100, 0, &s, NULL), EBADFD);
        ASSERT_ERROR(guest_read_file_at(root, "/etc", 100, 0, &s, NULL), EBADFD);
        ASSERT_ERROR(guest_read_file_at(root, "/etc/nul", 100, 0, &s, NULL), EBADMSG);
        ASSERT_ERROR(guest_read_file_at(root, "/etc/big", GUEST_FILE_MAX, 0, &s, NULL), EFBIG);
        ASSERT_ERROR(guest_read_file_at(root, "/etc/hostname", 2, 0, &s, NULL), EFBIG);
        ASSERT_ERROR(guest_read_file_at(root, "", 2, 0, &s, NULL), EINVAL);
        ASSERT_OK(guest_read_first_at(root, (const char *const[]) { "/nope", "/etc/hostname", NULL }, 100, 0, &s));
        ASSERT_STREQ(s, "box\n");

        FOREACH_STRING(f, "etc/hostname", "etc/abs", "etc/up", "etc/fifo", "etc/nul", "etc/big") {
                snprintf(path, sizeof path, "%s/%s", dir, f);
                unlink(path);
        }
        snprintf(path, sizeof path, "%s/etc", dir);
        rmdir(path);
        rmdir(dir);
}
