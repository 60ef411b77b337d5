/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "tests.h"
#include "user-record.h"
#include "util/util.h"

/* The lookup reads /etc/passwd and /etc/group of the current root: the host's here, which
 * has root on every system. */
TEST(root_by_name_and_uid) {
        static const char *const users[] = { "root", "0" };
        for (size_t i = 0; i < ELEMENTSOF(users); i++) {
                const char *u = users[i];
                struct passwd pw;
                char *buf = NULL;
                gid_t groups[8];
                int n = ELEMENTSOF(groups);

                ASSERT_OK(user_record_lookup(u, &pw, &buf, groups, &n));
                ASSERT_EQ(pw.pw_uid, 0);
                ASSERT_STREQ(pw.pw_name, "root");
                ASSERT_TRUE(pw.pw_dir && pw.pw_dir[0] == '/');
                ASSERT_TRUE(pw.pw_shell);
                ASSERT_TRUE(n >= 1);
                ASSERT_EQ(groups[0], pw.pw_gid);
                free(buf);
        }
}

TEST(unknown_user) {
        struct passwd pw;
        char *buf = NULL;
        gid_t groups[4];
        int n = ELEMENTSOF(groups);

        ASSERT_ERROR(user_record_lookup("no-such-user-nspawnctl", &pw, &buf, groups, &n), ESRCH);
        n = ELEMENTSOF(groups);
        ASSERT_ERROR(user_record_lookup("4294967294", &pw, &buf, groups, &n), ESRCH);
        ASSERT_TRUE(buf == NULL);
}

TEST(no_room_for_groups) {
        struct passwd pw;
        char *buf = NULL;
        gid_t groups[1];
        int n = 0;

        ASSERT_ERROR(user_record_lookup("root", &pw, &buf, groups, &n), EINVAL);
}

/* --- a guest's files, in a tree of our own --------------------------------------------- */

typedef struct Tree {
        char path[64];
        int fd;
} Tree;

static void tree_done(Tree *t) {
        char cmd[96];
        safe_close(t->fd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
        (void) system(cmd);
}

static int tree_make(Tree *t) {
        snprintf(t->path, sizeof t->path, "%s/user-record.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(t->path))
                return -errno;
        t->fd = open(t->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t->fd < 0 || mkdirat(t->fd, "etc", 0755) < 0)
                return -errno;
        return 0;
}

static int tree_write(Tree *t, const char *name, const char *content) {
        _cleanup_close_ int fd = openat(t->fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        return loop_write(fd, content, strlen(content));
}

static const char passwd[] =
        "root:x:0:0:root:/root:/bin/bash\n"
        "+nis::0:0:::\n"
        "broken line\n"
        "bad-uid:x:12a:100::/home/b:/bin/sh\n"
        "neg:x:-1:100::/home/n:/bin/sh\n"
        "huge-uid:x:4294967295:100::/home/h:/bin/sh\n"
        "too:many:1:1:a:b:c:d\n"
        ":x:7:7::/:/bin/sh\n"
        "alice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh\n"
        "noshell:x:1001:1001::/home/n:\n"
        "alice:x:2000:2000:second:/nowhere:/bin/false\n"
        "last:x:1002:1002::/home/last:/bin/sh"; /* no final newline */

static const char group[] =
        "root:x:0:\n"
        "adm:x:4:alice,bob\n"
        "sudo:x:27:bob,alice\n"
        "own:x:1000:alice\n" /* her primary group: not twice */
        "bad:x:zz:alice\n"
        "similar:x:50:alicex,xalice\n"
        "users:x:100:last\n";

static const struct {
        const char *user;
        int r;
        unsigned uid, gid;
        const char *home, *shell;
        int n_groups;
} lookup_table[] = {
        { "root", 0, 0, 0, "/root", "/bin/bash", 1 },
        { "0", 0, 0, 0, "/root", "/bin/bash", 1 },
        { "alice", 0, 1000, 1000, "/home/alice", "/bin/zsh", 3 }, /* the first alice wins */
        { "1000", 0, 1000, 1000, "/home/alice", "/bin/zsh", 3 },
        { "2000", 0, 2000, 2000, "/nowhere", "/bin/false", 4 }, /* own counts: not primary */
        { "noshell", 0, 1001, 1001, "/home/n", "/bin/sh", 1 },
        { "last", 0, 1002, 1002, "/home/last", "/bin/sh", 2 },
        { "bad-uid", -ESRCH },
        { "neg", -ESRCH },
        { "huge-uid", -ESRCH },
        { "too", -ESRCH },
        { "nis", -ESRCH },
        { "+nis", -ESRCH },
        { "broken line", -ESRCH },
        { "7", -ESRCH },
        { "4294967295", -ESRCH },
        { "bob", -ESRCH },
};

TEST(lookup_table) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };

        ASSERT_OK(tree_make(&t));
        ASSERT_OK(tree_write(&t, "etc/passwd", passwd));
        ASSERT_OK(tree_write(&t, "etc/group", group));
        for (size_t i = 0; i < ELEMENTSOF(lookup_table); i++) {
                struct passwd pw;
                _cleanup_free_ char *buf = NULL;
                gid_t groups[8];
                int n = ELEMENTSOF(groups);
                int r = user_record_lookup_at(t.fd, lookup_table[i].user, &pw, &buf, groups, &n);

                if (r != lookup_table[i].r)
                        fprintf(stderr, "user %s\n", lookup_table[i].user);
                ASSERT_EQ(r, lookup_table[i].r);
                if (r < 0)
                        continue;
                ASSERT_EQ(pw.pw_uid, lookup_table[i].uid);
                ASSERT_EQ(pw.pw_gid, lookup_table[i].gid);
                ASSERT_STREQ(pw.pw_dir, lookup_table[i].home);
                ASSERT_STREQ(pw.pw_shell, lookup_table[i].shell);
                ASSERT_EQ(n, lookup_table[i].n_groups);
                ASSERT_EQ(groups[0], pw.pw_gid);
        }

        /* room for two groups: the primary one and the first supplementary */
        struct passwd pw;
        _cleanup_free_ char *buf = NULL;
        gid_t groups[2];
        int n = ELEMENTSOF(groups);
        ASSERT_OK(user_record_lookup_at(t.fd, "alice", &pw, &buf, groups, &n));
        ASSERT_EQ(n, 2);
        ASSERT_EQ(groups[1], 4);
        ASSERT_STREQ(pw.pw_gecos, "Alice,,,");
}

/* The lookup on the texts themselves: sizes, not NULs, end them; no group text, no
 * supplementary groups. */
TEST(parse_texts) {
        static const char pw_text[] = "ro\0ot:x:5:5::/a:/b\nroot:x:0:0::/root:/bin/sh\nbob:x:9:9::/b:/s\n";
        static const char gr_text[] = "wheel:x:10:root\n";
        struct passwd pw;
        char *buf = NULL;
        gid_t groups[4];
        int n = ELEMENTSOF(groups);

        ASSERT_OK(user_record_parse(pw_text, sizeof pw_text - 1, gr_text, sizeof gr_text - 1, "root", &pw, &buf,
                                    groups, &n));
        ASSERT_EQ(pw.pw_uid, 0);
        ASSERT_STREQ(pw.pw_dir, "/root");
        ASSERT_EQ(n, 2);
        ASSERT_EQ(groups[1], 10);
        free(buf);
        buf = NULL;

        n = ELEMENTSOF(groups);
        ASSERT_OK(user_record_parse(pw_text, sizeof pw_text - 1, NULL, 0, "root", &pw, &buf, groups, &n));
        ASSERT_EQ(n, 1);
        free(buf);
        buf = NULL;

        /* A size that ends the text before bob's line: he is not there. */
        size_t before_bob = (size_t) (strstr(pw_text + 3, "bob") - pw_text);
        n = ELEMENTSOF(groups);
        ASSERT_OK(user_record_parse(pw_text, sizeof pw_text - 1, NULL, 0, "bob", &pw, &buf, groups, &n));
        free(buf);
        buf = NULL;
        ASSERT_ERROR(user_record_parse(pw_text, before_bob, NULL, 0, "bob", &pw, &buf, groups, &n), ESRCH);
        ASSERT_ERROR(user_record_parse(pw_text, sizeof pw_text - 1, NULL, 0, "ro", &pw, &buf, groups, &n), ESRCH);
        ASSERT_ERROR(user_record_parse(pw_text, sizeof pw_text - 1, NULL, 0, "", &pw, &buf, groups, &n), EINVAL);
        ASSERT_TRUE(buf == NULL);
}

TEST(hostile_files) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };
        struct passwd pw;
        char *buf = NULL;
        gid_t groups[4];
        int n = ELEMENTSOF(groups);

        ASSERT_OK(tree_make(&t));
        ASSERT_ERROR(user_record_lookup_at(t.fd, "root", &pw, &buf, groups, &n), ENOENT);
        /* a fifo: refused at once, not read */
        ASSERT_TRUE(mkfifoat(t.fd, "etc/passwd", 0644) >= 0);
        ASSERT_ERROR(user_record_lookup_at(t.fd, "root", &pw, &buf, groups, &n), EBADFD);
        /* a device node (root only) */
        ASSERT_TRUE(unlinkat(t.fd, "etc/passwd", 0) >= 0);
        if (mknodat(t.fd, "etc/passwd", S_IFCHR | 0666, makedev(5, 0)) >= 0)
                ASSERT_ERROR(user_record_lookup_at(t.fd, "root", &pw, &buf, groups, &n), EBADFD);
        (void) unlinkat(t.fd, "etc/passwd", 0);
        /* a group file that is a fifo: no supplementary groups, no hang */
        ASSERT_OK(tree_write(&t, "etc/passwd", "root:x:0:0::/root:/bin/sh\n"));
        ASSERT_TRUE(mkfifoat(t.fd, "etc/group", 0644) >= 0);
        ASSERT_OK(user_record_lookup_at(t.fd, "root", &pw, &buf, groups, &n));
        ASSERT_EQ(n, 1);
        free(buf);
}

TEST(long_lines) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *line = NULL;
        struct passwd pw;
        char *buf = NULL;
        gid_t groups[4];
        int n = ELEMENTSOF(groups);
        size_t big = 1 << 20;
        uint64_t t0;

        ASSERT_OK(tree_make(&t));
        /* A 1 MiB line in front of root: skipped, root still found. */
        line = malloc(big + 1);
        ASSERT_TRUE(line);
        memset(line, 'a', big);
        memcpy(line, "evil:x:0:0::/:", 14);
        line[big] = 0;
        fd = openat(t.fd, "etc/passwd", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(loop_write(fd, line, big));
        ASSERT_OK(loop_write(fd, "\nroot:x:0:0::/root:/bin/sh\n", 27));
        ASSERT_OK(user_record_lookup_at(t.fd, "root", &pw, &buf, groups, &n));
        ASSERT_STREQ(pw.pw_dir, "/root");
        free(buf);
        buf = NULL;
        ASSERT_ERROR(user_record_lookup_at(t.fd, "evil", &pw, &buf, groups, &n), ESRCH);

        /* A 30 MB line: refused from the file's size, at once. */
        t0 = now_usec(CLOCK_MONOTONIC);
        ASSERT_TRUE(ftruncate(fd, 30 << 20) >= 0);
        ASSERT_ERROR(user_record_lookup_at(t.fd, "root", &pw, &buf, groups, &n), EFBIG);
        fprintf(stderr, "(30 MB /etc/passwd refused in %llu µs)\n",
                (unsigned long long) (now_usec(CLOCK_MONOTONIC) - t0));
}
