/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container side of cgroups: what /sys/fs/cgroup looks like inside. Kept apart from
 * cgroup.c because it mounts (core/mount.c), and the supervisor loop binary links cgroup.c
 * only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

/* Each hierarchy of the host at the same place inside: the host's mounts are those
 * cgroup_hierarchies_load() found (co-mounted controllers once, by their one mount), and
 * the options are the controllers alone, what a mount of an existing v1 hierarchy must name. */
static int mount_v1_hierarchies(const CGroupHierarchies *hs, int root_fd, bool hybrid) {
        int r = 0;

        for (size_t i = 0; i < hs->n; i++) {
                const CGroupHierarchy *h = &hs->h[i];

                if (!startswith(h->mount_point, CGROUP_ROOT "/"))
                        continue;
                if (h->unified) {
                        if (hybrid && streq(h->mount_point, CGROUP_ROOT "/unified"))
                                r = mount_in_root(root_fd, h->mount_point, IN_ROOT_NO_SYMLINKS, "cgroup2",
                                                  "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
                } else {
                        /* Only the tracking hierarchy is the container's own (its cgroup
                         * namespace root); the controllers show the host's and stay
                         * read-only, as nspawn does. */
                        bool writable = cgroup_controllers_have(h->controllers, "name=systemd");
                        r = mount_in_root(root_fd, h->mount_point, IN_ROOT_NO_SYMLINKS, "cgroup", "cgroup",
                                          MS_NOSUID | MS_NODEV | MS_NOEXEC | (writable ? 0 : MS_RDONLY),
                                          h->controllers);
                }
                if (r < 0)
                        return r;
        }

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

int cgroup_mount_in_container(const CGroupHierarchies *given, CGroupMode mode, int root_fd) {
        CGroupHierarchies buf;
        const CGroupHierarchies *hs;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (mode == CGROUP_UNIFIED)
                return mount_in_root(root_fd, CGROUP_ROOT, IN_ROOT_NO_SYMLINKS, "cgroup2", "cgroup2",
                                     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

        r = mount_in_root(root_fd, CGROUP_ROOT, IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs",
                          MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4m,nr_inodes=1024");
        if (r < 0)
                return r;
        r = cgroup_hierarchies_get(given, &buf, &hs);
        if (r < 0)
                return r;
        r = mount_v1_hierarchies(hs, root_fd, mode == CGROUP_HYBRID);
        if (r < 0)
                return r;
        r = open_in_root(root_fd, CGROUP_ROOT, IN_ROOT_NO_SYMLINKS, &fd);
        if (r < 0)
                return r;
        return mount_fd_setattr(fd, false, MOUNT_ATTR_RDONLY, 0);
}
