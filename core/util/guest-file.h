/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

/* The one way privileged code reads a file of a guest tree (os-release, machine-id,
 * passwd, group, ...). Guest root planted whatever is at that path: a fifo (an open or a
 * read would block forever), a device node (opening it runs a driver's open(), on the
 * host's device when the tree is not nodev), a symlink out of the tree, a sparse file of
 * any size. So:
 *
 * - path is resolved below root_fd as if root_fd were "/" (openat2 RESOLVE_IN_ROOT, magic
 *   links refused): neither ".." nor an absolute symlink leaves the tree;
 * - it is looked at through an O_PATH fd first, and anything but a regular file is refused
 *   with -EBADFD (fifo, socket, character or block device, directory) before it was ever
 *   opened; only then is that same inode opened for reading, through /proc/self/fd
 *   (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), so nothing swapped in meanwhile is
 *   opened instead;
 * - a file larger than max_size is refused with -EFBIG: from its size before anything is
 *   read, and by reading at most max_size + 1 bytes, since it may grow meanwhile.
 *
 * Without a usable /proc (a machine whose procfs guest root unmounted) the path is opened
 * a second time the same way and the result must be the inode that was checked; a swap
 * in that moment can make the second open open a device node, which is then refused but
 * was opened - only inside a machine's own namespaces, where guest root could open it too. */

typedef enum GuestFileFlags {
        GUEST_FILE_NO_SYMLINKS = 1 << 0, /* no symlink anywhere on the path (-ELOOP) */
} GuestFileFlags;

/* Returns an fd for reading the regular file at path (and its stat in *ret_st if given). */
int open_guest_file(int root_fd, const char *path, GuestFileFlags flags, struct stat *ret_st);

/* Reads the regular file at path whole into *ret (NUL-terminated; *ret_size, if given,
 * without the NUL). */
int read_guest_file(int root_fd, const char *path, size_t max_size, GuestFileFlags flags, char **ret,
                    size_t *ret_size);
