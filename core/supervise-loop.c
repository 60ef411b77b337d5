/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "machine-record.h"
#include "net-cleanup.h"
#include "pty.h"
#include "state-dir.h"
#include "supervise-loop.h"
#include "util/process.h"
#include "userns.h"
#include "util/util.h"

#define LOG_MAX (1024 * 1024)
#define ESCAPE_CHAR 0x1d /* ^] */

static const char *const console_mode_table[_CONSOLE_MODE_MAX] = {
        [CONSOLE_INTERACTIVE] = "interactive",
        [CONSOLE_READ_ONLY] = "read-only",
        [CONSOLE_PASSIVE] = "passive",
        [CONSOLE_PIPE] = "pipe",
};

DEFINE_STRING_TABLE_LOOKUP(console_mode, ConsoleMode, _CONSOLE_MODE_MAX);

void container_done(Container *c) {
        c->pidfd = safe_close(c->pidfd);
        c->pty_master = safe_close(c->pty_master);
        c->notify_fd = safe_close(c->notify_fd);
}

void run_init(Run *run, const SuperviseConfig *c, int signal_fd) {
        *run = (Run) {
                .config = c,
                .container = { .pidfd = -EBADF, .pty_master = -EBADF, .notify_fd = -EBADF },
                .signal_fd = signal_fd,
                .in_fd = -EBADF,
                .out_fd = -EBADF,
                .listen_fd = -EBADF,
                .client_fd = -EBADF,
                .log_fd = -EBADF,
                .report_fd = -EBADF,
                .pty_peer = -EBADF,
                .state = MACHINE_OPENING,
                .extra_fd = -EBADF,
        };
}

void supervise_signal_mask(sigset_t *ret) {
        sigemptyset(ret);
        for (const int *s = (const int[]) { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGWINCH, 0 }; *s; s++)
                sigaddset(ret, *s);
}

/* The parts of the record that stay for the supervisor's life, filled once. */
static int run_record_init(Run *run) {
        const SuperviseConfig *c = run->config;
        MachineRecord *r = &run->record;
        uint64_t start = 0;
        int k;

        k = proc_start_time(getpid(), &start);
        if (k < 0)
                return k;
        *r = (MachineRecord) {
                .name = strdup(c->spawn.machine),
                .class = strdup("container"),
                .service = strdup("nspawnctl"),
                .root = strdup(c->spawn.directory),
                .cgroup = strdup(c->spawn.cgroup_path),
                .console_socket = machine_state_path(c->state_dir, c->spawn.machine, MACHINE_CONSOLE),
                .console_log = machine_state_path(c->state_dir, c->spawn.machine, MACHINE_CONSOLE_LOG),
                .supervisor = (uint32_t) getpid(),
                .supervisor_start = start,
                .init = c->init,
                .uid_shift = c->spawn.uid_shift,
                .uid_range = c->spawn.uid_range,
                .kill_signal = c->kill_signal > 0 ? (uint32_t) c->kill_signal : 0,
                .syscall_deny = c->syscall_deny_text ? strdup(c->syscall_deny_text) : NULL,
                .suppress_sync = c->spawn.suppress_sync,
        };
        snprintf(r->id, sizeof r->id, "%s", c->spawn.machine_id ?: "");
        if (!r->name || !r->class || !r->service || !r->root || !r->cgroup || !r->console_socket ||
            !r->console_log || (c->syscall_deny_text && !r->syscall_deny)) {
                machine_record_done(r);
                return -ENOMEM;
        }
        return 0;
}

/* Tells machined how the start ended, once: the machine is ready, or it ended first. */
static void run_report(Run *run, SupervisorReportType type, int status) {
        if (run->report_fd < 0)
                return;
        (void) supervisor_report_send(run->report_fd, &(const SupervisorReport) { .type = type, .status = status });
        run->report_fd = safe_close(run->report_fd);
}

static int run_record_save(Run *run, MachineState state) {
        const SuperviseConfig *c = run->config;
        MachineRecord *r = &run->record;

        if (r->leader != (uint32_t) run->container.pid) {
                r->leader = (uint32_t) run->container.pid;
                r->leader_start = 0;
                if (run->container.pid > 0)
                        (void) proc_start_time(run->container.pid, &r->leader_start);
        }
        r->state = state;
        r->timestamp = run->timestamp_realtime;
        r->timestamp_monotonic = run->timestamp_monotonic;
        return machine_record_save(c->state_dir, r);
}

int run_register_state(Run *run, MachineState state) {
        const SuperviseConfig *c = run->config;
        MachineRecord *r = &run->record;
        int k;

        run->state = state;
        if (c->register_machine && !r->name) {
                k = run_record_init(run);
                if (k < 0)
                        return k;
        }
        k = c->register_machine ? run_record_save(run, state) : 0;
        /* machined hears STARTED once the record is there to be read, then READY. */
        if (run->report_fd >= 0 && !run->reported_started && run->container.pid > 0) {
                (void) supervisor_report_send(run->report_fd, &(const SupervisorReport) {
                        .type = SUPERVISOR_REPORT_STARTED,
                        .leader = run->container.pid,
                });
                run->reported_started = true;
        }
        if (state == MACHINE_RUNNING)
                run_report(run, SUPERVISOR_REPORT_READY, 0);
        return k;
}

int run_console_listen(const SuperviseConfig *c, int *ret_fd) {
        _cleanup_free_ char *path = machine_state_path(c->state_dir, c->spawn.machine, MACHINE_CONSOLE);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        if (!path)
                return -ENOMEM;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        mode_t old = umask(0077);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || listen(fd, 4) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void run_console_log_open(Run *run) {
        _cleanup_free_ char *path = machine_state_path(run->config->state_dir, run->config->spawn.machine, MACHINE_CONSOLE_LOG);
        if (!path)
                return;
        run->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

static void console_log_write(Run *run, const char *p, size_t n) {
        if (run->log_fd < 0)
                return;
        /* Bounded: start over rather than fill /run. */
        if (run->log_size + (off_t) n > LOG_MAX) {
                (void) ftruncate(run->log_fd, 0);
                run->log_size = 0;
        }
        if (loop_write(run->log_fd, p, n) >= 0)
                run->log_size += n;
}

static int decode_status(const SuperviseConfig *c, const siginfo_t *si) {
        if (si->si_code == CLD_EXITED)
                return si->si_status;
        /* reboot(2) inside a PID namespace ends its init with SIGINT (power off, halt) or
         * SIGHUP (restart). */
        if (c->spawn.boot && si->si_status == SIGINT)
                return 0;
        if (c->spawn.boot && si->si_status == SIGHUP)
                return EXIT_REBOOT;
        return 128 + si->si_status;
}

static void request_stop(Run *run) {
        const SuperviseConfig *c = run->config;

        run->stop_requests++;
        if (run->stop_requests > 1 || !c->spawn.boot) {
                /* A command as PID 1 ignores signals it has no handler for; forwarding
                 * first gives one that has a handler a chance (and the --as-pid2 stub
                 * forwards it). KillSignal= says which. */
                if (run->stop_requests == 1 && kill(run->container.pid, c->kill_signal ?: SIGTERM) >= 0) {
                        run->kill_deadline = now_usec(CLOCK_MONOTONIC) + c->kill_timeout_usec;
                        return;
                }
                (void) kill(run->container.pid, SIGKILL);
                return;
        }
        /* systemd halts on SIGRTMIN+3, unless KillSignal= says otherwise. */
        (void) kill(run->container.pid, c->kill_signal ?: SIGRTMIN + 3);
        run->kill_deadline = now_usec(CLOCK_MONOTONIC) + c->kill_timeout_usec;
        (void) run_register_state(run, MACHINE_CLOSING);
}

static void handle_notify(Run *run) {
        char buf[4096];
        union {
                struct cmsghdr cmsg;
                char b[CMSG_SPACE(sizeof(struct ucred))];
        } control;
        for (;;) {
                struct iovec iov = { buf, sizeof buf - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                                     .msg_controllen = sizeof control };
                struct ucred *cred = NULL;
                ssize_t n = recvmsg(run->container.notify_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0)
                        return;
                for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS)
                                cred = (struct ucred *) CMSG_DATA(cm);
                        else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                                int *fds = (int *) CMSG_DATA(cm);
                                for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                                        safe_close(fds[i]);
                        }
                }
                /* Only the init speaks for the machine's state. */
                if (!cred || cred->pid != run->container.pid)
                        continue;
                buf[n] = 0;
                char *save = NULL;
                for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        if (streq(line, "READY=1") && run->state == MACHINE_OPENING) {
                                run->ready_deadline = 0;
                                (void) run_register_state(run, MACHINE_RUNNING);
                        } else if (streq(line, "STOPPING=1"))
                                (void) run_register_state(run, MACHINE_CLOSING);
                }
        }
}

static void handle_input_escape(Run *run, const char *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (p[i] != ESCAPE_CHAR) {
                        run->escape_count = 0;
                        continue;
                }
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (run->escape_count == 0 || now - run->escape_first > 1000000) {
                        run->escape_first = now;
                        run->escape_count = 0;
                }
                if (++run->escape_count >= 3) {
                        if (!run->config->quiet)
                                fprintf(stderr, "\r\nContainer %s terminated by the user.\r\n", run->config->spawn.machine);
                        (void) kill(run->container.pid, SIGKILL);
                        run->escape_count = 0;
                }
        }
}

static void drain_master(Run *run) {
        /* Read what the container printed before it ended: the pty keeps it. */
        for (;;) {
                char buf[BUF_SIZE];
                ssize_t n = read(run->container.pty_master, buf, sizeof buf);
                if (n <= 0)
                        break;
                console_log_write(run, buf, n);
                if (run->out_fd >= 0)
                        (void) loop_write(run->out_fd, buf, n);
        }
}

static int run_loop(Run *run) {
        const SuperviseConfig *c = run->config;
        int master = run->container.pty_master;

        while (!run->exited) {
                struct pollfd p[7];
                int n = 0, i_sig, i_in = -1, i_master = -1, i_out = -1, i_notify = -1, i_listen = -1;
                int i_extra = -1;
                uint64_t now = now_usec(CLOCK_MONOTONIC), deadline = UINT64_MAX;
                int timeout = -1;

                p[i_sig = n++] = (struct pollfd) { run->signal_fd, POLLIN };
                if (run->in_fd >= 0 && !run->in_eof && run->in.len < BUF_SIZE && master >= 0)
                        p[i_in = n++] = (struct pollfd) { run->in_fd, POLLIN };
                if (master >= 0) {
                        short ev = (run->in.len > 0 ? POLLOUT : 0) | (run->out.len < BUF_SIZE ? POLLIN : 0);
                        if (ev)
                                p[i_master = n++] = (struct pollfd) { master, ev };
                }
                if (run->out_fd >= 0 && run->out.len > 0)
                        p[i_out = n++] = (struct pollfd) { run->out_fd, POLLOUT };
                if (run->container.notify_fd >= 0)
                        p[i_notify = n++] = (struct pollfd) { run->container.notify_fd, POLLIN };
                if (run->listen_fd >= 0)
                        p[i_listen = n++] = (struct pollfd) { run->listen_fd, POLLIN };
                if (run->extra_fd >= 0)
                        p[i_extra = n++] = (struct pollfd) { run->extra_fd, POLLIN };

                if (run->kill_deadline)
                        deadline = MIN(deadline, run->kill_deadline);
                if (run->ready_deadline)
                        deadline = MIN(deadline, run->ready_deadline);
                if (deadline != UINT64_MAX)
                        timeout = deadline <= now ? 0 : (int) ((deadline - now + 999) / 1000);

                if (poll(p, n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(-errno, "poll: %m");
                }
                now = now_usec(CLOCK_MONOTONIC);
                if (run->kill_deadline && now >= run->kill_deadline) {
                        run->kill_deadline = 0;
                        (void) kill(run->container.pid, SIGKILL);
                }
                if (run->ready_deadline && now >= run->ready_deadline) {
                        run->ready_deadline = 0;
                        (void) run_register_state(run, MACHINE_RUNNING);
                }

                if (p[i_sig].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(run->signal_fd, &si, sizeof si) == sizeof si) {
                                switch (si.ssi_signo) {
                                case SIGTERM:
                                case SIGINT:
                                case SIGHUP:
                                        request_stop(run);
                                        break;
                                case SIGWINCH:
                                        if (master >= 0 && run->tty_raw)
                                                (void) tty_copy_winsize(STDIN_FILENO, master);
                                        break;
                                case SIGCHLD: {
                                        siginfo_t wi = {};
                                        if (waitid(P_PID, run->container.pid, &wi, WEXITED | WNOHANG) >= 0 && wi.si_pid > 0) {
                                                run->exited = true;
                                                run->exit_code = decode_status(c, &wi);
                                        }
                                        break;
                                }
                                }
                        }
                }
                if (i_notify >= 0 && (p[i_notify].revents & POLLIN))
                        handle_notify(run);
                if (i_extra >= 0 && (p[i_extra].revents & (POLLIN | POLLERR)) && run->extra_handler)
                        run->extra_handler(run, run->extra_userdata);
                if (i_listen >= 0 && (p[i_listen].revents & POLLIN)) {
                        int fd = accept4(run->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                        if (fd >= 0) {
                                /* One console client at a time: a new one replaces the old. */
                                safe_close(run->client_fd);
                                run->client_fd = run->in_fd = run->out_fd = fd;
                                run->in_eof = false;
                                run->in.len = run->out.len = 0;
                        }
                }
                if (i_in >= 0 && (p[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
                        ssize_t k = read(run->in_fd, run->in.data + run->in.len, BUF_SIZE - run->in.len);
                        if (k > 0) {
                                /* Console clients leave with their own escape; only an
                                 * interactive run kills the container on ^]^]^]. */
                                if (run->tty_raw && run->in_fd == STDIN_FILENO)
                                        handle_input_escape(run, run->in.data + run->in.len, k);
                                run->in.len += k;
                        } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
                                if (run->client_fd >= 0 && run->in_fd == run->client_fd) {
                                        run->client_fd = safe_close(run->client_fd);
                                        run->in_fd = run->out_fd = -EBADF;
                                        run->out.len = 0;
                                } else
                                        run->in_eof = true;
                                run->in.len = 0;
                        }
                }
                if (i_master >= 0) {
                        if ((p[i_master].revents & POLLOUT) && run->in.len > 0) {
                                ssize_t k = write(master, run->in.data, run->in.len);
                                if (k > 0) {
                                        memmove(run->in.data, run->in.data + k, run->in.len - k);
                                        run->in.len -= k;
                                }
                        }
                        if (p[i_master].revents & (POLLIN | POLLHUP | POLLERR)) {
                                ssize_t k = read(master, run->out.data + run->out.len, BUF_SIZE - run->out.len);
                                if (k > 0) {
                                        console_log_write(run, run->out.data + run->out.len, k);
                                        if (run->out_fd >= 0)
                                                run->out.len += k;
                                } else if (k < 0 && errno == EIO && run->pty_peer < 0) {
                                        /* Nobody in the container holds the console open
                                         * any more, and poll() would report the hangup
                                         * forever: hold the peer ourselves. Exit is seen
                                         * through SIGCHLD, not through the pty. */
                                        run->pty_peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
                                }
                        }
                }
                if (i_out >= 0 && (p[i_out].revents & (POLLOUT | POLLERR | POLLHUP)) && run->out.len > 0) {
                        ssize_t k = write(run->out_fd, run->out.data, run->out.len);
                        if (k > 0) {
                                memmove(run->out.data, run->out.data + k, run->out.len - k);
                                run->out.len -= k;
                        } else if (k < 0 && errno != EAGAIN && errno != EINTR) {
                                if (run->client_fd >= 0 && run->out_fd == run->client_fd) {
                                        run->client_fd = safe_close(run->client_fd);
                                        run->in_fd = -EBADF;
                                }
                                run->out_fd = -EBADF;
                                run->out.len = 0;
                        }
                }
        }

        if (run->out_fd >= 0 && run->out.len > 0)
                (void) loop_write(run->out_fd, run->out.data, run->out.len);
        run->out.len = 0;
        if (master >= 0)
                drain_master(run);
        return run->exit_code;
}

int remove_cgroup_when_empty(const SpawnConfig *s) {
        CGroupHierarchies buf;
        const CGroupHierarchies *hs;
        int r;

        /* Read once here when the start's list is not at hand (the light supervisor), not
         * once per try below. */
        r = cgroup_hierarchies_get(s->cgroup_hierarchies, &buf, &hs);
        if (r < 0)
                return r;
        /* The PID namespace is torn down when its init has been reaped, but the cgroup
         * core may need a moment to see it empty: usually well under a millisecond, so
         * asked often (up to a second in all), not made to wait 10 ms at once. */
        for (int i = 0; i < 1000; i++) {
                r = cgroup_remove(hs, s->cgroup_path);
                if (r != -EBUSY)
                        return r;
                usleep(1000);
        }
        return r;
}

void run_network_cleanup(const SuperviseConfig *c, bool rebooting) {
        _cleanup_free_ char *lock = network_lock_path(c->state_dir);
        int r;

        r = network_cleanup_run(&c->net_cleanup, c->spawn.machine, lock, rebooting);
        if (r < 0)
                log_warning_errno(r, "Failed to remove the network of %s: %m", c->spawn.machine);
}

void guard_dismiss(int *fd) {
        if (*fd >= 0)
                (void) write(*fd, "d", 1);
        *fd = safe_close(*fd);
}

int run_container(Run *run) {
        const SuperviseConfig *c = run->config;
        int r, status;

        switch (c->spawn.console) {
        case CONSOLE_INTERACTIVE:
                run->in_fd = STDIN_FILENO;
                run->out_fd = STDOUT_FILENO;
                if (isatty(STDIN_FILENO) && tty_make_raw(STDIN_FILENO, &run->saved_termios) >= 0) {
                        run->tty_raw = true;
                        (void) tty_copy_winsize(STDIN_FILENO, run->container.pty_master);
                }
                if (!c->quiet && run->tty_raw)
                        fprintf(stderr, "Spawning container %s on %s.\r\nPress ^] three times within 1s to kill container.\r\n",
                                c->spawn.machine, c->spawn.directory);
                break;
        case CONSOLE_READ_ONLY:
        case CONSOLE_PIPE: /* with --boot: the console pty's output */
                run->out_fd = STDOUT_FILENO;
                break;
        case CONSOLE_PASSIVE:
        default:
                break;
        }

        status = run_loop(run);
        /* A machine that reboots before it was ready is still starting: the report fd is just
         * closed, which machined takes as started. */
        if (!(status == EXIT_REBOOT && c->restart_on_reboot))
                run_report(run, SUPERVISOR_REPORT_EXITED, status >= 0 && status <= 255 ? status : 255);
        run->report_fd = safe_close(run->report_fd);

        if (run->tty_raw) {
                tty_restore(STDIN_FILENO, &run->saved_termios);
                if (!c->quiet)
                        fprintf(stderr, "\nContainer %s exited with status %d.\n", c->spawn.machine, status);
        }
        container_done(&run->container);
        safe_close(run->pty_peer);
        safe_close(run->client_fd);
        safe_close(run->listen_fd);
        safe_close(run->log_fd);
        r = remove_cgroup_when_empty(&c->spawn);
        if (r < 0)
                log_warning_errno(r, "Failed to remove cgroup %s: %m", c->spawn.cgroup_path);
        run_network_cleanup(c, status == EXIT_REBOOT && c->restart_on_reboot);
        if (c->register_machine) {
                if (status == EXIT_REBOOT && c->restart_on_reboot) {
                        /* The machine comes back under the same supervisor: keep it listed
                         * (opening, no leader yet) instead of vanishing and reappearing. */
                        run->container.pid = 0;
                        (void) run_register_state(run, MACHINE_OPENING);
                } else
                        machine_state_remove(c->state_dir, c->spawn.machine);
        }
        machine_record_done(&run->record);
        return status;
}

_noreturn_ void guard_run(const SupervisorGuard *g, int pipe_fd) {
        _cleanup_free_ char *lock_path = machine_state_path(g->state_dir, g->machine, MACHINE_LOCK);
        char b = 0;
        int lock_fd;

        (void) prctl(PR_SET_NAME, "nspawnctl-guard");
        (void) signal(SIGINT, SIG_IGN);
        (void) signal(SIGTERM, SIG_IGN);
        (void) signal(SIGHUP, SIG_IGN);

        while (read(pipe_fd, &b, 1) == 1 && b != 'd')
                ;
        if (b == 'd')
                _exit(EXIT_SUCCESS);

        /* The supervisor died without cleaning up. Its name lock tells us when nobody holds
         * the name any more (the container's copy goes with it), and that nobody else took
         * over meanwhile. */
        lock_fd = lock_path ? open(lock_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW) : -1;
        if (lock_fd >= 0)
                (void) flock(lock_fd, LOCK_EX);
        {
                CGroupHierarchies hs;
                bool have = cgroup_hierarchies_load(&hs) >= 0;
                for (int i = 0; have && i < 200; i++) {
                        if (cgroup_remove(&hs, g->cgroup_path) >= 0)
                                break;
                        usleep(50 * 1000);
                }
        }
        /* Before the record goes: whoever starts the machine next must find nothing of ours. */
        {
                _cleanup_free_ char *net_lock = network_lock_path(g->state_dir);
                NetworkCleanup nc;
                supervisor_net_cleanup_get(g->net_link, g->net_zone_bridge, g->net_table, &nc);
                (void) network_cleanup_run(&nc, g->machine, net_lock, false);
        }
        if (g->register_machine)
                machine_state_remove(g->state_dir, g->machine);
        if (lock_fd >= 0 && lock_path)
                (void) unlink(lock_path);
        /* Only now, with its processes gone, may another machine have the UID range. */
        uid_range_release(g->state_dir, g->uid_shift, g->uid_lock_fd);
        _exit(EXIT_SUCCESS);
}
