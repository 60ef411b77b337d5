/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/chase.h"

int chase_open(int dirfd, const char *path, int open_flags, ChaseFlags flags) {
        struct open_how how = {
                .flags = (uint64_t) (open_flags | O_CLOEXEC),
                .resolve = RESOLVE_NO_MAGICLINKS | ((flags & CHASE_IN_ROOT) ? RESOLVE_IN_ROOT : 0) |
                           ((flags & CHASE_NO_SYMLINKS) ? RESOLVE_NO_SYMLINKS : 0) |
                           ((flags & CHASE_NO_XDEV) ? RESOLVE_NO_XDEV : 0),
        };
        int fd;

        if (!path || !*path || (open_flags & O_CREAT))
                return -EINVAL;
        fd = (int) syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}
