/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Thin fd-based wrappers around the btrfs ioctls. All return 0 (or a boolean as 0/1) on
 * success and a negative errno on failure; none of them logs. */

typedef enum BtrfsSnapshotFlags {
        BTRFS_SNAPSHOT_READ_ONLY = 1 << 0,
} BtrfsSnapshotFlags;

/* 1 if fd lives on a btrfs file system, 0 if not. */
int btrfs_is_filesystem_fd(int fd);
/* 1 if fd is the root directory of a btrfs subvolume, 0 if not (also on other fs). */
int btrfs_is_subvol_fd(int fd);
int btrfs_is_subvol_at(int dir_fd, const char *name);

int btrfs_subvol_make_at(int dir_fd, const char *name);
/* Snapshots the subvolume src (relative to src_dir_fd) to dst (relative to dst_dir_fd).
 * Nested subvolumes below src show up as empty directories in the snapshot, as with
 * "btrfs subvolume snapshot". */
int btrfs_subvol_snapshot_at(int src_dir_fd, const char *src, int dst_dir_fd, const char *dst,
                             BtrfsSnapshotFlags flags);
/* Deletes the subvolume name below dir_fd and every subvolume nested inside it; a
 * read-only one is made writable first so that nested subvolumes can be unlinked. */
int btrfs_subvol_remove_at(int dir_fd, const char *name);

int btrfs_subvol_get_read_only_fd(int fd);
/* When the subvolume was created, in µs (a snapshot keeps its source root directory's
 * inode, so statx() would give the source's birth time). */
int btrfs_subvol_get_crtime_fd(int fd, uint64_t *ret_usec);
/* The transaction id that last changed the subvolume: it moves with every commit that
 * touched anything in it, so an unchanged generation means unchanged content. */
int btrfs_subvol_get_generation_fd(int fd, uint64_t *ret);
int btrfs_subvol_set_read_only_fd(int fd, bool b);

/* Shares the extents of in_fd with out_fd (FICLONE). -EOPNOTSUPP/-EXDEV/-EINVAL when the
 * file system cannot do it, so callers fall back to copying. */
int btrfs_reflink(int in_fd, int out_fd);

/* Grows (or shrinks) the file system behind fd to the size of its device ("max"). */
int btrfs_resize_max_fd(int fd);
