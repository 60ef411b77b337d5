/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "btrfs.h"
#include "macro.h"
#include "util/util.h"

/* The inode number of the root directory of every btrfs subvolume
 * (BTRFS_FIRST_FREE_OBJECTID, not exported by linux/btrfs.h). */
#define BTRFS_SUBVOL_ROOT_INO 256

int btrfs_is_filesystem_fd(int fd) {
        struct statfs sfs;

        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        return (unsigned long) sfs.f_type == (unsigned long) BTRFS_SUPER_MAGIC;
}

static bool stat_is_subvol(const struct stat *st) {
        return S_ISDIR(st->st_mode) && st->st_ino == BTRFS_SUBVOL_ROOT_INO;
}

int btrfs_is_subvol_fd(int fd) {
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!stat_is_subvol(&st))
                return 0;
        /* Inode 256 means nothing on other file systems. */
        r = btrfs_is_filesystem_fd(fd);
        return r < 0 ? r : r > 0;
}

int btrfs_is_subvol_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
        return btrfs_is_subvol_fd(fd);
}

static int vol_args_init(struct btrfs_ioctl_vol_args *args, const char *name) {
        size_t l = strlen(name);

        if (l == 0 || l > BTRFS_PATH_NAME_MAX || strchr(name, '/'))
                return -EINVAL;
        memset(args, 0, sizeof *args);
        memcpy(args->name, name, l);
        return 0;
}

int btrfs_subvol_make_at(int dir_fd, const char *name) {
        struct btrfs_ioctl_vol_args args;
        int r;

        r = vol_args_init(&args, name);
        if (r < 0)
                return r;
        return RET_NERRNO(ioctl(dir_fd, BTRFS_IOC_SUBVOL_CREATE, &args));
}

int btrfs_subvol_snapshot_at(int src_dir_fd, const char *src, int dst_dir_fd, const char *dst,
                             BtrfsSnapshotFlags flags) {
        struct btrfs_ioctl_vol_args_v2 args = {};
        _cleanup_close_ int src_fd = -EBADF;
        size_t l = strlen(dst);

        if (l == 0 || l > BTRFS_SUBVOL_NAME_MAX || strchr(dst, '/'))
                return -EINVAL;

        src_fd = openat(src_dir_fd, src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (src_fd < 0)
                return -errno;

        args.fd = src_fd;
        if (flags & BTRFS_SNAPSHOT_READ_ONLY)
                args.flags |= BTRFS_SUBVOL_RDONLY;
        memcpy(args.name, dst, l);
        return RET_NERRNO(ioctl(dst_dir_fd, BTRFS_IOC_SNAP_CREATE_V2, &args));
}

int btrfs_subvol_get_read_only_fd(int fd) {
        uint64_t flags;

        if (ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &flags) < 0)
                return -errno;
        return !!(flags & BTRFS_SUBVOL_RDONLY);
}

int btrfs_subvol_get_crtime_fd(int fd, uint64_t *ret_usec) {
        struct btrfs_ioctl_get_subvol_info_args info = {};

        if (ioctl(fd, BTRFS_IOC_GET_SUBVOL_INFO, &info) < 0)
                return -errno;
        *ret_usec = info.otime.sec * 1000000 + info.otime.nsec / 1000;
        return 0;
}

int btrfs_subvol_get_generation_fd(int fd, uint64_t *ret) {
        struct btrfs_ioctl_get_subvol_info_args info = {};

        if (ioctl(fd, BTRFS_IOC_GET_SUBVOL_INFO, &info) < 0)
                return -errno;
        *ret = info.generation;
        return 0;
}

int btrfs_subvol_set_read_only_fd(int fd, bool b) {
        uint64_t flags, nflags;

        if (ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &flags) < 0)
                return -errno;
        nflags = b ? flags | BTRFS_SUBVOL_RDONLY : flags & ~(uint64_t) BTRFS_SUBVOL_RDONLY;
        if (nflags == flags)
                return 0;
        return RET_NERRNO(ioctl(fd, BTRFS_IOC_SUBVOL_SETFLAGS, &nflags));
}

/* Finds and deletes the subvolumes nested somewhere below the directory fd. Only
 * directories are visited (d_type tells without a stat), so this stays cheap even for a
 * large root file system. */
static int remove_nested_subvols(int fd, dev_t dev) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_fd(fd, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT(de, d) {
                struct stat st;

                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (!S_ISDIR(st.st_mode))
                        continue;
                if (stat_is_subvol(&st)) {
                        r = btrfs_subvol_remove_at(dirfd(d), de->d_name);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* Something mounted here: it is not ours to delete. */
                if (st.st_dev != dev)
                        return -EBUSY;

                _cleanup_close_ int child = openat(dirfd(d), de->d_name,
                                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0)
                        return -errno;
                r = remove_nested_subvols(child, dev);
                if (r < 0)
                        return r;
        }
        return errno > 0 ? -errno : 0;
}

int btrfs_subvol_remove_at(int dir_fd, const char *name) {
        struct btrfs_ioctl_vol_args args;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = vol_args_init(&args, name);
        if (r < 0)
                return r;

        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        r = btrfs_is_subvol_fd(fd);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOTTY;

        /* A nested subvolume's directory entry lives in its read-only parent. */
        r = btrfs_subvol_set_read_only_fd(fd, false);
        if (r < 0)
                return r;
        r = remove_nested_subvols(fd, st.st_dev);
        if (r < 0)
                return r;
        fd = safe_close(fd);

        return RET_NERRNO(ioctl(dir_fd, BTRFS_IOC_SNAP_DESTROY, &args));
}

int btrfs_reflink(int in_fd, int out_fd) {
        return RET_NERRNO(ioctl(out_fd, FICLONE, in_fd));
}

int btrfs_resize_max_fd(int fd) {
        struct btrfs_ioctl_vol_args args;
        int r;

        r = vol_args_init(&args, "max");
        if (r < 0)
                return r;
        return RET_NERRNO(ioctl(fd, BTRFS_IOC_RESIZE, &args));
}
