/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "net-cleanup.h"
#include "spawn.h"

typedef struct NetworkConfig NetworkConfig;

typedef struct SuperviseConfig {
        SpawnConfig spawn;
        bool quiet;
        bool restart_on_reboot;
        bool register_machine;          /* write STATEDIR/machines/NAME for machined */
        const char *state_dir;
        uint64_t kill_timeout_usec;     /* after a polite stop request */
        uint64_t ready_timeout_usec;    /* opening -> running without READY=1 */
        /* The small static binary to hand over to once the container runs (NULL: keep
         * supervising in this process), and our own command line, which it runs again
         * for --restart-on-reboot. */
        const char *supervise_binary;
        char **original_argv;
        /* The container's network (NULL: the host's), and what of it to remove on the host
         * when the container ends (see net-cleanup.h; also known to the cleanup guard). */
        const NetworkConfig *network;
        NetworkCleanup net_cleanup;
} SuperviseConfig;

/* Runs the container described by c until it ends, forwarding the console and signals.
 * Returns the exit status nspawnctl should exit with (see docs/supervisor.md), or a
 * negative errno after logging a one-line reason. */
int supervise(const SuperviseConfig *c);

/* Exit status of a booted container that rebooted. */
#define EXIT_REBOOT 133
