/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "machine-record.h"
#include "state-dir.h"
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
        MachineRecord r = {};
        ASSERT_OK(machine_record_parse(GOOD_RECORD, &r));
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
        ASSERT_STREQ(r.id, "0123456789abcdef0123456789abcdef");
        machine_record_done(&r);
}

TEST(parse_lenient) {
        MachineRecord r = {};
        /* What the supervisor writes before the init is known, plus an unknown key and a
         * quoted path with a space. */
        ASSERT_OK(machine_record_parse("# comment\n\nNAME=a.b\nSUPERVISOR=7\nSUPERVISOR_START=1\n"
                                     "LEADER=0\nLEADER_START=0\nCGROUP=(null)\nID=\n"
                                     "FUTURE_KEY=whatever\nROOT=\"/srv/my pool/a\\\"b\"\n",
                                     &r));
        ASSERT_STREQ(r.name, "a.b");
        ASSERT_EQ(r.leader, 0);
        ASSERT_TRUE(r.cgroup == NULL);
        ASSERT_STREQ(r.root, "/srv/my pool/a\"b");
        ASSERT_EQ(r.state, MACHINE_OPENING);
        machine_record_done(&r);
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
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nKILL_SIGNAL=0\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nKILL_SIGNAL=65\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nKILL_SIGNAL=TERM\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nSYSCALL_DENY=kcmp;reboot\n",
                "NAME=foo\nSUPERVISOR=1\nSUPERVISOR_START=1\nSUPPRESS_SYNC=perhaps\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                MachineRecord r = {};
                if (machine_record_parse(bad[i], &r) != -EBADMSG) {
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
        char dir[] = "/tmp/test-machine-record.XXXXXX";
        _cleanup_close_ int dfd = -EBADF;
        MachineRecord r = {};

        ASSERT_TRUE(mkdtemp(dir));
        dfd = open(dir, O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);

        ASSERT_OK(write_file_at(dfd, "foo", GOOD_RECORD, 0644));
        ASSERT_OK(machine_record_load(dfd, "foo", &r));
        ASSERT_STREQ(r.name, "foo");
        machine_record_done(&r);

        /* NAME= must match the file name: a record cannot claim another machine. */
        ASSERT_OK(write_file_at(dfd, "bar", GOOD_RECORD, 0644));
        ASSERT_ERROR(machine_record_load(dfd, "bar", &r), EBADMSG);
        /* world-writable */
        ASSERT_OK(write_file_at(dfd, "foo", GOOD_RECORD, 0666));
        ASSERT_ERROR(machine_record_load(dfd, "foo", &r), EPERM);
        /* symlink to a good record */
        ASSERT_OK(write_file_at(dfd, "real", GOOD_RECORD, 0644));
        ASSERT_OK(symlinkat("real", dfd, "link"));
        ASSERT_ERROR(machine_record_load(dfd, "link", &r), ELOOP);
        /* a fifo must not block */
        ASSERT_OK(mkfifoat(dfd, "fifo", 0644));
        ASSERT_ERROR(machine_record_load(dfd, "fifo", &r), EBADMSG);
        ASSERT_ERROR(machine_record_load(dfd, "missing", &r), ENOENT);

        (void) unlinkat(dfd, "foo", 0);
        (void) unlinkat(dfd, "bar", 0);
        (void) unlinkat(dfd, "real", 0);
        (void) unlinkat(dfd, "link", 0);
        (void) unlinkat(dfd, "fifo", 0);
        ASSERT_OK(rmdir(dir));
}

TEST(filenames) {
        ASSERT_TRUE(machine_record_filename_is_valid("foo"));
        ASSERT_TRUE(machine_record_filename_is_valid("foo.bar"));
        /* auxiliary files live elsewhere, so these are plain machine names */
        ASSERT_TRUE(machine_record_filename_is_valid("foo.console"));
        ASSERT_TRUE(machine_record_filename_is_valid("foo.log"));
        ASSERT_FALSE(machine_record_filename_is_valid(".#foo.tmp"));
        ASSERT_FALSE(machine_record_filename_is_valid("."));
        ASSERT_FALSE(machine_record_filename_is_valid(".."));
}

static void assert_same_record(int *_failed_, const MachineRecord *a, const MachineRecord *b) {
        ASSERT_STREQ(a->name, b->name);
        ASSERT_STREQ(a->id, b->id);
        ASSERT_TRUE(streq(strempty(a->class), strempty(b->class)));
        ASSERT_TRUE(streq(strempty(a->service), strempty(b->service)));
        ASSERT_TRUE(streq(strempty(a->root), strempty(b->root)));
        ASSERT_TRUE(streq(strempty(a->cgroup), strempty(b->cgroup)));
        ASSERT_TRUE(streq(strempty(a->console_socket), strempty(b->console_socket)));
        ASSERT_TRUE(streq(strempty(a->console_log), strempty(b->console_log)));
        ASSERT_EQ(a->state, b->state);
        ASSERT_EQ(a->init, b->init);
        ASSERT_EQ(a->uid_shift, b->uid_shift);
        ASSERT_EQ(a->uid_range, b->uid_range);
        ASSERT_EQ(a->kill_signal, b->kill_signal);
        ASSERT_TRUE(streq(strempty(a->syscall_deny), strempty(b->syscall_deny)));
        ASSERT_EQ(a->suppress_sync, b->suppress_sync);
        ASSERT_EQ(a->supervisor, b->supervisor);
        ASSERT_EQ(a->supervisor_start, b->supervisor_start);
        ASSERT_EQ(a->leader, b->leader);
        ASSERT_EQ(a->leader_start, b->leader_start);
        ASSERT_EQ(a->timestamp, b->timestamp);
        ASSERT_EQ(a->timestamp_monotonic, b->timestamp_monotonic);
}

/* What the supervisor writes is what machined reads, field by field. */
TEST(round_trip) {
        const MachineRecord records[] = {
                { .name = (char *) "foo", .id = "0123456789abcdef0123456789abcdef", .class = (char *) "container",
                  .service = (char *) "nspawnctl", .root = (char *) "/var/lib/machines/foo", .state = MACHINE_RUNNING,
                  .init = MACHINE_INIT_SYSTEMD, .uid_shift = 0x7ffe0000, .uid_range = 65536, .kill_signal = 10,
                  .syscall_deny = (char *) "@clock sethostname", .suppress_sync = true,
                  .supervisor = 100, .supervisor_start = 555, .leader = 101, .leader_start = 556,
                  .timestamp = 1700000000000000ULL, .timestamp_monotonic = 42, .cgroup = (char *) "/nspawnctl/foo",
                  .console_socket = (char *) "/run/nspawnctl/console/foo",
                  .console_log = (char *) "/run/nspawnctl/logs/foo.console" },
                /* before the leader is known: no id, no cgroup */
                { .name = (char *) "a.b-c", .state = MACHINE_OPENING, .init = MACHINE_INIT_OTHER, .supervisor = 7,
                  .supervisor_start = 1 },
                /* paths that need quoting: spaces at the ends, quotes, backslashes, '=' and '#' */
                { .name = (char *) "q", .root = (char *) "/srv/my pool/a\"b\\c=d#e ", .state = MACHINE_CLOSING,
                  .supervisor = 2147483647, .supervisor_start = UINT64_MAX, .cgroup = (char *) "/x y",
                  .console_socket = (char *) "/\"", .console_log = (char *) "/ lead" },
        };
        for (size_t i = 0; i < ELEMENTSOF(records); i++) {
                _cleanup_free_ char *text = NULL;
                MachineRecord back = {};
                ASSERT_OK(machine_record_format(&records[i], &text));
                ASSERT_OK(machine_record_parse(text, &back));
                assert_same_record(_failed_, &records[i], &back);
                machine_record_done(&back);
                if (*_failed_)
                        return;
        }
}

TEST(format_refuses) {
        _cleanup_free_ char *text = NULL;
        ASSERT_ERROR(machine_record_format(&(MachineRecord) { .name = (char *) "../x", .supervisor = 1 }, &text),
                     EINVAL);
        ASSERT_ERROR(machine_record_format(&(MachineRecord) { .name = (char *) "x" }, &text), EINVAL);
        ASSERT_ERROR(machine_record_format(&(MachineRecord) { .name = (char *) "x", .supervisor = 1,
                                                              .root = (char *) "/a\nSUPERVISOR=1" },
                                           &text),
                     EINVAL);
        ASSERT_ERROR(machine_record_format(&(MachineRecord) { .name = (char *) "x", .supervisor = 1,
                                                              .root = (char *) "/\xff" },
                                           &text),
                     EINVAL);
}

TEST(save_and_load) {
        char dir[] = "/tmp/test-machine-record-save.XXXXXX";
        _cleanup_close_ int dfd = -EBADF;
        char path[256];
        MachineRecord back = {};
        const MachineRecord r = { .name = (char *) "box", .root = (char *) "/p/box", .state = MACHINE_RUNNING,
                                  .supervisor = 9, .supervisor_start = 99 };

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_OK(state_dir_create(dir));
        ASSERT_OK(machine_record_save(dir, &r));
        snprintf(path, sizeof path, "%s/machines", dir);
        dfd = open(path, O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);
        ASSERT_OK(machine_record_load(dfd, "box", &back));
        assert_same_record(_failed_, &r, &back);
        machine_record_done(&back);
        machine_state_remove(dir, "box");
        ASSERT_ERROR(machine_record_load(dfd, "box", &back), ENOENT);
        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        ASSERT_EQ(system(path), 0);
}
