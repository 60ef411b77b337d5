/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* btrfs quota groups, for machine1's SetPoolLimit/SetImageLimit and the usage and limit
 * properties. As with btrfs.h: fd-based, 0 or a negative errno, no logging. An image's
 * limit is the one of its subvolume's own qgroup (0/ID); the pool's is a level-1 qgroup
 * (1/ID of the pool's subvolume) that holds the pool's subvolume and every image subvolume
 * in it, as systemd-machined's "subtree quota". */

#define BTRFS_QGROUP_LEVEL_SHIFT 48
#define BTRFS_QGROUP_ID(level, id) (((uint64_t) (level) << BTRFS_QGROUP_LEVEL_SHIFT) | (uint64_t) (id))

typedef struct BtrfsQuotaInfo {
        uint64_t referenced; /* bytes, UINT64_MAX if not known */
        uint64_t exclusive;
        uint64_t referenced_max; /* UINT64_MAX: no limit */
        uint64_t exclusive_max;
} BtrfsQuotaInfo;

#define BTRFS_QUOTA_INFO_NULL ((BtrfsQuotaInfo){ UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX })

/* The id of the subvolume fd lives in (5 for the top level). */
int btrfs_subvol_get_id_fd(int fd, uint64_t *ret);
/* Turns quota on for the file system of fd (a no-op when it is on) and waits for the
 * first rescan. */
int btrfs_quota_enable_fd(int fd);
/* -ENOENT when quota is off or the qgroup does not exist. */
int btrfs_qgroup_get_fd(int fd, uint64_t qgroupid, BtrfsQuotaInfo *ret);
/* Creates the qgroup; 0 also when it exists. */
int btrfs_qgroup_create_fd(int fd, uint64_t qgroupid);
/* Makes child a member of parent; 1 if it was not before (usage then needs a rescan), 0
 * if it was. */
int btrfs_qgroup_assign_fd(int fd, uint64_t child, uint64_t parent);
/* Limits the bytes the qgroup refers to; UINT64_MAX removes the limit. */
int btrfs_qgroup_set_limit_fd(int fd, uint64_t qgroupid, uint64_t referenced_max);
/* Starts a rescan (if none runs) and waits for it. */
int btrfs_quota_rescan_fd(int fd);
