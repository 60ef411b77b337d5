/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The files a supervisor owns under STATEDIR/machines (see docs/supervisor.md). */

#define DEFAULT_STATE_DIR "/run/nspawnctl"

typedef struct MachineRecord {
        const char *name;
        const char *id;        /* 32 hex digits */
        const char *root;
        const char *state;     /* opening, running, closing */
        const char *cgroup;
        pid_t supervisor;
        pid_t leader;
        uint64_t timestamp_realtime;
        uint64_t timestamp_monotonic;
} MachineRecord;

/* Takes the per-name lock (STATEDIR/machines/NAME.lock) that makes a machine name
 * exclusive on the host; -EEXIST when another supervisor holds it. */
int machine_lock_acquire(const char *state_dir, const char *name, int *ret_fd);
/* Unlinks the lock file, then closes it (callers hold the lock). */
void machine_lock_release(const char *state_dir, const char *name, int fd);

int machine_record_write(const char *state_dir, const MachineRecord *r);
/* Removes the record, console socket and console log. */
void machine_record_remove(const char *state_dir, const char *name);
/* STATEDIR/machines/NAME + suffix */
char *machine_state_path(const char *state_dir, const char *name, const char *suffix);
