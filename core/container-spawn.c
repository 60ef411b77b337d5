/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
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
#include "error.h"
#include "mount.h"
#include "payload-setup.h"
#include "pty.h"
#include "seccomp-cache.h"
#include "spawn-files.h"
#include "log.h"
#include "stub-init.h"
#include "supervisor-contract.h"
#include "util/raw-syscall.h"
#include "container-spawn.h"
#include "user-record.h"
#include "userns.h"
#include "util/chase.h"
#include "util/guest-file.h"
#include "util/strv.h"
#include "util/process.h"
#include "util/util.h"

/* The inits a booted tree may have, in the order they are tried: the one list for the check
 * before the start and for the exec. */
static const char *const init_paths[] = {
        "/usr/lib/systemd/systemd",
        "/lib/systemd/systemd",
        "/sbin/init",
};

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* An O_PATH fd of the executable regular file at path in the tree, or -1. */
static int tree_open_executable(int root_fd, const char *path) {
        _cleanup_close_ int fd = chase_open(root_fd, path, O_PATH, CHASE_IN_ROOT);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                return -1;
        return TAKE_FD(fd);
}

static bool tree_has_executable(int root_fd, const char *path) {
        _cleanup_close_ int fd = tree_open_executable(root_fd, path);
        return fd >= 0;
}

/* The kind of init by the name of the file the init path resolves to inside the tree
 * (/sbin/init -> /lib/systemd/systemd, -> /bin/busybox, ...). */
static MachineInit init_kind_of(int fd) {
        char target[PATH_MAX];
        const char *base;
        ssize_t n;

        n = readlink(FORMAT_PROC_FD_PATH(fd), target, sizeof target - 1);
        if (n <= 0)
                return MACHINE_INIT_OTHER;
        target[n] = 0;
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (streq(base, "systemd"))
                return MACHINE_INIT_SYSTEMD;
        if (streq(base, "busybox"))
                return MACHINE_INIT_BUSYBOX;
        if (streq(base, "openrc-init"))
                return MACHINE_INIT_OPENRC;
        if (streq(base, "init"))
                return MACHINE_INIT_SYSVINIT;
        return MACHINE_INIT_OTHER;
}

int spawn_detect_init(const char *directory, MachineInit *ret) {
        _cleanup_close_ int root = open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (root < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(init_paths); i++) {
                _cleanup_close_ int fd = tree_open_executable(root, init_paths[i]);
                if (fd >= 0) {
                        *ret = init_kind_of(fd);
                        return 0;
                }
        }
        return -ENOEXEC;
}

int spawn_check(const SpawnConfig *c, Error *e) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(c->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set(e, -errno,
                                errno == ENOTDIR ? "%s is not a directory." : "Directory %s: %m.",
                                c->directory);
        if (fstatat(fd, "usr", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return error_set(e, -ENOTDIR, "Directory %s lacks /usr, it does not look like an OS tree.",
                                c->directory);
        /* A symlinked /proc or /sys would let the tree choose where the kernel's API file
         * systems get mounted. */
        FOREACH_STRING(api, "proc", "sys", "dev")
                if (fstatat(fd, api, &st, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISDIR(st.st_mode))
                        return error_set(e, -ELOOP, "Refusing to run %s: /%s in the tree is %s, not a directory.",
                                        c->directory, api, S_ISLNK(st.st_mode) ? "a symlink" : "a file");

        if (c->boot) {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(init_paths) && !found; i++)
                        found = tree_has_executable(fd, init_paths[i]);
                if (!found)
                        return error_set(e, -ENOEXEC,
                                        "Directory %s has no init to boot (looked for /usr/lib/systemd/systemd, /lib/systemd/systemd, /sbin/init).",
                                        c->directory);
        }
        for (size_t i = 0; i < c->n_binds; i++)
                if (stat(c->binds[i].source, &st) < 0)
                        return error_set(e, -errno, "Bind source %s: %m.", c->binds[i].source);
        return 0;
}

/* --- the child --------------------------------------------------------------------- */

enum { MSG_PTY = 1, MSG_NOTIFY, MSG_ERROR, MSG_PAYLOAD };

typedef struct ChildMsg {
        int type;
        int error;
        int exit_status;
        pid_t pid; /* MSG_PAYLOAD: the container's PID 1 (its pidfd comes along) */
        char message[500];
} ChildMsg;

/* With a user namespace two processes start a container (see child_main()): the setup
 * process, privileged in the host's user namespace, builds the mounts; the payload, the
 * container's PID 1 in its own user namespace, waits for them and then execs. */
/* What container_spawn() prepares for its children, in its memory. */
typedef struct SpawnShared {
        const SeccompProgram *filter;
        /* With a user namespace the payload shares our memory on this stack (without
         * --as-pid2, or with it when init_fd, nspawnctl-init, is open: then PID 2 runs on
         * pid2_stack). NULL: the payload is a fork. */
        char *payload_stack;
        char *pid2_stack;
        int init_fd;
        const CGroupHierarchies *hierarchies; /* the host's, as the supervisor read them */
} SpawnShared;

typedef struct Setup {
        const SpawnConfig *c;
        int sock;
        bool userns;       /* c->uid_range > 0 */
        pid_t payload;     /* userns: the payload, waiting on go_fd */
        int payload_pidfd;
        int go_fd;
        int proc_fd;       /* userns: /proc/PID of the payload */
        int userns_fd;     /* userns: the container's user namespace */
        const SpawnShared *shared;
        struct PayloadStart *payload_start;
} Setup;

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

#define CHECK_SOCK(sk, expr, ...)                                                          \
        do {                                                                               \
                int _r = (expr);                                                           \
                if (_r < 0)                                                                \
                        child_fail((sk), _r, EXIT_FAILURE, __VA_ARGS__);                   \
        } while (0)
#define CHECK(expr, ...) CHECK_SOCK(sock, expr, __VA_ARGS__)

static void payload_apply_resources_or_fail(int sock, pid_t pid, int proc_fd, const SpawnConfig *c) {
        const char *what = NULL;
        int r = payload_apply_resources(pid, proc_fd, c, &what);

        if (r == -EINVAL && what && streq(what, "CPUAffinity"))
                child_fail(sock, r, EXIT_FAILURE, "CPUAffinity= names no CPU this host has.");
        if (r < 0)
                child_fail(sock, r, EXIT_FAILURE, "Failed to apply %s=: %m", strna(what));
}

/* A change of UID or fsuid clears the parent-death signal: arm it again, and leave if the
 * supervisor (the peer of sock) died in between. */
static void rearm_pdeathsig(int sock) {
        struct pollfd p = { .fd = sock, .events = POLLRDHUP };

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP)))
                _exit(EXIT_FAILURE);
}

static int reopen_dir(int path_fd) {
        int fd = openat(path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static void setup_proc(const Setup *s, int root_fd, int devnull_fd) {
        static const char *const ro[] = { "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus",
                                          "/proc/fs", "/proc/acpi", "/proc/scsi" };
        static const char *const masked[] = { "/proc/kcore", "/proc/keys", "/proc/kallsyms",
                                              "/proc/timer_list", "/proc/sched_debug", "/proc/kmsg",
                                              "/proc/config.gz", "/proc/latency_stats" };

        int sock = s->sock;
        _cleanup_close_ int pidns = -EBADF;
        char opts[48] = "";

        if (s->userns) {
                /* The proc of the payload's PID namespace, mounted from out here: made by the
                 * host's root, its masks and read-only parts are locked for the container. */
                pidns = openat(s->proc_fd, "ns/pid", O_RDONLY | O_CLOEXEC);
                if (pidns < 0)
                        child_fail(sock, -errno, EXIT_FAILURE,
                                   "Failed to open the container's PID namespace: %m");
                snprintf(opts, sizeof opts, "pidns=/proc/self/fd/%d", pidns);
        }
        CHECK(mount_in_root(root_fd, "/proc", IN_ROOT_NO_SYMLINKS, "proc", "proc",
                            MS_NOSUID | MS_NODEV | MS_NOEXEC, s->userns ? opts : NULL),
              s->userns ? "Failed to mount /proc for the container's PID namespace (needs Linux 6.18): %m"
                        : "Failed to mount /proc: %m");
        for (size_t i = 0; i < ELEMENTSOF(ro); i++)
                CHECK(remount_ro_in_root(root_fd, ro[i]), "Failed to make %s read-only: %m", ro[i]);
        if (s->c->private_network) {
                /* The network sysctls belong to the container's own network namespace. */
                _cleanup_close_ int net = -EBADF;
                if (open_in_root(root_fd, "/proc/sys/net", IN_ROOT_NO_SYMLINKS, &net) >= 0) {
                        const char *p = FORMAT_PROC_FD_PATH(net);
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

/* Options of a tmpfs the container writes: with a user namespace, owned by its root. */
static void tmpfs_options(const Setup *s, const char *options, char **ret) {
        int r = s->userns ? tmpfs_options_shift(options, s->c->uid_shift, s->c->uid_range, ret)
                          : (*ret = strdup(options)) ? 0 : -ENOMEM;
        if (r == -ERANGE)
                child_fail(s->sock, r, EXIT_FAILURE,
                           "Tmpfs options %s name a UID or GID outside the container's range.", options);
        if (r < 0)
                child_fail(s->sock, r, EXIT_FAILURE, "Invalid tmpfs options %s: %m", options);
}

static void setup_dev(const Setup *s, int root_fd, bool want_pty, int *ret_slave) {
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
        _cleanup_free_ char *dev_opts = NULL, *shm_opts = NULL;
        char pts_opts[96];
        int sock = s->sock;

        tmpfs_options(s, "mode=0755,size=4m,nr_inodes=65536", &dev_opts);
        tmpfs_options(s, "mode=1777", &shm_opts);
        /* New ptys belong to whoever opens them; their group is the container's tty (5). */
        snprintf(pts_opts, sizeof pts_opts, "newinstance,ptmxmode=0666,mode=0620,gid=%u",
                 s->userns && s->c->uid_range > 5 ? (unsigned) s->c->uid_shift + 5 : 5U);
        CHECK(mount_in_root(root_fd, "/dev", IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                            dev_opts),
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
                            pts_opts),
              "Failed to mount /dev/pts: %m");
        CHECK(mount_in_root(root_fd, "/dev/shm", IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV,
                            shm_opts),
              "Failed to mount /dev/shm: %m");
        /* The message queues shown are those of the IPC namespace we are in: the payload's. */
        if (s->userns && setns(s->payload_pidfd, CLONE_NEWIPC) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to enter the container's IPC namespace: %m");
        CHECK(mount_in_root(root_fd, "/dev/mqueue", IN_ROOT_NO_SYMLINKS, "mqueue", "mqueue",
                            MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
              "Failed to mount /dev/mqueue: %m");

        if (!want_pty)
                return;

        _cleanup_close_ int master = -EBADF, slave = -EBADF, console = -EBADF;
        ChildMsg m = { .type = MSG_PTY };

        CHECK(open_in_root(root_fd, "/dev/pts", IN_ROOT_NO_SYMLINKS, &pts), "/dev/pts: %m");
        CHECK(pty_open_in(pts, &master, &slave), "Failed to allocate the console pty: %m");
        CHECK(open_in_root(root_fd, "/dev/console", IN_ROOT_NO_SYMLINKS | IN_ROOT_MKFILE, &console),
              "Failed to create /dev/console: %m");
        (void) fchmodat(dev, "console", 0600, 0);
        CHECK(mount_nofollow(FORMAT_PROC_FD_PATH(slave), FORMAT_PROC_FD_PATH(console), NULL, MS_BIND, NULL),
              "Failed to bind /dev/console: %m");
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
        char buf[64];
        struct stat st;
        ssize_t n = 0;
        bool exists;

        if (!c->machine_id)
                return;
        /* The file is the guest's: a fifo there would block this child forever, and the tree
         * is not nodev yet, so a device node would be the host's device. open_guest_file()
         * refuses both without opening them, and reads never block. */
        fd = open_guest_file(root_fd, "/etc/machine-id", 0, NULL);
        if (fd == -EBADFD)
                child_fail(sock, fd, EXIT_FAILURE,
                           "/etc/machine-id in %s is not a regular file (a fifo, socket, device node or "
                           "directory), refusing.",
                           c->directory);
        if (fd < 0 && fd != -ENOENT)
                child_fail(sock, fd, EXIT_FAILURE, "Failed to open /etc/machine-id: %m");
        exists = fd >= 0;
        if (exists) {
                n = loop_read(fd, buf, sizeof buf);
                if (n < 0)
                        child_fail(sock, (int) n, EXIT_FAILURE, "Failed to read /etc/machine-id: %m");
                if (n >= 32)
                        return; /* initialised already */
        }
        fd = safe_close(fd);

        snprintf(buf, sizeof buf, "%s\n", c->machine_id);
        if (c->boot && !c->read_only) {
                /* A persistent box keeps the id it got on its first boot; a mere command
                 * run leaves the tree as it was. */
                CHECK(open_in_root(root_fd, "/etc/machine-id", IN_ROOT_MKFILE, &fd), "Failed to create /etc/machine-id: %m");
                /* Opened through the O_PATH fd: the very inode checked here, a regular file. */
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                        child_fail(sock, -EBADFD, EXIT_FAILURE,
                                   "/etc/machine-id in %s is not a regular file, refusing.", c->directory);
                w = open(FORMAT_PROC_FD_PATH(fd), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (w < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to write /etc/machine-id: %m");
                CHECK(loop_write(w, buf, strlen(buf)), "Failed to write /etc/machine-id: %m");
                return;
        }
        if (!exists)
                return; /* no file at all: nothing expects one */
        /* Otherwise a transient id on /run, bound over the empty file. */
        _cleanup_close_ int runfd = -EBADF, id = -EBADF;
        CHECK(open_in_root(root_fd, "/run/machine-id", IN_ROOT_NO_SYMLINKS | IN_ROOT_MKFILE, &id),
              "Failed to create /run/machine-id: %m");
        w = open(FORMAT_PROC_FD_PATH(id), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (w < 0 || loop_write(w, buf, strlen(buf)) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to write /run/machine-id: %m");
        CHECK(bind_fd_in_root(root_fd, id, "/etc/machine-id", 0, false, true), "Failed to bind /etc/machine-id: %m");
}

/* The stacks of the clone()d children (the setup process, --as-pid2's PID 2): as large as a
 * main thread's by default, and only what they touch is ever allocated. */
#define CHILD_STACK_SIZE (8 * 1024 * 1024)

/* The exec of the payload (or the init), its signals unblocked and env its environment. */
static _noreturn_ void payload_exec(const SpawnConfig *c, int sock, char **env, const struct passwd *pw) {
        extern char **environ;
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
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

        char *shell[3] = { pw->pw_shell, (char *) "-l", NULL };
        char **argv = strv_length(c->argv) > 0 ? c->argv : shell;
        execvp(argv[0], argv);
        child_fail(sock, -errno, errno == ENOENT ? 127 : 126, "Failed to execute %s in the container: %m", argv[0]);
}

typedef struct PayloadExec {
        const SpawnConfig *c;
        int sock;
        char **env;
        const struct passwd *pw;
        int gate, gate_other; /* payload_exec_gated() */
} PayloadExec;

static int payload_exec_child(void *userdata) {
        const PayloadExec *pe = userdata;
        payload_exec(pe->c, pe->sock, pe->env, pe->pw);
}

/* PID 2 beside a PID 1 that shares the supervisor's memory (see container_exec()): only raw
 * system calls until the gate's end of file, which nspawnctl-init brings once PID 1 has
 * exec'd it and made itself non-dumpable (or PID 1's death; then the kernel ends us with
 * the PID namespace). From then on the memory is ours alone until our exec: the supervisor
 * waits for the end of the reports. */
static int payload_exec_gated(void *userdata) {
        PayloadExec pe = *(const PayloadExec *) userdata;
        char b;

        (void) raw_syscall(SYS_close, pe.gate_other, 0, 0);
        while (raw_syscall(SYS_read, pe.gate, &b, 1) == -EINTR)
                ;
        (void) raw_syscall(SYS_close, pe.gate, 0, 0);
        payload_exec(pe.c, pe.sock, pe.env, pe.pw);
}

/* The capabilities the container's processes may ever have. */
static uint64_t container_bounding_set(const SpawnConfig *c) {
        return (caps_container_keep(c->private_network) | c->caps_add) & ~c->caps_drop;
}

/* Everything after the mounts, in the container's namespaces: PID 1 itself (the only process
 * without a user namespace, the payload with one). slave: the console, or -EBADF to open
 * /dev/console. */
static _noreturn_ void container_exec(const SpawnConfig *c, int sock, int slave, const SpawnShared *sh) {
        _cleanup_strv_free_ char **env = NULL;
        struct passwd pw = { .pw_name = (char *) "root", .pw_dir = (char *) "/root", .pw_shell = (char *) "/bin/sh" };
        _cleanup_free_ char *pwbuf = NULL;
        gid_t groups[64];
        int n_groups = ELEMENTSOF(groups);
        bool want_pty = c->console != CONSOLE_PIPE || c->boot;
        int r;

        const char *hostname = c->hostname ?: c->machine;
        if (sethostname(hostname, strlen(hostname)) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to set the host name: %m");
        /* Without a user namespace PID 1 is privileged enough to set its own limits; with one
         * the setup process did (payload_apply_resources() on the payload). */
        if (c->uid_range == 0)
                payload_apply_resources_or_fail(sock, 0, -EBADF, c);
        if (c->personality && personality(c->personality) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to set the personality: %m");

        /* Its own session, so the container can never reach the terminal nspawnctl runs
         * on (TIOCSTI is also filtered); the console pty becomes its controlling tty. */
        if (setsid() < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "setsid: %m");
        if (slave < 0 && want_pty) {
                /* The setup process bound the pty's slave there. */
                slave = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (slave < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to open /dev/console: %m");
        }
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

        CHECK(caps_drop_bounding(container_bounding_set(c)),
              "Failed to drop capabilities: %m");
        CHECK(seccomp_program_load(sh->filter),
              "Failed to install the seccomp filter: %m");

        if (c->user) {
                /* Ambient capabilities survive the change of user only with the permitted set
                 * kept through it. */
                if (c->caps_ambient && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to keep capabilities: %m");
                if (setgroups(n_groups, groups) < 0 || setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0 ||
                    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to become user %s: %m", c->user);
                rearm_pdeathsig(sock);
        }
        if (c->caps_ambient)
                CHECK(caps_raise_ambient(c->caps_ambient), "Failed to raise the ambient capabilities: %m");
        if (c->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to set no_new_privs: %m");
        if (c->working_directory && chdir(c->working_directory) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to change to %s in the container: %m", c->working_directory);

        umask(0022);
        for (int s = 1; s < _NSIG; s++)
                (void) signal(s, SIG_DFL);
        /* Only 0, 1, 2, the report socket and nspawnctl-init's fd (both closed by exec)
         * survive. */
        CHECK(close_all_fds_except((const int[]) { sock, sh->init_fd }, sh->init_fd >= 0 ? 2 : 1),
              "Failed to close file descriptors: %m");

        if (c->as_pid2 && sh->init_fd >= 0) {
                /* We share the supervisor's memory, and PID 1 stays for the container's whole
                 * life: it must not stay in that memory. PID 2 shares it as well, waits
                 * (raw system calls only) until we exec nspawnctl-init, from the host by its
                 * fd, then execs the command: nothing of the container runs before we left. */
                char buf[2][SUPERVISOR_INIT_ARG_MAX], *init_argv[4];
                int gate[2];

                if (pipe2(gate, O_CLOEXEC) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "pipe2: %m");
                PayloadExec pe = { .c = c, .sock = sock, .env = env, .pw = &pw, .gate = gate[0], .gate_other = gate[1] };
                pid_t p = clone(payload_exec_gated, sh->pid2_stack + CHILD_STACK_SIZE, CLONE_VM | SIGCHLD, &pe);
                if (p < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to start the payload: %m");
                /* The gate's write end goes along: nspawnctl-init closes it once it is
                 * non-dumpable. */
                supervisor_init_to_argv(p, gate[1], buf, init_argv);
                if (fd_cloexec(gate[1], false) >= 0)
                        (void) syscall(SYS_execveat, sh->init_fd, "", init_argv, (char *[]) { NULL }, AT_EMPTY_PATH);
                r = -errno;
                (void) kill(p, SIGKILL);
                child_fail(sock, r, EXIT_FAILURE, "Failed to execute %s: %m", SUPERVISOR_INIT_NAME);
        }
        if (c->as_pid2) {
                /* PID 2 shares our memory until its exec (CLONE_VFORK: we wait meanwhile), on a
                 * stack of its own: no address space is copied for it. On the test VM making
                 * one is the dearest step of a start, and the host makes them one at a time. */
                PayloadExec pe = { .c = c, .sock = sock, .env = env, .pw = &pw };
                /* Never freed: we stay as the stub init. Sized like a main thread's: execvp()
                 * puts $PATH and a script's argv on it. */
                char *stack = stack_new(CHILD_STACK_SIZE);
                if (stack == MAP_FAILED)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to allocate a stack: %m");
                pid_t p = clone(payload_exec_child, stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &pe);
                if (p < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to start the payload: %m");
                safe_close(sock);
                stub_init(p);
        }
        payload_exec(c, sock, env, &pw);
}

/* The container's PID 1 with a user namespace: born in it (and in its PID, UTS, IPC, cgroup
 * and network namespaces), it waits while the setup process mounts its file systems and
 * writes its UID map, then takes a mount namespace of its own. That copy belongs to the
 * container's user namespace, so every mount in it is locked: it cannot be unmounted to
 * unmask what lies below, nor its read-only, nosuid or nodev flags be cleared. */
static _noreturn_ void payload_main(const SpawnConfig *c, int sock, int go_fd, const SpawnShared *sh) {
        char go;

        /* Our parent is the supervisor (CLONE_PARENT), as without a user namespace. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Nothing but system calls until the setup process is done with our memory, if we
         * share it (see payload_start()). */
        if (read(go_fd, &go, 1) != 1)
                _exit(EXIT_FAILURE); /* the setup failed and said why */

        if (unshare(CLONE_NEWNS) < 0)
                child_fail(sock, -errno, EXIT_FAILURE,
                           "Failed to create the container's mount namespace: %m");
        /* The setup process moved our root; the cwd still was the host's. */
        if (chdir("/") < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to change to the container's root: %m");
        /* Root of the user namespace (host UID uid_shift), with none of the host's groups. */
        if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to become root in the user namespace: %m");
        rearm_pdeathsig(sock);
        /* The setup process attaches the last mounts now, into ours by propagation. */
        if (write(go_fd, "u", 1) != 1 || read(go_fd, &go, 1) != 1)
                _exit(EXIT_FAILURE);
        go_fd = safe_close(go_fd);
        container_exec(c, sock, -EBADF, sh);
}

typedef struct PayloadStart {
        const SpawnConfig *c;
        const SpawnShared *shared;
        int sock, go_fd, go_other;
} PayloadStart;

static int payload_child(void *userdata) {
        const PayloadStart *ps = userdata;

        (void) close(ps->go_other);
        payload_main(ps->c, ps->sock, ps->go_fd, ps->shared);
}

/* Starts the payload (userns mode) and hands it to the supervisor. It shares our memory
 * (CLONE_VM) until its exec, as we share the supervisor's, when it has a stack there
 * (container_spawn() decides): no address
 * space is copied for it (a copy of all the supervisor has mapped, then its teardown at the
 * exec: about 3 ms of a start on the test VM). That is safe because no two of the three run
 * on that memory at once: the payload makes only system calls while we set up; we wait
 * while it takes its mount namespace (until its "u"); after our "g" we only exit; and the
 * supervisor waits for the end of the reports, which comes with the payload's exec (the
 * socket is O_CLOEXEC). With --as-pid2 its exec is of nspawnctl-init, after PID 2's start
 * (container_exec()); where that cannot be, it stays as the stub init and is a fork. */
static void payload_start(Setup *s) {
        _cleanup_close_pair_ int go[2] = { -EBADF, -EBADF };
        const SpawnConfig *c = s->c;
        int sock = s->sock, pidfd = -EBADF;
        char path[32];
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "socketpair: %m");
        /* CLONE_PARENT: the supervisor gets it as its own child and waits for it, as for the
         * single process without a user namespace; its exit signal is ours (SIGCHLD). */
        struct clone_args args = {
                .flags = CLONE_PARENT | CLONE_PIDFD | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWUTS |
                         CLONE_NEWIPC | CLONE_NEWCGROUP | (c->private_network ? CLONE_NEWNET : 0),
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
        };
        if (s->shared->payload_stack) {
                /* In Setup, not on this frame: the child may read it after we returned. */
                *s->payload_start = (PayloadStart) { .c = c, .shared = s->shared, .sock = sock,
                                                     .go_fd = go[0], .go_other = go[1] };
                pid = clone(payload_child, s->shared->payload_stack + CHILD_STACK_SIZE, (int) args.flags | CLONE_VM,
                            s->payload_start, &pidfd);
        } else
                pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to create the container's namespaces: %m");
        if (pid == 0) {
                go[1] = safe_close(go[1]);
                payload_main(c, sock, go[0], s->shared);
        }
        s->payload = pid;
        s->payload_pidfd = pidfd;
        s->go_fd = TAKE_FD(go[1]);

        ChildMsg m = { .type = MSG_PAYLOAD, .pid = pid };
        CHECK(send_one_fd(sock, pidfd, &m, sizeof m), "Failed to pass the container to the supervisor: %m");
        /* The supervisor sets up the payload's network namespace (on_namespaces) before
         * anything in the container may see it. */
        if (c->on_namespaces && c->private_network) {
                char net_ready;
                if (read(sock, &net_ready, 1) != 1)
                        _exit(EXIT_FAILURE); /* it failed, and says why itself */
        }

        snprintf(path, sizeof path, "/proc/%d", (int) pid);
        s->proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->proc_fd < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to open %s: %m", path);
        CHECK(userns_write_maps(s->proc_fd, c->uid_shift, c->uid_range), "Failed to write the UID map: %m");
        s->userns_fd = openat(s->proc_fd, "ns/user", O_RDONLY | O_CLOEXEC);
        if (s->userns_fd < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to open the container's user namespace: %m");
}

/* From here on, what we create (mount points, /dev nodes, /run/host, machine-id) belongs to
 * the container's root: with fsuid and fsgid set to it. Changing fsuid away from 0 drops
 * the file capabilities from the effective set, so they are raised again. */
static void become_container_root_fs(const Setup *s) {
        int r;

        r = fs_become_uid(s->c->uid_shift);
        if (r < 0)
                child_fail(s->sock, r, EXIT_FAILURE, "Failed to create files as the container's root: %m");
        rearm_pdeathsig(s->sock);
}

/* The user namespace that makes the tree at fd look owned by the container's root: none
 * without a user namespace, or when the tree's owner already is it (--private-users=yes). */
static int tree_userns(const Setup *s, int fd, int *ret_fd) {
        struct stat st;
        uid_t base;

        *ret_fd = -EBADF;
        if (!s->userns)
                return 0;
        if (fstat(fd, &st) < 0)
                return -errno;
        base = st.st_uid & ~(USERNS_RANGE_DEFAULT - 1);
        if (base == s->c->uid_shift)
                return 0;
        if (base == 0) {
                *ret_fd = fcntl(s->userns_fd, F_DUPFD_CLOEXEC, 3);
                return *ret_fd < 0 ? -errno : 0;
        }
        return userns_new_fd(base, s->c->uid_shift, base, s->c->uid_shift, s->c->uid_range, ret_fd);
}

/* The user namespace a bind is ID-mapped with (-EBADF: none), see BindIdmap. */
static int bind_userns(const Setup *s, const BindMount *b, int src, int root_fd, int *ret_fd) {
        _cleanup_close_ int dst = -EBADF;
        struct stat st, t;
        int r;

        *ret_fd = -EBADF;
        switch (b->idmap) {
        case BIND_IDMAP_DEFAULT:
                if (!s->userns || s->c->uid_shift == 0)
                        return 0;
                *ret_fd = fcntl(s->userns_fd, F_DUPFD_CLOEXEC, 3);
                return *ret_fd < 0 ? -errno : 0;
        case BIND_IDMAP_ROOT:
                if (fstat(src, &st) < 0)
                        return -errno;
                return userns_new_fd(st.st_uid, s->c->uid_shift, st.st_gid, s->c->uid_shift, 1, ret_fd);
        case BIND_IDMAP_OWNER:
                if (fstat(src, &st) < 0)
                        return -errno;
                /* The destination's owner as the host sees it through the tree's mapping. */
                r = open_in_root(root_fd, b->destination, 0, &dst);
                if (r == -ENOENT)
                        return -ENOTDIR;
                if (r < 0)
                        return r;
                if (fstat(dst, &t) < 0)
                        return -errno;
                return userns_new_fd(st.st_uid, t.st_uid, st.st_gid, t.st_gid, 1, ret_fd);
        default:
                return 0;
        }
}

/* The mounts made last: /tmp, then the binds and the tmpfs of the command line, in that
 * order. They are made detached first; with a user namespace they are attached only once
 * the payload has its mount namespace, and reach it by propagation: their flags are locked
 * as those of the mounts it copied (read-only stays read-only, nosuid, nodev), but they are
 * not pinned, so that systemd inside may unmount them at shutdown, which only uncovers the
 * tree's own mount points. */
typedef struct LateMount {
        const char *path; /* in the container */
        const char *what; /* for messages: a bind source, or NULL for a tmpfs */
        InRootFlags flags;
        bool is_dir;
        int fd; /* the detached mount */
} LateMount;

static void late_mounts_free(LateMount **m) {
        for (LateMount *i = *m; i && i->path; i++)
                safe_close(i->fd);
        free(*m);
}

static void late_mount_bind(const Setup *s, int root_fd, const BindMount *b, LateMount *ret) {
        _cleanup_close_ int src = open(b->source, O_PATH | O_CLOEXEC), userns = -EBADF;
        int sock = s->sock, r;
        struct stat st;

        if (src < 0 || fstat(src, &st) < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Bind source %s: %m", b->source);
        r = bind_userns(s, b, src, root_fd, &userns);
        if (r == -ENOTDIR)
                child_fail(sock, r, EXIT_FAILURE, "Bind target %s must exist in the tree for owneridmap.",
                           b->destination);
        CHECK(r, "Failed to map the owners of %s: %m", b->source);
        /* A bound device node (the console) must stay openable; anything else never provides
         * devices or setuid binaries. */
        r = mount_clone_idmapped(src, b->recursive, userns,
                                 (b->read_only ? MOUNT_ATTR_RDONLY : 0) | MOUNT_ATTR_NOSUID |
                                         (S_ISCHR(st.st_mode) ? 0 : MOUNT_ATTR_NODEV),
                                 &ret->fd);
        if (r == -EOPNOTSUPP)
                child_fail(sock, r, EXIT_FAILURE,
                           "The file system of bind source %s does not support ID-mapped mounts; "
                           "add :noidmap.", b->source);
        CHECK(r, "Failed to bind %s to %s: %m", b->source, b->destination);
        *ret = (LateMount) {
                .path = b->destination, .what = b->source, .is_dir = S_ISDIR(st.st_mode), .fd = ret->fd
        };
}

static void late_mount_tmpfs(const Setup *s, const char *path, const char *options, InRootFlags flags,
                             LateMount *ret) {
        _cleanup_free_ char *opts = NULL;
        int sock = s->sock;

        tmpfs_options(s, options, &opts);
        CHECK(mount_new_detached("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &ret->fd),
              "Failed to mount tmpfs on %s: %m", path);
        *ret = (LateMount) { .path = path, .flags = flags, .is_dir = true, .fd = ret->fd };
}

static void late_mount_overlay(const Setup *s, int root_fd, const OverlayMount *o, LateMount *ret) {
        _cleanup_free_ char *opts = NULL;
        int sock = s->sock, r;

        tmpfs_options(s, "mode=0755", &opts);
        r = overlay_mount_detached(root_fd, o, s->userns ? s->userns_fd : -EBADF, opts, &ret->fd);
        if (r == -ENOENT || r == -ENOTDIR)
                child_fail(sock, r, EXIT_FAILURE, "Overlay layers of %s must be existing directories: %m",
                           o->destination);
        CHECK(r, "Failed to mount the overlay on %s: %m", o->destination);
        *ret = (LateMount) { .path = o->destination, .what = "overlay", .is_dir = true, .fd = ret->fd };
}

/* LinkJournal=auto: the host's /var/log/journal/ID bound in when the host has it. */
static bool late_mount_journal(const Setup *s, int root_fd, LateMount *ret) {
        char *path = NULL;
        int sock = s->sock, r;

        r = journal_link_find(root_fd, &path);
        if (r == -EEXIST)
                child_fail(sock, r, EXIT_FAILURE,
                           "The tree has the host's machine ID, refusing to link the host's journal.");
        CHECK(r, "Failed to look for the container's journal: %m");
        if (r == 0)
                return false;
        /* Lives as long as this process: the mount list points at it. */
        BindMount *b = malloc(sizeof(BindMount));
        if (!b)
                child_fail(sock, -ENOMEM, EXIT_FAILURE, "Out of memory");
        *b = (BindMount) { .source = path, .destination = path, .idmap = BIND_IDMAP_DEFAULT };
        late_mount_bind(s, root_fd, b, ret);
        return true;
}

/* Whether path is dir or below it. */
static bool path_startswith_dir(const char *path, const char *dir) {
        size_t n = strlen(dir);
        return strneq(path, dir, n) && (path[n] == 0 || path[n] == '/' || streq(dir, "/"));
}

static LateMount *late_mounts_prepare(const Setup *s, int root_fd, char ***tmpfs_paths) {
        const SpawnConfig *c = s->c;
        size_t n = 0, n_tmpfs = strv_length(c->tmpfs);
        LateMount *m = calloc(1 + 1 + c->n_binds + n_tmpfs + c->n_overlays + 1 + 1, sizeof(LateMount));
        char **paths = calloc(n_tmpfs + 1, sizeof(char *));

        if (!m || !paths)
                child_fail(s->sock, -ENOMEM, EXIT_FAILURE, "Out of memory");
        late_mount_tmpfs(s, "/tmp", "mode=1777", IN_ROOT_NO_SYMLINKS, &m[n++]);
        /* Volatile=state: the tree read-only, its state on a tmpfs - before the binds, which
         * may go below /var. */
        if (c->volatile_mode == VOLATILE_STATE)
                late_mount_tmpfs(s, "/var", "mode=0755", IN_ROOT_NO_SYMLINKS, &m[n++]);
        for (size_t i = 0; i < c->n_binds; i++)
                late_mount_bind(s, root_fd, &c->binds[i], &m[n++]);
        for (size_t i = 0; i < n_tmpfs; i++) {
                const char *t = c->tmpfs[i], *o = strchr(t, ':');
                paths[i] = strndup(t, o ? (size_t) (o - t) : strlen(t));
                if (!paths[i])
                        child_fail(s->sock, -ENOMEM, EXIT_FAILURE, "Out of memory");
                late_mount_tmpfs(s, paths[i], o ? o + 1 : "mode=0755", 0, &m[n++]);
        }
        for (size_t i = 0; i < c->n_overlays; i++)
                late_mount_overlay(s, root_fd, &c->overlays[i], &m[n++]);
        if (c->link_journal == LINK_JOURNAL_AUTO && late_mount_journal(s, root_fd, &m[n]))
                n++;
        *tmpfs_paths = paths;

        /* Mount points now, while the root is writable even with --read-only - except those
         * inside an earlier late mount, which are made in that mount when it is there. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int target = -EBADF;
                bool inside = false;
                for (size_t k = 0; k < i && !inside; k++)
                        inside = path_startswith_dir(m[i].path, m[k].path);
                if (inside)
                        continue;
                int r = open_in_root(root_fd, m[i].path,
                                     m[i].flags | (m[i].is_dir ? IN_ROOT_MKDIR : IN_ROOT_MKFILE), &target);
                if (r == -ELOOP)
                        child_fail(s->sock, r, EXIT_FAILURE,
                                   "%s target %s is a symlink in the tree, refusing.",
                                   m[i].what ? "Bind" : "Tmpfs", m[i].path);
                if (m[i].what)
                        CHECK_SOCK(s->sock, r, "Failed to bind %s to %s: %m", m[i].what, m[i].path);
                else
                        CHECK_SOCK(s->sock, r, "Failed to mount tmpfs on %s: %m", m[i].path);
        }
        return m;
}

/* Mount points are looked up only now: one may lie inside an earlier mount. */
static void late_mounts_attach(const Setup *s, int root_fd, LateMount *m) {
        int sock = s->sock;

        for (; m->path; m++) {
                _cleanup_close_ int target = -EBADF;
                int r = open_in_root(root_fd, m->path,
                                     m->flags | (m->is_dir ? IN_ROOT_MKDIR : IN_ROOT_MKFILE), &target);
                if (r == -ELOOP)
                        child_fail(sock, r, EXIT_FAILURE, "%s target %s is a symlink in the tree, refusing.",
                                   m->what ? "Bind" : "Tmpfs", m->path);
                if (r >= 0)
                        r = mount_move_onto(m->fd, target);
                if (m->what)
                        CHECK(r, "Failed to bind %s to %s: %m", m->what, m->path);
                else
                        CHECK(r, "Failed to mount tmpfs on %s: %m", m->path);
                m->fd = safe_close(m->fd);
        }
}

/* Whether the tree itself is mounted read-only (Volatile=state too). */
static bool tree_read_only(const SpawnConfig *c) {
        return c->read_only || c->volatile_mode == VOLATILE_STATE;
}

static void setup_timezone(const Setup *s, int root_fd) {
        const SpawnConfig *c = s->c;
        int sock = s->sock, r;

        r = timezone_setup(root_fd, c->timezone, !tree_read_only(c));
        if (r == -EROFS)
                child_fail(sock, r, EXIT_FAILURE,
                           "Timezone=%s needs a writable tree (bind works with a read-only one).",
                           timezone_mode_to_string(c->timezone));
        if (r == -ENOENT && c->timezone == TIMEZONE_SYMLINK)
                child_fail(sock, r, EXIT_FAILURE,
                           "Timezone=symlink: the host's /etc/localtime is no link into zoneinfo, or the "
                           "tree lacks that zone.");
        CHECK(r, "Failed to set up /etc/localtime (Timezone=%s): %m", timezone_mode_to_string(c->timezone));
}

/* Inaccessible=: where each mask goes, in which phase. Without a user namespace the late
 * mounts are attached before the masks (MASKS_ALL). With one, a mask must be in place before
 * the payload copies the mount table, where it is locked (MASKS_EARLY): on the tree, or on
 * the detached late mount it lies in; only a mask of a late mount's very path comes after it
 * (MASKS_LATE). */
typedef enum MaskPhase {
        MASKS_ALL,
        MASKS_EARLY,
        MASKS_LATE,
} MaskPhase;

static void masks_attach(const Setup *s, int root_fd, LateMount *late, int mask_source, MaskPhase phase) {
        const SpawnConfig *c = s->c;
        int sock = s->sock;

        STRV_FOREACH(p, c->inaccessible) {
                _cleanup_close_ int target = -EBADF, mask = -EBADF;
                LateMount *in = NULL;
                int r;

                /* The innermost late mount that holds the path. */
                for (LateMount *m = late; m && m->path; m++)
                        if (path_startswith_dir(*p, m->path) && (!in || strlen(m->path) >= strlen(in->path)))
                                in = m;
                bool exact = in && streq(in->path, *p);
                if ((phase == MASKS_EARLY && exact) || (phase == MASKS_LATE && !exact))
                        continue;
                if (phase == MASKS_EARLY && in) {
                        /* Into the detached mount, as a part of it when it is attached. */
                        target = chase_open(in->fd, *p + strlen(in->path), O_PATH, CHASE_IN_ROOT);
                        r = target < 0 ? target : 0;
                } else
                        r = open_in_root(root_fd, *p, 0, &target);
                if (r == -ENOENT)
                        child_fail(sock, r, EXIT_FAILURE,
                                   "Inaccessible= path %s does not exist in the container.", *p);
                CHECK(r, "Failed to look up Inaccessible= path %s: %m", *p);
                CHECK(mask_mount_new(mask_source, target, &mask), "Failed to make %s inaccessible: %m", *p);
                CHECK(mount_move_onto(mask, target), "Failed to make %s inaccessible: %m", *p);
        }
}

/* The tree at c->directory, or an overlay on it: mounted in our mount namespace and
 * returned as an O_PATH fd of its root. */
static int setup_root(const Setup *s) {
        const SpawnConfig *c = s->c;
        _cleanup_close_ int tree = open(c->directory, O_PATH | O_DIRECTORY | O_CLOEXEC), userns = -EBADF;
        _cleanup_close_ int clone_fd = -EBADF, target = -EBADF;
        int sock = s->sock, r;

        if (tree < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to open %s: %m", c->directory);
        CHECK(tree_userns(s, tree, &userns), "Failed to map the owners of %s: %m", c->directory);
        /* The image stays as it is on disk: an ID-mapped copy of its mount shows the
         * container its files owned by its own users. */
        r = mount_clone_idmapped(tree, true, userns, 0, &clone_fd);
        if (r == -EOPNOTSUPP)
                child_fail(sock, r, EXIT_FAILURE,
                           "The file system of %s does not support ID-mapped mounts, needed for a user "
                           "namespace.", c->directory);
        CHECK(r, "Failed to bind %s: %m", c->directory);

        if (c->volatile_mode == VOLATILE_YES) {
                /* The tree's /usr, read-only, in a tmpfs that only this mount namespace sees. */
                _cleanup_free_ char *opts = NULL;
                tmpfs_options(s, "mode=0755", &opts);
                CHECK(volatile_root_mount(c->directory, tree, userns, opts),
                      "Failed to set up the volatile root of %s (it needs a /usr): %m", c->directory);
                r = open(c->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else if (c->ephemeral || c->volatile_mode == VOLATILE_OVERLAY) {
                /* Throwaway upper layer on a tmpfs that only this mount namespace sees: when
                 * the container ends, nothing remains on the host, even after kill -9. The
                 * lower layer is the (ID-mapped) tree; overlayfs cannot be ID-mapped itself. */
                _cleanup_close_ int upper = -EBADF, work = -EBADF, top = -EBADF, lower = -EBADF;
                _cleanup_free_ char *opts = NULL, *root = NULL;
                CHECK(mount_nofollow("tmpfs", c->directory, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"),
                      "Failed to mount the ephemeral layer: %m");
                top = open(c->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (top < 0 || mkdirat(top, "upper", 0755) < 0 || mkdirat(top, "work", 0755) < 0 ||
                    mkdirat(top, "root", 0755) < 0 || mkdirat(top, "lower", 0755) < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to prepare the ephemeral layer: %m");
                lower = openat(top, "lower", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (lower < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to prepare the ephemeral layer: %m");
                CHECK(mount_move_onto(clone_fd, lower), "Failed to mount the ephemeral layer: %m");
                upper = openat(top, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
                work = openat(top, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (upper < 0 || work < 0 ||
                    asprintf(&opts,
                             "lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d",
                             clone_fd, upper, work) < 0 ||
                    !(root = strjoin(c->directory, "/root")))
                        child_fail(sock, -ENOMEM, EXIT_FAILURE, "Failed to prepare the ephemeral layer: %m");
                CHECK(mount_nofollow("overlay", root, "overlay", 0, opts),
                      "Failed to mount the ephemeral overlay: %m");
                r = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
                target = open(c->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (target < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to open %s: %m", c->directory);
                CHECK(mount_move_onto(clone_fd, target), "Failed to bind %s: %m", c->directory);
                r = open(c->directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (r < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to open the container root: %m");
        return r;
}

/* The process clone3() starts: privileged setup of the container's file systems. Without a
 * user namespace it is the container's PID 1 and goes on to exec; with one it starts the
 * payload first, sets up for it, and leaves. */
static _noreturn_ void child_main(const SpawnConfig *c, int sock, const SpawnShared *sh) {
        _cleanup_close_ int root_fd = -EBADF, slave = -EBADF, devnull_fd = -EBADF, mask_source = -EBADF;
        PayloadStart payload_args;
        Setup s = { .c = c, .sock = sock, .userns = c->uid_range > 0, .payload_pidfd = -EBADF,
                    .go_fd = -EBADF, .proc_fd = -EBADF, .userns_fd = -EBADF, .shared = sh,
                    .payload_start = &payload_args };
        _cleanup_(late_mounts_free) LateMount *late = NULL;
        _cleanup_strv_free_ char **tmpfs_paths = NULL;
        struct stat st;
        bool want_pty = c->console != CONSOLE_PIPE || c->boot;
        char go;

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

        /* Made by the host's root and left so: in a user namespace the masks belong to nobody
         * the container knows, so even its root cannot open them. */
        if (c->inaccessible)
                CHECK(mask_source_new("mode=0755,size=4k", &mask_source),
                      "Failed to prepare the Inaccessible= masks: %m");

        if (s.userns) {
                payload_start(&s);
                /* Raising a hard limit or lowering the OOM score needs the host's root. */
                payload_apply_resources_or_fail(sock, s.payload, s.proc_fd, c);
                become_container_root_fs(&s);
        }

        root_fd = setup_root(&s);
        setup_proc(&s, root_fd, devnull_fd);
        /* sysfs shows the network devices of the namespace it is mounted from. */
        if (s.userns && c->private_network && setns(s.payload_pidfd, CLONE_NEWNET) < 0)
                child_fail(sock, -errno, EXIT_FAILURE,
                           "Failed to enter the container's network namespace: %m");
        CHECK(mount_in_root(root_fd, "/sys", IN_ROOT_NO_SYMLINKS, "sysfs", "sysfs",
                            MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
              "Failed to mount /sys: %m");
        CHECK(cgroup_mount_in_container(sh->hierarchies, c->cgroup_mode, root_fd),
              "Failed to mount /sys/fs/cgroup: %m");
        setup_dev(&s, root_fd, want_pty, &slave);
        {
                _cleanup_free_ char *run_opts = NULL;
                tmpfs_options(&s, "mode=0755,size=20%", &run_opts);
                CHECK(mount_in_root(root_fd, "/run", IN_ROOT_NO_SYMLINKS, "tmpfs", "tmpfs",
                                    MS_NOSUID | MS_NODEV, run_opts),
                      "Failed to mount /run: %m");
        }
        if (c->notify)
                setup_notify(sock, root_fd);
        setup_machine_id(sock, root_fd, c);
        if (c->resolv_conf) {
                /* Before the late mounts: a bind of the user's over it wins. */
                int r = resolv_conf_apply(root_fd, c->resolv_conf, c->read_only);
                if (r == -ELOOP)
                        child_fail(sock, r, EXIT_FAILURE,
                                   "/etc/resolv.conf in the tree is a symlink, cannot bind over it.");
                CHECK(r, "Failed to set up /etc/resolv.conf: %m");
        }
        setup_timezone(&s, root_fd);
        late = late_mounts_prepare(&s, root_fd, &tmpfs_paths);
        if (!s.userns) {
                late_mounts_attach(&s, root_fd, late);
                masks_attach(&s, root_fd, late, mask_source, MASKS_ALL);
        } else
                masks_attach(&s, root_fd, late, mask_source, MASKS_EARLY);

        /* The tree itself never provides device nodes: only /dev does. Set-uid binaries work
         * inside (su, sudo, ping), although the host mounts the pool nosuid: the bind (or
         * ID-mapped clone) inherited that, this mount decides for itself - here, in the host's
         * user namespace, before the container's copy locks the flags. */
        CHECK(mount_fd_setattr(root_fd, false,
                               MOUNT_ATTR_NODEV | (tree_read_only(c) ? MOUNT_ATTR_RDONLY : 0),
                               MOUNT_ATTR_NOSUID),
              "Failed to set the root's mount flags: %m");
        if (fchdir(root_fd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to pivot into %s: %m", c->directory);
        if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
                child_fail(sock, -errno, EXIT_FAILURE, "Failed to detach the host's root: %m");
        root_fd = safe_close(root_fd);

        if (s.userns) {
                char u;
                /* Shared (pivot_root() refuses that before), so that the late mounts reach the
                 * payload's copy, where they are slaves. */
                root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (root_fd < 0)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to open the container's root: %m");
                CHECK(mount_fd_propagation(root_fd, MS_SHARED),
                      "Failed to share the container's mounts: %m");
                /* pivot_root() moved the payload's root along (same mount namespace): it may
                 * take its copy, then get the late mounts, then go. */
                if (write(s.go_fd, "u", 1) != 1 || read(s.go_fd, &u, 1) != 1)
                        child_fail(sock, -EIO, EXIT_FAILURE, "The container ended while it was set up.");
                late_mounts_attach(&s, root_fd, late);
                masks_attach(&s, root_fd, late, mask_source, MASKS_LATE);
                if (write(s.go_fd, "g", 1) != 1)
                        child_fail(sock, -errno, EXIT_FAILURE, "Failed to start the container: %m");
                _exit(EXIT_SUCCESS);
        }
        container_exec(c, sock, TAKE_FD(slave), sh);
}

/* Ends what was started when the start fails: the setup process, and the payload. */
static void kill_and_reap(pid_t pid, int pidfd) {
        if (pid <= 0)
                return;
        if (pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        else
                (void) kill(pid, SIGKILL);
        (void) wait_for_terminate(pid, NULL);
}

typedef struct SetupStart {
        const SpawnConfig *c;
        const SpawnShared *shared;
        int sock, parent_sock;
} SetupStart;

static int setup_child(void *userdata) {
        const SetupStart *st = userdata;

        (void) close(st->parent_sock);
        child_main(st->c, st->sock, st->shared);
}

static void stack_unmap(void **p) {
        stack_free(*p, CHILD_STACK_SIZE);
}

static void environ_restore(char ***saved) {
        extern char **environ;
        environ = *saved;
}

static void dumpable_restore(int *saved) {
        if (*saved > 0)
                (void) prctl(PR_SET_DUMPABLE, *saved);
}

int container_spawn(const SpawnConfig *c, Container *ret, Error *e) {
        extern char **environ;
        /* Put back when we return: by then the setup process is gone (every path below
         * reaps it, or it exec'd). */
        _cleanup_(environ_restore) char **saved_environ = environ;
        _cleanup_(dumpable_restore) int saved_dumpable = prctl(PR_GET_DUMPABLE);
        /* Freed on return, when nothing runs on them any more: the setup process has been
         * reaped, and the payload has exec'd (the end of the reports) or been reaped. */
        _cleanup_(stack_unmap) void *stack = MAP_FAILED, *payload_stack = MAP_FAILED, *pid2_stack = MAP_FAILED;
        _cleanup_(seccomp_program_done) SeccompProgram filter = {};
        _cleanup_close_ int init_fd = -EBADF;
        _cleanup_close_pair_ int sv[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pidfd = -EBADF, master = -EBADF, notify = -EBADF, payload_pidfd = -EBADF;
        char error_buf[sizeof(((ChildMsg *) 0)->message)] = "";
        int child_error = 0, exit_status = 0;
        bool userns = c->uid_range > 0;
        CGroupHierarchies hierarchies_buf;
        const CGroupHierarchies *hierarchies;
        pid_t pid, payload = 0;
        int r;

        *ret = (Container) { .pid = 0, .pidfd = -EBADF, .pty_master = -EBADF, .notify_fd = -EBADF };

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return error_set(e, -errno, "socketpair: %m");
        /* Read before the fork: parsed after it, while the child waits, every page the
         * parser writes would cost a copy-on-write fault too. */
        r = cgroup_hierarchies_get(c->cgroup_hierarchies, &hierarchies_buf, &hierarchies);
        if (r < 0)
                return error_set(e, r, "Failed to find the cgroup hierarchies: %m");

        /* With a user namespace, the process made here only sets up (in the host's PID
         * namespace, where it can start the payload as our child); the payload gets the
         * other namespaces.
         *
         * It shares our memory (CLONE_VM) when it is sure to leave it, by exiting (a user
         * namespace: it only sets up) or by exec'ing the payload (without one, unless it
         * stays as --as-pid2's stub init): no address space is copied for it, which on the
         * test VM is the dearest part of a start. That is safe because the two never run
         * side by side on the same memory: it waits for our "g" before it does anything
         * but system calls; from then on we only wait for its reports, handle them without
         * allocating, or work while it waits for our "n". What it leaves changed in our
         * memory is put back when we return: environ (its exec of the payload sets it) and
         * the dumpable flag (which belongs to the memory). With a user namespace the payload
         * shares it too until its exec (see payload_start() and below). */
        bool share = userns || !c->as_pid2;
        SpawnShared shared = { .filter = &filter, .init_fd = -EBADF, .hierarchies = hierarchies };
        SetupStart start = { .c = c, .shared = &shared, .sock = sv[1], .parent_sock = sv[0] };
        /* Here, before anything waits on it: from the cache it is a file read; built, it
         * is the one step of the children that allocates freely. */
        r = seccomp_container_program(c->seccomp_cache_dir, c->syscall_deny, c->suppress_sync, &filter);
        if (r < 0)
                return error_set(e, r, "Failed to build the seccomp filter: %m");
        /* --as-pid2's PID 1 shares it only when it can leave it by exec'ing nspawnctl-init
         * (see container_exec()), and not when the container's root may ptrace:
         * nspawnctl-init runs in its user namespace, where only the missing CAP_SYS_PTRACE
         * keeps /proc/1/exe (the host's binary) and its memory from it. A fork stays in the
         * host's user namespace. */
        bool may_ptrace = container_bounding_set(c) & (UINT64_C(1) << CAP_SYS_PTRACE);
        if (userns && c->as_pid2 && c->init_binary && RAW_SYSCALL_SUPPORTED && !may_ptrace) {
                init_fd = open(c->init_binary, O_PATH | O_CLOEXEC);
                if (init_fd < 0)
                        log_debug_errno(-errno, "Forking --as-pid2's PID 1, cannot open %s: %m", c->init_binary);
        }
        if (userns && (!c->as_pid2 || init_fd >= 0)) {
                payload_stack = stack_new(CHILD_STACK_SIZE);
                if (payload_stack == MAP_FAILED)
                        return error_set(e, -errno, "Failed to allocate the payload's stack: %m");
                shared.payload_stack = payload_stack;
        }
        if (init_fd >= 0) {
                pid2_stack = stack_new(CHILD_STACK_SIZE);
                if (pid2_stack == MAP_FAILED)
                        return error_set(e, -errno, "Failed to allocate PID 2's stack: %m");
                shared.pid2_stack = pid2_stack;
                shared.init_fd = init_fd;
        }
        stack = stack_new(CHILD_STACK_SIZE);
        if (stack == MAP_FAILED)
                return error_set(e, -errno, "Failed to allocate the setup process's stack: %m");
        pid = clone(setup_child, (char *) stack + CHILD_STACK_SIZE,
                    (share ? CLONE_VM : 0) | CLONE_NEWNS | CLONE_PIDFD | SIGCHLD |
                            (userns ? 0
                                    : CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
                                              (c->private_network ? CLONE_NEWNET : 0)),
                    &start, &pidfd);
        if (pid < 0)
                return error_set(e, -errno, "Failed to create the container's namespaces: %m");
        sv[1] = safe_close(sv[1]);

        r = cgroup_attach(hierarchies, c->cgroup_path, pid);
        if (r < 0) {
                kill_and_reap(pid, pidfd);
                return error_set(e, r, "Failed to move the container into cgroup %s: %m", c->cgroup_path);
        }
        if (userns) {
                /* systemd inside manages its own subtree: that part must be its root's. */
                r = cgroup_delegate_payload(hierarchies, c->cgroup_path, c->uid_shift, c->uid_shift);
                if (r < 0) {
                        kill_and_reap(pid, pidfd);
                        return error_set(e, r, "Failed to delegate cgroup %s to the container: %m", c->cgroup_path);
                }
        }
        /* Without a user namespace the process just made is the container's PID 1, in its
         * network namespace already: set that up before it goes on. */
        if (!userns && c->on_namespaces && c->private_network) {
                r = c->on_namespaces(pid, c->on_namespaces_userdata, e);
                if (r < 0) {
                        kill_and_reap(pid, pidfd);
                        return error_set(e, r, "Failed to set up the container's network: %m");
                }
        }
        if (write(sv[0], "g", 1) != 1) {
                r = -errno;
                kill_and_reap(pid, pidfd);
                return error_set(e, r, "Failed to start the container: %m");
        }

        for (;;) {
                ChildMsg m;
                ssize_t n;
                int fd;

                r = receive_one_fd(sv[0], &m, sizeof m, &n, &fd);
                if (r < 0 && child_error == 0) {
                        /* Not the end of its reports: it may still run, on our memory. End it
                         * before anything else. */
                        child_error = r;
                        snprintf(error_buf, sizeof error_buf, "Failed to read the container's setup reports: %s",
                                 strerror(-r));
                        (void) pidfd_send_signal_safe(pidfd, SIGKILL);
                }
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
                else if (m.type == MSG_PAYLOAD && userns && payload == 0 && fd >= 0 && m.pid > 0) {
                        payload = m.pid;
                        payload_pidfd = fd;
                        /* The payload was born in the container's network namespace; the
                         * setup process waits until it is set up. */
                        if (c->on_namespaces && c->private_network) {
                                r = c->on_namespaces(payload, c->on_namespaces_userdata, e);
                                if (r < 0) {
                                        kill_and_reap(pid, pidfd);
                                        kill_and_reap(payload, payload_pidfd);
                                        return error_set(e, r,
                                                         "Failed to set up the container's network: %m");
                                }
                                if (write(sv[0], "n", 1) != 1) {
                                        r = -errno;
                                        kill_and_reap(pid, pidfd);
                                        kill_and_reap(payload, payload_pidfd);
                                        return error_set(e, r, "Failed to start the container: %m");
                                }
                        }
                } else {
                        safe_close(fd);
                        if (m.type == MSG_ERROR && child_error == 0) {
                                child_error = -m.error ?: -EIO;
                                exit_status = m.exit_status;
                                memcpy(error_buf, m.message, sizeof error_buf);
                                error_buf[sizeof error_buf - 1] = 0;
                        }
                }
        }

        if (userns) {
                /* The setup process is done (or failed): it leaves either way. */
                int st = wait_for_terminate(pid, NULL);
                if (child_error == 0 && (payload == 0 || st != 0)) {
                        child_error = -EIO;
                        snprintf(error_buf, sizeof error_buf, "The container's setup ended without a word.");
                }
                pid = payload;
                safe_close(pidfd);
                pidfd = TAKE_FD(payload_pidfd);
        }

        if (child_error < 0) {
                /* Without a user namespace the child ends by itself; a payload may still wait
                 * for a setup process that failed. */
                kill_and_reap(pid, pidfd);
                ret->pid = pid;
                ret->exit_status = exit_status;
                return error_set(e, child_error, "%s", error_buf);
        }

        ret->pid = pid;
        ret->pidfd = TAKE_FD(pidfd);
        ret->pty_master = TAKE_FD(master);
        ret->notify_fd = TAKE_FD(notify);
        return 0;
}
