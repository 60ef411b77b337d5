/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The records the supervisor ("nspawnctl run --register=yes") keeps in STATEDIR/machines/NAME
 * (docs/supervisor.md). machined only ever reads them; this file is the parser and the
 * liveness check, shared by machined and the unit tests. Nothing here logs. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-id128.h>

#include "macro.h"

typedef enum MachineState {
        MACHINE_OPENING,
        MACHINE_RUNNING,
        MACHINE_CLOSING,
        _MACHINE_STATE_MAX,
        _MACHINE_STATE_INVALID = -EINVAL,
} MachineState;

const char *machine_state_to_string(MachineState s);
MachineState machine_state_from_string(const char *s);

typedef struct MachineInfo {
        char *name;
        sd_id128_t id;
        char *class;
        char *service;
        char *root;
        /* pid_t is stored as uint32_t so that SD_BUS_PROPERTY("u") can read it in place. */
        uint32_t supervisor;
        uint64_t supervisor_start;
        uint32_t leader; /* 0 until the container's init is known */
        uint64_t leader_start;
        MachineState state;
        uint64_t timestamp;
        uint64_t timestamp_monotonic;
        char *console_socket;
        char *console_log;
        char *cgroup;
} MachineInfo;

void machine_info_done(MachineInfo *r);

/* Parses the KEY=VALUE text of a record. NAME, SUPERVISOR and SUPERVISOR_START are required;
 * unknown keys are ignored so that the supervisor may add fields. Returns -EBADMSG on a
 * malformed record. */
int machine_info_parse(const char *text, MachineInfo *ret);

/* Reads and parses dirfd/filename: a regular file (no symlink) owned by root (or by us),
 * not writable by others, at most 64 KiB, whose NAME= matches filename. */
int machine_info_load(int dirfd, const char *filename, MachineInfo *ret);

/* Opens a pidfd for the process pid and checks it is the one that started at start_time
 * (field 22 of /proc/PID/stat) and has not exited yet. Returns the pidfd, or -ESRCH when the
 * process is gone or the pid now belongs to another process. */
int pidfd_open_verified(pid_t pid, uint64_t start_time);

/* Is this file in STATEDIR/machines a record (and not a temporary file of the atomic
 * replace)? Locks, console sockets and logs live in directories of their own. */
bool machine_info_filename_is_record(const char *filename);

/* Pids of all processes whose cgroup (in any hierarchy, read from /proc/PID/cgroup) is
 * cgroup or below it. */
int cgroup_list_pids(const char *cgroup, pid_t **ret, size_t *ret_n);
/* Whether the process pid is in cgroup or below it (in any hierarchy). */
bool cgroup_contains_pid(const char *cgroup, pid_t pid);
