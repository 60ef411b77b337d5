/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The image pool: one directory (POOL_DEFAULT_PATH unless told otherwise; every function
 * takes the path so that tests use their own). Images are btrfs subvolumes in it when it
 * is on btrfs. When it is not and holds nothing yet, pool_setup() makes it btrfs: a
 * sparse file PATH.raw beside it, formatted with mkfs.btrfs, attached to a loop device
 * with autoclear (the device goes away with the last umount) and mounted on PATH, as
 * systemd-machined does with /var/lib/machines.raw. A pool that is not on btrfs and
 * already holds images stays as it is; image operations then copy (reflinking where the
 * file system can) instead of snapshotting, and PoolInfo.btrfs says so.
 *
 * The trees in the pool belong to guests, whose root makes set-uid binaries and device
 * nodes at will: the pool directory is 0700 (and made so when pool_setup() finds it
 * otherwise), and our mount of PATH.raw is nosuid,nodev (added to a mount an earlier
 * version made without them). A machine's own mount of its tree sets its own flags. */

#define POOL_DEFAULT_PATH "/var/lib/machines"
#define POOL_IMAGE_SIZE_DEFAULT (UINT64_C(1) << 30)
/* mkfs.btrfs refuses much smaller devices. */
#define POOL_IMAGE_SIZE_MIN (UINT64_C(128) << 20)

typedef struct PoolInfo {
        char *path;
        bool btrfs;          /* snapshots: clones in O(1) */
        bool loop_backed;    /* mounted from backing_file through a loop device */
        char *backing_file;  /* PATH.raw, when loop_backed */
        char *device;        /* /dev/loopN, when loop_backed */
        char *fstype;        /* of the file system the pool lives on */
        uint64_t size;       /* bytes of that file system */
        uint64_t available;  /* bytes free for us */
} PoolInfo;

void pool_info_done(PoolInfo *i);

/* "PATH.raw" for PATH (trailing slashes dropped). */
int pool_backing_file_path(const char *path, char **ret);

/* Makes sure the pool exists, is mounted and is closed to other users (see above).
 * image_size is the size of a new backing file (0: POOL_IMAGE_SIZE_DEFAULT). Returns 1
 * when the pool is btrfs, 0 when it stays a plain directory. -EMEDIUMTYPE if PATH.raw holds something else
 * than btrfs, -ENOTEMPTY if PATH.raw exists but PATH has files that a mount would hide. */
int pool_setup(const char *path, uint64_t image_size);

int pool_get_info(const char *path, PoolInfo *ret);

/* Grows a loop-backed pool when less than a third of it is free: the backing file is
 * doubled (never beyond max_size if not 0, nor beyond what its own file system has
 * free), the loop device told, and btrfs resized to fill it. Returns 1 if it grew, 0 if
 * there was no need, -EOPNOTSUPP for a pool that is not loop-backed. */
int pool_grow_if_needed(const char *path, uint64_t max_size);

/* Unmounts a loop-backed pool (autoclear then detaches the loop device); the backing
 * file stays. 0 if there was nothing to unmount. */
int pool_teardown(const char *path);
