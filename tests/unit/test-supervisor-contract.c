/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The supervisor's contract (core/supervisor-contract.h): every to_argv() must come back
 * from its from_argv() as the same struct, and a broken contract must be refused. */
#include <arpa/inet.h>
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

TEST(start_network_round_trip) {
        static const struct {
                const char *table, *bridge, *stub, *loopback6;
        } rows[] = {
                { NULL, NULL, NULL, NULL },                      /* the host's or the settings' network */
                { "nspawnctl", NULL, NULL, NULL },               /* VirtualEthernet=/Bridge=/Zone= */
                { "t1net", "t1n0", "/run/x y/network/resolv.conf", NULL }, /* managed, no Port= */
                { "nspawnctl", "nspawnctl0", "/run/nspawnctl/network/resolv.conf", "fd12:3456:789a:1::ffff" },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_strv_free_ char **argv = NULL;
                SupervisorStart back, s = {
                        .machine = "web",
                        .image = "/var/lib/machines/web",
                        .state_dir = "/run/nspawnctl",
                        .report_fd = -1,
                        .network_table = rows[i].table,
                        .network_bridge = rows[i].bridge,
                        .network_dns_stub = rows[i].stub,
                };
                if (rows[i].loopback6)
                        ASSERT_EQ(inet_pton(AF_INET6, rows[i].loopback6, &s.network_loopback6), 1);
                ASSERT_OK(supervisor_start_to_argv(&s, "/x", &argv));
                /* Only what is set is passed (the binary, four fields, then those). */
                ASSERT_EQ(strv_length(argv), 5 + !!rows[i].table + !!rows[i].bridge + !!rows[i].stub +
                                                     !!rows[i].loopback6);
                ASSERT_OK(supervisor_start_from_argv((int) strv_length(argv), argv, &back));
                ASSERT_STREQ(strempty(back.network_table), strempty(s.network_table));
                ASSERT_STREQ(strempty(back.network_bridge), strempty(s.network_bridge));
                ASSERT_STREQ(strempty(back.network_dns_stub), strempty(s.network_dns_stub));
                ASSERT_EQ(!back.network_bridge, !s.network_bridge);
                ASSERT_EQ(memcmp(&back.network_loopback6, &s.network_loopback6, sizeof s.network_loopback6), 0);
                ASSERT_EQ(back.report_fd, -1);
        }
}

TEST(start_network_refused) {
        SupervisorStart s;
#define BASE "x", "--machine=a", "--image=/p/a", "--state-dir=/s"
        char *bad_table[] = { BASE, "--network-table=1abc", NULL };
        char *bad_table2[] = { BASE, "--network-table=a b", NULL };
        char *empty_table[] = { BASE, "--network-table=", NULL };
        char *long_bridge[] = { BASE, "--network-bridge=0123456789abcdef", NULL };
        char *slash_bridge[] = { BASE, "--network-bridge=a/b", NULL };
        char *relative_stub[] = { BASE, "--network-bridge=br0", "--network-dns-stub=resolv.conf", NULL };
        char *stub_alone[] = { BASE, "--network-dns-stub=/r", NULL };
        char *lo6_alone[] = { BASE, "--network-loopback6=fd00::ffff", NULL };
        char *lo6_v4[] = { BASE, "--network-bridge=br0", "--network-loopback6=10.0.0.1", NULL };
        char *lo6_bad[] = { BASE, "--network-bridge=br0", "--network-loopback6=garbage", NULL };
        char **all[] = { bad_table, bad_table2, empty_table, long_bridge, slash_bridge, relative_stub,
                         stub_alone, lo6_alone, lo6_v4, lo6_bad };
#undef BASE

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                ASSERT_ERROR(supervisor_start_from_argv((int) strv_length(all[i]), all[i], &s), EINVAL);
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
                .net_link = "vb-b",
                .net_zone_bridge = "vz-lab",
                .net_table = "nspawnctl",
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
        ASSERT_STREQ(back.net_link, h.net_link);
        ASSERT_STREQ(back.net_zone_bridge, h.net_zone_bridge);
        ASSERT_STREQ(back.net_table, h.net_table);
        ASSERT_EQ(back.kill_signal, h.kill_signal);
        ASSERT_STREQ(back.syscall_deny, h.syscall_deny);
        ASSERT_EQ(back.suppress_sync, h.suppress_sync);
        ASSERT_EQ(strv_length(back.restart_argv), 3);
        for (size_t i = 0; restart[i]; i++)
                ASSERT_STREQ(back.restart_argv[i], restart[i]);

        /* Without a restart command there is no "--" either; no network, no network fields. */
        h.restart_argv = NULL;
        h.net_link = h.net_zone_bridge = h.net_table = NULL;
        strv_free(argv);
        argv = NULL;
        ASSERT_OK(supervisor_handoff_to_argv(&h, &argv));
        ASSERT_FALSE(strv_contains(argv, "--"));
        ASSERT_OK(supervisor_handoff_from_argv((int) strv_length(argv), argv, &back));
        ASSERT_TRUE(back.restart_argv == NULL);
        ASSERT_TRUE(!back.net_link && !back.net_zone_bridge && !back.net_table);
        STRV_FOREACH(a, argv)
                ASSERT_FALSE(startswith(*a, "--net-"));
}

TEST(handoff_refused) {
        SupervisorHandoff h;
        char *guard[] = { "x", "guard", "--machine=a", NULL };
        char *empty[] = { "x", "handoff", NULL };
        char *badmode[] = { "x", "handoff", "--console=v3", NULL };
        char *badlink[] = { "x", "handoff", "--net-link=ve-0123456789abcdef", NULL };
        char *badtable[] = { "x", "handoff", "--net-table=", NULL };
        char **all[] = { guard, empty, badmode, badlink, badtable };

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                ASSERT_ERROR(supervisor_handoff_from_argv((int) strv_length(all[i]), all[i], &h), EINVAL);
}

TEST(init_round_trip) {
        char buf[2][SUPERVISOR_INIT_ARG_MAX], *argv[4];
        pid_t pid = 0;
        int fd = -1;

        supervisor_init_to_argv(2, 5, buf, argv);
        ASSERT_STREQ(argv[0], SUPERVISOR_INIT_NAME);
        ASSERT_TRUE(argv[3] == NULL);
        ASSERT_OK(supervisor_init_from_argv(3, argv, &pid, &fd));
        ASSERT_EQ(pid, 2);
        ASSERT_EQ(fd, 5);
        supervisor_init_to_argv(2147483647, 2147483647, buf, argv);
        ASSERT_OK(supervisor_init_from_argv(3, argv, &pid, &fd));
        ASSERT_EQ(pid, 2147483647);
        ASSERT_EQ(fd, 2147483647);
        /* PID 1 is the stub itself, 0-2 are no gate; nothing else is a number. */
        FOREACH_STRING(bad, "1", "0", "-2", "", "2x", "99999999999", "2147483648", "+5", " 5", "5 ")
                ASSERT_ERROR(supervisor_init_from_argv(3, (char *[]) { (char *) SUPERVISOR_INIT_NAME, (char *) bad, (char *) "5", NULL },
                                                       &pid, &fd),
                             EINVAL);
        FOREACH_STRING(bad, "2", "-1", "", "5x", "+7", "0x7")
                ASSERT_ERROR(supervisor_init_from_argv(3, (char *[]) { (char *) SUPERVISOR_INIT_NAME, (char *) "2", (char *) bad, NULL },
                                                       &pid, &fd),
                             EINVAL);
        ASSERT_ERROR(supervisor_init_from_argv(2, argv, &pid, &fd), EINVAL);
        ASSERT_ERROR(supervisor_init_from_argv(4, (char *[]) { argv[0], argv[1], argv[2], argv[2], NULL }, &pid, &fd), EINVAL);
}

TEST(guard_round_trip) {
        _cleanup_strv_free_ char **argv = NULL;
        SupervisorGuard back, g = {
                .machine = "m",
                .state_dir = "/s t",
                .cgroup_path = "/nspawnctl/m",
                .register_machine = true,
                .uid_shift = 524288,
                .uid_lock_fd = 4,
                .net_link = "ve-m",
                .net_table = "t1net",
        };

        ASSERT_OK(supervisor_guard_to_argv(&g, &argv));
        ASSERT_STREQ(argv[1], SUPERVISOR_LIGHT_GUARD);
        ASSERT_OK(supervisor_guard_from_argv((int) strv_length(argv), argv, &back));
        ASSERT_STREQ(back.machine, g.machine);
        ASSERT_STREQ(back.state_dir, g.state_dir);
        ASSERT_STREQ(back.cgroup_path, g.cgroup_path);
        ASSERT_EQ(back.register_machine, g.register_machine);
        ASSERT_EQ(back.uid_shift, g.uid_shift);
        ASSERT_EQ(back.uid_lock_fd, g.uid_lock_fd);
        ASSERT_STREQ(back.net_link, g.net_link);
        ASSERT_TRUE(back.net_zone_bridge == NULL);
        ASSERT_STREQ(back.net_table, g.net_table);

        /* A bad network field is a broken contract. */
        char *bad[] = { "x", "guard", "--machine=m", "--state-dir=/s", "--cgroup=/c",
                        "--register=no", "--uid-shift=0", "--fd-uid-lock=-1", "--net-zone-bridge=a:b", NULL };
        ASSERT_ERROR(supervisor_guard_from_argv((int) strv_length(bad), bad, &back), EINVAL);
}

TEST(net_cleanup_fields) {
        NetworkCleanup nc = { .link = "vb-web", .zone_bridge = "vz-lab", .nft_table = "" }, back;
        const char *link, *zone, *table;

        supervisor_net_cleanup_set(&nc, &link, &zone, &table);
        ASSERT_STREQ(link, "vb-web");
        ASSERT_STREQ(zone, "vz-lab");
        ASSERT_TRUE(table == NULL); /* empty: left out */
        supervisor_net_cleanup_get(link, zone, table, &back);
        ASSERT_STREQ(back.link, nc.link);
        ASSERT_STREQ(back.zone_bridge, nc.zone_bridge);
        ASSERT_STREQ(back.nft_table, "");
        supervisor_net_cleanup_get(NULL, NULL, NULL, &back);
        ASSERT_TRUE(!back.link[0] && !back.zone_bridge[0] && !back.nft_table[0]);
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
