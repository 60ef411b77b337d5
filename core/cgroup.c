/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "mount.h"
#include "util/util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static const char *const cgroup_mode_table[_CGROUP_MODE_MAX] = {
        [CGROUP_UNIFIED] = "unified",
        [CGROUP_HYBRID] = "hybrid",
        [CGROUP_LEGACY] = "legacy",
};

const char *cgroup_mode_to_string(CGroupMode m) {
        return m >= 0 && m < _CGROUP_MODE_MAX ? cgroup_mode_table[m] : NULL;
}

CGroupMode cgroup_mode_from_string(const char *s) {
        for (int i = 0; s && i < _CGROUP_MODE_MAX; i++)
                if (streq(s, cgroup_mode_table[i]))
                        return i;
        return _CGROUP_MODE_INVALID;
}

static int fs_type(const char *path, long *ret) {
        struct statfs sfs;
        if (statfs(path, &sfs) < 0)
                return -errno;
        *ret = sfs.f_type;
        return 0;
}

int cgroup_detect_mode(CGroupMode *ret) {
        long t = 0;
        int r;

        r = fs_type(CGROUP_ROOT, &t);
        if (r < 0)
                return r;
        if (t == CGROUP2_SUPER_MAGIC) {
                *ret = CGROUP_UNIFIED;
                return 0;
        }
        if (t != TMPFS_MAGIC)
                return -ENOMEDIUM;
        if (fs_type(CGROUP_ROOT "/systemd", &t) < 0 || t != CGROUP_SUPER_MAGIC)
                return -ENOMEDIUM;
        *ret = fs_type(CGROUP_ROOT "/unified", &t) >= 0 && t == CGROUP2_SUPER_MAGIC ? CGROUP_HYBRID
                                                                                  : CGROUP_LEGACY;
        return 0;
}

static const char *cgroup2_root(void) {
        long t = 0;
        return fs_type(CGROUP_ROOT, &t) >= 0 && t == CGROUP2_SUPER_MAGIC ? CGROUP_ROOT : CGROUP_ROOT "/unified";
}

int cgroup_mode_supported(CGroupMode mode) {
        CGroupMode host;
        long t = 0;
        int r = cgroup_detect_mode(&host);
        if (r < 0)
                return r;
        if (mode == host)
                return 0;
        if (mode == CGROUP_UNIFIED)
                return fs_type(cgroup2_root(), &t) >= 0 && t == CGROUP2_SUPER_MAGIC ? 0 : -EOPNOTSUPP;
        if (mode == CGROUP_LEGACY && host == CGROUP_HYBRID)
                return 0;
        return -EOPNOTSUPP;
}

/* The hierarchies in which the container gets a cgroup of its own, NULL-terminated. */
static void tracking_hierarchies(CGroupMode mode, const char *ret[3]) {
        ret[0] = ret[1] = ret[2] = NULL;
        switch (mode) {
        case CGROUP_UNIFIED:
                /* On a hybrid host the cgroup2 hierarchy sits at unified/: a container can
                 * still be given a pure v2 layout there (without controllers). */
                ret[0] = cgroup2_root();
                break;
        case CGROUP_HYBRID:
                ret[0] = CGROUP_ROOT "/systemd";
                ret[1] = CGROUP_ROOT "/unified";
                break;
        case CGROUP_LEGACY:
                ret[0] = CGROUP_ROOT "/systemd";
                break;
        default:
                break;
        }
}

int cgroup_path_for_container(const char *machine, char **ret) {
        char *p = strjoin("/nspawnctl/", machine);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int mkdir_parents_and(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (char *s = strchr(copy + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(copy, 0755) < 0)
                return -errno;
        return 0;
}

int cgroup_create(CGroupMode mode, const char *path) {
        const char *h[3];
        int r;

        tracking_hierarchies(mode, h);
        for (int i = 0; h[i]; i++) {
                _cleanup_free_ char *p = strjoin(h[i], path);
                if (!p)
                        return -ENOMEM;
                r = mkdir_parents_and(p);
                if (r == -ENOENT) /* the parent was removed by a container that just ended */
                        r = mkdir_parents_and(p);
                if (r == -EEXIST) {
                        /* Left over by a supervisor that was killed before its cleanup
                         * process ran: reuse it only if nothing lives in it. */
                        r = cgroup_remove(mode, path);
                        if (r < 0)
                                return r == -EBUSY ? -EEXIST : r;
                        return cgroup_create(mode, path);
                }
                if (r < 0) {
                        (void) cgroup_remove(mode, path);
                        return r;
                }
        }
        return 0;
}

int cgroup_attach(CGroupMode mode, const char *path, pid_t pid) {
        const char *h[3];
        char buf[32];

        snprintf(buf, sizeof buf, "%d\n", (int) pid);
        tracking_hierarchies(mode, h);
        for (int i = 0; h[i]; i++) {
                _cleanup_free_ char *p = strjoin(h[i], path, "/cgroup.procs");
                if (!p)
                        return -ENOMEM;
                int r = write_string_file(p, buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int rmdir_tree_at(int dfd, const char *name) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -EBADF; /* owned by d now */
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int k = rmdir_tree_at(dirfd(d), de->d_name);
                if (k < 0 && r == 0)
                        r = k;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int cgroup_remove(CGroupMode mode, const char *path) {
        const char *h[3];
        int r = 0;

        tracking_hierarchies(mode, h);
        for (int i = 0; h[i]; i++) {
                _cleanup_free_ char *p = strjoin(h[i], path);
                if (!p)
                        return -ENOMEM;
                int k = rmdir_tree_at(AT_FDCWD, p);
                if (k < 0 && r == 0)
                        r = k;
                /* The shared parent ("/nspawnctl") goes with the last container, so the
                 * host's cgroup tree is as it was; it fails harmlessly while others live. */
                char *slash = strrchr(p, '/');
                if (k >= 0 && slash && slash != p + strlen(h[i])) {
                        *slash = 0;
                        (void) rmdir(p);
                }
        }
        return r;
}

static int count_procs_at(const char *dir) {
        _cleanup_free_ char *procs = strjoin(dir, "/cgroup.procs");
        _cleanup_free_ char *buf = NULL;
        DIR *d;
        struct dirent *de;
        int n = 0, r;

        if (!procs)
                return -ENOMEM;
        r = read_full_file(procs, &buf, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (char *p = buf; *p; p++)
                if (*p == '\n')
                        n++;
        d = opendir(dir);
        if (!d)
                return n;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *sub = strjoin(dir, "/", de->d_name);
                if (!sub) {
                        closedir(d);
                        return -ENOMEM;
                }
                r = count_procs_at(sub);
                if (r > 0)
                        n += r;
        }
        closedir(d);
        return n;
}

int cgroup_count_procs(CGroupMode mode, const char *path) {
        const char *h[3];
        tracking_hierarchies(mode, h);
        _cleanup_free_ char *p = strjoin(h[0], path);
        if (!p)
                return -ENOMEM;
        return count_procs_at(p);
}

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
