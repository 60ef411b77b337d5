/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl-init: --as-pid2's PID 1 when the payload shared the supervisor's memory. The
 * payload execs this (by an fd opened on the host: nothing in the container's tree is run
 * as PID 1) once PID 2 has been started, so that the container's PID 1 lives in memory of
 * its own for the container's whole life (see container_spawn()). Static and libc-only. */
#include <sys/prctl.h>
#include <unistd.h>

#include "stub-init.h"
#include "supervisor-contract.h"

int main(int argc, char *argv[]) {
        pid_t main_pid;
        int gate;

        /* Non-dumpable before PID 2 may go (the gate's end of file): the container's root
         * cannot read our memory, nor reach our binary on the host through /proc/1/exe
         * (ptrace access, which it lacks CAP_SYS_PTRACE for). */
        if (prctl(PR_SET_DUMPABLE, 0) < 0 || supervisor_init_from_argv(argc, argv, &main_pid, &gate) < 0)
                return 127;
        (void) close(gate);
        stub_init(main_pid);
}
