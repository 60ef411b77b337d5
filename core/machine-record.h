/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The machine record: STATEDIR/machines/NAME, written by a machine's supervisor, read by
 * machined (docs/supervisor.md). This module owns the format in both directions - the type,
 * the writer, the parser and the state table - so that writer and reader cannot drift apart
 * (tests/unit/test-machine-record.c writes records and reads them back). libc only: the
 * static supervisor links it. Nothing here logs. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum MachineState {
        MACHINE_OPENING, /* started, its init has not said READY=1 yet */
        MACHINE_RUNNING,
        MACHINE_CLOSING, /* shutting down */
        _MACHINE_STATE_MAX,
        _MACHINE_STATE_INVALID = -EINVAL,
} MachineState;

const char *machine_state_to_string(MachineState s);
MachineState machine_state_from_string(const char *s);

/* What runs as the machine's PID 1, which decides how it is asked to power off or reboot. */
typedef enum MachineInit {
        MACHINE_INIT_NONE,     /* a command, not a booted init */
        MACHINE_INIT_SYSTEMD,
        MACHINE_INIT_SYSVINIT,
        MACHINE_INIT_BUSYBOX,
        MACHINE_INIT_OPENRC,
        MACHINE_INIT_OTHER,    /* an init we know nothing about: asked by its poweroff command */
        _MACHINE_INIT_MAX,
        _MACHINE_INIT_INVALID = -EINVAL,
} MachineInit;

const char *machine_init_to_string(MachineInit i);
MachineInit machine_init_from_string(const char *s);

typedef struct MachineRecord {
        char *name;
        char id[33];  /* 32 hex digits (also the container's container_uuid), or empty */
        char *class;  /* "container" */
        char *service; /* "nspawnctl" */
        char *root;    /* the tree, absolute */
        MachineState state;
        MachineInit init;
        /* pids as uint32_t, so that machined's SD_BUS_PROPERTY("u") reads them in place. A pid
         * is only trusted together with its start time (field 22 of /proc/PID/stat). */
        uint32_t supervisor;
        uint64_t supervisor_start;
        uint32_t leader; /* the container's PID 1 on the host; 0 until it is known */
        uint64_t leader_start;
        uint64_t timestamp;           /* CLOCK_REALTIME usec when the machine started */
        uint64_t timestamp_monotonic;
        char *console_socket;
        char *console_log;
        char *cgroup; /* relative to the hierarchy roots, e.g. /nspawnctl/NAME */
        uint32_t uid_shift; /* the user namespace: host UID of the container's root... */
        uint32_t uid_range; /* ... and how many; 0 without a user namespace */
        uint32_t kill_signal; /* KillSignal=: how PowerOffMachine asks the init; 0: by its kind */
        /* What sessions entering the machine (shell, login) must be filtered with, as its init
         * is: SystemCallFilter=~ words, space-separated (NULL: none), and SuppressSync=. */
        char *syscall_deny;
        bool suppress_sync;
} MachineRecord;

void machine_record_done(MachineRecord *r);

/* The text of a record: KEY=VALUE lines. Values that are not plain printable text are
 * written in double quotes with C escapes. -EINVAL for a record that must not be written
 * (invalid name, no supervisor). */
int machine_record_format(const MachineRecord *r, char **ret);
/* Parses the text of a record. NAME, SUPERVISOR and SUPERVISOR_START are required; unknown
 * keys are ignored so that a newer supervisor may add fields. -EBADMSG when malformed. */
int machine_record_parse(const char *text, MachineRecord *ret);

/* Writes STATEDIR/machines/NAME atomically (a temporary file renamed into place, which an
 * inotify watcher sees as one complete update). */
int machine_record_save(const char *state_dir, const MachineRecord *r);
/* Reads dirfd/filename: a regular file (no symlink, no FIFO) owned by root (or by us), not
 * writable by others, at most 64 KiB, whose NAME= matches filename. */
int machine_record_load(int dirfd, const char *filename, MachineRecord *ret);
/* Is this file in STATEDIR/machines a record (and not a temporary file of the atomic
 * replace, which is no valid machine name)? */
bool machine_record_filename_is_valid(const char *filename);
