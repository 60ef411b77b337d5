/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "guest-file.h"
#include "chase.h"
#include "macro.h"
#include "util.h"

#define READ_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)


static ChaseFlags guest_chase_flags(GuestFileFlags flags) {
        return CHASE_IN_ROOT | ((flags & GUEST_FILE_NO_SYMLINKS) ? CHASE_NO_SYMLINKS : 0);
}

/* Opens the inode behind an O_PATH fd for reading; -ENOMEDIUM if there is no procfs to do
 * that through. */
static int reopen_through_proc(int path_fd) {
        _cleanup_close_ int dir = -EBADF;
        struct statfs sfs;
        char name[16];
        int fd;

        dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return errno == ENOENT ? -ENOMEDIUM : -errno;
        /* Only a real procfs resolves N to our own fd. */
        if (fstatfs(dir, &sfs) < 0)
                return -errno;
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return -ENOMEDIUM;
        snprintf(name, sizeof name, "%d", path_fd);
        fd = openat(dir, name, READ_FLAGS);
        return fd < 0 ? -errno : fd;
}

static int check_regular(const struct stat *st) {
        return S_ISREG(st->st_mode) ? 0 : -EBADFD;
}

int open_guest_file(int root_fd, const char *path, GuestFileFlags flags, struct stat *ret_st) {
        _cleanup_close_ int path_fd = -EBADF, fd = -EBADF;
        struct stat st, st2;
        int r;

        if (root_fd < 0 || isempty(path))
                return -EINVAL;

        path_fd = chase_open(root_fd, path, O_PATH, guest_chase_flags(flags));
        if (path_fd < 0)
                return path_fd;
        if (fstat(path_fd, &st) < 0)
                return -errno;
        r = check_regular(&st);
        if (r < 0)
                return r;

        fd = reopen_through_proc(path_fd);
        if (fd == -ENOMEDIUM)
                fd = chase_open(root_fd, path, READ_FLAGS, guest_chase_flags(flags));
        if (fd < 0)
                return fd;
        /* The same inode, still a regular file: anything else was swapped in. */
        if (fstat(fd, &st2) < 0)
                return -errno;
        r = check_regular(&st2);
        if (r < 0)
                return r;
        if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
                return -EBUSY;
        if (ret_st)
                *ret_st = st2;
        return TAKE_FD(fd);
}

int read_guest_file(int root_fd, const char *path, size_t max_size, GuestFileFlags flags, char **ret,
                    size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, want;
        struct stat st;

        if (max_size >= SIZE_MAX - 1)
                return -EINVAL;
        fd = open_guest_file(root_fd, path, flags, &st);
        if (fd < 0)
                return fd;
        if (st.st_size < 0 || (uint64_t) st.st_size > max_size)
                return -EFBIG;

        /* Room for one byte more than allowed: reading it means the file grew too big. */
        want = MIN((size_t) st.st_size, max_size) + 1;
        buf = malloc(want + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (size == want) {
                        if (want > max_size)
                                return -EFBIG;
                        want = MIN(MAX(want * 2, (size_t) 4096), max_size + 1);
                        char *n = realloc(buf, want + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                k = loop_read(fd, buf + size, want - size);
                if (k < 0)
                        return (int) k;
                size += (size_t) k;
                if (size < want)
                        break; /* the end of the file */
        }
        if (size > max_size)
                return -EFBIG;
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}
