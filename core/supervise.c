/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "net-setup.h"
#include "state-dir.h"
#include "supervise-loop.h"
#include "supervise.h"
#include "supervisor-contract.h"
#include "util/process.h"
#include "util/spawn-lazy.h"
#include "util/strv.h"
#include "util/util.h"

/* How long the cleanup guard waits in our memory before it execs the light binary. */
#define GUARD_EXEC_GRACE_MSEC 1000

/* Starts the cleanup guard (see guard_run()) with the read end of a pipe whose write end
 * only the supervisor holds. */
static int guard_start(const SuperviseConfig *c, int *ret_fd) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        _cleanup_strv_free_ char **argv = NULL;
        /* The UID range stays locked through the guard (its fd 4) until the container's
         * processes are gone. */
        SupervisorGuard g = {
                .machine = c->spawn.machine,
                .state_dir = c->state_dir,
                .cgroup_path = c->spawn.cgroup_path,
                .register_machine = c->register_machine,
                .uid_shift = c->spawn.uid_shift,
                .uid_lock_fd = c->uid_range_lock_fd >= 0 ? 4 : -1,
        };
        int r;

        /* What the network leaves on the host goes too (veth, zone bridge, the box's chains). */
        supervisor_net_cleanup_set(&c->net_cleanup, &g.net_link, &g.net_zone_bridge, &g.net_table);

        /* Built before the fork: nothing in the child may allocate. */
        if (c->supervise_binary) {
                r = supervisor_guard_to_argv(&g, &argv);
                if (r < 0)
                        return r;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        if (argv) {
                /* Not forked: a fork would make this process, with all its libraries, pay
                 * copy-on-write faults for every page it writes while it starts the container.
                 * Not even exec'd at first: most guards only ever read 'd' from a supervisor
                 * that cleaned up itself, and the light binary's address space would cost
                 * more than the whole wait (on the test VM a new address space is the dearest
                 * part of a process, and the host makes them one at a time). The watcher
                 * becomes the light binary when the supervisor dies, or once the machine
                 * proves to be long-lived, so that it does not keep our memory alive. */
                r = spawn_exec_lazy(c->supervise_binary, argv, (const int[]) { p[0], c->uid_range_lock_fd }, 2,
                                    "nspawnctl-guard", 'd', GUARD_EXEC_GRACE_MSEC, NULL);
                if (r == -EOPNOTSUPP)
                        r = spawn_exec(c->supervise_binary, argv, (const int[]) { p[0], c->uid_range_lock_fd }, 2,
                                       FORK_RESET_SIGNALS | FORK_NEW_SESSION | FORK_NULL_STDIO, NULL);
                if (r >= 0) {
                        *ret_fd = TAKE_FD(p[1]);
                        return 0;
                }
                log_debug_errno(r, "Failed to run %s as the cleanup guard, guarding in a fork: %m",
                                c->supervise_binary);
                argv = strv_free(argv);
        }
        /* Keep only the pipe: in particular not the supervisor's copy of the lock or the
         * console, which would keep them alive after it died. */
        r = safe_fork("nspawnctl-guard", (const int[]) { p[0], c->uid_range_lock_fd }, 2,
                      FORK_RESET_SIGNALS | FORK_NEW_SESSION | FORK_NULL_STDIO | FORK_CLOSE_ALL_FDS, NULL);
        if (r < 0)
                return r;
        if (r == 0) {
                /* Out of the way of 3 and 4 first: either may be the other's number now. */
                int pipe_fd = fcntl(p[0], F_DUPFD, 10);
                int lock = c->uid_range_lock_fd >= 0 ? fcntl(c->uid_range_lock_fd, F_DUPFD, 10) : -EBADF;
                if (pipe_fd < 0 || fd_move_to(pipe_fd, 3) < 0 || (lock >= 0 && fd_move_to(lock, 4) < 0))
                        _exit(EXIT_FAILURE);
                /* It waits as long as the machine lives: as the small static binary, not as
                 * a copy of this one with all its libraries. */
                if (argv)
                        execv(c->supervise_binary, argv);
                guard_run(&g, 3);
        }
        *ret_fd = TAKE_FD(p[1]);
        return 0;
}

/* Once the container runs, the rest of the supervisor's life is the event loop, which
 * needs none of the libraries that set the container up. Exec'ing into the static
 * nspawnctl-supervisor-light keeps the process (and so the container's parent, its
 * PDEATHSIG and machined's pidfd) but drops the setup's code and data, libseccomp, libcap
 * and (machined's supervisor) libsystemd from memory: the supervisor of a long-running
 * machine stays small. */
static int handoff(const SuperviseConfig *c, Run *run, int lock_fd, int guard_fd) {
        _cleanup_strv_free_ char **argv = NULL, **restart = NULL;
        SupervisorHandoff h = {
                .pid = run->container.pid,
                .fds = {
                        [HANDOFF_FD_PIDFD] = run->container.pidfd,
                        [HANDOFF_FD_PTY] = run->container.pty_master,
                        [HANDOFF_FD_NOTIFY] = run->container.notify_fd,
                        [HANDOFF_FD_LISTEN] = run->listen_fd,
                        [HANDOFF_FD_LOG] = run->log_fd,
                        [HANDOFF_FD_LOCK] = lock_fd,
                        [HANDOFF_FD_GUARD] = guard_fd,
                        [HANDOFF_FD_REPORT] = run->report_fd,
                        [HANDOFF_FD_UID_LOCK] = c->uid_range_lock_fd,
                },
                .machine = c->spawn.machine,
                .directory = c->spawn.directory,
                .machine_id = c->spawn.machine_id,
                .state_dir = c->state_dir,
                .cgroup_path = c->spawn.cgroup_path,
                .console = c->spawn.console,
                .boot = c->spawn.boot,
                .quiet = c->quiet,
                .register_machine = c->register_machine,
                .notify = c->spawn.notify,
                .restart_on_reboot = c->restart_on_reboot,
                .kill_timeout_usec = c->kill_timeout_usec,
                .ready_timeout_usec = c->ready_timeout_usec,
                .timestamp_realtime = run->timestamp_realtime,
                .timestamp_monotonic = run->timestamp_monotonic,
                .state = run->state,
                .init = c->init,
                .uid_shift = c->spawn.uid_shift,
                .uid_range = c->spawn.uid_range,
                .kill_signal = c->kill_signal,
                .syscall_deny = c->syscall_deny_text,
                .suppress_sync = c->spawn.suppress_sync,
        };
        char self[PATH_MAX];
        ssize_t n;
        int r;

        supervisor_net_cleanup_set(&c->net_cleanup, &h.net_link, &h.net_zone_bridge, &h.net_table);
        if (c->restart_on_reboot && c->original_argv) {
                /* The same program again, by its real path: argv[0] may be a bare name. */
                n = readlink("/proc/self/exe", self, sizeof self - 1);
                if (n < 0)
                        return -errno;
                self[n] = 0;
                if (strv_extend(&restart, self) < 0 || strv_extend_strv(&restart, c->original_argv + 1) < 0)
                        return -ENOMEM;
                h.restart_argv = restart;
        }
        r = supervisor_handoff_to_argv(&h, &argv);
        if (r < 0)
                return r;

        for (size_t i = 0; i < _HANDOFF_FD_MAX; i++)
                if (h.fds[i] >= 0 && (r = fd_cloexec(h.fds[i], false)) < 0)
                        goto fail;
        execv(c->supervise_binary, argv);
        r = -errno;
fail:
        for (size_t i = 0; i < _HANDOFF_FD_MAX; i++)
                if (h.fds[i] >= 0)
                        (void) fd_cloexec(h.fds[i], true);
        return r;
}

/* The device allow-list and the limits, on the container's cgroup while nothing lives in
 * it yet. */
static int cgroup_apply_policy(const SuperviseConfig *c, Error *e) {
        CGroupLimitType failed = _CGROUP_LIMIT_TYPE_INVALID;
        const char *reason = NULL;
        int r;

        r = cgroup_devices_apply(c->spawn.cgroup_hierarchies, c->spawn.cgroup_path, c->device_policy,
                                 NULL);
        if (r == -EOPNOTSUPP)
                return error_set(e, r, "Cannot restrict the devices of %s: the host has no %s.",
                                       c->spawn.machine,
                                       c->device_policy == DEVICE_POLICY_V1 ? "v1 devices controller"
                                       : c->device_policy == DEVICE_POLICY_BPF
                                               ? "cgroup2 hierarchy or device BPF support"
                                               : "devices controller and no cgroup2 hierarchy");
        if (r < 0)
                return error_set(e, r, "Failed to restrict the devices of %s: %m", c->spawn.machine);
        r = cgroup_limits_apply(c->spawn.cgroup_hierarchies, c->spawn.cgroup_path, &c->limits, &failed,
                                &reason);
        if (r < 0 && reason)
                return error_set(e, r, "Cannot apply %s=: %s.", cgroup_limit_type_to_string(failed),
                                       reason);
        if (r < 0)
                return error_set(e, r, "Failed to apply %s=: %m",
                                       strna(cgroup_limit_type_to_string(failed)));
        return 0;
}

/* SpawnConfig.on_namespaces: the container's network, between its clone and its setup. */
typedef struct NetworkHook {
        const SuperviseConfig *config;
        NetworkRuntime *runtime;
        bool done; /* something may be on the host: remove it should the start fail later */
} NetworkHook;

static int network_hook(pid_t pid, void *userdata, Error *e) {
        NetworkHook *h = userdata;
        const SuperviseConfig *c = h->config;
        int r;

        r = network_setup(&c->network, c->spawn.machine, c->state_dir, pid, &h->runtime, e);
        if (r < 0) /* unless network_setup() said why */
                return error_set(e, r, "Failed to set up the network of %s: %m", c->spawn.machine);
        h->done = true;
        return 0;
}

static void network_follow_addresses(Run *run, void *userdata) {
        int r = network_runtime_update(userdata);
        if (r < 0)
                log_warning_errno(r, "Failed to point the port forwards of %s at its addresses: %m",
                                  run->config->spawn.machine);
}

/* The hand-off pays for itself over a machine's life, not over a command that is done at
 * once (a test's `true`, a quick `run -x`): the exec of the light binary would cost more than
 * the container did. So the container gets a moment first; one that has ended by then is
 * reaped in-process. Nothing waits on this: the console, the notify socket and signals queue
 * until the loop (ours or the light binary's) reads them. */
#define HANDOFF_GRACE_MSEC 25

static bool container_ends_soon(const Run *run) {
        struct pollfd p = { .fd = run->container.pidfd, .events = POLLIN };

        return run->container.pidfd >= 0 && poll(&p, 1, HANDOFF_GRACE_MSEC) > 0;
}

static int run_once(const SuperviseConfig *c, int signal_fd, int lock_fd, int guard_fd, Error *e) {
        NetworkHook net = { .config = c };
        SpawnConfig spawn = c->spawn;
        _cleanup_free_ char *seccomp_dir = state_seccomp_dir(c->state_dir);
        Run run;
        int r, status;

        run_init(&run, c, signal_fd);
        /* Without memory for the name, the filter is just built. */
        spawn.seccomp_cache_dir = seccomp_dir;
        if (c->network.mode != NETWORK_HOST) {
                spawn.on_namespaces = network_hook;
                spawn.on_namespaces_userdata = &net;
        }
        r = cgroup_create(c->spawn.cgroup_hierarchies, c->spawn.cgroup_path);
        if (r == -EEXIST)
                return error_set(e, r, "Machine %s is already running (its cgroup is in use).", c->spawn.machine);
        if (r < 0)
                return error_set(e, r, "Failed to create cgroup %s: %m", c->spawn.cgroup_path);
        r = cgroup_apply_policy(c, e);
        if (r < 0) {
                (void) remove_cgroup_when_empty(&c->spawn);
                return r;
        }

        if (c->register_machine) {
                r = run_console_listen(c, &run.listen_fd);
                if (r < 0) {
                        (void) remove_cgroup_when_empty(&c->spawn);
                        return error_set(e, r, "Failed to create the console socket: %m");
                }
                run_console_log_open(&run);
        }

        r = container_spawn(&spawn, &run.container, e);
        if (r < 0) {
                status = run.container.pid > 0 && run.container.exit_status > 0 ? run.container.exit_status : -r;
                (void) remove_cgroup_when_empty(&c->spawn);
                network_runtime_free(net.runtime);
                if (net.done) /* the network was set up, the container failed */
                        run_network_cleanup(c, false);
                safe_close(run.listen_fd);
                safe_close(run.log_fd);
                if (c->register_machine) {
                        /* No machine, no console: the socket must not stay. */
                        _cleanup_free_ char *sock =
                                machine_state_path(c->state_dir, c->spawn.machine, MACHINE_CONSOLE);
                        if (sock)
                                (void) unlink(sock);
                }
                if (status == 127 || status == 126) {
                        /* The command could not be executed: like a shell, say so and exit
                         * with its status. */
                        log_error("%s", error_message(e));
                        error_done(e);
                        return status;
                }
                return error_set(e, r, "Failed to start the container: %m");
        }

        run.timestamp_realtime = now_usec(CLOCK_REALTIME);
        run.timestamp_monotonic = now_usec(CLOCK_MONOTONIC);
        if (c->spawn.notify && c->ready_timeout_usec)
                run.ready_deadline = run.timestamp_monotonic + c->ready_timeout_usec;
        /* The run's own copy of the report fd says STARTED once the record is written, and
         * goes on to the light binary until the machine is ready. After a reboot machined has
         * long closed its end: those reports go nowhere. */
        if (c->report_fd >= 0)
                run.report_fd = fcntl(c->report_fd, F_DUPFD_CLOEXEC, 3);
        r = run_register_state(&run, c->spawn.notify ? MACHINE_OPENING : MACHINE_RUNNING);
        if (r < 0)
                log_warning_errno(r, "Failed to write the machine record: %m");
        if (c->on_started)
                c->on_started(c, run.container.pid);

        if (net.runtime) {
                /* Forwards that follow the container's addresses (runtime Port= outside the
                 * managed network) rewrite nft rules, which needs libnftables: this supervisor
                 * stays as it is instead of handing over to the libc-only light binary. */
                run.extra_fd = network_runtime_fd(net.runtime);
                run.extra_handler = network_follow_addresses;
                run.extra_userdata = net.runtime;
                network_follow_addresses(&run, net.runtime);
        } else if (c->supervise_binary && !container_ends_soon(&run)) {
                r = handoff(c, &run, lock_fd, guard_fd);
                log_debug_errno(r, "Supervising in-process, could not run %s: %m", c->supervise_binary);
        }
        status = run_container(&run);
        network_runtime_free(net.runtime);
        return status;
}

/* --private-users= into the UID range the container gets. */
static int private_users_resolve(SuperviseConfig *c, Error *e) {
        const PrivateUsers *p = &c->private_users;
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        struct stat st;
        int r;

        c->spawn.uid_shift = 0;
        c->spawn.uid_range = 0;
        switch (p->mode) {
        case PRIVATE_USERS_NO:
                return 0;
        case PRIVATE_USERS_YES:
                if (stat(c->spawn.directory, &st) < 0)
                        return error_set(e, -errno, "Failed to look at %s: %m", c->spawn.directory);
                /* Like nspawn: the range that holds the owner. A tree owned by root would get
                 * 0:65536, no isolation of UIDs at all: that is what identity says openly. */
                c->spawn.uid_shift = st.st_uid & ~(USERNS_RANGE_DEFAULT - 1);
                if (c->spawn.uid_shift == 0 || c->spawn.uid_shift != (st.st_gid & ~(USERNS_RANGE_DEFAULT - 1)))
                        return error_set(e, -EINVAL,
                                         "--private-users=yes needs %s owned by a shifted UID and GID (it is %u:%u); "
                                         "use pick (the image stays as it is) or identity.",
                                         c->spawn.directory, (unsigned) st.st_uid, (unsigned) st.st_gid);
                c->spawn.uid_range = USERNS_RANGE_DEFAULT;
                return 0;
        case PRIVATE_USERS_IDENTITY:
        case PRIVATE_USERS_FIXED:
                c->spawn.uid_shift = p->mode == PRIVATE_USERS_FIXED ? p->shift : 0;
                c->spawn.uid_range = p->mode == PRIVATE_USERS_FIXED ? p->range : USERNS_RANGE_DEFAULT;
                return 0;
        case PRIVATE_USERS_PICK:
                /* Parsed, never through NSS: it would load modules into this process. */
                r = user_db_read("/etc/passwd", &passwd);
                if (r >= 0)
                        r = user_db_read("/etc/group", &group);
                if (r < 0)
                        return error_set(e, r, "Failed to read the host's users and groups: %m");
                r = uid_range_pick(c->state_dir, c->spawn.machine, passwd, group, &c->spawn.uid_shift,
                                   &c->uid_range_lock_fd);
                if (r == -EBUSY)
                        return error_set(e, r, "No free UID range left for machine %s.", c->spawn.machine);
                if (r < 0)
                        return error_set(e, r, "Failed to pick a UID range for machine %s: %m", c->spawn.machine);
                c->spawn.uid_range = USERNS_RANGE_DEFAULT;
                return 0;
        default:
                return error_set(e, -EINVAL, "Invalid --private-users= mode.");
        }
}

int supervise(const SuperviseConfig *config, Error *e) {
        _cleanup_close_ int lock_fd = -EBADF, guard_fd = -EBADF, signal_fd = -EBADF;
        _cleanup_free_ char *deny_text = NULL;
        SuperviseConfig copy = *config, *c = &copy;
        sigset_t mask, old;
        int r, status;

        copy.uid_range_lock_fd = -EBADF;
        STRV_FOREACH(w, c->spawn.syscall_deny) {
                char *t = strjoin(strempty(deny_text), deny_text ? " " : "", *w);
                if (!t)
                        return error_set(e, -ENOMEM, "Out of memory.");
                free(deny_text);
                deny_text = t;
        }
        copy.syscall_deny_text = deny_text;
        r = spawn_check(&c->spawn, e);
        if (r < 0)
                return r;
        if (c->spawn.boot && spawn_detect_init(c->spawn.directory, &c->init) < 0)
                c->init = MACHINE_INIT_OTHER;
        /* Only systemd says READY=1: other inits count as ready once they run, instead of
         * after the ready timeout. */
        if (c->spawn.boot && c->init != MACHINE_INIT_SYSTEMD)
                c->spawn.notify = false;
        r = machine_lock_acquire(c->state_dir, c->spawn.machine, &lock_fd);
        if (r == -EEXIST)
                return error_set(e, r, "Machine %s is already running.", c->spawn.machine);
        if (r < 0)
                return error_set(e, r, "Failed to lock machine name %s in %s: %m", c->spawn.machine, c->state_dir);
        r = private_users_resolve(c, e);
        if (r < 0) {
                machine_lock_release(c->state_dir, c->spawn.machine, TAKE_FD(lock_fd));
                return r;
        }

        supervise_signal_mask(&mask);
        sigprocmask(SIG_BLOCK, &mask, &old);
        signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0) {
                r = error_set(e, -errno, "signalfd: %m");
                goto finish;
        }
        /* A reader that goes away (| head) must not kill us before we clean up. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = guard_start(c, &guard_fd);
        if (r < 0) {
                error_set(e, r, "Failed to start the cleanup guard: %m");
                goto finish;
        }

        for (;;) {
                status = run_once(c, signal_fd, lock_fd, guard_fd, e);
                if (status != EXIT_REBOOT || !c->restart_on_reboot)
                        break;
                if (!c->quiet)
                        fprintf(stderr, "Container %s rebooted, starting it again.\n", c->spawn.machine);
        }
        r = status;

finish:
        guard_dismiss(&guard_fd);
        uid_range_release(c->state_dir, c->spawn.uid_shift, TAKE_FD(copy.uid_range_lock_fd));
        machine_lock_release(c->state_dir, c->spawn.machine, TAKE_FD(lock_fd));
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

SupervisorFailure supervisor_failure_from_error(int r) {
        switch (r) {
        case -EEXIST:
                return SUPERVISOR_FAILURE_NAME_TAKEN;
        case -ENOEXEC:
                return SUPERVISOR_FAILURE_NO_INIT;
        case -EBADMSG:
                return SUPERVISOR_FAILURE_BAD_SETTINGS;
        default:
                return SUPERVISOR_FAILURE_GENERIC;
        }
}
