/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* ---- the init stub's command line (part of the supervisor contract, see
 * supervisor-contract.h) ----
 * nspawnctl-init (stub_init() as a program) is exec'd by --as-pid2's PID 1 when that shared
 * the supervisor's memory: its argv is its name, the pid of PID 2 (as PID 1 sees it) and the
 * fd of the gate PID 2 waits on (closed once the stub is non-dumpable). Filled into the
 * caller's buffers: the payload has no memory of its own to allocate in. Freestanding (no
 * libc call): nspawnctl-init is built without libc, whose start-up alone took 1.1 ms of
 * every --as-pid2 start on the test VM. Numbers are plain decimal digits, nothing else. */
#define SUPERVISOR_INIT_NAME "nspawnctl-init"
#define SUPERVISOR_INIT_ARG_MAX 16
void supervisor_init_to_argv(pid_t main_pid, int gate_fd, char buf[2][SUPERVISOR_INIT_ARG_MAX], char *argv[4]);
int supervisor_init_from_argv(int argc, char *const *argv, pid_t *ret_pid, int *ret_gate_fd);
