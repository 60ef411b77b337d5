/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl-supervise: what `nspawnctl run` becomes once its container runs (see
 * core/supervise.c, handoff()). Linked statically against libc alone so that the
 * supervisor of a long-running machine costs little memory. Not meant to be run by hand. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "machine-record.h"
#include "supervise-loop.h"
#include "util/util.h"

static int parse_fds(const char *s, int fds[7]) {
        return sscanf(s, "%d,%d,%d,%d,%d,%d,%d", &fds[0], &fds[1], &fds[2], &fds[3], &fds[4], &fds[5], &fds[6]) == 7
                       ? 0
                       : -EINVAL;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "pid", required_argument, NULL, 'p' },         { "fds", required_argument, NULL, 'f' },
                { "machine", required_argument, NULL, 'M' },     { "directory", required_argument, NULL, 'D' },
                { "id", required_argument, NULL, 'i' },          { "state-dir", required_argument, NULL, 's' },
                { "cgroup-mode", required_argument, NULL, 'm' }, { "cgroup", required_argument, NULL, 'c' },
                { "console", required_argument, NULL, 'C' },     { "flags", required_argument, NULL, 'F' },
                { "kill-timeout", required_argument, NULL, 'k' }, { "ready-timeout", required_argument, NULL, 'r' },
                { "timestamp", required_argument, NULL, 't' },   { "state", required_argument, NULL, 'S' },
                { "guard", no_argument, NULL, 'g' },
                { "net-cleanup", required_argument, NULL, 'N' },
                {}
        };
        SuperviseConfig c = {};
        int fds[7] = { -1, -1, -1, -1, -1, -1, -1 }, pid = 0, opt, status;
        unsigned long long rt = 0, mono = 0;
        const char *state = "opening";
        bool guard = false;
        sigset_t mask;
        Run run;

        log_set_prefix("nspawnctl");
        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (opt) {
                case 'p': if (safe_atoi(optarg, &pid) < 0) return EXIT_FAILURE; break;
                case 'f': if (parse_fds(optarg, fds) < 0) return EXIT_FAILURE; break;
                case 'M': c.spawn.machine = optarg; break;
                case 'D': c.spawn.directory = optarg; break;
                case 'i': c.spawn.machine_id = optarg; break;
                case 's': c.state_dir = optarg; break;
                case 'm': c.spawn.cgroup_mode = cgroup_mode_from_string(optarg); break;
                case 'c': c.spawn.cgroup_path = optarg; break;
                case 'C': c.spawn.console = console_mode_from_string(optarg); break;
                case 'F':
                        c.spawn.boot = strchr(optarg, 'b');
                        c.quiet = strchr(optarg, 'q');
                        c.register_machine = strchr(optarg, 'r');
                        c.spawn.notify = strchr(optarg, 'n');
                        c.restart_on_reboot = strchr(optarg, 'R');
                        break;
                case 'k': if (safe_atou64(optarg, &c.kill_timeout_usec) < 0) return EXIT_FAILURE; break;
                case 'r': if (safe_atou64(optarg, &c.ready_timeout_usec) < 0) return EXIT_FAILURE; break;
                case 't': if (sscanf(optarg, "%llu:%llu", &rt, &mono) != 2) return EXIT_FAILURE; break;
                case 'S': state = optarg; break;
                case 'g': guard = true; break;
                case 'N': if (net_cleanup_from_arg(optarg, &c.net_cleanup) < 0) return EXIT_FAILURE; break;
                default: return EXIT_FAILURE;
                }
        }
        /* The cleanup guard of a supervisor (see guard_run()), its pipe on fd 3. */
        if (guard) {
                if (!c.spawn.machine || !c.state_dir || c.spawn.cgroup_mode < 0 || !c.spawn.cgroup_path)
                        return EXIT_FAILURE;
                guard_run(&c, 3);
        }
        if (pid <= 0 || !c.spawn.machine || !c.spawn.directory || !c.spawn.machine_id || !c.state_dir ||
            c.spawn.cgroup_mode < 0 || !c.spawn.cgroup_path || c.spawn.console < 0) {
                log_error("nspawnctl-supervise is started by 'nspawnctl run', not by hand.");
                return EXIT_FAILURE;
        }

        /* The mask was inherited blocked across exec, so no signal got lost meanwhile. */
        supervise_signal_mask(&mask);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0)
                return log_error_errno(-errno, "signalfd: %m"), EXIT_FAILURE;
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (fds[i] >= 0)
                        (void) fd_cloexec(fds[i], true);
        (void) signal(SIGPIPE, SIG_IGN);

        run_init(&run, &c, signal_fd);
        run.container.pid = pid;
        run.container.pidfd = fds[0];
        run.container.pty_master = fds[1];
        run.container.notify_fd = fds[2];
        run.listen_fd = fds[3];
        run.log_fd = fds[4];
        run.state = state;
        run.timestamp_realtime = rt;
        run.timestamp_monotonic = mono;
        if (streq(state, "opening") && c.spawn.notify && c.ready_timeout_usec)
                run.ready_deadline = mono + c.ready_timeout_usec;

        status = run_container(&run);

        guard_dismiss(&fds[6]);
        if (status == EXIT_REBOOT && c.restart_on_reboot && optind < argc && fds[5] >= 0) {
                char buf[32];
                if (!c.quiet)
                        fprintf(stderr, "Container %s rebooted, starting it again.\n", c.spawn.machine);
                /* The same process runs `nspawnctl run` again, so machined keeps its pidfd;
                 * the name lock goes along, so nobody can take the name in between. */
                snprintf(buf, sizeof buf, "%d", fds[5]);
                if (fd_cloexec(fds[5], false) >= 0 && setenv("NSPAWNCTL_LOCK_FD", buf, 1) >= 0)
                        execv(argv[optind], argv + optind);
                log_error_errno(-errno, "Failed to start %s again: %m", c.spawn.machine);
                status = EXIT_FAILURE;
        }
        machine_lock_release(c.state_dir, c.spawn.machine, fds[5]);
        if (c.register_machine && status == EXIT_FAILURE)
                machine_record_remove(c.state_dir, c.spawn.machine);
        return status;
}
