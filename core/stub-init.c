/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub-init.h"

_Noreturn void stub_init(pid_t main_pid) {
        sigset_t all;

        (void) syscall(SYS_close_range, 0U, ~0U, 0);
        (void) prctl(PR_SET_NAME, "nspawnctl-init");
        /* What the supervisor blocks (supervise_signal_mask(), inherited through exec too)
         * is queued for us here; the rest, at its default, the kernel drops for a PID 1. */
        sigfillset(&all);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        (void) kill(main_pid, sig);
                        continue;
                }
                for (;;) {
                        int st;
                        pid_t p = waitpid(-1, &st, WNOHANG);
                        if (p <= 0)
                                break;
                        if (p == main_pid)
                                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                }
        }
}
