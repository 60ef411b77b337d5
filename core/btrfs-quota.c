/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <endian.h>
#include <stdbool.h>
#include <errno.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <string.h>
#include <sys/ioctl.h>

#include "btrfs-quota.h"

int btrfs_subvol_get_id_fd(int fd, uint64_t *ret) {
        struct btrfs_ioctl_ino_lookup_args args = { .objectid = BTRFS_FIRST_FREE_OBJECTID };

        assert(ret);
        if (ioctl(fd, BTRFS_IOC_INO_LOOKUP, &args) < 0)
                return -errno;
        *ret = args.treeid;
        return 0;
}

int btrfs_quota_rescan_fd(int fd) {
        struct btrfs_ioctl_quota_rescan_args args = {};

        if (ioctl(fd, BTRFS_IOC_QUOTA_RESCAN, &args) < 0 && errno != EINPROGRESS)
                return -errno;
        if (ioctl(fd, BTRFS_IOC_QUOTA_RESCAN_WAIT) < 0)
                return -errno;
        return 0;
}

int btrfs_quota_enable_fd(int fd) {
        struct btrfs_ioctl_quota_ctl_args args = { .cmd = BTRFS_QUOTA_CTL_ENABLE };
        BtrfsQuotaInfo info;

        /* Enabling again would be harmless but starts another rescan: ask first. */
        if (btrfs_qgroup_get_fd(fd, BTRFS_QGROUP_ID(0, BTRFS_FS_TREE_OBJECTID), &info) >= 0)
                return 0;
        if (ioctl(fd, BTRFS_IOC_QUOTA_CTL, &args) < 0)
                return -errno;
        if (ioctl(fd, BTRFS_IOC_QUOTA_RESCAN_WAIT) < 0)
                return -errno;
        return 0;
}

int btrfs_qgroup_get_fd(int fd, uint64_t qgroupid, BtrfsQuotaInfo *ret) {
        struct btrfs_ioctl_search_args args = {
                .key =
                        {
                                .tree_id = BTRFS_QUOTA_TREE_OBJECTID,
                                .min_objectid = 0,
                                .max_objectid = 0,
                                .min_type = BTRFS_QGROUP_INFO_KEY,
                                .max_type = BTRFS_QGROUP_LIMIT_KEY,
                                .min_offset = qgroupid,
                                .max_offset = qgroupid,
                                .min_transid = 0,
                                .max_transid = UINT64_MAX,
                                .nr_items = 16,
                        },
        };
        BtrfsQuotaInfo info = BTRFS_QUOTA_INFO_NULL;
        bool found = false;
        size_t off = 0;

        assert(ret);
        if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, &args) < 0)
                return -errno;
        for (unsigned i = 0; i < args.key.nr_items; i++) {
                struct btrfs_ioctl_search_header h;

                if (off + sizeof h > sizeof args.buf)
                        break;
                memcpy(&h, args.buf + off, sizeof h);
                off += sizeof h;
                if (off + h.len > sizeof args.buf)
                        break;
                if (h.objectid == 0 && h.offset == qgroupid) {
                        if (h.type == BTRFS_QGROUP_INFO_KEY &&
                            h.len >= sizeof(struct btrfs_qgroup_info_item)) {
                                struct btrfs_qgroup_info_item item;
                                memcpy(&item, args.buf + off, sizeof item);
                                info.referenced = le64toh(item.rfer);
                                info.exclusive = le64toh(item.excl);
                                found = true;
                        } else if (h.type == BTRFS_QGROUP_LIMIT_KEY &&
                                   h.len >= sizeof(struct btrfs_qgroup_limit_item)) {
                                struct btrfs_qgroup_limit_item item;
                                memcpy(&item, args.buf + off, sizeof item);
                                if (le64toh(item.flags) & BTRFS_QGROUP_LIMIT_MAX_RFER)
                                        info.referenced_max = le64toh(item.max_rfer);
                                if (le64toh(item.flags) & BTRFS_QGROUP_LIMIT_MAX_EXCL)
                                        info.exclusive_max = le64toh(item.max_excl);
                        }
                }
                off += h.len;
        }
        if (!found)
                return -ENOENT;
        /* A limit of 0 bytes cannot be set through here: it means none was. */
        if (info.referenced_max == 0)
                info.referenced_max = UINT64_MAX;
        if (info.exclusive_max == 0)
                info.exclusive_max = UINT64_MAX;
        *ret = info;
        return 0;
}

int btrfs_qgroup_create_fd(int fd, uint64_t qgroupid) {
        struct btrfs_ioctl_qgroup_create_args args = { .create = 1, .qgroupid = qgroupid };

        if (ioctl(fd, BTRFS_IOC_QGROUP_CREATE, &args) < 0)
                return errno == EEXIST ? 0 : -errno;
        return 0;
}

int btrfs_qgroup_assign_fd(int fd, uint64_t child, uint64_t parent) {
        struct btrfs_ioctl_qgroup_assign_args args = { .assign = 1, .src = child, .dst = parent };
        int r;

        r = ioctl(fd, BTRFS_IOC_QGROUP_ASSIGN, &args);
        if (r < 0)
                return errno == EEXIST ? 0 : -errno;
        return 1;
}

int btrfs_qgroup_set_limit_fd(int fd, uint64_t qgroupid, uint64_t referenced_max) {
        struct btrfs_ioctl_qgroup_limit_args args = {
                .qgroupid = qgroupid,
                .lim =
                        {
                                .flags = BTRFS_QGROUP_LIMIT_MAX_RFER,
                                .max_rfer = referenced_max,
                        },
        };

        if (ioctl(fd, BTRFS_IOC_QGROUP_LIMIT, &args) < 0)
                return -errno;
        return 0;
}
