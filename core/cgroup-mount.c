/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container side of cgroups: what /sys/fs/cgroup looks like inside. Kept apart from
 * cgroup.c because it needs libmount, and the supervisor loop binary links cgroup.c only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "mount.h"
#include "util/util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The v1 controller options of a cgroup mount ("rw,nosuid,memory" -> "memory"). */
static int v1_controllers(const char *fs_options, char **ret) {
        _cleanup_free_ char *out = NULL;
        const char *p = fs_options;
        size_t n = 0;

        out = malloc(strlen(fs_options) + 1);
        if (!out)
                return -ENOMEM;
        while (*p) {
                size_t len = strcspn(p, ",");
                if (!(len == 2 && (strneq(p, "rw", 2) || strneq(p, "ro", 2))) &&
                    !(len == 5 && strneq(p, "xattr", 5))) {
                        if (n)
                                out[n++] = ',';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p += len + (p[len] == ',');
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(struct libmnt_table *, mnt_unref_table, unref_tablep);

static int mount_v1_hierarchies(int root_fd, bool hybrid) {
        _cleanup_(unref_tablep) struct libmnt_table *t = mnt_new_table();
        struct libmnt_iter *it;
        struct libmnt_fs *fs;
        int r = 0;

        if (!t)
                return -ENOMEM;
        if (mnt_table_parse_file(t, "/proc/self/mountinfo") < 0)
                return -EIO;
        it = mnt_new_iter(MNT_ITER_FORWARD);
        if (!it)
                return -ENOMEM;
        while (r >= 0 && mnt_table_next_fs(t, it, &fs) == 0) {
                const char *target = mnt_fs_get_target(fs), *type = mnt_fs_get_fstype(fs);
                _cleanup_free_ char *opts = NULL, *where = NULL;
                const char *name;
                bool writable;

                if (!target || !type || !startswith(target, CGROUP_ROOT "/"))
                        continue;
                name = target + STRLEN(CGROUP_ROOT "/");
                if (strchr(name, '/'))
                        continue;
                where = strjoin(CGROUP_ROOT "/", name);
                if (!where)
                        r = -ENOMEM;
                else if (streq(type, "cgroup2")) {
                        if (hybrid && streq(name, "unified"))
                                r = mount_in_root(root_fd, where, IN_ROOT_NO_SYMLINKS, "cgroup2", "cgroup2",
                                                  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
                } else if (streq(type, "cgroup")) {
                        r = v1_controllers(mnt_fs_get_fs_options(fs) ?: "", &opts);
                        if (r < 0)
                                break;
                        /* Only the tracking hierarchy is the container's own (its cgroup
                         * namespace root); the controllers show the host's and stay
                         * read-only, as nspawn does. */
                        writable = strstr(opts, "name=systemd") != NULL;
                        r = mount_in_root(root_fd, where, IN_ROOT_NO_SYMLINKS, "cgroup", "cgroup",
                                          MS_NOSUID | MS_NODEV | MS_NOEXEC | (writable ? 0 : MS_RDONLY), opts);
                }
        }
        mnt_free_iter(it);
        if (r < 0)
                return r;

        /* Co-mounted controllers (cpu,cpuacct) are reached through symlinks on the host. */
        DIR *d = opendir(CGROUP_ROOT);
        if (!d)
                return -errno;
        _cleanup_close_ int dir = -EBADF;
        r = open_in_root(root_fd, CGROUP_ROOT, IN_ROOT_NO_SYMLINKS, &dir);
        if (r >= 0) {
                _cleanup_close_ int wdir = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct dirent *de;
                while (wdir >= 0 && (de = readdir(d))) {
                        char target[256];
                        ssize_t n;
                        if (de->d_type != DT_LNK)
                                continue;
                        n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
                        if (n <= 0)
                                continue;
                        target[n] = 0;
                        if (symlinkat(target, wdir, de->d_name) < 0 && errno != EEXIST) {
                                r = -errno;
                                break;
                        }
                }
        }
        closedir(d);
        return r;
}

int cgroup_mount_in_container(CGroupMode mode, int root_fd) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (mode == CGROUP_UNIFIED)
                return mount_in_root(root_fd, CGROUP_ROOT, IN_ROOT_NO_SYMLINKS, "cgroup2", "cgroup2",
                                     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

        r = mount_in_root(root_fd, CGROUP_ROOT, IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs",
                          MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4m,nr_inodes=1024");
        if (r < 0)
                return r;
        r = mount_v1_hierarchies(root_fd, mode == CGROUP_HYBRID);
        if (r < 0)
                return r;
        r = open_in_root(root_fd, CGROUP_ROOT, IN_ROOT_NO_SYMLINKS, &fd);
        if (r < 0)
                return r;
        return mount_fd_setattr(fd, false, MOUNT_ATTR_RDONLY, 0);
}
