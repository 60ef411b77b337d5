/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* read_guest_file() against what guest root can plant: a fifo, a device node, a socket, a
 * directory, symlinks out of the tree, a sparse file of 600 MB, a file that grows. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "tests.h"
#include "util/guest-file.h"
#include "util/util.h"

typedef struct Tree {
        char path[64];
        int fd;
} Tree;

static void tree_done(Tree *t) {
        char cmd[128];
        safe_close(t->fd);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
        (void) system(cmd);
}

/* A tree with etc/, a file "outside" next to it that no read may reach. */
static int tree_make(Tree *t) {
        char p[128];

        snprintf(t->path, sizeof t->path, "%s/guest-file.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(t->path))
                return -errno;
        snprintf(p, sizeof p, "%s/root", t->path);
        if (mkdir(p, 0755) < 0)
                return -errno;
        snprintf(p, sizeof p, "%s/root/etc", t->path);
        if (mkdir(p, 0755) < 0)
                return -errno;
        snprintf(p, sizeof p, "%s/outside", t->path);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (loop_write(fd, "SECRET\n", 7) < 0)
                return -EIO;
        snprintf(p, sizeof p, "%s/root", t->path);
        t->fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return t->fd < 0 ? -errno : 0;
}

static int tree_write(Tree *t, const char *name, const char *content) {
        _cleanup_close_ int fd = openat(t->fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        return loop_write(fd, content, strlen(content));
}

TEST(regular_file) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };
        _cleanup_free_ char *buf = NULL;
        size_t n;

        ASSERT_OK(tree_make(&t));
        ASSERT_OK(tree_write(&t, "etc/os-release", "NAME=Test\n"));
        ASSERT_OK(read_guest_file(t.fd, "/etc/os-release", 4096, 0, &buf, &n));
        ASSERT_STREQ(buf, "NAME=Test\n");
        ASSERT_EQ(n, 10);
        free(buf);
        buf = NULL;
        /* relative works the same; exactly max_size is allowed, one byte more is not */
        ASSERT_OK(read_guest_file(t.fd, "etc/os-release", 10, 0, &buf, &n));
        ASSERT_ERROR(read_guest_file(t.fd, "etc/os-release", 9, 0, &buf, &n), EFBIG);
        ASSERT_OK(tree_write(&t, "etc/empty", ""));
        free(buf);
        buf = NULL;
        ASSERT_OK(read_guest_file(t.fd, "/etc/empty", 0, 0, &buf, &n));
        ASSERT_EQ(n, 0);
        ASSERT_STREQ(buf, "");
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/missing", 10, 0, &buf, &n), ENOENT);
        ASSERT_ERROR(read_guest_file(t.fd, "", 10, 0, &buf, &n), EINVAL);
}

TEST(special_files_refused) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };
        _cleanup_close_ int sock = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char *buf = NULL;

        ASSERT_OK(tree_make(&t));
        /* A fifo without a writer: an open without O_NONBLOCK, or a read, would hang here. */
        ASSERT_TRUE(mkfifoat(t.fd, "etc/machine-id", 0644) >= 0 || errno == EEXIST);
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/machine-id", 64, 0, &buf, NULL), EBADFD);
        ASSERT_ERROR(open_guest_file(t.fd, "/etc/machine-id", 0, NULL), EBADFD);
        /* a directory */
        ASSERT_ERROR(read_guest_file(t.fd, "/etc", 64, 0, &buf, NULL), EBADFD);
        /* a socket */
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/root/etc/sock", t.path);
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(sock >= 0);
        ASSERT_TRUE(bind(sock, (struct sockaddr *) &sa, sizeof sa) >= 0);
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/sock", 64, 0, &buf, NULL), EBADFD);
        /* a symlink to a fifo inside the tree is the fifo */
        ASSERT_TRUE(symlinkat("machine-id", t.fd, "etc/link-to-fifo") >= 0);
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/link-to-fifo", 64, 0, &buf, NULL), EBADFD);
        ASSERT_TRUE(buf == NULL);
}

TEST(device_node_never_opened) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };
        char *buf = NULL;

        ASSERT_OK(tree_make(&t));
        /* /dev/tty: opening it would fail (ENXIO) without a controlling terminal, or
         * succeed; either way the refusal must come first, from the O_PATH check. A
         * block device (loop0) the same. Needs root for mknod. */
        if (mknodat(t.fd, "etc/passwd", S_IFCHR | 0666, makedev(5, 0)) < 0 && errno == EPERM) {
                fprintf(stderr, "(mknod needs root; device cases skipped)\n");
                return;
        }
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/passwd", 64, 0, &buf, NULL), EBADFD);
        ASSERT_TRUE(mknodat(t.fd, "etc/group", S_IFBLK | 0666, makedev(7, 0)) >= 0);
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/group", 64, 0, &buf, NULL), EBADFD);
        ASSERT_TRUE(mknodat(t.fd, "etc/null", S_IFCHR | 0666, makedev(1, 3)) >= 0);
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/null", 64, 0, &buf, NULL), EBADFD);
}

TEST(symlinks_stay_inside) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };
        _cleanup_free_ char *buf = NULL;
        char target[128];

        ASSERT_OK(tree_make(&t));
        ASSERT_OK(tree_write(&t, "outside", "inside\n"));
        /* The absolute path of the host file resolves inside the tree: there is no such
         * file there. */
        snprintf(target, sizeof target, "%s/outside", t.path);
        ASSERT_TRUE(symlinkat(target, t.fd, "etc/abs") >= 0);
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/abs", 64, 0, &buf, NULL), ENOENT);
        /* ".." beyond the root stays at the root: "../../outside" is the tree's /outside */
        ASSERT_TRUE(symlinkat("../../../../../outside", t.fd, "etc/rel") >= 0);
        ASSERT_OK(read_guest_file(t.fd, "/etc/rel", 64, 0, &buf, NULL));
        ASSERT_STREQ(buf, "inside\n");
        free(buf);
        buf = NULL;
        ASSERT_OK(read_guest_file(t.fd, "/../../outside", 64, 0, &buf, NULL));
        ASSERT_STREQ(buf, "inside\n");
        free(buf);
        buf = NULL;
        /* magic links are refused */
        ASSERT_TRUE(symlinkat("/proc/self/root/etc/hostname", t.fd, "etc/magic") >= 0);
        ASSERT_TRUE(read_guest_file(t.fd, "/etc/magic", 64, 0, &buf, NULL) < 0);
        /* no symlinks at all when asked */
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/rel", 64, GUEST_FILE_NO_SYMLINKS, &buf, NULL), ELOOP);
        ASSERT_TRUE(buf == NULL);
}

TEST(sparse_huge_file) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };
        _cleanup_close_ int fd = -EBADF;
        char *buf = NULL;

        ASSERT_OK(tree_make(&t));
        fd = openat(t.fd, "etc/os-release", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(ftruncate(fd, (off_t) 600 << 20) >= 0);
        /* Refused from its size: nothing of the 600 MB is read or allocated. */
        ASSERT_ERROR(read_guest_file(t.fd, "/etc/os-release", 64 * 1024, 0, &buf, NULL), EFBIG);
        ASSERT_TRUE(buf == NULL);
}

TEST(no_proc_fallback) {
        _cleanup_(tree_done) Tree t = { .fd = -EBADF };
        pid_t pid;
        int status;

        ASSERT_OK(tree_make(&t));
        ASSERT_OK(tree_write(&t, "etc/hostname", "box\n"));
        ASSERT_TRUE(mkfifoat(t.fd, "etc/fifo", 0644) >= 0);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                char *buf = NULL;
                /* A machine whose guest root put a tmpfs over /proc (needs root). */
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", "/proc", "tmpfs", 0, NULL) < 0)
                        _exit(77);
                if (read_guest_file(t.fd, "/etc/hostname", 64, 0, &buf, NULL) < 0 || !streq(buf, "box\n"))
                        _exit(1);
                if (read_guest_file(t.fd, "/etc/fifo", 64, 0, &buf, NULL) != -EBADFD)
                        _exit(2);
                _exit(0);
        }
        ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
        ASSERT_TRUE(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                fprintf(stderr, "(no mount namespace without root; fallback case skipped)\n");
                return;
        }
        ASSERT_EQ(WEXITSTATUS(status), 0);
}
