/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Mount helpers used to build a container's file system view. Paths "in root" are
 * resolved relative to an fd of the container root with openat2(), so a symlink in the
 * tree can never redirect a mount to the host; mounts then target /proc/self/fd/N. */

/* mount(2), source and target taken literally: a target is usually a /proc/self/fd/N
 * magic link; options are the file system's own. */
int mount_nofollow(const char *source, const char *target, const char *fstype,
                   unsigned long flags, const char *options);
/* Set or clear MOUNT_ATTR_* on the mount at fd (recursively when recursive). */
int mount_fd_setattr(int fd, bool recursive, uint64_t attr_set, uint64_t attr_clr);
/* Sets the propagation (MS_SHARED, MS_SLAVE, MS_PRIVATE) of the mount at fd and below. */
int mount_fd_propagation(int fd, unsigned long propagation);

typedef enum InRootFlags {
        IN_ROOT_NO_SYMLINKS = 1 << 0, /* refuse a symlink anywhere in the path */
        IN_ROOT_MKDIR = 1 << 1,       /* create missing directories */
        IN_ROOT_MKFILE = 1 << 2,      /* create the last component as an empty file */
} InRootFlags;

/* Opens PATH (absolute, inside the root) as an O_PATH fd, symlinks resolved as if root_fd
 * were "/". With IN_ROOT_MKDIR/MKFILE the missing parts are created (mode 0755 / 0644).
 * A last component that is itself a symlink is refused with -ELOOP unless it resolves
 * inside the root (it always does with RESOLVE_IN_ROOT) and IN_ROOT_NO_SYMLINKS is off. */
int open_in_root(int root_fd, const char *path, InRootFlags flags, int *ret_fd);

/* Helpers that mount at PATH inside the root (created as a directory when missing). */
int mount_in_root(int root_fd, const char *path, InRootFlags flags, const char *source,
                  const char *fstype, unsigned long mflags, const char *options);
/* Bind the file or directory at source_fd onto PATH in the root; the target is created as
 * a directory or an empty file to match the source. */
int bind_fd_in_root(int root_fd, int source_fd, const char *path, InRootFlags flags,
                    bool recursive, bool read_only);
/* Make the (already mounted) PATH inside the root a read-only bind of itself, e.g.
 * /proc/sys. Missing paths are skipped (returns 0). */
int remount_ro_in_root(int root_fd, const char *path);
