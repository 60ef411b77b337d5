/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl-supervisor-light: the supervisor of a running machine once its container runs
 * (core/supervise.c, handoff()), and the cleanup guard of every supervisor. Linked
 * statically against libc alone so that a long-running machine's supervisor costs little
 * memory. Its arguments are the SupervisorHandoff or SupervisorGuard of
 * core/supervisor-contract.h; it is not meant to be run by hand. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "state-dir.h"
#include "supervise-loop.h"
#include "supervisor-contract.h"
#include "userns.h"
#include "util/util.h"

static int run_handoff(int argc, char *argv[]) {
        SupervisorHandoff h;
        SuperviseConfig c;
        sigset_t mask;
        int signal_fd, status;
        Run run;

        if (supervisor_handoff_from_argv(argc, argv, &h) < 0) {
                log_error("nspawnctl-supervisor-light is started by the supervisor, not by hand.");
                return SUPERVISOR_EXIT_USAGE;
        }
        c = (SuperviseConfig) {
                .spawn = {
                        .machine = h.machine,
                        .directory = h.directory,
                        .machine_id = h.machine_id,
                        .boot = h.boot,
                        .notify = h.notify,
                        .console = h.console,
                        .cgroup_path = h.cgroup_path,
                        .uid_shift = h.uid_shift,
                        .uid_range = h.uid_range,
                },
                .quiet = h.quiet,
                .restart_on_reboot = h.restart_on_reboot,
                .register_machine = h.register_machine,
                .state_dir = h.state_dir,
                .kill_timeout_usec = h.kill_timeout_usec,
                .ready_timeout_usec = h.ready_timeout_usec,
                .report_fd = -EBADF,
                .init = h.init,
                .kill_signal = h.kill_signal,
                .syscall_deny_text = h.syscall_deny,
        };
        supervisor_net_cleanup_get(h.net_link, h.net_zone_bridge, h.net_table, &c.net_cleanup);
        c.spawn.suppress_sync = h.suppress_sync;

        /* The mask was inherited blocked across exec, so no signal got lost meanwhile. */
        supervise_signal_mask(&mask);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0)
                return log_error_errno(-errno, "signalfd: %m"), SUPERVISOR_EXIT_FAILURE;
        for (size_t i = 0; i < _HANDOFF_FD_MAX; i++)
                if (h.fds[i] >= 0)
                        (void) fd_cloexec(h.fds[i], true);
        (void) signal(SIGPIPE, SIG_IGN);

        run_init(&run, &c, signal_fd);
        run.container.pid = h.pid;
        run.container.pidfd = h.fds[HANDOFF_FD_PIDFD];
        run.container.pty_master = h.fds[HANDOFF_FD_PTY];
        run.container.notify_fd = h.fds[HANDOFF_FD_NOTIFY];
        run.listen_fd = h.fds[HANDOFF_FD_LISTEN];
        run.log_fd = h.fds[HANDOFF_FD_LOG];
        run.report_fd = h.fds[HANDOFF_FD_REPORT];
        run.reported_started = true; /* before the handoff */
        run.state = h.state;
        run.timestamp_realtime = h.timestamp_realtime;
        run.timestamp_monotonic = h.timestamp_monotonic;
        if (h.state == MACHINE_OPENING && h.notify && h.ready_timeout_usec)
                run.ready_deadline = h.timestamp_monotonic + h.ready_timeout_usec;

        status = run_container(&run);

        guard_dismiss(&h.fds[HANDOFF_FD_GUARD]);
        /* Released before a restart too: the new run picks (the same) range again. */
        uid_range_release(h.state_dir, h.uid_shift, h.fds[HANDOFF_FD_UID_LOCK]);
        if (status == EXIT_REBOOT && h.restart_on_reboot && h.restart_argv && h.fds[HANDOFF_FD_LOCK] >= 0) {
                char buf[32];
                if (!h.quiet)
                        fprintf(stderr, "Container %s rebooted, starting it again.\n", h.machine);
                /* The same process starts the machine again, so machined keeps its pidfd;
                 * the name lock goes along, so nobody can take the name in between. */
                snprintf(buf, sizeof buf, "%d", h.fds[HANDOFF_FD_LOCK]);
                if (fd_cloexec(h.fds[HANDOFF_FD_LOCK], false) >= 0 && setenv("NSPAWNCTL_LOCK_FD", buf, 1) >= 0)
                        execv(h.restart_argv[0], h.restart_argv);
                log_error_errno(-errno, "Failed to start %s again: %m", h.machine);
                status = SUPERVISOR_EXIT_FAILURE;
        }
        machine_lock_release(h.state_dir, h.machine, h.fds[HANDOFF_FD_LOCK]);
        if (h.register_machine && status == SUPERVISOR_EXIT_FAILURE)
                machine_state_remove(h.state_dir, h.machine);
        return status;
}

int main(int argc, char *argv[]) {
        SupervisorGuard g;

        log_set_prefix("nspawnctl");
        if (argc >= 2 && streq(argv[1], SUPERVISOR_LIGHT_GUARD)) {
                /* The cleanup guard of a supervisor (see guard_run()), its pipe on fd 3. */
                if (supervisor_guard_from_argv(argc, argv, &g) < 0)
                        return SUPERVISOR_EXIT_USAGE;
                guard_run(&g, 3);
        }
        return run_handoff(argc, argv);
}
