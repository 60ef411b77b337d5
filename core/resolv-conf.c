/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount.h"
#include "resolv-conf.h"
#include "util/chase.h"
#include "util/util.h"

#define RESOLV_CONF_MAX (64 * 1024)

void resolv_conf_plan_done(ResolvConfPlan *p) {
        free(p->source);
        free(p->content);
        *p = (ResolvConfPlan){};
}

void resolv_conf_paths_default(ResolvConfPaths *ret, const char *managed) {
        *ret = (ResolvConfPaths){
                .host = "/etc/resolv.conf",
                .stat = "/usr/lib/systemd/resolv.conf",
                .uplink = "/run/systemd/resolve/resolv.conf",
                .stub = "/run/systemd/resolve/stub-resolv.conf",
                .managed = managed,
        };
}

bool resolv_conf_is_local_only(const char *content) {
        bool any = false;

        for (const char *line = content; line && *line;) {
                const char *end = strchrnul(line, '\n'), *p = line;
                p += strspn(p, " \t");
                if (strneq(p, "nameserver", 10) && (p[10] == ' ' || p[10] == '\t')) {
                        char a[64];
                        size_t n;
                        p += 10;
                        p += strspn(p, " \t");
                        n = strcspn(p, " \t\n");
                        if (n > 0 && n < sizeof a) {
                                memcpy(a, p, n);
                                a[n] = 0;
                                any = true;
                                if (!startswith(a, "127.") && !streq(a, "::1"))
                                        return false;
                        }
                }
                line = *end ? end + 1 : end;
        }
        return any;
}

/* Host files are trusted, but read bounded and only as regular files. */
static int read_source(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0)
                return -errno;
        return read_regular_fd(fd, RESOLV_CONF_MAX, ret);
}

typedef enum Source { SOURCE_HOST, SOURCE_STATIC, SOURCE_UPLINK, SOURCE_STUB } Source;

static int pick_source(Source s, const char *mode, const ResolvConfPaths *paths, char **ret_path,
        char **ret_content, Error *e) {
        _cleanup_free_ char *content = NULL;
        const char *path = NULL;
        int r;

        switch (s) {
        case SOURCE_HOST:
                path = paths->host;
                break;
        case SOURCE_STATIC:
                path = paths->stat;
                if (access(path, F_OK) < 0)
                        return error_set(e, -ENOENT,
                                "--resolv-conf=%s needs %s (from systemd-resolved), which this host lacks.",
                                mode, path);
                break;
        case SOURCE_UPLINK:
                /* Without systemd-resolved, the host's own resolv.conf is its uplink list, unless
                 * it points at a local resolver. */
                if (access(paths->uplink, F_OK) >= 0)
                        path = paths->uplink;
                else {
                        r = read_source(paths->host, &content);
                        if (r < 0)
                                return error_set(e, r, "Cannot read %s: %m", paths->host);
                        if (resolv_conf_is_local_only(content))
                                return error_set(e, -ENOENT,
                                        "--resolv-conf=%s: %s names only a local resolver and there is no "
                                        "%s (systemd-resolved).",
                                        mode, paths->host, paths->uplink);
                        path = paths->host;
                }
                break;
        case SOURCE_STUB:
                path = paths->managed ?: paths->stub;
                if (access(path, F_OK) < 0)
                        return error_set(e, -ENOENT,
                                "--resolv-conf=%s needs a local resolver: %s does not exist (no "
                                "systemd-resolved on this host, and the machine is not on the managed "
                                "network).",
                                mode, path);
                break;
        }
        if (!content) {
                r = read_source(path, &content);
                if (r < 0)
                        return error_set(e, r, "Cannot read %s for --resolv-conf=%s: %m", path, mode);
        }
        *ret_path = strdup(path);
        if (!*ret_path)
                return -ENOMEM;
        *ret_content = TAKE_PTR(content);
        return 0;
}

int resolv_conf_plan(ResolvConfMode mode, bool private_network, bool read_only, const ResolvConfPaths *paths,
        ResolvConfPlan *ret, Error *e) {
        ResolvConfPlan p = {};
        const char *name = resolv_conf_mode_to_string(mode);
        Source s = SOURCE_HOST;
        int r;

        if (!name)
                return -EINVAL;
        switch (mode) {
        case RESOLV_CONF_OFF:
                *ret = p;
                return 0;
        case RESOLV_CONF_DELETE:
                if (read_only)
                        return error_set(e, -EROFS, "--resolv-conf=delete needs a writable tree.");
                p.action = RESOLV_ACTION_DELETE;
                *ret = p;
                return 0;
        case RESOLV_CONF_AUTO:
                if (private_network) {
                        /* The guest's own business (a DHCP client, systemd-resolved), unless a
                         * local resolver for it was given: the managed network's. */
                        if (!paths->managed) {
                                *ret = p;
                                return 0;
                        }
                        s = SOURCE_STUB;
                } else
                        /* The host's namespace: the host's resolver, systemd-resolved's stub if
                         * it runs (127.0.0.53 is reachable from here), its resolv.conf if not. */
                        s = !paths->managed && access(paths->stub, F_OK) >= 0 ? SOURCE_STUB : SOURCE_HOST;
                p.action = RESOLV_ACTION_COPY;
                p.bind_if_read_only = true;
                break;
        default: {
                static const ResolvConfAction actions[] = {
                        RESOLV_ACTION_COPY, RESOLV_ACTION_REPLACE, RESOLV_ACTION_BIND};
                int k = mode - RESOLV_CONF_COPY_HOST;
                p.action = actions[k / 4];
                s = (Source) (k % 4);
                if (read_only && p.action != RESOLV_ACTION_BIND)
                        return error_set(e, -EROFS,
                                "--resolv-conf=%s needs a writable tree; with --read-only use bind-%s.",
                                name, name + (p.action == RESOLV_ACTION_COPY ? 5 : 8));
        }
        }
        r = pick_source(s, name, paths, &p.source, &p.content, e);
        if (r < 0) {
                resolv_conf_plan_done(&p);
                return r;
        }
        /* In the host's namespace the guest's own resolver is masked (see run.c): a symlink
         * to its stub in /run would dangle, so the file goes where the symlink points. */
        p.follow_run_symlink = !private_network;
        *ret = p;
        return 0;
}

/* ---- in the container's setup child --------------------------------------------------- */

/* Whether dfd/name is a regular file (not followed if a symlink) that holds content already;
 * its mode goes to *ret_mode. */
static bool same_regular_file(int dfd, const char *name, const char *content, mode_t *ret_mode) {
        _cleanup_close_ int fd = openat(dfd, name,
                                        O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        size_t len = strlen(content);
        char buf[RESOLV_CONF_MAX + 1];
        struct stat st;
        ssize_t n;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        *ret_mode = st.st_mode & 07777;
        if ((size_t) st.st_size != len || len > RESOLV_CONF_MAX)
                return false;
        n = loop_read(fd, buf, sizeof buf);
        return n == (ssize_t) len && memcmp(buf, content, len) == 0;
}

static int write_replace(int dfd, const char *name, const char *content) {
        char tmp[NAME_MAX + 1];
        _cleanup_close_ int fd = -EBADF;
        mode_t mode = 0644;
        int r;

        /* The same text already: the tree stays as it is. A file that is replaced keeps its
         * mode. */
        if (same_regular_file(dfd, name, content, &mode))
                return 0;
        snprintf(tmp, sizeof tmp, ".#%s.nspawnctl", name);
        (void) unlinkat(dfd, tmp, 0);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, content, strlen(content));
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        return rename_into_place_at(dfd, tmp, name, r);
}

int resolv_conf_run_target(const char *link, char ret[static PATH_MAX]) {
        char in[PATH_MAX * 2], out[PATH_MAX];
        size_t n = 0;

        if (snprintf(in, sizeof in, "%s%s", link[0] == '/' ? "" : "/etc/", link) >= (int) sizeof in)
                return -ENAMETOOLONG;
        out[0] = 0;
        for (char *save = NULL, *c = strtok_r(in, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        char *slash = strrchr(out, '/');
                        n = slash ? (size_t) (slash - out) : 0;
                        out[n] = 0;
                        continue;
                }
                if (n + 1 + strlen(c) >= sizeof out)
                        return -ENAMETOOLONG;
                out[n++] = '/';
                strcpy(out + n, c);
                n += strlen(c);
        }
        if (!startswith(out, "/run/") || strchr(out + 5, '/') == NULL)
                return -EPERM; /* not below /run/SOMETHING/: not ours to write */
        strcpy(ret, out);
        return 0;
}

static int write_into_run(int root_fd, int etc, const ResolvConfPlan *p) {
        char link[PATH_MAX], target[PATH_MAX], dir[PATH_MAX];
        _cleanup_close_ int dfd = -EBADF;
        ssize_t n;
        char *slash;
        int r;

        n = readlinkat(etc, "resolv.conf", link, sizeof link - 1);
        if (n < 0)
                return -errno;
        link[n] = 0;
        r = resolv_conf_run_target(link, target);
        if (r < 0)
                return r;
        strcpy(dir, target);
        slash = strrchr(dir, '/');
        *slash = 0;
        /* /run is the container's own fresh tmpfs: whatever is made there is ours. Still no
         * symlink is followed on the way (chase_open() underneath). */
        r = open_in_root(root_fd, dir, IN_ROOT_MKDIR | IN_ROOT_NO_SYMLINKS, &dfd);
        if (r < 0)
                return r;
        if (p->action == RESOLV_ACTION_BIND) {
                _cleanup_close_ int src = open(p->source, O_PATH | O_CLOEXEC), f = -EBADF;
                if (src < 0)
                        return -errno;
                f = openat(dfd, slash + 1, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0)
                        return -errno;
                return bind_fd_in_root(root_fd, src, target, IN_ROOT_NO_SYMLINKS, false, true);
        }
        return write_replace(dfd, slash + 1, p->content ?: "");
}

int resolv_conf_apply(int root_fd, const ResolvConfPlan *p, bool read_only) {
        _cleanup_close_ int etc = -EBADF;
        ResolvConfAction action = p->action;
        struct stat st;
        bool exists, regular, symlink;
        int r;

        if (action == RESOLV_ACTION_COPY && read_only && p->bind_if_read_only)
                action = RESOLV_ACTION_BIND;
        if (action == RESOLV_ACTION_NONE)
                return 0;
        /* The guest's /etc, its own directory: no symlink of the guest's is followed, not even
         * one that stays inside the tree; everything below is done relative to it, with
         * O_NOFOLLOW and rename, never through the file. */
        etc = chase_open(root_fd, "/etc", O_RDONLY | O_DIRECTORY, CHASE_IN_ROOT | CHASE_NO_SYMLINKS);
        if (etc == -ENOENT && action == RESOLV_ACTION_DELETE)
                return 0;
        if (etc == -ELOOP)
                return -ENOTDIR; /* /etc itself is a symlink: not ours to write through */
        if (etc < 0)
                return etc;
        exists = fstatat(etc, "resolv.conf", &st, AT_SYMLINK_NOFOLLOW) >= 0;
        if (!exists && errno != ENOENT)
                return -errno;
        regular = exists && S_ISREG(st.st_mode);
        symlink = exists && S_ISLNK(st.st_mode);
        if (exists && S_ISDIR(st.st_mode))
                return -EISDIR;

        switch (action) {
        case RESOLV_ACTION_DELETE:
                if (exists && unlinkat(etc, "resolv.conf", 0) < 0)
                        return -errno;
                return 0;
        case RESOLV_ACTION_COPY:
                if (symlink && p->follow_run_symlink) {
                        r = write_into_run(root_fd, etc, p);
                        return r == -EPERM ? 0 : r;
                }
                if (exists && !regular)
                        return 0; /* copy leaves anything but a regular file alone */
                return write_replace(etc, "resolv.conf", p->content ?: "");
        case RESOLV_ACTION_REPLACE:
                return write_replace(etc, "resolv.conf", p->content ?: "");
        case RESOLV_ACTION_BIND: {
                _cleanup_close_ int src = -EBADF;
                if (symlink) {
                        if (!p->follow_run_symlink)
                                return -ELOOP;
                        r = write_into_run(root_fd, etc, p);
                        return r == -EPERM ? -ELOOP : r;
                }
                if (exists && !regular)
                        return -EBADFD;
                src = open(p->source, O_PATH | O_CLOEXEC);
                if (src < 0)
                        return -errno;
                /* A missing file is created as the mount point (only a writable tree can). */
                return bind_fd_in_root(root_fd, src, "/etc/resolv.conf", IN_ROOT_NO_SYMLINKS, false, true);
        }
        default:
                return 0;
        }
}
