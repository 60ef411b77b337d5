/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one way this project resolves a path in a tree it does not trust (a guest's root, a
 * machine's mount namespace): openat2() with RESOLVE_NO_MAGICLINKS always (a /proc/self/...
 * link in a guest could lead anywhere), and as asked: as if dirfd were "/" (so absolute
 * symlinks and ".." stay inside), no symlinks at all, not across mount points. Everything
 * else that opens guest paths (open_in_root() in mount.c with directory creation,
 * read_guest_file(), the init search) is built on it. */

typedef enum ChaseFlags {
        CHASE_IN_ROOT = 1 << 0,     /* RESOLVE_IN_ROOT: dirfd is the root */
        CHASE_NO_SYMLINKS = 1 << 1, /* refuse a symlink anywhere on the way (-ELOOP) */
        CHASE_NO_XDEV = 1 << 2,     /* refuse to cross a mount point (-EXDEV) */
} ChaseFlags;

/* An fd (O_CLOEXEC added) for path below dirfd, or a negative errno; -ENOSYS without
 * openat2(). open_flags must not contain O_CREAT. */
int chase_open(int dirfd, const char *path, int open_flags, ChaseFlags flags);
