/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
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

int cgroup_delegate(CGroupMode mode, const char *path, uid_t uid, gid_t gid) {
        /* What a delegated subtree's owner needs (systemd's list): the directory to make
         * children, and the files that move processes and enable controllers below. Limits
         * of the cgroup itself stay the host's. */
        static const char *const files[] = { ".", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control",
                                             "tasks", "cgroup.clone_children", "notify_on_release" };
        const char *h[3];

        tracking_hierarchies(mode, h);
        for (int i = 0; h[i]; i++) {
                _cleanup_free_ char *p = strjoin(h[i], path);
                _cleanup_close_ int dir = -EBADF;
                if (!p)
                        return -ENOMEM;
                dir = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dir < 0)
                        return -errno;
                for (size_t k = 0; k < ELEMENTSOF(files); k++)
                        if (fchownat(dir, files[k], uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                                return -errno;
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

