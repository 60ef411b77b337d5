/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "child-report.h"
#include "mount.h"
#include "pty.h"
#include "seccomp-policy.h"
#include "spawn.h"
#include "user-record.h"
#include "util/strv.h"
#include "util/util.h"

static const char *const init_paths[] = {
        "/usr/lib/systemd/systemd",
        "/lib/systemd/systemd",
        "/sbin/init",
};

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int fail_msg(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
static int fail_msg(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;
        char *m = NULL;
        int saved = errno;

        errno = r < 0 ? -r : r;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        errno = saved;
        *ret_error = m;
        return r;
}

static bool tree_has_executable(int root_fd, const char *path) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof how);
        struct stat st;

        return fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int spawn_check(const SpawnConfig *c, char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(c->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return fail_msg(ret_error, -errno,
                                errno == ENOTDIR ? "%s is not a directory." : "Directory %s: %m.",
                                c->directory);
        if (fstatat(fd, "usr", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return fail_msg(ret_error, -ENOTDIR, "Directory %s lacks /usr, it does not look like an OS tree.",
                                c->directory);
        /* A symlinked /proc or /sys would let the tree choose where the kernel's API file
         * systems get mounted. */
        FOREACH_STRING(api, "proc", "sys", "dev")
                if (fstatat(fd, api, &st, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISDIR(st.st_mode))
                        return fail_msg(ret_error, -ELOOP, "Refusing to run %s: /%s in the tree is %s, not a directory.",
                                        c->directory, api, S_ISLNK(st.st_mode) ? "a symlink" : "a file");

        if (c->boot) {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(init_paths) && !found; i++)
                        found = tree_has_executable(fd, init_paths[i]);
                if (!found)
                        return fail_msg(ret_error, -ENOEXEC,
                                        "Directory %s has no init to boot (looked for /usr/lib/systemd/systemd, /lib/systemd/systemd, /sbin/init).",
                                        c->directory);
        }
        for (size_t i = 0; i < c->n_binds; i++)
                if (stat(c->binds[i].source, &st) < 0)
                        return fail_msg(ret_error, -errno, "Bind source %s: %m.", c->binds[i].source);
        return 0;
}

/* --- the child --------------------------------------------------------------------- */

enum { MSG_PTY = 1, MSG_NOTIFY, MSG_ERROR };

typedef struct ChildMsg {
        int type;
        int error;
        int exit_status;
        char message[500];
} ChildMsg;

/* In the child nothing is logged: the reason goes to the supervisor, which prints it. */
static _noreturn_ void child_fail(int sock, int r, int exit_status, const char *fmt, ...) _printf_(4, 5);
static _noreturn_ void child_fail(int sock, int r, int exit_status, const char *fmt, ...) {
        ChildMsg m = { .type = MSG_ERROR, .error = r < 0 ? -r : r, .exit_status = exit_status };
        va_list ap;

        va_start(ap, fmt);
        child_report_send(sock, &m, sizeof m, m.message, sizeof m.message, m.error, fmt, ap);
        va_end(ap);
        _exit(exit_status);
}

#define CHECK(expr, ...)                                                                   \
        do {                                                                               \
                int _r = (expr);                                                           \
                if (_r < 0)                                                                \
                        child_fail(sock, _r, EXIT_FAILURE, __VA_ARGS__);                   \
        } while (0)

static int reopen_dir(int path_fd) {
        int fd = openat(path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static void setup_proc(int sock, int root_fd, int devnull_fd, bool private_network) {
        static const char *const ro[] = { "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
                                          "/proc/fs", "/proc/acpi", "/proc/scsi" };
        static const char *const masked[] = { "/proc/kcore", "/proc/keys", "/proc/kallsyms",
                                              "/proc/timer_list", "/proc/sched_debug", "/proc/kmsg",
                                              "/proc/config.gz", "/proc/latency_stats" };

        CHECK(mount_in_root(root_fd, "/proc", IN_ROOT_NO_SYMLINKS, "proc", "proc",
                            MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
              "Failed to mount /proc: %m");
        for (size_t i = 0; i < ELEMENTSOF(ro); i++)
                CHECK(remount_ro_in_root(root_fd, ro[i]), "Failed to make %s read-only: %m", ro[i]);
        if (private_network) {
                /* The network sysctls belong to the container's own network namespace. */
                _cleanup_close_ int net = -EBADF;
                if (open_in_root(root_fd, "/proc/sys/net", IN_ROOT_NO_SYMLINKS, &net) >= 0) {
                        char p[32];
                        snprintf(p, sizeof p, "/proc/self/fd/%d", net);
                        CHECK(mount_nofollow(p, p, NULL, MS_BIND | MS_REC, NULL), "Failed to bind /proc/sys/net: %m");
                        net = safe_close(net);
                        CHECK(open_in_root(root_fd, "/proc/sys/net", IN_ROOT_NO_SYMLINKS, &net), "/proc/sys/net: %m");
                        CHECK(mount_fd_setattr(net, true, 0, MOUNT_ATTR_RDONLY), "Failed to make /proc/sys/net writable: %m");
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(masked); i++) {
                _cleanup_close_ int fd = -EBADF;
                int r = open_in_root(root_fd, masked[i], IN_ROOT_NO_SYMLINKS, &fd);
                if (r == -ENOENT)
                        continue;
                CHECK(r, "Failed to open %s: %m", masked[i]);
                /* A mask that silently fails would leave the host's data readable: every
                 * failure here stops the start. */
                CHECK(bind_fd_in_root(root_fd, devnull_fd, masked[i], IN_ROOT_NO_SYMLINKS, false, true),
                      "Failed to mask %s: %m", masked[i]);
        }
}

static void setup_dev(int sock, int root_fd, bool want_pty, int *ret_slave) {
        static const struct {
                const char *name;
                unsigned maj, min;
        } nodes[] = {
                { "null", 1, 3 }, { "zero", 1, 5 },    { "full", 1, 7 },
                { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
        };
        static const char *const links[][2] = {
                { "ptmx", "pts/ptmx" },         { "fd", "/proc/self/fd" },
                { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
                { "stderr", "/proc/self/fd/2" },
        };
        _cleanup_close_ int dev_path = -EBADF, dev = -EBADF, pts = -EBADF;

        CHECK(mount_in_root(root_fd, "/dev", IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                            "mode=0755,size=4m,nr_inodes=65536"),
              "Failed to mount /dev: %m");
        CHECK(open_in_root(root_fd, "/dev", IN_ROOT_NO_SYMLINKS, &dev_path), "/dev: %m");
        CHECK(dev = reopen_dir(dev_path), "/dev: %m");

        for (size_t i = 0; i < ELEMENTSOF(nodes); i++)
                if (mknodat(dev, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to create /dev/%s: %m", nodes[i].name);
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][1], dev, links[i][0]) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to create /dev/%s: %m", links[i][0]);

        CHECK(mount_in_root(root_fd, "/dev/pts", IN_ROOT_NO_SYMLINKS, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                            "newinstance,ptmxmode=0666,mode=0620,gid=5"),
              "Failed to mount /dev/pts: %m");
        CHECK(mount_in_root(root_fd, "/dev/shm", IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV,
                            "mode=1777"),
              "Failed to mount /dev/shm: %m");
        CHECK(mount_in_root(root_fd, "/dev/mqueue", IN_ROOT_NO_SYMLINKS, "mqueue", "mqueue",
                            MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
              "Failed to mount /dev/mqueue: %m");

        if (!want_pty)
                return;

        _cleanup_close_ int master = -EBADF, slave = -EBADF, console = -EBADF;
        char src[32], dst[32];
        ChildMsg m = { .type = MSG_PTY };

        CHECK(open_in_root(root_fd, "/dev/pts", IN_ROOT_NO_SYMLINKS, &pts), "/dev/pts: %m");
        CHECK(pty_open_in(pts, &master, &slave), "Failed to allocate the console pty: %m");
        CHECK(open_in_root(root_fd, "/dev/console", IN_ROOT_NO_SYMLINKS | IN_ROOT_MKFILE, &console),
              "Failed to create /dev/console: %m");
        (void) fchmodat(dev, "console", 0600, 0);
        snprintf(src, sizeof src, "/proc/self/fd/%d", slave);
        snprintf(dst, sizeof dst, "/proc/self/fd/%d", console);
        CHECK(mount_nofollow(src, dst, NULL, MS_BIND, NULL), "Failed to bind /dev/console: %m");
        CHECK(send_one_fd(sock, master, &m, sizeof m), "Failed to pass the console to the supervisor: %m");
        *ret_slave = TAKE_FD(slave);
}

static void setup_notify(int sock, int root_fd) {
        _cleanup_close_ int run = -EBADF, fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ChildMsg m = { .type = MSG_NOTIFY };
        int one = 1;

        CHECK(open_in_root(root_fd, "/run/host", IN_ROOT_NO_SYMLINKS | IN_ROOT_MKDIR, &run), "/run/host: %m");
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to create the notify socket: %m");
        /* /run is the container's fresh tmpfs and /run/host was just made by us, so the
         * path cannot have been swapped; bind through the fd path anyway. */
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/notify", run);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to bind the notify socket: %m");
        (void) setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
        CHECK(send_one_fd(sock, fd, &m, sizeof m), "Failed to pass the notify socket: %m");
}

static void setup_machine_id(int sock, int root_fd, const SpawnConfig *c) {
        _cleanup_close_ int fd = -EBADF, w = -EBADF;
        char buf[64], p[32];
        ssize_t n = 0;
        int r;

        if (!c->machine_id)
                return;
        r = open_in_root(root_fd, "/etc/machine-id", 0, &fd);
        if (r >= 0) {
                snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
                _cleanup_close_ int rd = open(p, O_RDONLY | O_CLOEXEC);
                if (rd >= 0)
                        n = read(rd, buf, sizeof buf);
                if (n >= 32)
                        return; /* initialised already */
        } else if (r != -ENOENT)
                child_fail(sock, r, EXIT_FAILURE, "Failed to open /etc/machine-id: %m");

        snprintf(buf, sizeof buf, "%s\n", c->machine_id);
        if (c->boot && !c->read_only) {
                /* A persistent box keeps the id it got on its first boot; a mere command
                 * run leaves the tree as it was. */
                fd = safe_close(fd);
                CHECK(open_in_root(root_fd, "/etc/machine-id", IN_ROOT_MKFILE, &fd), "Failed to create /etc/machine-id: %m");
                snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
                w = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
                if (w < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to write /etc/machine-id: %m");
                CHECK(loop_write(w, buf, strlen(buf)), "Failed to write /etc/machine-id: %m");
                return;
        }
        if (fd < 0)
                return; /* no file at all: nothing expects one */
        /* Otherwise a transient id on /run, bound over the empty file. */
        _cleanup_close_ int runfd = -EBADF, id = -EBADF;
        CHECK(open_in_root(root_fd, "/run/machine-id", IN_ROOT_NO_SYMLINKS | IN_ROOT_MKFILE, &id),
              "Failed to create /run/machine-id: %m");
        snprintf(p, sizeof p, "/proc/self/fd/%d", id);
        w = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (w < 0 || loop_write(w, buf, strlen(buf)) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to write /run/machine-id: %m");
        CHECK(bind_fd_in_root(root_fd, id, "/etc/machine-id", 0, false, true), "Failed to bind /etc/machine-id: %m");
}

static _noreturn_ void stub_init(pid_t main_pid) {
        sigset_t all;

        /* PID 1 for --as-pid2: reap everything, forward every signal to the payload, and
         * leave with its exit status. */
        (void) syscall(SYS_close_range, 0U, ~0U, 0);
        (void) prctl(PR_SET_NAME, "nspawnctl-init");
        sigfillset(&all);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void) kill(main_pid, sig);
                        continue;
                }
                for (;;) {
                        int st;
                        pid_t p = waitpid(-1, &st, WNOHANG);
                        if (p <= 0)
                                break;
                        if (p == main_pid)
                                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                }
        }
}

static _noreturn_ void child_main(const SpawnConfig *c, int sock) {
        _cleanup_close_ int root_fd = -EBADF, slave = -EBADF, devnull_fd = -EBADF;
        struct stat st;
        _cleanup_strv_free_ char **env = NULL;
        struct passwd pw = { .pw_name = (char *) "root", .pw_dir = (char *) "/root", .pw_shell = (char *) "/bin/sh" };
        _cleanup_free_ char *pwbuf = NULL;
        gid_t groups[64];
        int n_groups = ELEMENTSOF(groups);
        bool want_pty = c->console != CONSOLE_PIPE || c->boot;
        char go;
        int r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Non-dumpable until exec: nothing in the container may open /proc/1/exe (the
         * host's nspawnctl binary) or our memory while we set up. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        umask(0);

        if (read(sock, &go, 1) != 1)
                _exit(EXIT_FAILURE); /* the supervisor died */
        if (unshare(CLONE_NEWCGROUP) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to create a cgroup namespace: %m");
        CHECK(mount_nofollow(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL),
              "Failed to make the mount namespace private: %m");

        /* The mask source is opened in this mount namespace (a bind source must live in
         * the caller's namespace) and checked: a /dev/null that is not the null device
         * would turn masking into exposing. */
        devnull_fd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (devnull_fd < 0 || fstat(devnull_fd, &st) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to open /dev/null: %m");
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                child_fail(sock, -EBADF, EXIT_FAILURE, "/dev/null on the host is not the null device, refusing.");

        if (c->ephemeral) {
                /* Throwaway upper layer on a tmpfs that only this mount namespace sees: when
                 * the container ends, nothing remains on the host, even after kill -9. */
                _cleanup_close_ int lower = open(c->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
                _cleanup_close_ int upper = -EBADF, work = -EBADF, top = -EBADF;
                _cleanup_free_ char *opts = NULL, *root = NULL;
                if (lower < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to open %s: %m", c->directory);
                CHECK(mount_nofollow("tmpfs", c->directory, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
                      "Failed to mount the ephemeral layer: %m");
                top = open(c->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (top < 0 || mkdirat(top, "upper", 0755) < 0 || mkdirat(top, "work", 0755) < 0 ||
                    mkdirat(top, "root", 0755) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to prepare the ephemeral layer: %m");
                upper = openat(top, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
                work = openat(top, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (upper < 0 || work < 0 ||
                    asprintf(&opts, "lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d",
                             lower, upper, work) < 0 ||
                    !(root = strjoin(c->directory, "/root")))
                        child_fail(sock, -ENOMEM, EXIT_FAILURE, "Failed to prepare the ephemeral layer: %m");
                CHECK(mount_nofollow("overlay", root, "overlay", 0, opts), "Failed to mount the ephemeral overlay: %m");
                root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
                CHECK(mount_nofollow(c->directory, c->directory, NULL, MS_BIND | MS_REC, NULL),
                      "Failed to bind %s: %m", c->directory);
                root_fd = open(c->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (root_fd < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to open the container root: %m");

        setup_proc(sock, root_fd, devnull_fd, c->private_network);
        CHECK(mount_in_root(root_fd, "/sys", IN_ROOT_NO_SYMLINKS, "sysfs", "sysfs",
                            MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
              "Failed to mount /sys: %m");
        CHECK(cgroup_mount_in_container(c->cgroup_mode, root_fd), "Failed to mount /sys/fs/cgroup: %m");
        setup_dev(sock, root_fd, want_pty, &slave);
        CHECK(mount_in_root(root_fd, "/run", IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV,
                            "mode=0755,size=20%"),
              "Failed to mount /run: %m");
        CHECK(mount_in_root(root_fd, "/tmp", IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV,
                            "mode=1777"),
              "Failed to mount /tmp: %m");
        if (c->notify)
                setup_notify(sock, root_fd);
        setup_machine_id(sock, root_fd, c);

        for (size_t i = 0; i < c->n_binds; i++) {
                const BindMount *b = &c->binds[i];
                _cleanup_close_ int src = open(b->source, O_PATH | O_CLOEXEC);
                if (src < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Bind source %s: %m", b->source);
                r = bind_fd_in_root(root_fd, src, b->destination, 0, b->recursive, b->read_only);
                if (r == -ELOOP)
                        child_fail(sock, r, EXIT_FAILURE, "Bind target %s is a symlink in the tree, refusing.",
                                   b->destination);
                CHECK(r, "Failed to bind %s to %s: %m", b->source, b->destination);
        }
        STRV_FOREACH(t, c->tmpfs) {
                _cleanup_free_ char *path = strdup(*t);
                char *opts;
                if (!path)
                        child_fail(sock, -ENOMEM, EXIT_FAILURE, "Out of memory");
                opts = strchr(path, ':');
                if (opts)
                        *opts++ = 0;
                r = mount_in_root(root_fd, path, 0, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, opts ?: "mode=0755");
                if (r == -ELOOP)
                        child_fail(sock, r, EXIT_FAILURE, "Tmpfs target %s is a symlink in the tree, refusing.", path);
                CHECK(r, "Failed to mount tmpfs on %s: %m", path);
        }

        if (c->resolv_conf) {
                r = resolv_conf_apply(root_fd, c->resolv_conf, c->read_only);
                if (r == -ELOOP)
                        child_fail(sock, r, EXIT_FAILURE,
                                   "/etc/resolv.conf in the tree is a symlink, cannot bind over it.");
                CHECK(r, "Failed to set up /etc/resolv.conf: %m");
        }

        /* The tree itself never provides device nodes: only /dev does. */
        CHECK(mount_fd_setattr(root_fd, false, MOUNT_ATTR_NODEV | (c->read_only ? MOUNT_ATTR_RDONLY : 0), 0),
              "Failed to set the root's mount flags: %m");

        if (fchdir(root_fd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to pivot into %s: %m", c->directory);
        if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to detach the host's root: %m");
        root_fd = safe_close(root_fd);

        if (sethostname(c->machine, strlen(c->machine)) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to set the host name: %m");

        /* Its own session, so the container can never reach the terminal nspawnctl runs
         * on (TIOCSTI is also filtered); the console pty becomes its controlling tty. */
        if (setsid() < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "setsid: %m");
        if (slave >= 0) {
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to make the console the controlling tty: %m");
                for (int i = 0; i < 3; i++)
                        if (dup2(slave, i) < 0)
                                child_fail(sock, -errno, EXIT_FAILURE, "dup2: %m");
                slave = safe_close(slave);
        }

        if (c->user) {
                r = user_record_lookup(c->user, &pw, &pwbuf, groups, &n_groups);
                if (r == -ESRCH)
                        child_fail(sock, r, EXIT_FAILURE, "User %s does not exist in the container.", c->user);
                CHECK(r, "Failed to read /etc/passwd in the container: %m");
        }

        char uuid_env[64], home_env[PATH_MAX + 8];
        snprintf(uuid_env, sizeof uuid_env, "container_uuid=%s", c->uuid);
        snprintf(home_env, sizeof home_env, "HOME=%s", pw.pw_dir);
        FOREACH_STRING(e, "PATH=" DEFAULT_PATH, "container=nspawnctl", uuid_env, home_env, "LANG=C.UTF-8")
                if (strv_extend(&env, e) < 0)
                        child_fail(sock, -ENOMEM, EXIT_FAILURE, "Out of memory");
        if (strv_consume(&env, strjoin("USER=", pw.pw_name)) < 0 ||
            strv_consume(&env, strjoin("LOGNAME=", pw.pw_name)) < 0 ||
            (c->user && strv_consume(&env, strjoin("SHELL=", pw.pw_shell)) < 0) ||
            strv_consume(&env, strjoin("TERM=", c->console == CONSOLE_PIPE ? "dumb" : getenv("TERM") ?: "vt220")) < 0 ||
            (c->notify && strv_extend(&env, "NOTIFY_SOCKET=/run/host/notify") < 0))
                child_fail(sock, -ENOMEM, EXIT_FAILURE, "Out of memory");
        STRV_FOREACH(e, c->environment)
                CHECK(strv_env_set(&env, *e), "Invalid environment assignment %s", *e);

        CHECK(caps_drop_bounding(caps_container_keep(c->private_network)), "Failed to drop capabilities: %m");
        CHECK(seccomp_load_container_filter(), "Failed to install the seccomp filter: %m");

        if (c->user) {
                if (setgroups(n_groups, groups) < 0 || setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0 ||
                    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to become user %s: %m", c->user);
        }
        if (c->working_directory && chdir(c->working_directory) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to change to %s in the container: %m", c->working_directory);

        umask(0022);
        sigset_t none;
        sigemptyset(&none);
        for (int s = 1; s < _NSIG; s++)
                (void) signal(s, SIG_DFL);
        /* Only 0, 1, 2 and the report socket (closed by exec) survive. */
        CHECK(close_all_fds_except(&sock, 1), "Failed to close file descriptors: %m");

        if (c->as_pid2) {
                pid_t p = fork();
                if (p < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "fork: %m");
                if (p > 0) {
                        safe_close(sock);
                        stub_init(p);
                }
        }
        sigprocmask(SIG_SETMASK, &none, NULL);

        extern char **environ;
        environ = env;
        if (c->boot) {
                _cleanup_strv_free_ char **argv = NULL;
                for (size_t i = 0; i < ELEMENTSOF(init_paths); i++) {
                        strv_free(argv);
                        argv = NULL;
                        if (strv_extend(&argv, init_paths[i]) < 0 || strv_extend_strv(&argv, c->argv) < 0)
                                child_fail(sock, -ENOMEM, EXIT_FAILURE, "Out of memory");
                        execve(init_paths[i], argv, env);
                }
                child_fail(sock, -errno, 127, "Failed to execute the init of the container: %m");
        }

        char *shell[3] = { pw.pw_shell, (char *) "-l", NULL };
        char **argv = strv_length(c->argv) > 0 ? c->argv : shell;
        execvp(argv[0], argv);
        child_fail(sock, -errno, errno == ENOENT ? 127 : 126, "Failed to execute %s in the container: %m", argv[0]);
}

int container_spawn(const SpawnConfig *c, Container *ret, char **ret_error) {
        _cleanup_close_pair_ int sv[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pidfd = -EBADF, master = -EBADF, notify = -EBADF;
        char error_buf[sizeof(((ChildMsg *) 0)->message)] = "";
        int child_error = 0, exit_status = 0;
        pid_t pid;
        int r;

        *ret = (Container) { .pid = 0, .pidfd = -EBADF, .pty_master = -EBADF, .notify_fd = -EBADF };

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return fail_msg(ret_error, -errno, "socketpair: %m");

        struct clone_args args = {
                .flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_PIDFD |
                         (c->private_network ? CLONE_NEWNET : 0),
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
        };
        pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0)
                return fail_msg(ret_error, -errno, "Failed to create the container's namespaces: %m");
        if (pid == 0) {
                sv[0] = safe_close(sv[0]);
                child_main(c, sv[1]);
        }
        sv[1] = safe_close(sv[1]);

        r = cgroup_attach(c->cgroup_mode, c->cgroup_path, pid);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) wait_for_terminate(pid, NULL);
                return fail_msg(ret_error, r, "Failed to move the container into cgroup %s: %m", c->cgroup_path);
        }
        if (c->on_namespaces) {
                char *e = NULL;
                r = c->on_namespaces(pid, c->on_namespaces_userdata, &e);
                if (r < 0) {
                        (void) kill(pid, SIGKILL);
                        (void) wait_for_terminate(pid, NULL);
                        if (e) {
                                *ret_error = e;
                                return r;
                        }
                        return fail_msg(ret_error, r, "Failed to set up the container's namespaces: %m");
                }
        }
        if (write(sv[0], "g", 1) != 1) {
                r = -errno;
                (void) kill(pid, SIGKILL);
                (void) wait_for_terminate(pid, NULL);
                return fail_msg(ret_error, r, "Failed to start the container: %m");
        }

        for (;;) {
                ChildMsg m;
                ssize_t n;
                int fd;

                r = receive_one_fd(sv[0], &m, sizeof m, &n, &fd);
                if (r < 0 || n == 0)
                        break; /* EOF: the payload was exec'd (the socket is O_CLOEXEC) */
                if (n != sizeof m) {
                        safe_close(fd);
                        continue;
                }
                if (m.type == MSG_PTY && master < 0)
                        master = fd;
                else if (m.type == MSG_NOTIFY && notify < 0)
                        notify = fd;
                else {
                        safe_close(fd);
                        if (m.type == MSG_ERROR && child_error == 0) {
                                child_error = -m.error ?: -EIO;
                                exit_status = m.exit_status;
                                memcpy(error_buf, m.message, sizeof error_buf);
                                error_buf[sizeof error_buf - 1] = 0;
                        }
                }
        }

        if (child_error < 0) {
                (void) wait_for_terminate(pid, NULL);
                ret->pid = pid;
                ret->exit_status = exit_status;
                *ret_error = strdup(error_buf);
                return child_error;
        }

        ret->pid = pid;
        ret->pidfd = TAKE_FD(pidfd);
        ret->pty_master = TAKE_FD(master);
        ret->notify_fd = TAKE_FD(notify);
        return 0;
}
