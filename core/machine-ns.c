/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy.h"
#include "machine-ns.h"
#include "util/process.h"
#include "util/util.h"

static int open_verified(pid_t leader, uint64_t leader_start, const char *what, int flags, int *ret_fd) {
        _cleanup_close_ int pidfd = -EBADF, fd = -EBADF;
        char path[64];
        int r;

        assert(ret_fd);
        if (leader <= 0)
                return -ESRCH;
        pidfd = pidfd_open_verified(leader, leader_start);
        if (pidfd < 0)
                return pidfd;
        snprintf(path, sizeof path, "/proc/%d/%s", (int) leader, what);
        fd = open(path, flags | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        /* The pid could have been recycled between the check and the open: the pidfd still
         * names the process we checked, and it must still be alive. */
        r = pidfd_send_signal_safe(pidfd, 0);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int machine_open_root(pid_t leader, uint64_t leader_start, int *ret_fd) {
        return open_verified(leader, leader_start, "root", O_PATH | O_DIRECTORY, ret_fd);
}

int machine_open_root_directory(pid_t leader, uint64_t leader_start, int *ret_fd) {
        return open_verified(leader, leader_start, "root", O_RDONLY | O_DIRECTORY, ret_fd);
}

int machine_open_ns(pid_t leader, uint64_t leader_start, const char *name, int *ret_fd) {
        char what[32];

        if (isempty(name) || strchr(name, '/') || strlen(name) > 16)
                return -EINVAL;
        snprintf(what, sizeof what, "ns/%s", name);
        return open_verified(leader, leader_start, what, O_RDONLY, ret_fd);
}

int uid_map_parse_shift(const char *text, uint32_t *ret) {
        unsigned long inner, outer, count;
        int n = 0;

        assert(text);
        assert(ret);
        /* One line, "INSIDE OUTSIDE COUNT"; the identity map of the host's namespace is
         * "0 0 4294967295". */
        if (sscanf(text, " %lu %lu %lu %n", &inner, &outer, &count, &n) != 3)
                return -EBADMSG;
        if (text[n] != 0)
                return -EBADR; /* more than one range */
        if (inner != 0 || outer > UINT32_MAX || count == 0 || count > UINT32_MAX)
                return -EBADR;
        *ret = (uint32_t) outer;
        return 0;
}

int machine_uid_shift(pid_t leader, uint64_t leader_start, uint32_t *ret) {
        _cleanup_free_ char *uid_map = NULL, *gid_map = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        uint32_t uid_shift, gid_shift;
        char path[64];
        int r;

        pidfd = pidfd_open_verified(leader, leader_start);
        if (pidfd < 0)
                return pidfd;
        snprintf(path, sizeof path, "/proc/%d/uid_map", (int) leader);
        r = read_full_file(path, &uid_map, NULL);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/%d/gid_map", (int) leader);
        r = read_full_file(path, &gid_map, NULL);
        if (r < 0)
                return r;
        r = pidfd_send_signal_safe(pidfd, 0);
        if (r < 0)
                return r;
        /* Machines with a user namespace (core/userns.c) get their shift from the kernel's
         * own record of it: nothing else needs to tell machined about it. */
        r = uid_map_parse_shift(uid_map, &uid_shift);
        if (r < 0)
                return r;
        r = uid_map_parse_shift(gid_map, &gid_shift);
        if (r < 0)
                return r;
        if (uid_shift != gid_shift)
                return -EBADR;
        *ret = uid_shift;
        return 0;
}

int id_map_translate(const char *text, uint32_t id, bool to_host, uint32_t *ret) {
        const char *p = text;

        assert(text);
        assert(ret);
        for (;;) {
                unsigned long inner, outer, count, from, to;
                int n = 0;

                if (sscanf(p, " %lu %lu %lu%n", &inner, &outer, &count, &n) != 3)
                        return -ESRCH;
                p += n;
                if (inner > UINT32_MAX || outer > UINT32_MAX || count > UINT32_MAX)
                        continue;
                from = to_host ? inner : outer;
                to = to_host ? outer : inner;
                if (id >= from && (unsigned long) id - from < count) {
                        unsigned long r = to + ((unsigned long) id - from);
                        if (r > UINT32_MAX)
                                return -ESRCH;
                        *ret = (uint32_t) r;
                        return 0;
                }
        }
}

int machine_read_id_map(pid_t leader, uint64_t leader_start, bool gid, char **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        char path[64];
        int r;

        pidfd = pidfd_open_verified(leader, leader_start);
        if (pidfd < 0)
                return pidfd;
        snprintf(path, sizeof path, "/proc/%d/%s", (int) leader, gid ? "gid_map" : "uid_map");
        r = read_full_file(path, &text, NULL);
        if (r < 0)
                return r;
        r = pidfd_send_signal_safe(pidfd, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        return 0;
}

/* --- bind mounts ------------------------------------------------------------------ */

typedef struct BindReport {
        int error;
        char message[256];
} BindReport;

static _noreturn_ void bind_child_fail(int fd, int r, const char *fmt, ...) _printf_(3, 4);
static _noreturn_ void bind_child_fail(int fd, int r, const char *fmt, ...) {
        BindReport rep = { .error = r < 0 ? -r : r };
        va_list ap;

        errno = rep.error;
        va_start(ap, fmt);
        (void) vsnprintf(rep.message, sizeof rep.message, fmt, ap);
        va_end(ap);
        (void) loop_write(fd, &rep, sizeof rep);
        _exit(EXIT_FAILURE);
}

static int openat2_in_root(int root_fd, const char *path, int flags, int *ret_fd) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof how);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* Creates the missing directories of path below root_fd one by one, each resolved inside
 * the root; the last one is a directory or, with !dir, an empty file. */
static int make_destination(int root_fd, const char *path, bool dir) {
        _cleanup_free_ char *copy = strdup(path);
        char *slash;
        int r, fd;

        if (!copy)
                return -ENOMEM;
        for (slash = strchr(copy + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                _cleanup_close_ int parent = -EBADF;
                *slash = 0;
                r = openat2_in_root(root_fd, copy, O_PATH | O_DIRECTORY, &parent);
                if (r == -ENOENT && mkdirat(root_fd, copy + 1, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (r < 0 && r != -ENOENT)
                        return r;
                *slash = '/';
        }
        /* Relative to the root fd in the machine's own mount namespace, whose root is also
         * ours now: ".." and absolute symlinks stay inside. The caller resolves the result
         * again and checks its type, in case the guest swapped something meanwhile. */
        if (dir) {
                if (mkdirat(root_fd, path + 1, 0755) < 0 && errno != EEXIST)
                        return -errno;
                return 0;
        }
        fd = openat(root_fd, path + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                    0644);
        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        close(fd);
        return 0;
}

static _noreturn_ void bind_child(int report_fd, int pidfd, int tree_fd, bool src_dir,
                                  const char *destination, MachineBindFlags flags) {
        _cleanup_close_ int root = -EBADF, target = -EBADF;
        struct stat st;
        int r;

        if (setns(pidfd, CLONE_NEWNS) < 0)
                bind_child_fail(report_fd, -errno, "Failed to enter the machine's mount namespace: %m");
        /* setns() put our root and cwd at the namespace's root: the machine's. */
        root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                bind_child_fail(report_fd, -errno, "Failed to open the machine's root: %m");

        r = openat2_in_root(root, destination, O_PATH | O_NOFOLLOW, &target);
        if (r == -ENOENT && (flags & MACHINE_BIND_MKDIR)) {
                r = make_destination(root, destination, src_dir);
                if (r < 0)
                        bind_child_fail(report_fd, r, "Failed to create %s in the machine: %m", destination);
                r = openat2_in_root(root, destination, O_PATH | O_NOFOLLOW, &target);
        }
        if (r < 0)
                bind_child_fail(report_fd, r, "Cannot open %s in the machine: %m", destination);
        if (fstat(target, &st) < 0)
                bind_child_fail(report_fd, -errno, "Cannot stat %s in the machine: %m", destination);
        if (S_ISLNK(st.st_mode))
                bind_child_fail(report_fd, -ELOOP,
                                "%s in the machine is a symlink, refusing to mount on it.", destination);
        if (src_dir && !S_ISDIR(st.st_mode))
                bind_child_fail(report_fd, -ENOTDIR, "%s in the machine is not a directory.", destination);
        if (!src_dir && S_ISDIR(st.st_mode))
                bind_child_fail(report_fd, -EISDIR, "%s in the machine is a directory, the source is not.",
                                destination);
        if (syscall(SYS_move_mount, tree_fd, "", target, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                bind_child_fail(report_fd, -errno, "Failed to mount onto %s in the machine: %m",
                                destination);
        _exit(EXIT_SUCCESS);
}

int machine_bind_mount(pid_t leader, uint64_t leader_start, const char *source, const char *destination,
                       MachineBindFlags flags, char *error, size_t error_size) {
        _cleanup_close_ int pidfd = -EBADF, tree = -EBADF;
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        BindReport rep = {};
        struct stat st;
        ssize_t n;
        pid_t pid;
        int r;

#define FAIL(r, ...)                                                                                        \
        ({                                                                                                  \
                if (error)                                                                                  \
                        snprintf(error, error_size, __VA_ARGS__);                                           \
                (r);                                                                                        \
        })
        if (isempty(source) || source[0] != '/' || isempty(destination) || destination[0] != '/')
                return FAIL(-EINVAL, "Source and destination must be absolute paths.");
        pidfd = pidfd_open_verified(leader, leader_start);
        if (pidfd < 0)
                return FAIL(pidfd, "The machine is not running.");
        /* The source is the caller's, on the host: symlinks in it are followed. */
        tree = (int) syscall(SYS_open_tree, AT_FDCWD, source,
                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return FAIL(-errno, "Failed to clone the mount tree of %s: %s", source, strerror(errno));
        if (fstat(tree, &st) < 0)
                return FAIL(-errno, "Cannot stat %s: %s", source, strerror(errno));
        if (flags & MACHINE_BIND_READ_ONLY) {
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
                r = (int) syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                                  sizeof attr);
                if (r < 0)
                        return FAIL(-errno, "Failed to make %s read-only: %s", source, strerror(errno));
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return FAIL(-errno, "pipe: %s", strerror(errno));
        r = safe_fork("nspawnctl-bind", NULL, 0, FORK_DEATHSIG, &pid);
        if (r < 0)
                return FAIL(r, "fork: %s", strerror(-r));
        if (r == 0) {
                p[0] = safe_close(p[0]);
                bind_child(p[1], pidfd, tree, S_ISDIR(st.st_mode), destination, flags);
        }
        p[1] = safe_close(p[1]);
        n = loop_read(p[0], &rep, sizeof rep);
        (void) waitpid(pid, NULL, 0); /* ECHILD where children are reaped by the kernel */
        if (n == 0)
                return 0;
        if (n != (ssize_t) sizeof rep || rep.error <= 0)
                return FAIL(-EIO, "The mount helper died.");
        rep.message[sizeof rep.message - 1] = 0;
        return FAIL(-rep.error, "%s", rep.message);
#undef FAIL
}
