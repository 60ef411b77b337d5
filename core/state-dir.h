/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The runtime state directory (default /run/nspawnctl; docs/supervisor.md): where a
 * machine's record, name lock, console socket and logs live. Each kind of file has a
 * directory of its own, so no machine name can collide with another machine's auxiliary
 * file (a machine may well be called "web.log"). */

#define DEFAULT_STATE_DIR "/run/nspawnctl"

typedef enum MachineFile {
        MACHINE_RECORD,      /* STATEDIR/machines/NAME (core/machine-record.h) */
        MACHINE_LOCK,        /* STATEDIR/locks/NAME */
        MACHINE_CONSOLE,     /* STATEDIR/console/NAME (socket) */
        MACHINE_CONSOLE_LOG, /* STATEDIR/logs/NAME.console */
        _MACHINE_FILE_MAX,
} MachineFile;

char *machine_state_path(const char *state_dir, const char *name, MachineFile kind);
/* STATEDIR/seccomp: the machines' seccomp programs, once built (core/seccomp-cache.h). */
char *state_seccomp_dir(const char *state_dir);
/* Creates STATEDIR and the directory of each kind of file (console sockets and logs are
 * root's only). */
int state_dir_create(const char *state_dir);

/* Takes the per-name lock (STATEDIR/locks/NAME) that makes a machine name exclusive on the
 * host; -EEXIST when another supervisor holds it. A supervisor that starts a rebooted
 * machine again hands its lock on through exec in $NSPAWNCTL_LOCK_FD, which is adopted. */
int machine_lock_acquire(const char *state_dir, const char *name, int *ret_fd);
/* Unlinks the lock file, then closes it (callers hold the lock). */
void machine_lock_release(const char *state_dir, const char *name, int fd);

/* Removes the record and console socket of a machine (not the lock, which is released by its
 * holder, nor the console log, which outlives the machine for a while). */
void machine_state_remove(const char *state_dir, const char *name);
