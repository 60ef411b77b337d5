/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mount.h"
#include "settings.h"
#include "spawn-files.h"
#include "userns.h"
#include "util/chase.h"
#include "util/guest-file.h"
#include "util/strv.h"
#include "util/util.h"

/* Masks and the host's /etc/localtime: nothing to write, run or open as a device. */
#define MASK_ATTRS (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

/* ---- Volatile=yes ---- */

int volatile_root_mount(const char *directory, int tree_fd, int userns_fd, const char *tmpfs_options) {
        static const char *const links[] = { "bin", "sbin", "lib", "lib64", "lib32", "libx32" };
        _cleanup_close_ int usr = -EBADF, clone = -EBADF, top = -EBADF, target = -EBADF;
        int r;

        /* The tree's own /usr, never a symlink out of it. */
        usr = chase_open(tree_fd, "/usr", O_PATH | O_DIRECTORY, CHASE_IN_ROOT | CHASE_NO_SYMLINKS);
        if (usr < 0)
                return usr;
        r = mount_clone_idmapped(usr, true, userns_fd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, &clone);
        if (r < 0)
                return r;
        /* setuid binaries in /usr work as they do in the tree (the pool's nosuid is the
         * host's business, see setup_root()). */
        r = mount_fd_setattr(clone, true, 0, MOUNT_ATTR_NOSUID);
        if (r < 0)
                return r;
        r = mount_nofollow("tmpfs", directory, "tmpfs", MS_NODEV, tmpfs_options);
        if (r < 0)
                return r;
        top = open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (top < 0)
                return -errno;
        FOREACH_STRING(d, "usr", "etc", "var")
                if (mkdirat(top, d, 0755) < 0)
                        return -errno;
        if (mkdirat(top, "root", 0700) < 0)
                return -errno;
        target = openat(top, "usr", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (target < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                struct stat st;
                char to[16];

                if (fstatat(usr, links[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                snprintf(to, sizeof to, "usr/%s", links[i]);
                if (symlinkat(to, top, links[i]) < 0)
                        return -errno;
        }
        return mount_move_onto(clone, target);
}

/* ---- Overlay= ---- */

static int overlay_layer_open(int root_fd, const char *layer, int flags) {
        bool in_tree;
        const char *path = overlay_layer_path(layer, &in_tree);
        int fd;

        if (in_tree)
                return chase_open(root_fd, path, O_PATH | O_DIRECTORY | flags, CHASE_IN_ROOT);
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC | flags);
        return fd < 0 ? -errno : fd;
}

/* A detached copy of a layer's mount: from the tree as it is, from the host ID-mapped. */
static int overlay_layer_clone(int root_fd, const char *layer, int userns_fd, bool recursive, int *ret_fd) {
        _cleanup_close_ int fd = overlay_layer_open(root_fd, layer, 0);
        bool in_tree;

        if (fd < 0)
                return fd;
        (void) overlay_layer_path(layer, &in_tree);
        return mount_clone_idmapped(fd, recursive, in_tree ? -EBADF : userns_fd, 0, ret_fd);
}

static int fs_set(int fs, const char *key, const char *value) {
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
                return -errno;
        return 0;
}

/* The top layer and its work directory, both in one detached mount of the top layer's parent
 * (overlayfs wants them on the same mount). */
static int overlay_upper_prepare(int root_fd, const char *upper, int userns_fd, const char *tmpfs_options,
                                 int *ret_mnt, int *ret_upper, int *ret_work) {
        _cleanup_close_ int mnt = -EBADF, u = -EBADF, w = -EBADF, parent = -EBADF;
        _cleanup_free_ char *dir = NULL, *work = NULL;
        const char *name;
        int r;

        if (isempty(upper)) {
                r = mount_new_detached("tmpfs", tmpfs_options, 0, &mnt);
                if (r < 0)
                        return r;
                if (mkdirat(mnt, "upper", 0755) < 0 || mkdirat(mnt, "work", 0700) < 0)
                        return -errno;
                name = "upper";
                work = strdup("work");
        } else {
                bool in_tree;
                const char *path = overlay_layer_path(upper, &in_tree);
                const char *slash = strrchr(path, '/');

                _cleanup_free_ char *d = slash == path ? strdup("/") : strndup(path, slash - path);
                if (!d)
                        return -ENOMEM;
                dir = strjoin(in_tree ? "+" : "", d);
                if (!dir)
                        return -ENOMEM;
                name = slash + 1;
                work = strjoin(".#work.", name);
                if (!work)
                        return -ENOMEM;
                parent = overlay_layer_open(root_fd, dir, 0);
                if (parent < 0)
                        return parent;
                r = mount_clone_idmapped(parent, false, in_tree ? -EBADF : userns_fd, 0, &mnt);
                if (r < 0)
                        return r;
                if (mkdirat(mnt, work, 0700) < 0 && errno != EEXIST)
                        return -errno;
        }
        if (!work)
                return -ENOMEM;
        /* Not following a symlink at either name: the fds are what overlayfs gets. */
        u = openat(mnt, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (u < 0)
                return -errno;
        w = openat(mnt, work, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (w < 0)
                return -errno;
        *ret_mnt = TAKE_FD(mnt);
        *ret_upper = TAKE_FD(u);
        *ret_work = TAKE_FD(w);
        return 0;
}

int overlay_mount_detached(int root_fd, const OverlayMount *o, int userns_fd, const char *tmpfs_options,
                           int *ret_fd) {
        size_t n = strv_length(o->lower);
        _cleanup_close_ int fs = -EBADF, upper_mnt = -EBADF, upper = -EBADF, work = -EBADF;
        _cleanup_free_ int *fds = calloc(n, sizeof(int));
        _cleanup_free_ char *lowerdir = NULL;
        int mnt, r;

        if (!fds)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                fds[i] = -EBADF;
        for (size_t i = 0; i < n; i++) {
                r = overlay_layer_clone(root_fd, o->lower[i], userns_fd, true, &fds[i]);
                if (r < 0)
                        goto finish;
        }
        /* overlayfs lists the top-most lower layer first, nspawn the lowest. */
        for (size_t i = n; i > 0; i--) {
                char *l;
                l = strjoin(strempty(lowerdir), lowerdir ? ":" : "", FORMAT_PROC_FD_PATH(fds[i - 1]));
                if (!l) {
                        r = -ENOMEM;
                        goto finish;
                }
                free(lowerdir);
                lowerdir = l;
        }
        fs = (int) syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs < 0) {
                r = -errno;
                goto finish;
        }
        r = fs_set(fs, "lowerdir", lowerdir);
        if (r >= 0 && o->upper) {
                r = overlay_upper_prepare(root_fd, o->upper, userns_fd, tmpfs_options, &upper_mnt, &upper,
                                          &work);
                if (r >= 0) {
                        r = fs_set(fs, "upperdir", FORMAT_PROC_FD_PATH(upper));
                }
                if (r >= 0) {
                        r = fs_set(fs, "workdir", FORMAT_PROC_FD_PATH(work));
                }
        }
        if (r < 0)
                goto finish;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                r = -errno;
                goto finish;
        }
        mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (o->read_only ? MOUNT_ATTR_RDONLY : 0));
        if (mnt < 0) {
                r = -errno;
                goto finish;
        }
        *ret_fd = mnt;
        r = 0;
finish:
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
        return r;
}

/* ---- Inaccessible= ---- */

int mask_source_new(const char *tmpfs_options, int *ret_fd) {
        _cleanup_close_ int mnt = -EBADF, reg = -EBADF;
        int r;

        r = mount_new_detached("tmpfs", tmpfs_options, 0, &mnt);
        if (r < 0)
                return r;
        if (mkdirat(mnt, "dir", 0) < 0)
                return -errno;
        reg = openat(mnt, "reg", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
        if (reg < 0)
                return -errno;
        /* fchmod: the mode asked for at creation is subject to the umask. */
        if (fchmod(reg, 0) < 0 || fchmodat(mnt, "dir", 0, 0) < 0)
                return -errno;
        *ret_fd = TAKE_FD(mnt);
        return 0;
}

int mask_mount_new(int mask_source, int target_fd, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (fstat(target_fd, &st) < 0)
                return -errno;
        fd = (int) syscall(SYS_open_tree, mask_source, S_ISDIR(st.st_mode) ? "dir" : "reg",
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = mount_fd_setattr(fd, false, MASK_ATTRS, 0);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ---- Timezone= ---- */

#define LOCALTIME_MAX (1024 * 1024)

/* The zone the host's /etc/localtime links to ("Europe/Berlin"), or NULL. */
static char *host_zone(void) {
        char target[PATH_MAX];
        const char *z;
        ssize_t n;

        n = readlink("/etc/localtime", target, sizeof target - 1);
        if (n <= 0)
                return NULL;
        target[n] = 0;
        z = strstr(target, "zoneinfo/");
        if (!z)
                return NULL;
        z += STRLEN("zoneinfo/");
        _cleanup_free_ char *p = strjoin("/", z);
        if (!p || !path_is_safe_absolute(p) || streq(p, "/"))
                return NULL;
        return strdup(z);
}

static bool tree_has_zone(int root_fd, const char *zone) {
        _cleanup_free_ char *p = strjoin("/usr/share/zoneinfo/", zone);
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (!p)
                return false;
        fd = chase_open(root_fd, p, O_PATH, CHASE_IN_ROOT);
        return fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode);
}

/* Removes /etc/localtime of the tree, whatever it is but a directory. */
static int localtime_remove(int etc) {
        if (unlinkat(etc, "localtime", 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int localtime_copy(int etc, int host_fd) {
        _cleanup_close_ int out = -EBADF;
        char buf[16384];
        size_t total = 0;
        ssize_t n;
        int r;

        r = localtime_remove(etc);
        if (r < 0)
                return r;
        out = openat(etc, "localtime", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                     0644);
        if (out < 0)
                return -errno;
        while ((n = read(host_fd, buf, sizeof buf)) > 0) {
                total += n;
                if (total > LOCALTIME_MAX)
                        return -EFBIG;
                r = loop_write(out, buf, n);
                if (r < 0)
                        return r;
        }
        return n < 0 ? -errno : 0;
}

/* Over the file /etc/localtime resolves to in the tree, as nspawn does (a zoneinfo file when it
 * is a link), or over an empty file put in its place when it resolves to nothing. */
static int localtime_bind(int root_fd, int etc, int host, bool writable) {
        _cleanup_close_ int target = -EBADF, clone = -EBADF;
        struct stat st;
        int r;

        target = chase_open(root_fd, "/etc/localtime", O_PATH, CHASE_IN_ROOT);
        if (target == -ENOENT) {
                _cleanup_close_ int fd = -EBADF;
                if (!writable)
                        return -EROFS;
                r = localtime_remove(etc);
                if (r < 0)
                        return r;
                fd = openat(etc, "localtime", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0)
                        return -errno;
                target = openat(etc, "localtime", O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (target < 0)
                        return -errno;
        }
        if (target < 0)
                return target;
        if (fstat(target, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        r = mount_clone_idmapped(host, false, -EBADF, MASK_ATTRS, &clone);
        if (r < 0)
                return r;
        return mount_move_onto(clone, target);
}

int timezone_setup(int root_fd, TimezoneMode mode, bool writable) {
        _cleanup_close_ int etc = -EBADF, host = -EBADF;
        _cleanup_free_ char *zone = host_zone();
        struct stat st;

        if (mode == TIMEZONE_OFF)
                return 0;
        /* The host's file (its own symlinks followed: the host is trusted), a regular one. */
        host = open("/etc/localtime", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (host < 0 && errno != ENOENT)
                return -errno;
        if (host >= 0 && (fstat(host, &st) < 0 || !S_ISREG(st.st_mode)))
                return -EBADFD;
        if (mode == TIMEZONE_AUTO)
                mode = !writable ? TIMEZONE_BIND
                       : zone && tree_has_zone(root_fd, zone) ? TIMEZONE_SYMLINK
                                                              : TIMEZONE_COPY;
        /* A host without /etc/localtime is on UTC: so is the container, without the file. */
        if (host < 0 && mode != TIMEZONE_SYMLINK)
                mode = TIMEZONE_DELETE;

        etc = chase_open(root_fd, "/etc", O_PATH | O_DIRECTORY, CHASE_IN_ROOT);
        if (etc < 0)
                return etc;
        if (mode == TIMEZONE_BIND)
                return localtime_bind(root_fd, etc, host, writable);
        if (!writable)
                return -EROFS;
        switch (mode) {
        case TIMEZONE_DELETE:
                return localtime_remove(etc);
        case TIMEZONE_COPY:
                return localtime_copy(etc, host);
        case TIMEZONE_SYMLINK: {
                _cleanup_free_ char *to = NULL;
                int r;
                if (!zone || !tree_has_zone(root_fd, zone))
                        return -ENOENT;
                to = strjoin("../usr/share/zoneinfo/", zone);
                if (!to)
                        return -ENOMEM;
                r = localtime_remove(etc);
                if (r < 0)
                        return r;
                return symlinkat(to, etc, "localtime") < 0 ? -errno : 0;
        }
        default:
                return -EINVAL;
        }
}

/* ---- LinkJournal= ---- */

int journal_link_find(int root_fd, char **ret_path) {
        _cleanup_free_ char *text = NULL, *host_text = NULL, *path = NULL;
        char id[33], host_id[33];
        struct stat st;
        int r;

        r = read_guest_file(root_fd, "/etc/machine-id", 64, 0, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = 0;
        if (machine_id_parse(text, id) < 0)
                return 0; /* not initialised: no journal to link yet */
        /* A guest that claims the host's id would get the host's own journal. */
        if (read_one_line("/etc/machine-id", &host_text) >= 0 && machine_id_parse(host_text, host_id) >= 0 &&
            streq(id, host_id))
                return -EEXIST;
        path = strjoin("/var/log/journal/", id);
        if (!path)
                return -ENOMEM;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return 0;
        *ret_path = TAKE_PTR(path);
        return 1;
}
