/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "machine-info.h"
#include "run-argv.h"
#include "settings.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

#define GOOD_RECORD                                                                         \
        "NAME=foo\nID=0123456789abcdef0123456789abcdef\nCLASS=container\nSERVICE=nspawnctl\n"  \
        "ROOT=/var/lib/machines/foo\nSTATE=running\nSUPERVISOR=100\nSUPERVISOR_START=555\n"  \
        "LEADER=101\nLEADER_START=556\nTIMESTAMP=1700000000000000\nTIMESTAMP_MONOTONIC=42\n" \
        "CGROUP=/nspawnctl/foo\nCONSOLE_SOCKET=/run/nspawnctl/machines/foo.console\n"        \
        "CONSOLE_LOG=/run/nspawnctl/machines/foo.log\n"

TEST(state_table) {
        for (int i = 0; i < _MACHINE_STATE_MAX; i++)
                ASSERT_EQ(machine_state_from_string(machine_state_to_string(i)), i);
        ASSERT_EQ(machine_state_from_string("bogus"), _MACHINE_STATE_INVALID);
        ASSERT_EQ(machine_state_from_string(NULL), _MACHINE_STATE_INVALID);
        ASSERT_TRUE(machine_state_to_string(_MACHINE_STATE_MAX) == NULL);
        ASSERT_TRUE(machine_state_to_string(-1) == NULL);
}

TEST(parse_good) {
        MachineInfo r = {};
        ASSERT_OK(machine_info_parse(GOOD_RECORD, &r));
        ASSERT_STREQ(r.name, "foo");
        ASSERT_STREQ(r.class, "container");
        ASSERT_STREQ(r.service, "nspawnctl");
        ASSERT_STREQ(r.root, "/var/lib/machines/foo");
        ASSERT_EQ(r.state, MACHINE_RUNNING);
        ASSERT_EQ(r.supervisor, 100);
        ASSERT_EQ(r.supervisor_start, 555);
        ASSERT_EQ(r.leader, 101);
        ASSERT_EQ(r.leader_start, 556);
        ASSERT_EQ(r.timestamp, 1700000000000000ULL);
        ASSERT_EQ(r.timestamp_monotonic, 42);
        ASSERT_STREQ(r.cgroup, "/nspawnctl/foo");
        ASSERT_STREQ(r.console_socket, "/run/nspawnctl/machines/foo.console");
        ASSERT_EQ(r.id.bytes[0], 0x01);
        ASSERT_EQ(r.id.bytes[15], 0xef);
        machine_info_done(&r);
}

TEST(parse_lenient) {
        MachineInfo r = {};
        /* What the supervisor writes before the init is known, plus an unknown key and a
         * quoted path with a space. */
        ASSERT_OK(machine_info_parse("# comment\n\nNAME=a.b\nSUPERVISOR=7\nSUPERVISOR_START=1\n"
                                     "LEADER=0\nLEADER_START=0\nCGROUP=(null)\nID=\n"
                                     "FUTURE_KEY=whatever\nROOT=\"/srv/my pool/a\\\"b\"\n",
                                     &r));
        ASSERT_STREQ(r.name, "a.b");
        ASSERT_EQ(r.leader, 0);
        ASSERT_TRUE(r.cgroup == NULL);
        ASSERT_STREQ(r.root, "/srv/my pool/a\"b");
        ASSERT_EQ(r.state, MACHINE_OPENING);
        machine_info_done(&r);
}

TEST(parse_bad) {
        static const char *const bad[] = {
                "",
                "NAME=foo\n",                                          /* no supervisor */
                "NAME=foo\nSUPERVISOR=1\n",                            /* no start time */
                "SUPERVISOR=1\nSUPERVISOR_START=1\n",                  /* no name */
                "NAME=../etc\nSUPERVISOR=1\nSUPERVISOR_START=1\n",     /* bad name */
                "NAME=foo\nSUPERVISOR=0\nSUPERVISOR_START=1\n",        /* pid 0 */
                "NAME=foo\nSUPERVISOR=-5\nSUPERVISOR_START=1\n",
                "NAME=foo\nSUPERVISOR=abc\nSUPERVISOR_START=1\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=-1\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nSTATE=dead\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nID=xyz\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nROOT=relative/path\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nCGROUP=/a/../../b\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nno equals sign\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nROOT=/a\tb\n", /* control char */
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nROOT=/\xff\n",  /* bad UTF-8 */
                "NAME=foo\nSUPERVISOR=99999999999\nSUPERVISOR_START=1\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                MachineInfo r = {};
                if (machine_info_parse(bad[i], &r) != -EBADMSG) {
                        fprintf(stderr, "accepted bad record #%zu\n", i);
                        ASSERT_TRUE(false);
                }
        }
}

static int write_file_at(int dfd, const char *name, const char *text, mode_t mode) {
        _cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0)
                return -errno;
        return loop_write(fd, text, strlen(text));
}

TEST(load) {
        char dir[] = "/tmp/test-machined-record.XXXXXX";
        _cleanup_close_ int dfd = -EBADF;
        MachineInfo r = {};

        ASSERT_TRUE(mkdtemp(dir));
        dfd = open(dir, O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);

        ASSERT_OK(write_file_at(dfd, "foo", GOOD_RECORD, 0644));
        ASSERT_OK(machine_info_load(dfd, "foo", &r));
        ASSERT_STREQ(r.name, "foo");
        machine_info_done(&r);

        /* NAME= must match the file name: a record cannot claim another machine. */
        ASSERT_OK(write_file_at(dfd, "bar", GOOD_RECORD, 0644));
        ASSERT_ERROR(machine_info_load(dfd, "bar", &r), EBADMSG);
        /* world-writable */
        ASSERT_OK(write_file_at(dfd, "foo", GOOD_RECORD, 0666));
        ASSERT_ERROR(machine_info_load(dfd, "foo", &r), EPERM);
        /* symlink to a good record */
        ASSERT_OK(write_file_at(dfd, "real", GOOD_RECORD, 0644));
        ASSERT_OK(symlinkat("real", dfd, "link"));
        ASSERT_ERROR(machine_info_load(dfd, "link", &r), ELOOP);
        /* a fifo must not block */
        ASSERT_OK(mkfifoat(dfd, "fifo", 0644));
        ASSERT_ERROR(machine_info_load(dfd, "fifo", &r), EBADMSG);
        ASSERT_ERROR(machine_info_load(dfd, "missing", &r), ENOENT);

        (void) unlinkat(dfd, "foo", 0);
        (void) unlinkat(dfd, "bar", 0);
        (void) unlinkat(dfd, "real", 0);
        (void) unlinkat(dfd, "link", 0);
        (void) unlinkat(dfd, "fifo", 0);
        ASSERT_OK(rmdir(dir));
}

TEST(filenames) {
        ASSERT_TRUE(machine_info_filename_is_record("foo"));
        ASSERT_TRUE(machine_info_filename_is_record("foo.bar"));
        /* auxiliary files live elsewhere, so these are plain machine names */
        ASSERT_TRUE(machine_info_filename_is_record("foo.console"));
        ASSERT_TRUE(machine_info_filename_is_record("foo.log"));
        ASSERT_FALSE(machine_info_filename_is_record(".#foo.tmp"));
        ASSERT_FALSE(machine_info_filename_is_record("."));
        ASSERT_FALSE(machine_info_filename_is_record(".."));
}

TEST(pidfd_verified) {
        uint64_t t;
        pid_t pid;
        int fd;

        ASSERT_OK(proc_start_time(getpid(), &t));
        /* Field 22 of /proc/self/stat, counted independently of proc_start_time(). */
        {
                _cleanup_free_ char *line = NULL;
                unsigned long long v = 0;
                ASSERT_OK(read_one_line("/proc/self/stat", &line));
                char *p = strrchr(line, ')');
                ASSERT_TRUE(p);
                ASSERT_EQ(sscanf(p + 2,
                                 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                                 "%*d %*d %*d %*d %llu",
                                 &v),
                          1);
                ASSERT_EQ(t, v);
        }
        fd = pidfd_open_verified(getpid(), t);
        ASSERT_OK(fd);
        close(fd);
        ASSERT_ERROR(pidfd_open_verified(getpid(), t + 1), ESRCH);
        ASSERT_ERROR(pidfd_open_verified(0, 0), ESRCH);

        /* An exited, unreaped child (a zombie) is not alive. */
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0)
                _exit(0);
        ASSERT_OK(proc_start_time(pid, &t));
        for (int i = 0; i < 100; i++) {
                siginfo_t si = {};
                if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) >= 0 && si.si_pid == pid)
                        break;
                usleep(10000);
        }
        ASSERT_ERROR(pidfd_open_verified(pid, t), ESRCH);
        ASSERT_OK(wait_for_terminate(pid, NULL));
        ASSERT_ERROR(pidfd_open_verified(pid, t), ESRCH);
}

TEST(run_argv_default) {
        _cleanup_strv_free_ char **argv = NULL;
        ASSERT_OK(run_argv_build("/usr/bin/nspawnctl", "/pool/foo", "foo", "/run/nspawnctl", NULL,
                                 &argv, NULL));
        const char *want[] = { "/usr/bin/nspawnctl", "run", "--boot", "--restart-on-reboot", "-D", "/pool/foo", "-M",
                               "foo", "--console=passive", "--register=yes",
                               "--state-dir=/run/nspawnctl", "--", NULL };
        ASSERT_EQ(strv_length(argv), ELEMENTSOF(want) - 1);
        for (size_t i = 0; want[i]; i++)
                ASSERT_STREQ(argv[i], want[i]);
}

TEST(run_argv_settings) {
        _cleanup_strv_free_ char **argv = NULL;
        char *params[] = { "--log-level=debug", NULL };
        char *env[] = { "A=1", "B=two words", NULL };
        char *tmpfs[] = { "/tmp:size=10M", NULL };
        BindMount binds[] = {
                { (char *) "/srv/a", (char *) "/a", false, true },
                { (char *) "/srv/b", (char *) "/b", true, false },
        };
        Settings s = {
                .boot = -1, .parameters = params, .environment = env, .user = (char *) "u1",
                .working_directory = (char *) "/w", .binds = binds, .n_binds = 2,
                .tmpfs = tmpfs, .read_only = 1, .private_network = 1,
        };
        const char *want[] = { "N", "run", "--boot", "--restart-on-reboot", "-D", "/p/x", "-M", "x",
                               "--console=passive", "--register=yes", "--state-dir=/s",
                               "--bind=/srv/a:/a", "--bind-ro=/srv/b:/b:norbind",
                               "--tmpfs=/tmp:size=10M", "--read-only", "--private-network",
                               "-E", "A=1", "-E", "B=two words", "--chdir=/w", "-u", "u1",
                               "--", "--log-level=debug", NULL };

        ASSERT_OK(run_argv_build("N", "/p/x", "x", "/s", &s, &argv, NULL));
        ASSERT_EQ(strv_length(argv), ELEMENTSOF(want) - 1);
        for (size_t i = 0; want[i]; i++)
                ASSERT_STREQ(argv[i], want[i]);
}

TEST(run_argv_resources) {
        _cleanup_strv_free_ char **argv = NULL;
        Settings s = { .boot = -1, .read_only = -1, .private_network = -1, .cgroup_layout = CGROUP_LAYOUT_UNIFIED };

        ASSERT_OK(cgroup_limits_set_assignment(&s.limits, "MemoryMax=64M"));
        ASSERT_OK(cgroup_limits_set_assignment(&s.limits, "CPUQuota=50%"));
        ASSERT_OK(run_argv_build("N", "/p/x", "x", "/s", &s, &argv, NULL));
        ASSERT_TRUE(strv_contains(argv, "--property=MemoryMax=67108864"));
        ASSERT_TRUE(strv_contains(argv, "--property=CPUQuota=50%"));
        ASSERT_TRUE(strv_contains(argv, "--cgroup-layout=unified"));
        ASSERT_STREQ(argv[strv_length(argv) - 1], "--");

        argv = strv_free(argv);
        s.cgroup_layout = CGROUP_LAYOUT_AUTO;
        ASSERT_OK(run_argv_build("N", "/p/x", "x", "/s", &s, &argv, NULL));
        STRV_FOREACH(a, argv)
                ASSERT_FALSE(startswith(*a, "--cgroup-layout"));
}

TEST(run_argv_errors) {
        _cleanup_strv_free_ char **argv = NULL;
        const char *why = NULL;
        BindMount colon = { (char *) "/srv/a:b", (char *) "/a", false, true };
        Settings noboot = { .boot = 0, .read_only = -1, .private_network = -1 };
        Settings badbind = { .boot = -1, .binds = &colon, .n_binds = 1, .read_only = -1,
                             .private_network = -1 };
        char *cmd[] = { "/bin/true", NULL };

        ASSERT_ERROR(run_argv_build("N", "/p/x", "x", "/s", &noboot, &argv, &why), EINVAL);
        ASSERT_TRUE(why && strstr(why, "Parameters"));
        ASSERT_ERROR(run_argv_build("N", "/p/x", "x", "/s", &badbind, &argv, &why), EINVAL);
        ASSERT_TRUE(why && strstr(why, ":"));

        noboot.parameters = cmd;
        ASSERT_OK(run_argv_build("N", "/p/x", "x", "/s", &noboot, &argv, NULL));
        ASSERT_FALSE(strv_contains(argv, "--boot"));
        ASSERT_STREQ(argv[strv_length(argv) - 1], "/bin/true");
}

TEST(find_init) {
        char dir[] = "/tmp/test-machined-init.XXXXXX";
        _cleanup_close_ int root = -EBADF;
        const char *init = NULL;
        char path[256];

        ASSERT_TRUE(mkdtemp(dir));
        root = open(dir, O_DIRECTORY | O_CLOEXEC | O_PATH);
        ASSERT_TRUE(root >= 0);

        ASSERT_ERROR(image_find_init(root, &init), ENOENT);

        /* An absolute link that only works on the host (/bin/sh exists there, not here). */
        snprintf(path, sizeof path, "%s/sbin", dir);
        ASSERT_OK(mkdir(path, 0755));
        snprintf(path, sizeof path, "%s/sbin/init", dir);
        ASSERT_OK(symlink("/bin/sh", path));
        ASSERT_ERROR(image_find_init(root, &init), ENOENT);
        /* An escape through ".." stays inside too. */
        ASSERT_OK(unlink(path));
        ASSERT_OK(symlink("../../../../../../bin/sh", path));
        ASSERT_ERROR(image_find_init(root, &init), ENOENT);
        ASSERT_OK(unlink(path));

        /* Merged-/usr layout: /sbin/init -> /lib/systemd/systemd, /lib -> usr/lib. */
        snprintf(path, sizeof path, "%s/usr", dir);
        ASSERT_OK(mkdir(path, 0755));
        snprintf(path, sizeof path, "%s/usr/lib", dir);
        ASSERT_OK(mkdir(path, 0755));
        snprintf(path, sizeof path, "%s/usr/lib/systemd", dir);
        ASSERT_OK(mkdir(path, 0755));
        snprintf(path, sizeof path, "%s/lib", dir);
        ASSERT_OK(symlink("usr/lib", path));
        snprintf(path, sizeof path, "%s/usr/lib/systemd/systemd", dir);
        {
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                ASSERT_TRUE(fd >= 0);
        }
        snprintf(path, sizeof path, "%s/sbin/init", dir);
        ASSERT_OK(symlink("/lib/systemd/systemd", path));
        /* not executable yet */
        ASSERT_ERROR(image_find_init(root, &init), EACCES);
        snprintf(path, sizeof path, "%s/usr/lib/systemd/systemd", dir);
        ASSERT_OK(chmod(path, 0755));
        ASSERT_OK(image_find_init(root, &init));
        ASSERT_STREQ(init, "/sbin/init");

        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        ASSERT_EQ(system(path), 0);
}
