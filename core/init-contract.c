/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>

#include "init-contract.h"

/* n >= 0 in decimal into buf (room for SUPERVISOR_INIT_ARG_MAX). */
static void format_uint(unsigned n, char buf[static SUPERVISOR_INIT_ARG_MAX]) {
        char tmp[SUPERVISOR_INIT_ARG_MAX];
        unsigned i = 0, j = 0;

        do {
                tmp[i++] = (char) ('0' + n % 10);
                n /= 10;
        } while (n > 0 && i < sizeof tmp - 1);
        while (i > 0)
                buf[j++] = tmp[--i];
        buf[j] = 0;
}

/* Only digits, at least one, at most INT_MAX: no sign, no blanks. */
static int parse_uint(const char *s, int *ret) {
        long long v = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                v = v * 10 + (*s - '0');
                if (v > INT_MAX)
                        return -EINVAL;
        }
        *ret = (int) v;
        return 0;
}

void supervisor_init_to_argv(pid_t main_pid, int gate_fd, char buf[2][SUPERVISOR_INIT_ARG_MAX], char *argv[4]) {
        format_uint((unsigned) main_pid, buf[0]);
        format_uint((unsigned) gate_fd, buf[1]);
        argv[0] = (char *) SUPERVISOR_INIT_NAME;
        argv[1] = buf[0];
        argv[2] = buf[1];
        argv[3] = 0;
}

int supervisor_init_from_argv(int argc, char *const *argv, pid_t *ret_pid, int *ret_gate_fd) {
        int pid, fd;

        if (argc != 3 || parse_uint(argv[1], &pid) < 0 || pid <= 1 || parse_uint(argv[2], &fd) < 0 || fd < 3)
                return -EINVAL;
        *ret_pid = (pid_t) pid;
        *ret_gate_fd = fd;
        return 0;
}
