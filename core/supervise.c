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
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "machine-record.h"
#include "net-setup.h"
#include "supervise-loop.h"
#include "supervise.h"
#include "util/strv.h"
#include "util/util.h"

/* Starts the cleanup guard (see guard_run()) with the read end of a pipe whose write end
 * only the supervisor holds. */
static int guard_start(const SuperviseConfig *c, int *ret_fd) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = -errno;
                safe_close(p[0]);
                safe_close(p[1]);
                return e;
        }
        if (pid == 0) {
                (void) setsid();
                /* Keep only the pipe: in particular not the supervisor's copy of the lock
                 * or the console, which would keep them alive after it died. */
                if (fd_move_to(p[0], 3) < 0)
                        _exit(EXIT_FAILURE);
                (void) close_all_fds_except((int[]) { 3 }, 1);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                for (int i = 0; i < 3 && null >= 0; i++)
                        (void) dup2(null, i);
                sigset_t none;
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);

                /* It waits as long as the machine lives: as the small static binary, not as
                 * a copy of this one with all its libraries. */
                if (c->supervise_binary) {
                        char flags[4] = "", *net = NULL, *argv[] = {
                                (char *) "nspawnctl-guard", (char *) "--guard",
                                strjoin("--machine=", c->spawn.machine), strjoin("--state-dir=", c->state_dir),
                                strjoin("--cgroup-mode=", cgroup_mode_to_string(c->spawn.cgroup_mode)),
                                strjoin("--cgroup=", c->spawn.cgroup_path), NULL, NULL, NULL,
                        };
                        if (c->register_machine)
                                strcpy(flags, "r");
                        argv[6] = strjoin("--flags=", flags);
                        if (net_cleanup_to_arg(&c->net_cleanup, &net) >= 0)
                                argv[7] = strjoin("--net-cleanup=", net);
                        /* A NULL from a failed allocation would cut the list short. */
                        if (argv[2] && argv[3] && argv[4] && argv[5] && argv[6] && argv[7])
                                execv(c->supervise_binary, argv);
                }
                guard_run(c, 3);
        }
        safe_close(p[0]);
        *ret_fd = p[1];
        return 0;
}

/* Once the container runs, the rest of the supervisor's life is the event loop, which
 * needs none of the libraries that set the container up. Exec'ing into the static
 * nspawnctl-supervise keeps the process (and so the container's parent, its PDEATHSIG
 * and machined's pidfd) but drops libmount, libseccomp, libcap and libsystemd from
 * memory: the supervisor of a long-running machine stays small. */
static int handoff(const SuperviseConfig *c, Run *run, int lock_fd, int guard_fd) {
        _cleanup_strv_free_ char **argv = NULL;
        const int fds[] = { run->container.pidfd, run->container.pty_master, run->container.notify_fd,
                            run->listen_fd, run->log_fd, lock_fd, guard_fd };
        char self[PATH_MAX];
        ssize_t n;
        int r;

#define ADD(...)                                                                           \
        do {                                                                               \
                char *_s;                                                                  \
                if (asprintf(&_s, __VA_ARGS__) < 0 || strv_consume(&argv, _s) < 0)         \
                        return -ENOMEM;                                                    \
        } while (0)

        ADD("%s", "nspawnctl-supervise");
        ADD("--pid=%d", (int) run->container.pid);
        ADD("--fds=%d,%d,%d,%d,%d,%d,%d", fds[0], fds[1], fds[2], fds[3], fds[4], fds[5], fds[6]);
        ADD("--machine=%s", c->spawn.machine);
        ADD("--directory=%s", c->spawn.directory);
        ADD("--id=%s", c->spawn.machine_id);
        ADD("--state-dir=%s", c->state_dir);
        ADD("--cgroup-mode=%s", cgroup_mode_to_string(c->spawn.cgroup_mode));
        ADD("--cgroup=%s", c->spawn.cgroup_path);
        ADD("--console=%s", console_mode_to_string(c->spawn.console));
        ADD("--flags=%s%s%s%s%s", c->spawn.boot ? "b" : "", c->quiet ? "q" : "", c->register_machine ? "r" : "",
            c->spawn.notify ? "n" : "", c->restart_on_reboot ? "R" : "");
        ADD("--kill-timeout=%llu", (unsigned long long) c->kill_timeout_usec);
        ADD("--ready-timeout=%llu", (unsigned long long) c->ready_timeout_usec);
        ADD("--timestamp=%llu:%llu", (unsigned long long) run->timestamp_realtime,
            (unsigned long long) run->timestamp_monotonic);
        ADD("--state=%s", run->state);
        ADD("--net-cleanup=%s,%s,%s", c->net_cleanup.link, c->net_cleanup.zone_bridge,
            c->net_cleanup.nft_table);
#undef ADD
        if (c->restart_on_reboot && c->original_argv) {
                n = readlink("/proc/self/exe", self, sizeof self - 1);
                if (n < 0)
                        return -errno;
                self[n] = 0;
                if (strv_extend(&argv, "--") < 0 || strv_extend(&argv, self) < 0 ||
                    strv_extend_strv(&argv, c->original_argv + 1) < 0)
                        return -ENOMEM;
        }

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (fds[i] >= 0 && (r = fd_cloexec(fds[i], false)) < 0)
                        goto fail;
        execv(c->supervise_binary, argv);
        r = -errno;
fail:
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (fds[i] >= 0)
                        (void) fd_cloexec(fds[i], true);
        return r;
}

typedef struct NetworkHook {
        const SuperviseConfig *config;
        NetworkRuntime *runtime;
} NetworkHook;

static int network_hook(pid_t pid, void *userdata, char **ret_error) {
        NetworkHook *h = userdata;
        return network_setup(h->config->network, h->config->spawn.machine, h->config->state_dir, pid,
                             &h->runtime, ret_error);
}

static void network_follow_addresses(Run *run, void *userdata) {
        int r = network_runtime_update(userdata);
        if (r < 0)
                log_warning_errno(r, "Failed to point the port forwards of %s at its addresses: %m",
                                  run->config->spawn.machine);
}

static int run_once(const SuperviseConfig *c, int signal_fd, int lock_fd, int guard_fd) {
        Run run;
        _cleanup_free_ char *error = NULL;
        NetworkHook net = { .config = c };
        SpawnConfig spawn = c->spawn;
        int r, status;

        run_init(&run, c, signal_fd);
        if (c->network) {
                spawn.on_namespaces = network_hook;
                spawn.on_namespaces_userdata = &net;
        }
        r = cgroup_create(c->spawn.cgroup_mode, c->spawn.cgroup_path);
        if (r == -EEXIST)
                return log_error_errno(r, "Machine %s is already running (its cgroup is in use).", c->spawn.machine);
        if (r < 0)
                return log_error_errno(r, "Failed to create cgroup %s: %m", c->spawn.cgroup_path);

        if (c->register_machine) {
                r = run_console_listen(c, &run.listen_fd);
                if (r < 0) {
                        (void) remove_cgroup_when_empty(c);
                        return log_error_errno(r, "Failed to create the console socket: %m");
                }
                run_console_log_open(&run);
        }

        r = container_spawn(&spawn, &run.container, &error);
        if (r < 0) {
                if (error)
                        log_error("%s", error);
                else
                        log_error_errno(r, "Failed to start the container: %m");
                status = run.container.pid > 0 && run.container.exit_status > 0 ? run.container.exit_status : -r;
                (void) remove_cgroup_when_empty(c);
                network_runtime_free(net.runtime);
                if (run.container.pid > 0)
                        run_network_cleanup(c, false); /* the network was set up, the container failed */
                safe_close(run.listen_fd);
                safe_close(run.log_fd);
                return status == 127 || status == 126 ? status : r;
        }

        run.timestamp_realtime = now_usec(CLOCK_REALTIME);
        run.timestamp_monotonic = now_usec(CLOCK_MONOTONIC);
        if (c->spawn.notify && c->ready_timeout_usec)
                run.ready_deadline = run.timestamp_monotonic + c->ready_timeout_usec;
        r = run_register_state(&run, c->spawn.notify ? "opening" : "running");
        if (r < 0)
                log_warning_errno(r, "Failed to write the machine record: %m");

        if (net.runtime) {
                /* Forwards that follow the container's addresses need libnftables: this
                 * supervisor stays as it is instead of handing over to the static one. */
                run.extra_fd = network_runtime_fd(net.runtime);
                run.extra_handler = network_follow_addresses;
                run.extra_userdata = net.runtime;
                network_follow_addresses(&run, net.runtime);
        } else if (c->supervise_binary) {
                r = handoff(c, &run, lock_fd, guard_fd);
                log_debug_errno(r, "Supervising in-process, could not run %s: %m", c->supervise_binary);
        }
        status = run_container(&run);
        network_runtime_free(net.runtime);
        return status;
}

int supervise(const SuperviseConfig *c) {
        _cleanup_close_ int lock_fd = -EBADF, guard_fd = -EBADF, signal_fd = -EBADF;
        sigset_t mask, old;
        int r, status;

        r = machine_lock_acquire(c->state_dir, c->spawn.machine, &lock_fd);
        if (r == -EEXIST)
                return log_error_errno(r, "Machine %s is already running.", c->spawn.machine);
        if (r < 0)
                return log_error_errno(r, "Failed to lock machine name %s in %s: %m", c->spawn.machine, c->state_dir);

        supervise_signal_mask(&mask);
        sigprocmask(SIG_BLOCK, &mask, &old);
        signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0) {
                r = log_error_errno(-errno, "signalfd: %m");
                goto finish;
        }
        /* A reader that goes away (| head) must not kill us before we clean up. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = guard_start(c, &guard_fd);
        if (r < 0) {
                log_error_errno(r, "Failed to start the cleanup guard: %m");
                goto finish;
        }

        for (;;) {
                status = run_once(c, signal_fd, lock_fd, guard_fd);
                if (status != EXIT_REBOOT || !c->restart_on_reboot)
                        break;
                if (!c->quiet)
                        fprintf(stderr, "Container %s rebooted, starting it again.\n", c->spawn.machine);
        }
        r = status;

finish:
        guard_dismiss(&guard_fd);
        machine_lock_release(c->state_dir, c->spawn.machine, TAKE_FD(lock_fd));
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
