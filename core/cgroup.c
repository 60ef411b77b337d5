/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
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

DEFINE_STRING_TABLE_LOOKUP(cgroup_mode, CGroupMode, _CGROUP_MODE_MAX);

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

static bool cgroup_line_matches(const char *line, const char *cgroup, size_t len) {
        /* "ID:CONTROLLERS:PATH" */
        const char *p = strchr(line, ':');
        if (!p)
                return false;
        p = strchr(p + 1, ':');
        if (!p)
                return false;
        p++;
        return strneq(p, cgroup, len) && (p[len] == 0 || p[len] == '/');
}

/* The length of cgroup without trailing slashes; 0 for the root cgroup or a relative path,
 * which would match every process on the host. */
static size_t cgroup_prefix_len(const char *cgroup) {
        size_t len = strlen(cgroup);
        while (len > 1 && cgroup[len - 1] == '/')
                len--;
        return cgroup[0] == '/' && len > 1 ? len : 0;
}

bool cgroup_contains_pid(const char *cgroup, pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[4096];
        size_t len = cgroup_prefix_len(cgroup);

        if (len == 0 || pid <= 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                if (cgroup_line_matches(line, cgroup, len))
                        return true;
        }
        return false;
}

int cgroup_list_pids(const char *cgroup, pid_t **ret, size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, allocated = 0;

        if (cgroup_prefix_len(cgroup) == 0)
                return -EINVAL;
        d = opendir("/proc");
        if (!d)
                return -errno;
        FOREACH_DIRENT(de, d) {
                int pid;

                if (safe_atoi(de->d_name, &pid) < 0 || pid <= 0 || !cgroup_contains_pid(cgroup, pid))
                        continue; /* not a process, or exited meanwhile */
                if (n >= allocated) {
                        allocated = MAX(allocated * 2, 16u);
                        pid_t *np = reallocarray(pids, allocated, sizeof(pid_t));
                        if (!np)
                                return -ENOMEM;
                        pids = np;
                }
                pids[n++] = pid;
        }
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}
