/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The supervisor's contract (core/supervisor-contract.h): every to_argv() must come back
 * from its from_argv() as the same struct, and a broken contract must be refused. */
#include <stdio.h>
#include <string.h>

#include "supervisor-contract.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

/* Paths a naive encoding would break. */
static const char *const awkward[] = { "/plain", "/a:b", "/x=y", "/with space", "/--", "/trailing ", "/\xc3\xa9" };

TEST(start_round_trip) {
        for (size_t i = 0; i < ELEMENTSOF(awkward); i++) {
                _cleanup_strv_free_ char **argv = NULL;
                SupervisorStart back, s = {
                        .machine = "box.example",
                        .image = awkward[i],
                        .state_dir = "/run/nspawnctl",
                        .config_dir = awkward[(i + 1) % ELEMENTSOF(awkward)],
                        .report_fd = 3,
                };
                ASSERT_OK(supervisor_start_to_argv(&s, "/usr/libexec/nspawnctl-supervisor", &argv));
                ASSERT_STREQ(argv[0], "/usr/libexec/nspawnctl-supervisor");
                ASSERT_OK(supervisor_start_from_argv((int) strv_length(argv), argv, &back));
                ASSERT_STREQ(back.machine, s.machine);
                ASSERT_STREQ(back.image, s.image);
                ASSERT_STREQ(back.state_dir, s.state_dir);
                ASSERT_STREQ(back.config_dir, s.config_dir);
                ASSERT_EQ(back.report_fd, 3);
        }
}

TEST(start_refused) {
        SupervisorStart s;
        char *missing[] = { "x", "--machine=a", "--image=/p/a", NULL };
        char *unknown[] = { "x", "--machine=a", "--image=/p/a", "--state-dir=/s", "--boot=yes", NULL };
        char *twice[] = { "x", "--machine=a", "--machine=b", "--image=/p/a", "--state-dir=/s", NULL };
        char *relative[] = { "x", "--machine=a", "--image=p/a", "--state-dir=/s", NULL };
        char *positional[] = { "x", "--machine=a", "--image=/p/a", "--state-dir=/s", "extra", NULL };
        char *badfd[] = { "x", "--machine=a", "--image=/p/a", "--state-dir=/s", "--report-fd=three", NULL };
        char **all[] = { missing, unknown, twice, relative, positional, badfd };

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                ASSERT_ERROR(supervisor_start_from_argv((int) strv_length(all[i]), all[i], &s), EINVAL);
}

TEST(handoff_round_trip) {
        _cleanup_strv_free_ char **argv = NULL;
        char *restart[] = { "/usr/libexec/nspawnctl-supervisor", "--machine=b", "--image=/p/b:c", NULL };
        SupervisorHandoff back, h = {
                .pid = 4242,
                .fds = { 3, 4, -1, 6, 7, 8, 9, 10, 11 },
                .machine = "b",
                .directory = "/p/b:c",
                .machine_id = "0123456789abcdef0123456789abcdef",
                .state_dir = "/run/x=y",
                .cgroup_mode = CGROUP_HYBRID,
                .cgroup_path = "/nspawnctl/b",
                .console = CONSOLE_PASSIVE,
                .boot = true,
                .register_machine = true,
                .notify = true,
                .restart_on_reboot = true,
                .kill_timeout_usec = 10000000,
                .ready_timeout_usec = UINT64_MAX,
                .timestamp_realtime = 1700000000000000ULL,
                .timestamp_monotonic = 5,
                .state = MACHINE_OPENING,
                .init = MACHINE_INIT_BUSYBOX,
                .uid_shift = 0x7FFF0000,
                .uid_range = 65536,
                .kill_signal = 34 + 4,
                .syscall_deny = "@clock kcmp",
                .suppress_sync = true,
                .restart_argv = restart,
        };

        ASSERT_OK(supervisor_handoff_to_argv(&h, &argv));
        ASSERT_OK(supervisor_handoff_from_argv((int) strv_length(argv), argv, &back));
        ASSERT_EQ(back.pid, h.pid);
        for (size_t i = 0; i < _HANDOFF_FD_MAX; i++)
                ASSERT_EQ(back.fds[i], h.fds[i]);
        ASSERT_STREQ(back.machine, h.machine);
        ASSERT_STREQ(back.directory, h.directory);
        ASSERT_STREQ(back.machine_id, h.machine_id);
        ASSERT_STREQ(back.state_dir, h.state_dir);
        ASSERT_EQ(back.cgroup_mode, h.cgroup_mode);
        ASSERT_STREQ(back.cgroup_path, h.cgroup_path);
        ASSERT_EQ(back.console, h.console);
        ASSERT_EQ(back.boot, h.boot);
        ASSERT_EQ(back.quiet, h.quiet);
        ASSERT_EQ(back.register_machine, h.register_machine);
        ASSERT_EQ(back.notify, h.notify);
        ASSERT_EQ(back.restart_on_reboot, h.restart_on_reboot);
        ASSERT_EQ(back.kill_timeout_usec, h.kill_timeout_usec);
        ASSERT_TRUE(back.ready_timeout_usec == h.ready_timeout_usec);
        ASSERT_EQ(back.timestamp_realtime, h.timestamp_realtime);
        ASSERT_EQ(back.timestamp_monotonic, h.timestamp_monotonic);
        ASSERT_EQ(back.state, h.state);
        ASSERT_EQ(back.init, h.init);
        ASSERT_EQ(back.uid_shift, h.uid_shift);
        ASSERT_EQ(back.uid_range, h.uid_range);
        ASSERT_EQ(back.kill_signal, h.kill_signal);
        ASSERT_STREQ(back.syscall_deny, h.syscall_deny);
        ASSERT_EQ(back.suppress_sync, h.suppress_sync);
        ASSERT_EQ(strv_length(back.restart_argv), 3);
        for (size_t i = 0; restart[i]; i++)
                ASSERT_STREQ(back.restart_argv[i], restart[i]);

        /* Without a restart command there is no "--" either. */
        h.restart_argv = NULL;
        strv_free(argv);
        argv = NULL;
        ASSERT_OK(supervisor_handoff_to_argv(&h, &argv));
        ASSERT_FALSE(strv_contains(argv, "--"));
        ASSERT_OK(supervisor_handoff_from_argv((int) strv_length(argv), argv, &back));
        ASSERT_TRUE(back.restart_argv == NULL);
}

TEST(handoff_refused) {
        SupervisorHandoff h;
        char *guard[] = { "x", "guard", "--machine=a", NULL };
        char *empty[] = { "x", "handoff", NULL };
        char *badmode[] = { "x", "handoff", "--cgroup-mode=v3", NULL };
        char **all[] = { guard, empty, badmode };

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                ASSERT_ERROR(supervisor_handoff_from_argv((int) strv_length(all[i]), all[i], &h), EINVAL);
}

TEST(guard_round_trip) {
        _cleanup_strv_free_ char **argv = NULL;
        SupervisorGuard back, g = {
                .machine = "m",
                .state_dir = "/s t",
                .cgroup_mode = CGROUP_UNIFIED,
                .cgroup_path = "/nspawnctl/m",
                .register_machine = true,
                .uid_shift = 524288,
                .uid_lock_fd = 4,
        };

        ASSERT_OK(supervisor_guard_to_argv(&g, &argv));
        ASSERT_STREQ(argv[1], SUPERVISOR_LIGHT_GUARD);
        ASSERT_OK(supervisor_guard_from_argv((int) strv_length(argv), argv, &back));
        ASSERT_STREQ(back.machine, g.machine);
        ASSERT_STREQ(back.state_dir, g.state_dir);
        ASSERT_EQ(back.cgroup_mode, g.cgroup_mode);
        ASSERT_STREQ(back.cgroup_path, g.cgroup_path);
        ASSERT_EQ(back.register_machine, g.register_machine);
        ASSERT_EQ(back.uid_shift, g.uid_shift);
        ASSERT_EQ(back.uid_lock_fd, g.uid_lock_fd);
}

TEST(report_round_trip) {
        const SupervisorReport reports[] = {
                { .type = SUPERVISOR_REPORT_STARTED, .leader = 123 },
                { .type = SUPERVISOR_REPORT_FAILED, .failure = SUPERVISOR_FAILURE_NO_INIT, .error = 8,
                  .message = "Directory /p/x has no init to boot." },
                { .type = SUPERVISOR_REPORT_FAILED, .failure = SUPERVISOR_FAILURE_BAD_SETTINGS, .error = 74,
                  .message = "/etc/nspawnctl/x.nspawn:3: invalid boolean value \"maybe\" for Boot=" },
                { .type = SUPERVISOR_REPORT_FAILED, .failure = SUPERVISOR_FAILURE_NAME_TAKEN, .error = 17, .message = "" },
                { .type = SUPERVISOR_REPORT_WARNING, .message = "/p/x.nspawn:2: ignoring privileged setting Bind=" },
                { .type = SUPERVISOR_REPORT_READY },
                { .type = SUPERVISOR_REPORT_EXITED, .status = 133 },
        };
        for (size_t i = 0; i < ELEMENTSOF(reports); i++) {
                char buf[SUPERVISOR_REPORT_MESSAGE_MAX + 64];
                SupervisorReport back;
                ASSERT_OK(supervisor_report_format(&reports[i], buf, sizeof buf));
                ASSERT_OK(supervisor_report_parse(buf, &back));
                ASSERT_EQ(back.type, reports[i].type);
                ASSERT_EQ(back.leader, reports[i].leader);
                ASSERT_EQ(back.status, reports[i].status);
                ASSERT_EQ(back.failure, reports[i].failure);
                ASSERT_EQ(back.error, reports[i].error);
                ASSERT_STREQ(back.message, reports[i].message);
        }

        /* A message is one line, whatever it held. */
        SupervisorReport multi = { .type = SUPERVISOR_REPORT_FAILED, .message = "a\nSTARTED 1\nb" }, back;
        char buf[SUPERVISOR_REPORT_MESSAGE_MAX + 64];
        ASSERT_OK(supervisor_report_format(&multi, buf, sizeof buf));
        ASSERT_EQ(strchr(buf, '\n') - buf, (long) strlen(buf) - 1);
        ASSERT_OK(supervisor_report_parse(buf, &back));
        ASSERT_STREQ(back.message, "a STARTED 1 b");

        FOREACH_STRING(bad, "", "STARTED", "STARTED x", "STARTED 0", "FAILED", "FAILED no-init",
                       "FAILED bogus 1 m", "FAILED no-init -1 m", "DONE 1", "WARNING", "WARNING  ", "READY 1", "EXITED", "EXITED 256", "EXITED -1")
                ASSERT_ERROR(supervisor_report_parse(bad, &back), EBADMSG);
}

TEST(failure_table) {
        for (int i = 0; i < _SUPERVISOR_FAILURE_MAX; i++)
                ASSERT_EQ(supervisor_failure_from_string(supervisor_failure_to_string(i)), i);
        ASSERT_EQ(supervisor_failure_from_string("x"), _SUPERVISOR_FAILURE_INVALID);
}
