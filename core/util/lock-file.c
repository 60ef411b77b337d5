/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/lock-file.h"
#include "util/util.h"

static bool same_file(int fd, const char *path) {
        struct stat a, b;

        return fstat(fd, &a) >= 0 && stat(path, &b) >= 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int lock_file_try(const char *path, int *ret_fd) {
        for (;;) {
                _cleanup_close_ int fd =
                        open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);

                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                        return errno == EWOULDBLOCK ? -EEXIST : -errno;
                /* The previous holder unlinks the file before closing it: if what we locked is
                 * no longer the file at the path, we lost that race; try again. */
                if (same_file(fd, path)) {
                        *ret_fd = TAKE_FD(fd);
                        return 0;
                }
        }
}

void lock_file_release(const char *path, int fd) {
        if (fd < 0)
                return;
        /* Never unlink a file somebody else created and locked after a crash of ours. */
        if (path && same_file(fd, path))
                (void) unlink(path);
        safe_close(fd);
}
