/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "btrfs.h"
#include "copy.h"
#include "exec-util.h"
#include "macro.h"
#include "mount.h"
#include "pool.h"
#include "util/util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(blkid_probe, blkid_free_probe, blkid_free_probep);
DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(struct libmnt_table *, mnt_unref_table, mnt_unref_tablep);

void pool_info_done(PoolInfo *i) {
        free(i->path);
        free(i->backing_file);
        free(i->device);
        free(i->fstype);
        *i = (PoolInfo){};
}

/* The pool path without trailing slashes; never "/" itself. */
static int path_strip(const char *path, char **ret) {
        _cleanup_free_ char *p = NULL;
        int r;

        r = path_dup_strip(path, &p);
        if (r < 0)
                return r;
        if (streq(p, "/"))
                return -EINVAL;
        *ret = TAKE_PTR(p);
        return 0;
}

int pool_backing_file_path(const char *path, char **ret) {
        _cleanup_free_ char *p = NULL;
        int r;

        r = path_strip(path, &p);
        if (r < 0)
                return r;
        *ret = strjoin(p, ".raw");
        return *ret ? 0 : -ENOMEM;
}

/* The mount whose target is exactly path (canonical), from /proc/self/mountinfo: the
 * topmost one if several are stacked. Returns 0 and NULL outputs if path is no mount. */
static int find_mount(const char *path, char **ret_source, char **ret_fstype) {
        _cleanup_(mnt_unref_tablep) struct libmnt_table *t = NULL;
        struct libmnt_fs *fs;
        int r;

        t = mnt_new_table();
        if (!t)
                return -ENOMEM;
        r = mnt_table_parse_mtab(t, NULL);
        if (r < 0)
                return r;
        fs = mnt_table_find_target(t, path, MNT_ITER_BACKWARD);
        if (!fs) {
                *ret_source = *ret_fstype = NULL;
                return 0;
        }
        *ret_source = strdup(strna(mnt_fs_get_source(fs)));
        *ret_fstype = strdup(strna(mnt_fs_get_fstype(fs)));
        if (!*ret_source || !*ret_fstype) {
                free(*ret_source);
                free(*ret_fstype);
                return -ENOMEM;
        }
        return 1;
}

/* The file behind a loop device, as the kernel reports it in sysfs. */
static int loop_backing_file(const char *device, char **ret) {
        _cleanup_free_ char *sys = NULL;

        if (!startswith(device, "/dev/loop"))
                return -ENXIO;
        sys = strjoin("/sys/block/", device + 5, "/loop/backing_file");
        if (!sys)
                return -ENOMEM;
        return read_one_line(sys, ret);
}

/* Whether path is mounted from its own PATH.raw (not from some other loop device). */
static int pool_mounted_from_backing(const char *canonical, const char *raw, char **ret_device) {
        _cleanup_free_ char *source = NULL, *fstype = NULL, *backing = NULL, *raw_canon = NULL;
        int r;

        r = find_mount(canonical, &source, &fstype);
        if (r <= 0)
                return r;
        r = loop_backing_file(source, &backing);
        if (r == -ENXIO || r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        raw_canon = realpath(raw, NULL);
        if (!raw_canon || !streq(backing, raw_canon))
                return 0;
        if (ret_device)
                *ret_device = TAKE_PTR(source);
        return 1;
}

static int dir_is_empty_fd(int fd) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_fd(fd, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT(de, d)
                return 0;
        return errno > 0 ? -errno : 1;
}

static int probe_fstype(int fd, char **ret) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        const char *type = NULL;
        int r;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == 1) { /* nothing recognized */
                *ret = NULL;
                return 0;
        }
        if (r == -2) /* several signatures: do not guess */
                return -EUCLEAN;
        if (r != 0)
                return errno > 0 ? -errno : -EIO;
        if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 || !type) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(type);
        return *ret ? 1 : -ENOMEM;
}

/* Attaches file_fd to a free loop device with autoclear. Returns an fd to the device
 * (the device is detached when the last user - this fd or a mount - goes away). */
static int loop_attach(int file_fd, const char *file_name, char **ret_device) {
        _cleanup_close_ int control = -EBADF;
        struct loop_config config = {
                .fd = (uint32_t) file_fd,
                .info.lo_flags = LO_FLAGS_AUTOCLEAR,
        };

        strncpy((char *) config.info.lo_file_name, file_name, LO_NAME_SIZE - 1);

        control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control < 0)
                return -errno;

        /* Another process may take the device between GET_FREE and CONFIGURE. */
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                _cleanup_close_ int loop = -EBADF;
                char device[64];
                int nr;

                nr = ioctl(control, LOOP_CTL_GET_FREE);
                if (nr < 0)
                        return -errno;
                snprintf(device, sizeof device, "/dev/loop%d", nr);
                loop = open(device, O_RDWR | O_CLOEXEC);
                if (loop < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (ioctl(loop, LOOP_CONFIGURE, &config) < 0) {
                        if (errno == EBUSY)
                                continue;
                        return -errno;
                }
                *ret_device = strdup(device);
                if (!*ret_device)
                        return -ENOMEM;
                return TAKE_FD(loop);
        }
        return -EBUSY;
}

static int pool_mount_backing(const char *canonical, const char *raw) {
        _cleanup_close_ int raw_fd = -EBADF, loop = -EBADF;
        _cleanup_free_ char *type = NULL, *device = NULL;
        int r;

        raw_fd = open(raw, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (raw_fd < 0)
                return -errno;
        r = probe_fstype(raw_fd, &type);
        if (r < 0)
                return r;
        if (!type || !streq(type, "btrfs"))
                return -EMEDIUMTYPE;

        loop = loop_attach(raw_fd, raw, &device);
        if (loop < 0)
                return loop;
        /* Guest root makes set-uid binaries and device nodes in its tree; through the host's
         * mount they must be neither (a machine's own mount of its tree decides for itself). */
        if (mount(device, canonical, "btrfs", MS_NOSUID | MS_NODEV, NULL) < 0)
                return -errno;
        /* Closing loop now leaves the mount as the only user; autoclear does the rest. */
        return 0;
}

static int pool_make_backing(const char *raw, uint64_t size) {
        _cleanup_free_ char *dir = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *slash;
        int r;

        /* Built under a temporary name, so a crash never leaves a half-made PATH.raw that
         * the next start would try to mount. */
        slash = strrchr(raw, '/');
        dir = slash ? strndup(raw, slash - raw + 1) : strdup("");
        if (!dir)
                return -ENOMEM;
        tmp = strjoin(dir, ".#", slash ? slash + 1 : raw, ".XXXXXX");
        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0600) < 0 || ftruncate(fd, (off_t) size) < 0) {
                r = -errno;
                goto fail;
        }
        fd = safe_close(fd);

        char *argv[] = { (char *) "mkfs.btrfs", (char *) "-q", (char *) "-f",
                         (char *) "-L", (char *) "nspawnctl-pool", tmp, NULL };
        const int fds[3] = { EXEC_FD_NULL, EXEC_FD_NULL, EXEC_FD_INHERIT };
        r = exec_run(argv, NULL, fds, NULL);
        if (r < 0)
                goto fail;

        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, raw, RENAME_NOREPLACE) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        (void) unlink(tmp);
        return r;
}

/* Only root may enter the pool: the trees in it belong to guests, whose root can put
 * anything there. Fixes pools made before this was so. */
static int pool_restrict_fd(int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if ((st.st_mode & 07777) == 0700)
                return 0;
        return RET_NERRNO(fchmod(fd, 0700));
}

/* A pool that is our mount of PATH.raw (from an earlier start, maybe of an older version
 * that mounted without them) gets nosuid,nodev; other mounts are left as they are. fd is
 * the pool directory, i.e. the mount's root. */
static int pool_restrict_own_mount(int fd, const char *path) {
        _cleanup_free_ char *canonical = NULL, *raw = NULL;
        int r;

        canonical = realpath(path, NULL);
        if (!canonical)
                return -errno;
        r = pool_backing_file_path(canonical, &raw);
        if (r < 0)
                return r;
        r = pool_mounted_from_backing(canonical, raw, NULL);
        if (r <= 0)
                return r;
        return mount_fd_setattr(fd, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0);
}

static int pool_restrict_existing(int fd, const char *path) {
        int r;

        r = pool_restrict_fd(fd);
        if (r < 0)
                return r;
        return pool_restrict_own_mount(fd, path);
}

int pool_setup(const char *path, uint64_t image_size) {
        _cleanup_free_ char *p = NULL, *canonical = NULL, *raw = NULL, *source = NULL,
                           *fstype = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        bool have_raw;
        int r;

        r = path_strip(path, &p);
        if (r < 0)
                return r;
        if (image_size == 0)
                image_size = POOL_IMAGE_SIZE_DEFAULT;
        if (image_size < POOL_IMAGE_SIZE_MIN)
                return -ERANGE;

        if (mkdir(p, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = btrfs_is_filesystem_fd(fd);
        if (r < 0)
                return r;
        if (r > 0) {
                /* btrfs already: natively, or our mount from an earlier call */
                r = pool_restrict_existing(fd, p);
                return r < 0 ? r : 1;
        }
        /* The directory below the mount too, so that it is never open between a umount and
         * the next mount. */
        r = pool_restrict_fd(fd);
        if (r < 0)
                return r;

        /* Two callers at once (machined starting while a test sets up) must not both
         * format or mount: the lock is on the directory below any mount, and whoever got
         * it second looks at the path again, which then shows the first one's mount. */
        if (flock(fd, LOCK_EX) < 0)
                return -errno;
        _cleanup_close_ int again = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (again < 0)
                return -errno;
        r = btrfs_is_filesystem_fd(again);
        if (r < 0)
                return r;
        if (r > 0) {
                r = pool_restrict_existing(again, p);
                return r < 0 ? r : 1;
        }

        canonical = realpath(p, NULL);
        if (!canonical)
                return -errno;
        /* Somebody mounted another file system here on purpose: use it as it is. */
        r = find_mount(canonical, &source, &fstype);
        if (r < 0)
                return r;
        if (r > 0)
                return 0;

        r = pool_backing_file_path(canonical, &raw);
        if (r < 0)
                return r;
        if (lstat(raw, &st) >= 0) {
                if (!S_ISREG(st.st_mode))
                        return -EMEDIUMTYPE;
                have_raw = true;
        } else if (errno == ENOENT)
                have_raw = false;
        else
                return -errno;

        r = dir_is_empty_fd(fd);
        if (r < 0)
                return r;
        if (r == 0) {
                if (have_raw)
                        return -ENOTEMPTY;
                return 0; /* a plain pool that already holds images: copy fallback */
        }

        if (!have_raw) {
                r = pool_make_backing(raw, image_size);
                if (r < 0)
                        return r;
        }
        r = pool_mount_backing(canonical, raw);
        if (r < 0)
                return r;
        /* mkfs.btrfs made the file system's root 0755. */
        _cleanup_close_ int mounted = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mounted < 0)
                return -errno;
        r = pool_restrict_fd(mounted);
        if (r < 0)
                return r;
        return 1;
}

int pool_get_info(const char *path, PoolInfo *ret) {
        _cleanup_(pool_info_done) PoolInfo info = {};
        _cleanup_free_ char *raw = NULL, *source = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct statvfs sv;
        struct statfs sfs;
        int r;

        r = path_strip(path, &info.path);
        if (r < 0)
                return r;
        fd = open(info.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstatfs(fd, &sfs) < 0 || fstatvfs(fd, &sv) < 0)
                return -errno;
        info.btrfs = (unsigned long) sfs.f_type == (unsigned long) BTRFS_SUPER_MAGIC;
        info.size = (uint64_t) sv.f_blocks * sv.f_frsize;
        info.available = (uint64_t) sv.f_bavail * sv.f_frsize;

        _cleanup_free_ char *canonical = realpath(info.path, NULL);
        if (!canonical)
                return -errno;
        _cleanup_free_ char *fstype = NULL;
        r = find_mount(canonical, &source, &fstype);
        if (r < 0)
                return r;
        r = pool_backing_file_path(canonical, &raw);
        if (r < 0)
                return r;
        r = pool_mounted_from_backing(canonical, raw, &info.device);
        if (r < 0)
                return r;
        if (r > 0) {
                info.loop_backed = true;
                info.backing_file = TAKE_PTR(raw);
        }
        info.fstype = TAKE_PTR(fstype);
        if (!info.fstype) {
                /* Not a mount point itself: name the type of the file system below. */
                info.fstype = strdup(info.btrfs ? "btrfs" : "other");
                if (!info.fstype)
                        return -ENOMEM;
        }
        *ret = info;
        info = (PoolInfo){};
        return 0;
}

int pool_grow_if_needed(const char *path, uint64_t max_size) {
        _cleanup_(pool_info_done) PoolInfo info = {};
        _cleanup_close_ int pool_fd = -EBADF, raw_fd = -EBADF, loop_fd = -EBADF;
        struct statvfs host;
        struct stat st;
        uint64_t new_size, host_free;
        int r;

        r = pool_get_info(path, &info);
        if (r < 0)
                return r;
        if (!info.loop_backed)
                return -EOPNOTSUPP;
        if (info.available >= info.size / 3)
                return 0;

        raw_fd = open(info.backing_file, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (raw_fd < 0)
                return -errno;
        if (fstat(raw_fd, &st) < 0 || fstatvfs(raw_fd, &host) < 0)
                return -errno;

        new_size = (uint64_t) st.st_size * 2;
        if (max_size > 0 && new_size > max_size)
                new_size = max_size;
        /* Leave the host file system some room: the file is sparse and would otherwise
         * promise space that is not there. */
        host_free = (uint64_t) host.f_bavail * host.f_frsize;
        if (new_size - (uint64_t) st.st_size > host_free / 2)
                new_size = (uint64_t) st.st_size + host_free / 2;
        new_size &= ~(uint64_t) 4095;
        if (new_size <= (uint64_t) st.st_size)
                return -ENOSPC;

        if (ftruncate(raw_fd, (off_t) new_size) < 0)
                return -errno;
        loop_fd = open(info.device, O_RDWR | O_CLOEXEC);
        if (loop_fd < 0)
                return -errno;
        if (ioctl(loop_fd, LOOP_SET_CAPACITY, 0) < 0)
                return -errno;
        pool_fd = open(info.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pool_fd < 0)
                return -errno;
        r = btrfs_resize_max_fd(pool_fd);
        if (r < 0)
                return r;
        return 1;
}

int pool_teardown(const char *path) {
        _cleanup_(pool_info_done) PoolInfo info = {};
        int r;

        r = pool_get_info(path, &info);
        if (r < 0)
                return r;
        if (!info.loop_backed)
                return 0;
        if (umount2(info.path, UMOUNT_NOFOLLOW) < 0)
                return -errno;
        return 1;
}
