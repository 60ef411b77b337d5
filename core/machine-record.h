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
/* Each kind of file has a directory of its own, so no machine name can collide with
 * another machine's auxiliary file (a machine may well be called "web.log"). */
typedef enum MachineFile {
        MACHINE_RECORD,      /* STATEDIR/machines/NAME */
        MACHINE_LOCK,        /* STATEDIR/locks/NAME */
        MACHINE_CONSOLE,     /* STATEDIR/console/NAME (socket) */
        MACHINE_CONSOLE_LOG, /* STATEDIR/logs/NAME.console */
        _MACHINE_FILE_MAX,
} MachineFile;

char *machine_state_path(const char *state_dir, const char *name, MachineFile kind);
