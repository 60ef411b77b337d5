/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "util/strv.h"
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

bool cgroup_controllers_have(const char *list, const char *controller) {
        size_t n = strlen(controller);

        for (const char *p = list; p && *p;) {
                size_t len = strcspn(p, ", \n");
                if (len == n && strneq(p, controller, n))
                        return true;
                p += len;
                p += strspn(p, ", \n");
        }
        return false;
}

/* "rw,relatime,cpu,cpuacct" -> "cpu,cpuacct": the super block options of a v1 mount
 * without the generic ones. */
static void v1_controllers_from_options(const char *opts, char *out, size_t size) {
        size_t n = 0;

        out[0] = 0;
        for (const char *p = opts; *p;) {
                size_t len = strcspn(p, ",");
                bool generic = false;
                FOREACH_STRING(g, "rw", "ro", "xattr", "relatime", "none", "clone_children", "cpuset_v2_mode",
                               "noprefix")
                        generic = generic || (len == strlen(g) && strneq(p, g, len));
                generic = generic || (len > 14 && strneq(p, "release_agent=", 14));
                if (!generic && len > 0 && n + len + 2 < size) {
                        if (n)
                                out[n++] = ',';
                        memcpy(out + n, p, len);
                        n += len;
                        out[n] = 0;
                }
                p += len + (p[len] == ',');
        }
}

int cgroup_hierarchies_load(CGroupHierarchies *ret) {
        _cleanup_free_ char *text = NULL;
        dev_t seen[CGROUP_HIERARCHIES_MAX];
        int r;

        r = read_full_file("/proc/self/mountinfo", &text, NULL);
        if (r < 0)
                return r;
        ret->n = 0;
        for (char *line = text, *next; line && *line; line = next) {
                char *f[6], *sep, *fstype, *superopts, *s = line;
                unsigned maj, min;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                /* ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER_OPTIONS */
                for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                        f[i] = strsep(&s, " ");
                        if (!f[i])
                                break;
                }
                if (!f[5] || !s)
                        continue;
                sep = strstr(s, "- ");
                if (!sep || (sep != s && sep[-1] != ' '))
                        continue;
                s = sep + 2;
                fstype = strsep(&s, " ");
                (void) strsep(&s, " "); /* source */
                superopts = s;
                if (!fstype || !superopts || (!streq(fstype, "cgroup") && !streq(fstype, "cgroup2")))
                        continue;
                /* Only whole hierarchies at their usual place; an escaped name never is one. */
                if (!streq(f[3], "/") || strchr(f[4], '\\') ||
                    !(streq(f[4], CGROUP_ROOT) ||
                      (startswith(f[4], CGROUP_ROOT "/") && !strchr(f[4] + STRLEN(CGROUP_ROOT "/"), '/'))))
                        continue;
                if (sscanf(f[2], "%u:%u", &maj, &min) != 2 || strlen(f[4]) >= sizeof ret->h[0].mount_point)
                        continue;
                bool dup = false;
                for (size_t i = 0; i < ret->n; i++)
                        dup = dup || seen[i] == makedev(maj, min);
                if (dup || ret->n >= CGROUP_HIERARCHIES_MAX)
                        continue;

                CGroupHierarchy *h = &ret->h[ret->n];
                *h = (CGroupHierarchy) { .unified = streq(fstype, "cgroup2") };
                strcpy(h->mount_point, f[4]);
                if (h->unified) {
                        _cleanup_free_ char *p = strjoin(h->mount_point, "/cgroup.controllers"), *c = NULL;
                        if (!p)
                                return -ENOMEM;
                        if (read_one_line(p, &c) >= 0)
                                snprintf(h->controllers, sizeof h->controllers, "%s", c);
                } else
                        v1_controllers_from_options(superopts, h->controllers, sizeof h->controllers);
                seen[ret->n++] = makedev(maj, min);
        }
        return 0;
}

int cgroup_hierarchies_get(const CGroupHierarchies *given, CGroupHierarchies *buf,
                           const CGroupHierarchies **ret) {
        int r;

        if (!given) {
                r = cgroup_hierarchies_load(buf);
                if (r < 0)
                        return r;
                given = buf;
        }
        *ret = given;
        return 0;
}

const CGroupHierarchy *cgroup_hierarchies_find_v1(const CGroupHierarchies *hs, const char *controller) {
        for (size_t i = 0; i < hs->n; i++)
                if (!hs->h[i].unified && cgroup_controllers_have(hs->h[i].controllers, controller))
                        return &hs->h[i];
        return NULL;
}

const CGroupHierarchy *cgroup_hierarchies_unified(const CGroupHierarchies *hs) {
        for (size_t i = 0; i < hs->n; i++)
                if (hs->h[i].unified)
                        return &hs->h[i];
        return NULL;
}

int cgroup_path_for_container(const char *machine, char **ret) {
        char *p = strjoin("/nspawnctl/", machine);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* A new v1 cpuset cgroup has no cpus and no mems, and no process may join it until it
 * has: it gets its parent's. Also for a shared parent that exists already, which another
 * supervisor may have created a moment ago and not yet filled in. */
static int cpuset_init(const char *dir) {
        _cleanup_free_ char *parent = strdup(dir);
        char *slash;
        int r;

        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        FOREACH_STRING(f, "cpuset.cpus", "cpuset.mems") {
                _cleanup_free_ char *from = strjoin(parent, "/", f), *to = strjoin(dir, "/", f);
                _cleanup_free_ char *have = NULL, *v = NULL;
                if (!from || !to)
                        return -ENOMEM;
                if (read_one_line(to, &have) >= 0 && !isempty(strstrip(have)))
                        continue;
                r = read_one_line(from, &v);
                if (r < 0)
                        return r;
                if (isempty(strstrip(v)))
                        return -ENOSPC; /* the parent is not set up either */
                r = write_string_file(to, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The controllers the container's cgroup gets on cgroup2, where the host has them. */
static const char *const delegated_controllers[] = { "cpu", "io", "memory", "pids" };

/* Makes the controllers available in dir's children. Best effort: the limits check the
 * files they need and refuse clearly when one is missing. */
static void cgroup2_delegate(const char *dir) {
        _cleanup_free_ char *avail_path = strjoin(dir, "/cgroup.controllers"), *avail = NULL;
        _cleanup_free_ char *ctl = strjoin(dir, "/cgroup.subtree_control");

        if (!avail_path || !ctl || read_one_line(avail_path, &avail) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(delegated_controllers); i++) {
                char buf[16];
                if (!cgroup_controllers_have(avail, delegated_controllers[i]))
                        continue;
                snprintf(buf, sizeof buf, "+%s", delegated_controllers[i]);
                (void) write_string_file(ctl, buf);
        }
}

static bool hierarchy_is_cpuset(const CGroupHierarchy *h) {
        return !h->unified && cgroup_controllers_have(h->controllers, "cpuset");
}

/* Creates one cgroup directory below an existing parent, set up for its hierarchy. */
static int cgroup_mkdir_one(const CGroupHierarchy *h, const char *dir, bool must_be_new) {
        int r;

        if (h->unified) {
                _cleanup_free_ char *parent = strdup(dir);
                char *slash = parent ? strrchr(parent, '/') : NULL;
                if (!parent)
                        return -ENOMEM;
                if (slash && slash != parent) {
                        *slash = 0;
                        cgroup2_delegate(parent);
                }
        }
        if (mkdir(dir, 0755) < 0 && (errno != EEXIST || must_be_new))
                return -errno;
        /* (EEXIST: a shared parent that exists already) */
        if (hierarchy_is_cpuset(h)) {
                r = cpuset_init(dir);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* mount_point + path, creating the intermediate cgroups. */
static int cgroup_mkdir_path(const CGroupHierarchy *h, const char *path) {
        _cleanup_free_ char *full = strjoin(h->mount_point, path);
        size_t base;
        int r;

        if (!full)
                return -ENOMEM;
        /* The parents are there but for the first container: try the cgroup itself first
         * instead of a failing mkdir for each of them, in each hierarchy, at every start. */
        r = cgroup_mkdir_one(h, full, true);
        if (r != -ENOENT)
                return r;
        base = strlen(h->mount_point);
        for (char *s = strchr(full + base + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                r = cgroup_mkdir_one(h, full, false);
                *s = '/';
                if (r < 0)
                        return r;
        }
        return cgroup_mkdir_one(h, full, true);
}

int cgroup_create(const CGroupHierarchies *given, const char *path) {
        CGroupHierarchies buf;
        const CGroupHierarchies *hs;
        int r;

        r = cgroup_hierarchies_get(given, &buf, &hs);
        if (r < 0)
                return r;
        if (hs->n == 0)
                return -ENOMEDIUM;
        for (size_t i = 0; i < hs->n; i++) {
                r = cgroup_mkdir_path(&hs->h[i], path);
                if (r == -ENOENT) /* the parent was removed by a container that just ended */
                        r = cgroup_mkdir_path(&hs->h[i], path);
                if (r == -EEXIST) {
                        /* Left over by a supervisor that was killed before its cleanup
                         * process ran: reuse it only if nothing lives in it. */
                        r = cgroup_remove(hs, path);
                        if (r < 0)
                                return r == -EBUSY ? -EEXIST : r;
                        return cgroup_create(hs, path);
                }
                if (r < 0) {
                        (void) cgroup_remove(hs, path);
                        return r;
                }
        }
        return 0;
}

int cgroup_attach(const CGroupHierarchies *hs, const char *path, pid_t pid) {
        char buf[32];
        int r;

        snprintf(buf, sizeof buf, "%d\n", (int) pid);
        for (size_t i = 0; i < hs->n; i++) {
                _cleanup_free_ char *payload = strjoin(path, "/" CGROUP_PAYLOAD);
                _cleanup_free_ char *procs = strjoin(hs->h[i].mount_point, path,
                                                     "/" CGROUP_PAYLOAD "/cgroup.procs");
                if (!payload || !procs)
                        return -ENOMEM;
                r = cgroup_mkdir_path(&hs->h[i], payload);
                if (r < 0 && r != -EEXIST)
                        return r;
                r = write_string_file(procs, buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_delegate_payload(const CGroupHierarchies *given, const char *path, uid_t uid, gid_t gid) {
        CGroupHierarchies buf;
        const CGroupHierarchies *hs;
        int r;

        r = cgroup_hierarchies_get(given, &buf, &hs);
        if (r < 0)
                return r;
        for (size_t i = 0; i < hs->n; i++) {
                const CGroupHierarchy *h = &hs->h[i];
                _cleanup_free_ char *dir = strjoin(h->mount_point, path, "/" CGROUP_PAYLOAD);
                _cleanup_close_ int fd = -EBADF;

                if (!h->unified && !cgroup_controllers_have(h->controllers, "name=systemd"))
                        continue;
                if (!dir)
                        return -ENOMEM;
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return -errno;
                if (fchown(fd, uid, gid) < 0)
                        return -errno;
                FOREACH_STRING(f, "cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "tasks")
                        if (fchownat(fd, f, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
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

/* Most containers leave just what we made, PATH and PATH/payload: two rmdir()s. Anything
 * else (a systemd inside makes its own subtree) is walked. */
static int rmdir_known_tree(const char *p) {
        _cleanup_free_ char *payload = strjoin(p, "/" CGROUP_PAYLOAD);

        if (!payload)
                return -ENOMEM;
        if (rmdir(payload) < 0 && errno != ENOENT)
                return rmdir_tree_at(AT_FDCWD, p);
        if (rmdir(p) >= 0 || errno == ENOENT)
                return 0;
        return rmdir_tree_at(AT_FDCWD, p);
}

int cgroup_remove(const CGroupHierarchies *given, const char *path) {
        CGroupHierarchies buf;
        const CGroupHierarchies *hs;
        int r;

        r = cgroup_hierarchies_get(given, &buf, &hs);
        if (r < 0)
                return r;
        for (size_t i = 0; i < hs->n; i++) {
                _cleanup_free_ char *p = strjoin(hs->h[i].mount_point, path);
                if (!p)
                        return -ENOMEM;
                /* The shared parent ("/nspawnctl") stays, as machine.slice does under
                 * systemd: making it again costs every start a few ms (a v1 cpuset mkdir
                 * alone takes 2 ms here), and an empty cgroup holds nothing. */
                int k = rmdir_known_tree(p);
                if (k < 0 && r == 0)
                        r = k;
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
