/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>

#include "machine-record.h"
#include "supervisor-contract.h"
#include "container-spawn.h"
#include "supervise.h"

/* The part of the supervisor that runs while the container lives: console forwarding,
 * signals, the notify socket, the machine record, and the cleanup when it ends. It needs
 * libc only, so it also builds into the small static nspawnctl-supervise binary that
 * `nspawnctl run` hands over to once the container runs (see supervise.c). */

#define BUF_SIZE 16384

typedef struct Buffer {
        char data[BUF_SIZE];
        size_t len;
} Buffer;

typedef struct Run Run;
struct Run {
        const SuperviseConfig *config;
        Container container;
        int signal_fd;
        int in_fd, out_fd;        /* where console input comes from and output goes */
        int listen_fd, client_fd; /* console socket (registered machines) */
        int log_fd;
        int report_fd;            /* machined's, until the machine is ready (or ended) */
        bool reported_started;
        int pty_peer;             /* our own hold on the console's slave, once needed */
        off_t log_size;
        Buffer in, out;
        bool in_eof;
        bool tty_raw;
        struct termios saved_termios;
        int stop_requests;
        uint64_t kill_deadline;
        uint64_t ready_deadline;
        MachineState state;
        MachineRecord record;     /* what STATEDIR/machines/NAME says, for registered machines */
        uint64_t timestamp_realtime, timestamp_monotonic;
        int escape_count;
        uint64_t escape_first;
        bool exited;
        int exit_code;
        /* One more fd for the loop to watch, and what to do when it is readable: the
         * in-process supervisor's port forwards follow the container's addresses. */
        int extra_fd;
        void (*extra_handler)(Run *run, void *userdata);
        void *extra_userdata;
};

void run_init(Run *run, const SuperviseConfig *c, int signal_fd);
/* Sets the machine's state and, for a registered machine, writes its record. */
int run_register_state(Run *run, MachineState state);
int run_console_listen(const SuperviseConfig *c, int *ret_fd);
void run_console_log_open(Run *run);
/* Attaches the console, runs the event loop until the container's init is gone, then
 * removes its cgroup and record. Returns the exit status to report. */
int run_container(Run *run);

/* The signals the supervisor takes through its signalfd. */
void supervise_signal_mask(sigset_t *ret);
/* The cleanup guard: a small process that outlives a supervisor killed with SIGKILL and
 * removes what it owned - the cgroup (once the container's processes are gone, which
 * PDEATHSIG and the PID namespace make quick), the machine record and the name lock. It
 * waits for EOF on pipe_fd; on a normal exit the supervisor sends 'd' first (see
 * guard_dismiss()) and the guard just leaves. Never returns. */
_noreturn_ void guard_run(const SupervisorGuard *g, int pipe_fd);
/* Removes what the container's network left on the host (c->net_cleanup, see
 * net-cleanup.h); logs. rebooting: the same supervisor boots it again at once. */
void run_network_cleanup(const SuperviseConfig *c, bool rebooting);
/* Tell the cleanup guard that we cleaned up ourselves. */
void guard_dismiss(int *fd);
/* Removes the container's cgroup (s->cgroup_path) once it is empty, waiting up to 1 s. */
int remove_cgroup_when_empty(const SpawnConfig *s);
