/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl-init: --as-pid2's PID 1 when the payload shared the supervisor's memory. The
 * payload execs this (by an fd opened on the host: nothing in the container's tree is run
 * as PID 1) once PID 2 has been started, so that the container's PID 1 lives in memory of
 * its own for the container's whole life (see container_spawn()).
 *
 * Static, and on x86_64 built without libc (INIT_FREESTANDING): it starts at _start below.
 * glibc's own start (its CPU feature and cache probing, which traps to the hypervisor on the
 * test VM) took 1.1 ms of every --as-pid2 start there, and PID 2 waits for this program
 * before it may run the command. */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "init-contract.h"
#include "stub-init.h"

static _Noreturn void init_main(int argc, char **argv) {
        pid_t main_pid;
        int gate;

        /* Non-dumpable before PID 2 may go (the gate's end of file): the container's root
         * cannot read our memory, nor reach our binary on the host through /proc/1/exe
         * (ptrace access, which it lacks CAP_SYS_PTRACE for). */
        if (stub_syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0) < 0 ||
            supervisor_init_from_argv(argc, argv, &main_pid, &gate) < 0)
                stub_exit(127);
        (void) stub_syscall(SYS_close, gate, 0, 0, 0);
        stub_init(main_pid);
}

#if INIT_FREESTANDING
/* The kernel's entry: the stack holds argc, then argv. x86_64 only (the one architecture
 * the freestanding build is made and tested on, see supervisor/meson.build). */
_Noreturn void init_start(long *sp);
_Noreturn void init_start(long *sp) {
        init_main((int) sp[0], (char **) (sp + 1));
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "        xor %rbp, %rbp\n"
        "        mov %rsp, %rdi\n"
        "        and $-16, %rsp\n"
        "        call init_start\n"
        "        hlt\n");
#else
int main(int argc, char *argv[]) {
        init_main(argc, argv);
}
#endif
