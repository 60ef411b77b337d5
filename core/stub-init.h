/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* PID 1 for --as-pid2: reaps everything, forwards every signal to main_pid, and exits with
 * its status (128+signal if it was killed). Closes every fd first: it holds nothing of the
 * container's. Run in the forked payload, or as the program nspawnctl-init (the payload
 * execs it when it shared the supervisor's memory, see container_spawn()). System calls
 * only, no libc. */
_Noreturn void stub_init(pid_t main_pid);
/* exit_group(status). */
_Noreturn void stub_exit(int status);
/* A system call with up to four arguments: its result, or -errno. Raw where
 * util/raw-syscall.h knows the instruction (then no libc is needed), else libc's syscall(). */
long stub_syscall(long n, long a, long b, long c, long d);
