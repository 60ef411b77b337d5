/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "child-report.h"
#include "machine-exec.h"
#include "pty.h"
#include "seccomp-cache.h"
#include "seccomp-policy.h"
#include "settings.h"
#include "user-record.h"
#include "util/strv.h"
#include "util/chase.h"
#include "util/process.h"
#include "util/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const machine_exec_kind_table[_MACHINE_EXEC_KIND_MAX] = {
        [MACHINE_EXEC_LOGIN] = "login",
        [MACHINE_EXEC_SHELL] = "shell",
};

DEFINE_STRING_TABLE_LOOKUP(machine_exec_kind, MachineExecKind, _MACHINE_EXEC_KIND_MAX);

enum { MSG_PTY = 1, MSG_PIDFD, MSG_ERROR };

typedef struct ExecMsg {
        int type;
        int error;
        int failure;
        int pty_number;
        char message[400];
} ExecMsg;

/* The cgroup.procs files the payload writes itself into: one per hierarchy, so that it is
 * under the machine's limits and device allow-list like the rest of the machine. */
typedef struct CGroupTargets {
        char *procs[CGROUP_HIERARCHIES_MAX];
} CGroupTargets;

static void cgroup_targets_done(CGroupTargets *t) {
        for (size_t i = 0; i < ELEMENTSOF(t->procs); i++) {
                free(t->procs[i]);
                t->procs[i] = NULL;
        }
}

void machine_exec_done(MachineExec *e) {
        e->helper_pidfd = safe_close(e->helper_pidfd);
        e->payload_pidfd = safe_close(e->payload_pidfd);
        e->report_fd = safe_close(e->report_fd);
        e->status_fd = safe_close(e->status_fd);
        e->pty_master = safe_close(e->pty_master);
}

void machine_exec_kill(MachineExec *e) {
        if (e->payload_pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, e->payload_pidfd, SIGKILL, NULL, 0);
        if (e->helper_pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, e->helper_pidfd, SIGKILL, NULL, 0);
}

/* --- in the forked processes: nothing is logged, failures go to the socket ---------- */

static _noreturn_ void child_fail(int sock, int r, MachineExecFailure failure, int exit_status,
                                  const char *fmt, ...) _printf_(5, 6);
static _noreturn_ void child_fail(int sock, int r, MachineExecFailure failure, int exit_status,
                                  const char *fmt, ...) {
        ExecMsg m = { .type = MSG_ERROR, .error = r < 0 ? -r : r, .failure = failure };
        va_list ap;

        va_start(ap, fmt);
        child_report_send(sock, &m, sizeof m, m.message, sizeof m.message, m.error, fmt, ap);
        va_end(ap);
        _exit(exit_status);
}

/* For a libc call that just failed and set errno. */
#define FAIL_ERRNO(...) child_fail(sock, -errno, MACHINE_EXEC_FAILED, EXIT_FAILURE, __VA_ARGS__)
#define FAIL_OOM() child_fail(sock, -ENOMEM, MACHINE_EXEC_FAILED, EXIT_FAILURE, "Out of memory")

#define CHECK(expr, ...)                                                                   \
        do {                                                                               \
                int _r = (expr);                                                           \
                if (_r < 0)                                                                \
                        child_fail(sock, _r, MACHINE_EXEC_FAILED, EXIT_FAILURE, __VA_ARGS__); \
        } while (0)

static int write_file_fd_safe(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        return loop_write(fd, s, strlen(s));
}

/* The machine's own devpts: after setns() the path is the guest's, which its root may have
 * replaced; only a devpts file system reached without symlinks is accepted. */
static int open_guest_pty(int *ret_master, int *ret_slave, int *ret_number) {
        _cleanup_close_ int pts = -EBADF, master = -EBADF, slave = -EBADF;
        struct statfs sfs;
        unsigned n;
        int r;

        pts = chase_open(AT_FDCWD, "/dev/pts", O_PATH | O_DIRECTORY, CHASE_NO_SYMLINKS);
        if (pts < 0)
                return pts;
        if (fstatfs(pts, &sfs) < 0)
                return -errno;
        if (sfs.f_type != DEVPTS_SUPER_MAGIC)
                return -EMEDIUMTYPE;
        r = pty_open_in(pts, &master, &slave);
        if (r < 0)
                return r;
        if (ioctl(master, TIOCGPTN, &n) < 0)
                return -errno;
        r = fd_nonblock(master, false);
        if (r < 0)
                return r;
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        *ret_number = (int) n;
        return 0;
}

static const char *login_program(void) {
        FOREACH_STRING(p, "/sbin/agetty", "/usr/sbin/agetty", "/bin/login", "/usr/bin/login")
                if (access(p, X_OK) == 0)
                        return p;
        return NULL;
}

/* What a session may have: no more than the machine's init got (its bounding set, with
 * Capability= and DropCapability= applied, its no_new_privs, its system call filter). */
typedef struct SessionLimits {
        uint64_t bounding;
        bool no_new_privs;
        const SeccompProgram *filter; /* the machine's, read or built before the fork */
} SessionLimits;

static _noreturn_ void payload_main(const MachineExecParams *p, const CGroupTargets *t,
                                    const SessionLimits *limits, bool userns, int pidfd, int sock,
                                    int tty_sock) {
        struct passwd pw = {};
        _cleanup_free_ char *pwbuf = NULL;
        _cleanup_strv_free_ char **env = NULL, **argv = NULL;
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        const char *user = isempty(p->user) ? "root" : p->user;
        gid_t groups[NGROUPS_MAX < 256 ? NGROUPS_MAX : 256];
        int n_groups = ELEMENTSOF(groups), pty_number = -1, r;

        /* Into the machine's cgroup while still in the host's cgroup namespace: from inside
         * the machine's namespace our current cgroup would be out of reach. */
        for (size_t i = 0; i < ELEMENTSOF(t->procs); i++)
                if (t->procs[i])
                        CHECK(write_file_fd_safe(t->procs[i], "0\n"),
                              "Failed to join the cgroup of machine %s: %m", p->machine);
        /* A session in the machine must not carry the host caller's audit login uid; unset,
         * the guest's pam_loginuid may set it without CAP_AUDIT_CONTROL. */
        r = write_file_fd_safe("/proc/self/loginuid", "4294967295");
        if (r < 0 && r != -ENOENT && r != -EPERM)
                CHECK(r, "Failed to reset the login uid: %m");

        /* With the user namespace first, the others are entered with its capabilities. */
        if (setns(pidfd, (userns ? CLONE_NEWUSER : 0) | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
                                 CLONE_NEWNET | CLONE_NEWCGROUP) < 0)
                child_fail(sock, -errno, errno == ESRCH ? MACHINE_EXEC_GONE : MACHINE_EXEC_FAILED,
                           EXIT_FAILURE, "Failed to enter the namespaces of machine %s: %m", p->machine);
        pidfd = safe_close(pidfd);
        /* Host root has no UID in there: become the machine's root before making anything
         * (the pty below must be the machine's root's to be handed on to the user). */
        if (userns && (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0))
                FAIL_ERRNO("Failed to become root in the user namespace of machine %s: %m", p->machine);

        if (p->pty || p->kind == MACHINE_EXEC_LOGIN) {
                ExecMsg m = { .type = MSG_PTY };
                CHECK(open_guest_pty(&master, &slave, &pty_number),
                      "Failed to allocate a pty in machine %s: %m", p->machine);
                m.pty_number = pty_number;
                CHECK(send_one_fd(sock, master, &m, sizeof m), "Failed to pass the pty: %m");
                master = safe_close(master);
                /* The helper watches the terminal for the client's end (see helper_main()). */
                CHECK(send_one_fd(tty_sock, slave, &m, sizeof m), "Failed to pass the pty: %m");
        }
        tty_sock = safe_close(tty_sock);

        r = user_record_lookup(user, &pw, &pwbuf, groups, &n_groups);
        if (r == -ESRCH)
                child_fail(sock, r, MACHINE_EXEC_NO_SUCH_USER, EXIT_FAILURE,
                           "User %s does not exist in machine %s.", user, p->machine);
        CHECK(r, "Failed to read /etc/passwd of machine %s: %m", p->machine);

        if (setsid() < 0)
                FAIL_ERRNO("setsid: %m");
        if (slave >= 0) {
                /* The user owns the terminal it works on, as login would arrange; group tty
                 * (5) is what the machine's devpts is mounted with (core/container-spawn.c). */
                if (fchown(slave, pw.pw_uid, (gid_t) 5) < 0 || fchmod(slave, 0620) < 0)
                        FAIL_ERRNO("Failed to hand the pty over: %m");
                if (ioctl(slave, TIOCSCTTY, 0) < 0)
                        child_fail(sock, -errno, MACHINE_EXEC_FAILED, EXIT_FAILURE,
                                   "Failed to make the pty the controlling terminal: %m");
                for (int i = 0; i < 3; i++)
                        if (dup2(slave, i) < 0)
                                FAIL_ERRNO("dup2: %m");
                slave = safe_close(slave);
        } else {
                /* Move them out of 0..2 first: one of them may already sit on another's
                 * target number. */
                int fds[3];
                for (int i = 0; i < 3; i++) {
                        fds[i] = fcntl(p->stdio[i], F_DUPFD_CLOEXEC, 3);
                        if (fds[i] < 0)
                                FAIL_ERRNO("Bad stdio fd: %m");
                }
                for (int i = 0; i < 3; i++)
                        if (dup2(fds[i], i) < 0)
                                FAIL_ERRNO("dup2: %m");
        }

        /* The session gets no more than the machine's init got. */
        CHECK(caps_drop_bounding(limits->bounding), "Failed to drop capabilities: %m");
        CHECK(seccomp_program_load(limits->filter), "Failed to install the seccomp filter: %m");
        if (setgroups(n_groups, groups) < 0 || setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0 ||
            setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0)
                FAIL_ERRNO("Failed to become user %s: %m", user);
        if (limits->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                FAIL_ERRNO("Failed to set no_new_privs: %m");

        if (!isempty(p->directory)) {
                if (chdir(p->directory) < 0)
                        child_fail(sock, -errno,
                                   errno == ENOENT || errno == ENOTDIR ? MACHINE_EXEC_NO_SUCH_DIRECTORY
                                                                      : MACHINE_EXEC_FAILED,
                                   EXIT_FAILURE, "Cannot change to directory %s in machine %s: %m",
                                   p->directory, p->machine);
        } else if (chdir(pw.pw_dir) < 0)
                (void) chdir("/"); /* a user without a home still gets a shell, as login does */

        const char *term = p->pty || p->kind == MACHINE_EXEC_LOGIN ? "vt220" : "dumb";
        if (strv_consume(&env, strjoin("PATH=", DEFAULT_PATH)) < 0 ||
            strv_consume(&env, strjoin("HOME=", pw.pw_dir)) < 0 ||
            strv_consume(&env, strjoin("SHELL=", pw.pw_shell)) < 0 ||
            strv_consume(&env, strjoin("USER=", pw.pw_name)) < 0 ||
            strv_consume(&env, strjoin("LOGNAME=", pw.pw_name)) < 0 ||
            strv_consume(&env, strjoin("TERM=", term)) < 0)
                FAIL_OOM();
        STRV_FOREACH(e, p->environment)
                CHECK(strv_env_set(&env, *e), "Invalid environment assignment %s", *e);

        const char *path;
        if (p->kind == MACHINE_EXEC_LOGIN) {
                path = login_program();
                if (!path)
                        child_fail(sock, -ENOENT, MACHINE_EXEC_COMMAND_NOT_FOUND, 127,
                                   "Machine %s has neither agetty nor login.", p->machine);
                if (strstr(path, "agetty")) {
                        /* What a container getty runs on /dev/pts/N: the pty is stdin. */
                        FOREACH_STRING(a, "agetty", "-o", "-p -- \\u", "--noclear", "--keep-baud", "-",
                                       "115200,38400,9600", strv_env_get(env, "TERM") ?: term)
                                if (strv_extend(&argv, a) < 0)
                                        FAIL_OOM();
                } else if (strv_extend(&argv, "login") < 0)
                        FAIL_OOM();
        } else if (isempty(p->path)) {
                /* A login shell: argv[0] is "-" and its name. */
                path = isempty(pw.pw_shell) ? "/bin/sh" : pw.pw_shell;
                const char *base = strrchr(path, '/');
                if (strv_consume(&argv, strjoin("-", base ? base + 1 : path)) < 0)
                        FAIL_OOM();
        } else {
                path = p->path;
                r = strv_length(p->argv) > 0 ? strv_extend_strv(&argv, p->argv) : strv_extend(&argv, path);
                if (r < 0)
                        FAIL_OOM();
        }

        umask(0022);
        /* Only 0, 1, 2 and the report socket (closed by exec) survive. */
        CHECK(close_all_fds_except(&sock, 1), "Failed to close file descriptors: %m");

        /* A name without a slash is searched in the guest's PATH, as a shell would: execvpe()
         * takes PATH from environ, not from its env argument. */
        extern char **environ;
        environ = env;
        execvpe(path, argv, env);
        r = errno;
        child_fail(sock, -r, r == ENOENT ? MACHINE_EXEC_COMMAND_NOT_FOUND : MACHINE_EXEC_CANNOT_EXECUTE,
                   r == ENOENT ? 127 : 126,
                   r == ENOENT ? "%s: command not found in machine %s."
                               : "%s: cannot execute in machine %s: %m",
                   path, p->machine);
}

/* The helper runs with default signal handling (machined ignores SIGCHLD and blocks some
 * signals: the helper must wait for the payload) and only the fds in keep (none of the
 * caller's connections, listeners or watches may outlive it in us): see the safe_fork()
 * in machine_exec_start(). keep[3..] are the payload's stdio. */
static _noreturn_ void helper_main(const MachineExecParams *p, const CGroupTargets *t,
                                   const SessionLimits *limits, bool userns, int pidfd, int sock,
                                   int status_w, const int *keep, size_t n_keep) {
        _cleanup_close_pair_ int tty_sock[2] = { -EBADF, -EBADF };
        _cleanup_close_ int tty = -EBADF;
        char line[32];
        pid_t pid;
        int r, st;

        /* Non-dumpable until the payload's exec: nothing in the machine may open our
         * memory or /proc/PID/exe (a host binary) while we are in its namespaces. */
        (void) prctl(PR_SET_DUMPABLE, 0);

        if ((p->pty || p->kind == MACHINE_EXEC_LOGIN) &&
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tty_sock) < 0)
                child_fail(sock, -errno, MACHINE_EXEC_FAILED, EXIT_FAILURE, "socketpair: %m");

        if (setns(pidfd, CLONE_NEWPID) < 0)
                child_fail(sock, -errno, errno == ESRCH ? MACHINE_EXEC_GONE : MACHINE_EXEC_FAILED,
                           EXIT_FAILURE, "Failed to enter the PID namespace of machine %s: %m", p->machine);
        r = safe_fork(NULL, NULL, 0, 0, &pid);
        if (r < 0)
                /* ENOMEM: the namespace's init is gone, it takes no new processes. */
                child_fail(sock, r, r == -ENOMEM ? MACHINE_EXEC_GONE : MACHINE_EXEC_FAILED,
                           EXIT_FAILURE, "Failed to start a process in machine %s: %m", p->machine);
        if (r == 0) {
                status_w = safe_close(status_w);
                tty_sock[0] = safe_close(tty_sock[0]);
                payload_main(p, t, limits, userns, pidfd, sock, TAKE_FD(tty_sock[1]));
        }
        tty_sock[1] = safe_close(tty_sock[1]);
        pidfd = safe_close(pidfd);
        for (size_t i = 3; i < n_keep; i++)
                (void) close(keep[i]);

        /* The caller may kill the payload if the start hangs (a guest that blocks). */
        ExecMsg m = { .type = MSG_PIDFD };
        _cleanup_close_ int child = pidfd_open_safe(pid);
        if (child >= 0)
                (void) send_one_fd(sock, child, &m, sizeof m);
        sock = safe_close(sock);

        /* The session is over for its client when nobody reads its status any more (a pipe's
         * write end polls POLLERR then), or when the master of its terminal was closed.
         * The kernel hangs the terminal up then and sends SIGHUP, but a getty that ignores
         * it at that moment (agetty does, around its own set-up) would then wait on a dead
         * line for ever. The terminal polls POLLHUP then; so it does after a vhangup() by
         * login(1), which is no end: only when it cannot be opened again (EIO: the master
         * is gone) is the session hung up. Opened again through our own fd, never through
         * anything of the guest's. */
        bool watch_reader = p->hangup_without_reader, sent_hangup = false;
        while (child >= 0 && !sent_hangup && (watch_reader || tty_sock[0] >= 0 || tty >= 0)) {
                struct pollfd pfd[4] = { { .fd = child, .events = POLLIN },
                                         { .fd = watch_reader ? status_w : -1, .events = 0 },
                                         { .fd = tty_sock[0], .events = POLLIN },
                                         { .fd = tty, .events = 0 } };
                bool hangup = false;

                if (poll(pfd, ELEMENTSOF(pfd), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pfd[0].revents)
                        break;
                if (pfd[1].revents & (POLLERR | POLLHUP))
                        hangup = true;
                if (pfd[2].revents) {
                        ExecMsg tm;
                        ssize_t n;
                        if (receive_one_fd(tty_sock[0], &tm, sizeof tm, &n, &tty) < 0)
                                tty = -EBADF;
                        tty_sock[0] = safe_close(tty_sock[0]); /* one message, or none */
                }
                if (pfd[3].revents & (POLLERR | POLLHUP)) {
                        int again = open(FORMAT_PROC_FD_PATH(tty), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                        if (again < 0 && errno == EIO)
                                hangup = true;
                        safe_close(tty);
                        tty = again; /* a vhangup(): the new file; another error: unwatched */
                }
                if (hangup) {
                        (void) kill(-pid, SIGHUP);
                        (void) kill(pid, SIGHUP);
                        sent_hangup = true;
                }
        }
        if (sent_hangup) {
                /* Nobody is left to talk to the session, and a getty hung up at its prompt
                 * ignores that for 10 s (its respawn guard): give it a moment, then end it. */
                struct pollfd pfd = { .fd = child, .events = POLLIN };
                if (poll(&pfd, 1, 2000) == 0) {
                        (void) kill(-pid, SIGKILL);
                        (void) kill(pid, SIGKILL);
                }
        }
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        _exit(EXIT_FAILURE);
        machine_exec_format_status(st, line, sizeof line);
        (void) signal(SIGPIPE, SIG_IGN);
        (void) loop_write(status_w, line, strlen(line));
        _exit(EXIT_SUCCESS);
}

/* --- in the caller ---------------------------------------------------------------- */

static bool path_is_below(const char *path, const char *prefix) {
        size_t n = strlen(prefix);
        while (n > 1 && prefix[n - 1] == '/')
                n--;
        return strneq(path, prefix, n) && (path[n] == 0 || path[n] == '/' || n == 1);
}

/* Where the leader is in every hierarchy, as long as that is inside the machine's cgroup: a
 * systemd init sits in init.scope, which is a leaf, where a new process may go, while the
 * machine's own cgroup may have controllers enabled and take no processes. */
static int cgroup_targets_for(pid_t leader, const char *cgroup, CGroupTargets *ret) {
        _cleanup_free_ char *text = NULL;
        CGroupHierarchies hs;
        char path[64];
        size_t n = 0;
        int r;

        if (isempty(cgroup) || cgroup[0] != '/')
                return 0; /* nothing recorded: no cgroup to join */
        r = cgroup_hierarchies_load(&hs);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) leader);
        r = read_full_file(path, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                const CGroupHierarchy *h = NULL;
                char *ctrl, *cg;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                ctrl = strchr(line, ':');
                if (!ctrl)
                        continue;
                *ctrl++ = 0;
                cg = strchr(ctrl, ':');
                if (!cg)
                        continue;
                *cg++ = 0;
                if (streq(line, "0") && isempty(ctrl))
                        h = cgroup_hierarchies_unified(&hs);
                else if (!isempty(ctrl)) {
                        ctrl[strcspn(ctrl, ",")] = 0; /* "cpu,cpuacct": one names the hierarchy */
                        h = cgroup_hierarchies_find_v1(&hs, ctrl);
                }
                if (!h || !path_is_below(cg, cgroup) || n >= ELEMENTSOF(ret->procs))
                        continue;
                ret->procs[n] = strjoin(h->mount_point, cg, "/cgroup.procs");
                if (!ret->procs[n])
                        return -ENOMEM;
                n++;
        }
        return n > 0 ? 0 : -ENOMEDIUM;
}

/* The init's bounding set and no_new_privs, from the kernel's /proc/PID/status; 0 when it
 * cannot be read (the caller then keeps the default set). */
static int leader_limits(pid_t pid, SessionLimits *ret) {
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *b, *n;
        unsigned long long mask;
        int nnp = 0;

        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        if (read_full_file(path, &text, NULL) < 0)
                return 0;
        b = strstr(text, "\nCapBnd:");
        if (!b || sscanf(b + STRLEN("\nCapBnd:"), "%llx", &mask) != 1)
                return 0;
        n = strstr(text, "\nNoNewPrivs:");
        if (n && sscanf(n + STRLEN("\nNoNewPrivs:"), "%d", &nnp) != 1)
                return 0;
        *ret = (SessionLimits) { .bounding = mask, .no_new_privs = nnp > 0 };
        return 1;
}

static bool same_ns(pid_t pid, const char *ns) {
        char a[64], b[64];
        struct stat x, y;

        snprintf(a, sizeof a, "/proc/%d/ns/%s", (int) pid, ns);
        snprintf(b, sizeof b, "/proc/self/ns/%s", ns);
        return stat(a, &x) >= 0 && stat(b, &y) >= 0 && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

int machine_exec_start(const MachineExecParams *p, MachineExec *ret, Error *e) {
        _cleanup_close_pair_ int sv[2] = { -EBADF, -EBADF }, status[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pidfd = -EBADF, helper_pidfd = -EBADF;
        _cleanup_(cgroup_targets_done) CGroupTargets t = {};
        uint64_t start = 0;
        bool private_network, userns;
        pid_t pid;
        int r;

        assert(p && ret);
        assert(p->leader > 0);

        /* The pidfd pins the process; the start time proves the pid was not reused since the
         * record was written. */
        pidfd = pidfd_open_safe(p->leader);
        if (pidfd < 0)
                return error_set(e, -ESRCH, "Machine %s has no running init.", p->machine);
        r = proc_start_time(p->leader, &start);
        if (r < 0 || start != p->leader_start)
                return error_set(e, -ESRCH, "Machine %s has no running init.", p->machine);
        r = cgroup_targets_for(p->leader, p->cgroup, &t);
        if (r < 0)
                return error_set(e, r, "Failed to find the cgroup of machine %s: %m", p->machine);
        private_network = !same_ns(p->leader, "net");
        userns = !same_ns(p->leader, "user");
        SessionLimits limits = { .bounding = caps_container_keep(private_network) };
        (void) leader_limits(p->leader, &limits);
        _cleanup_strv_free_ char **deny = NULL;
        if (!isempty(p->syscall_deny) && split_quoted(p->syscall_deny, &deny) < 0)
                return error_set(e, -ENOMEM, "Out of memory.");
        /* Before the fork, from the machines' cache when it was built before: a file read
         * instead of 1.2-1.8 ms of libseccomp in every session's payload. */
        _cleanup_(seccomp_program_done) SeccompProgram filter = {};
        r = seccomp_container_program(p->seccomp_cache_dir, deny, p->suppress_sync, &filter);
        if (r < 0)
                return error_set(e, r, "Failed to build the seccomp filter: %m");
        limits.filter = &filter;
        /* Again, now that /proc/PID was read: still the same process? */
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 ||
            proc_start_time(p->leader, &start) < 0 || start != p->leader_start)
                return error_set(e, -ESRCH, "Machine %s has no running init.", p->machine);

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return error_set(e, -errno, "socketpair: %m");
        if (pipe2(status, O_CLOEXEC) < 0)
                return error_set(e, -errno, "pipe: %m");

        int keep[6] = { pidfd, sv[1], status[1] };
        size_t n_keep = 3;
        if (!p->pty && p->kind != MACHINE_EXEC_LOGIN)
                for (int i = 0; i < 3; i++)
                        keep[n_keep++] = p->stdio[i];
        r = safe_fork_full("nspawnctl-exec", keep, n_keep, FORK_RESET_SIGNALS | FORK_CLOSE_ALL_FDS, &pid,
                           &helper_pidfd);
        if (r < 0)
                return error_set(e, r, "Failed to fork: %m");
        if (r == 0)
                helper_main(p, &t, &limits, userns, pidfd, sv[1], status[1], keep, n_keep);

        r = fd_nonblock(sv[0], true);
        if (r < 0) {
                (void) syscall(SYS_pidfd_send_signal, helper_pidfd, SIGKILL, NULL, 0);
                return error_set(e, r, "Failed to set up the report socket: %m");
        }
        *ret = MACHINE_EXEC_NULL;
        ret->want_pty = p->pty || p->kind == MACHINE_EXEC_LOGIN;
        ret->helper = pid;
        ret->helper_pidfd = TAKE_FD(helper_pidfd);
        ret->report_fd = TAKE_FD(sv[0]);
        ret->status_fd = TAKE_FD(status[0]);
        return 0;
}

int machine_exec_process(MachineExec *e, MachineExecFailure *ret_failure, Error *error) {
        for (;;) {
                ExecMsg m;
                ssize_t n;
                int fd = -EBADF, r;

                r = receive_one_fd(e->report_fd, &m, sizeof m, &n, &fd);
                if (r == -EAGAIN || r == -EINTR)
                        return 0;
                if (r < 0 || n == 0) {
                        /* EOF: the payload exec'd (its end is O_CLOEXEC) and the helper
                         * closed its own. report_fd stays open until machine_exec_done(): the
                         * caller may still have it in an event loop. */
                        e->done = true;
                        if (e->want_pty && e->pty_master < 0) {
                                /* Died before it got that far, without a word. */
                                if (ret_failure)
                                        *ret_failure = MACHINE_EXEC_FAILED;
                                return error_set(error, -EIO, "The session ended before it started.");
                        }
                        return 1;
                }
                if (n != sizeof m) {
                        safe_close(fd);
                        continue;
                }
                switch (m.type) {
                case MSG_PTY:
                        if (fd < 0 || e->pty_master >= 0) {
                                safe_close(fd);
                                break;
                        }
                        e->pty_master = fd;
                        snprintf(e->pty_path, sizeof e->pty_path, "/dev/pts/%d", m.pty_number);
                        break;
                case MSG_PIDFD:
                        if (e->payload_pidfd < 0)
                                e->payload_pidfd = fd;
                        else
                                safe_close(fd);
                        break;
                case MSG_ERROR:
                        safe_close(fd);
                        m.message[sizeof m.message - 1] = 0;
                        if (ret_failure)
                                *ret_failure = m.failure >= 0 && m.failure < _MACHINE_EXEC_FAILURE_MAX
                                                       ? m.failure
                                                       : MACHINE_EXEC_FAILED;
                        e->pty_master = safe_close(e->pty_master);
                        e->done = true;
                        return error_set(error, -(m.error ?: EIO), "%s", m.message);
                default:
                        safe_close(fd);
                }
        }
}

void machine_exec_format_status(int wait_status, char *buf, size_t size) {
        if (WIFEXITED(wait_status))
                snprintf(buf, size, "EXIT=%d\n", WEXITSTATUS(wait_status));
        else
                snprintf(buf, size, "SIGNAL=%d\n", WTERMSIG(wait_status));
}

int machine_exec_parse_status(const char *line, int *ret_status) {
        int v;
        char *nl;
        _cleanup_free_ char *s = strdup(line);

        if (!s)
                return -ENOMEM;
        nl = strchr(s, '\n');
        if (nl)
                *nl = 0;
        if (startswith(s, "EXIT=") && safe_atoi(s + 5, &v) >= 0 && v >= 0 && v <= 255) {
                *ret_status = v;
                return 0;
        }
        if (startswith(s, "SIGNAL=") && safe_atoi(s + 7, &v) >= 0 && v > 0 && v < 128) {
                *ret_status = 128 + v;
                return 0;
        }
        return -EBADMSG;
}
