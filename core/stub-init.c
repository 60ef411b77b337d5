/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Freestanding where the system call instruction is known (util/raw-syscall.h): the
 * program nspawnctl-init is this and init-contract.c, built without libc. */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "stub-init.h"
#include "util/raw-syscall.h"

#if !RAW_SYSCALL_SUPPORTED
#include <unistd.h>
#endif

long stub_syscall(long n, long a, long b, long c, long d) {
#if RAW_SYSCALL_SUPPORTED
        return raw_syscall6(n, a, b, c, d, 0, 0);
#else
        long r = syscall(n, a, b, c, d);
        return r < 0 ? -errno : r;
#endif
}

_Noreturn void stub_exit(int status) {
        for (;;)
                (void) stub_syscall(SYS_exit_group, status, 0, 0, 0);
}

_Noreturn void stub_init(pid_t main_pid) {
        /* Every signal, as the kernel's sigset (64 bits), not libc's larger sigset_t. */
        unsigned long all = ~0UL;

        (void) stub_syscall(SYS_close_range, 0, ~0U, 0, 0);
        (void) stub_syscall(SYS_prctl, PR_SET_NAME, (long) "nspawnctl-init", 0, 0);
        /* What the supervisor blocks (supervise_signal_mask(), inherited through exec too)
         * is queued for us here; the rest, at its default, the kernel drops for a PID 1. */
        for (;;) {
                siginfo_t si;
                long sig = stub_syscall(SYS_rt_sigtimedwait, (long) &all, (long) &si, 0, sizeof all);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void) stub_syscall(SYS_kill, main_pid, sig, 0, 0);
                        continue;
                }
                for (;;) {
                        int st = 0;
                        long p = stub_syscall(SYS_wait4, -1, (long) &st, WNOHANG, 0);
                        if (p <= 0)
                                break;
                        if (p == main_pid)
                                stub_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                }
        }
}
