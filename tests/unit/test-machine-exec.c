/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include <sys/wait.h>

#include "machine-exec.h"
#include "macro.h"
#include "tests.h"

/* What the helper writes to the status pipe, and what nspawnctl makes of it. */
static const struct {
        const char *line;
        int status; /* -1: refused */
} status_table[] = {
        { "EXIT=0\n", 0 },
        { "EXIT=0", 0 },
        { "EXIT=42\n", 42 },
        { "EXIT=127\n", 127 },
        { "EXIT=255\n", 255 },
        { "SIGNAL=9\n", 137 },
        { "SIGNAL=15\n", 143 },
        { "SIGNAL=1\n", 129 },
        { "SIGNAL=64\n", 192 },
        { "EXIT=256\n", -1 },
        { "EXIT=-1\n", -1 },
        { "EXIT=\n", -1 },
        { "EXIT=4x\n", -1 },
        { "SIGNAL=0\n", -1 },
        { "SIGNAL=128\n", -1 },
        { "SIGNAL=-9\n", -1 },
        { "exit=1\n", -1 },
        { "42\n", -1 },
        { "", -1 },
        { "\n", -1 },
        { "EXIT=1 EXIT=2\n", -1 },
};

TEST(parse_status) {
        for (size_t i = 0; i < ELEMENTSOF(status_table); i++) {
                int st = -1000, r = machine_exec_parse_status(status_table[i].line, &st);
                if (status_table[i].status < 0)
                        ASSERT_ERROR(r, EBADMSG);
                else {
                        ASSERT_OK(r);
                        ASSERT_EQ(st, status_table[i].status);
                }
        }
}

/* What the helper writes is what the client reads: exits 0..255 and every signal. */
TEST(status_round_trip) {
        for (int code = 0; code <= 255; code++) {
                char line[32];
                int st = -1;
                machine_exec_format_status(W_EXITCODE(code, 0), line, sizeof line);
                ASSERT_OK(machine_exec_parse_status(line, &st));
                ASSERT_EQ(st, code);
        }
        for (int sig = 1; sig < 65; sig++) {
                char line[32];
                int st = -1;
                machine_exec_format_status(W_EXITCODE(0, sig), line, sizeof line);
                ASSERT_OK(machine_exec_parse_status(line, &st));
                ASSERT_EQ(st, 128 + sig);
        }
}

TEST(kind_table) {
        for (int k = 0; k < _MACHINE_EXEC_KIND_MAX; k++) {
                const char *s = machine_exec_kind_to_string(k);
                ASSERT_TRUE(s);
                ASSERT_EQ(machine_exec_kind_from_string(s), k);
        }
        ASSERT_STREQ(machine_exec_kind_to_string(MACHINE_EXEC_LOGIN), "login");
        ASSERT_STREQ(machine_exec_kind_to_string(MACHINE_EXEC_SHELL), "shell");
        ASSERT_TRUE(machine_exec_kind_to_string(_MACHINE_EXEC_KIND_MAX) == NULL);
        ASSERT_TRUE(machine_exec_kind_to_string(-1) == NULL);
        ASSERT_EQ(machine_exec_kind_from_string("Login"), _MACHINE_EXEC_KIND_INVALID);
        ASSERT_EQ(machine_exec_kind_from_string(""), _MACHINE_EXEC_KIND_INVALID);
        ASSERT_EQ(machine_exec_kind_from_string(NULL), _MACHINE_EXEC_KIND_INVALID);
}

/* A leader that is not the recorded process (wrong start time, or no such pid) is refused
 * before anything is forked. */
TEST(start_refuses_wrong_leader) {
        MachineExecParams p = { .machine = "x", .leader = 1, .leader_start = 12345678901234ULL,
                                .kind = MACHINE_EXEC_SHELL };
        MachineExec e = MACHINE_EXEC_NULL;
        Error msg = ERROR_NULL;

        ASSERT_ERROR(machine_exec_start(&p, &e, &msg), ESRCH);
        ASSERT_TRUE(msg.message);
        error_done(&msg);
        p.leader = 0x3fffffff;
        ASSERT_ERROR(machine_exec_start(&p, &e, &msg), ESRCH);
        error_done(&msg);
        ASSERT_EQ(e.report_fd, -EBADF);
}
