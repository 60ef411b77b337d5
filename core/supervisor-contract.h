/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The contract of the supervisor program, in both directions, in one place (see
 * docs/supervisor.md):
 *
 *   machined --(SupervisorStart)--> nspawnctl-supervisor   sets the machine up and runs it
 *   supervisor --(SupervisorReport, on the report fd)--> machined   how the start went
 *   supervisor --(SupervisorHandoff)--> nspawnctl-supervisor-light   same pid, once it runs
 *   supervisor --(SupervisorGuard)--> the cleanup guard   what to remove after a kill -9
 *
 * Each is a typed struct with a to_argv() and a from_argv() (or format/parse) that are each
 * other's inverse: tests/unit/test-supervisor-contract.c checks the round trips. Values are
 * passed whole, one per "--key=value" argument, so paths may hold ':' or '=' or spaces.
 * libc only: the static supervisor links it. Strings in decoded structs point into argv. */

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "machine-record.h"
#include "net-cleanup.h"
#include "container-spawn.h"
#include "init-contract.h"

/* Exit statuses of nspawnctl-supervisor for a start that failed before the container ran
 * (afterwards it exits with the container's status, as `nspawnctl run` does). */
typedef enum SupervisorExit {
        SUPERVISOR_EXIT_FAILURE = 1,
        SUPERVISOR_EXIT_USAGE = 2,      /* the contract was not kept */
        SUPERVISOR_EXIT_NAME_TAKEN = 4, /* another supervisor holds the machine's name */
} SupervisorExit;

/* Why a start failed, as the report says. */
typedef enum SupervisorFailure {
        SUPERVISOR_FAILURE_GENERIC,
        SUPERVISOR_FAILURE_NO_IMAGE,
        SUPERVISOR_FAILURE_NO_INIT,
        SUPERVISOR_FAILURE_BAD_SETTINGS,
        SUPERVISOR_FAILURE_NAME_TAKEN,
        _SUPERVISOR_FAILURE_MAX,
        _SUPERVISOR_FAILURE_INVALID = -EINVAL,
} SupervisorFailure;

const char *supervisor_failure_to_string(SupervisorFailure f);
SupervisorFailure supervisor_failure_from_string(const char *s);

/* machined -> supervisor: which machine to start, nothing about how. The supervisor loads
 * the machine's settings itself (core/settings-load.h), finds its init, and so on. */
typedef struct SupervisorStart {
        const char *machine;    /* the machine (and image) name */
        const char *image;      /* absolute path of the image's tree */
        const char *state_dir;
        const char *config_dir; /* machined's trusted settings directory (/etc/nspawnctl) */
        int report_fd;          /* where the SupervisorReport goes; -1: nowhere */
        /* The nft table of the machine's port forwards (machined's --network-table); NULL:
         * the default. */
        const char *network_table;
        /* A machine on machined's managed network (docs/network.md): the bridge its veth
         * joins (NULL: not on it; then its settings alone say how it is networked), the
         * resolv.conf it gets, and, when it has Port= forwards (machined sets those up), the
         * source address of connections forwarded from ::1 (all zero: none). */
        const char *network_bridge;
        const char *network_dns_stub;
        struct in6_addr network_loopback6;
} SupervisorStart;

int supervisor_start_to_argv(const SupervisorStart *s, const char *binary, char ***ret);
/* -EINVAL when the arguments do not make a SupervisorStart (unknown or missing keys). */
int supervisor_start_from_argv(int argc, char *const *argv, SupervisorStart *ret);

/* supervisor -> machined, on the report fd: any number of warnings (settings that were
 * ignored), then STARTED (the container runs, its record is written) or FAILED (why it does
 * not), and after STARTED either READY (the init said READY=1, or runs without a notify
 * socket) or EXITED (the container ended before it was ready, with its exit status). */
typedef enum SupervisorReportType {
        SUPERVISOR_REPORT_STARTED,
        SUPERVISOR_REPORT_FAILED,
        SUPERVISOR_REPORT_WARNING,
        SUPERVISOR_REPORT_READY,
        SUPERVISOR_REPORT_EXITED,
        _SUPERVISOR_REPORT_TYPE_MAX,
        _SUPERVISOR_REPORT_TYPE_INVALID = -EINVAL,
} SupervisorReportType;

#define SUPERVISOR_REPORT_MESSAGE_MAX 512

typedef struct SupervisorReport {
        SupervisorReportType type;
        SupervisorFailure failure; /* FAILED */
        int error;                 /* FAILED: positive errno */
        pid_t leader;              /* STARTED */
        int status;                /* EXITED: as a shell has it, 128+N for signal N */
        char message[SUPERVISOR_REPORT_MESSAGE_MAX]; /* FAILED, WARNING: one line for the user */
} SupervisorReport;

/* One line of text; the message is cut to fit and newlines become spaces. */
int supervisor_report_format(const SupervisorReport *r, char *buf, size_t size);
int supervisor_report_parse(const char *text, SupervisorReport *ret);
/* Writes a report to fd (no-op for fd < 0). */
int supervisor_report_send(int fd, const SupervisorReport *r);

/* The fds the running supervisor holds on to across its exec (-1: none). */
typedef enum HandoffFd {
        HANDOFF_FD_PIDFD,     /* the container's PID 1 */
        HANDOFF_FD_PTY,       /* the console's master */
        HANDOFF_FD_NOTIFY,    /* sd_notify socket */
        HANDOFF_FD_LISTEN,    /* console socket */
        HANDOFF_FD_LOG,       /* console log */
        HANDOFF_FD_LOCK,      /* the machine name's lock */
        HANDOFF_FD_GUARD,     /* pipe to the cleanup guard */
        HANDOFF_FD_REPORT,    /* machined's report fd, until the machine is ready */
        HANDOFF_FD_UID_LOCK,  /* the lock of the machine's UID range (pick) */
        _HANDOFF_FD_MAX,
} HandoffFd;

/* supervisor -> itself as the small static binary, once the container runs. */
typedef struct SupervisorHandoff {
        pid_t pid; /* the container's PID 1 */
        int fds[_HANDOFF_FD_MAX];
        const char *machine;
        const char *directory;
        const char *machine_id;
        const char *state_dir;
        const char *cgroup_path;
        ConsoleMode console;
        bool boot, quiet, register_machine, notify, restart_on_reboot;
        uint64_t kill_timeout_usec, ready_timeout_usec;
        uint64_t timestamp_realtime, timestamp_monotonic;
        MachineState state;  /* the record's state so far */
        MachineInit init;
        uint32_t uid_shift, uid_range; /* the user namespace; range 0: none */
        /* What the container's network left on the host, removed when it ends (NULL: none):
         * its veth, a zone's bridge, the nft table with its chains (see net-cleanup.h). */
        const char *net_link, *net_zone_bridge, *net_table;
        int kill_signal;     /* KillSignal=; 0: the default */
        const char *syscall_deny; /* the record's SYSCALL_DENY= (NULL: none) */
        bool suppress_sync;
        char **restart_argv; /* with restart_on_reboot: the command that starts it again */
} SupervisorHandoff;

int supervisor_handoff_to_argv(const SupervisorHandoff *h, char ***ret);
int supervisor_handoff_from_argv(int argc, char *const *argv, SupervisorHandoff *ret);

/* supervisor -> its cleanup guard: what to remove once the supervisor is gone. */
typedef struct SupervisorGuard {
        const char *machine;
        const char *state_dir;
        const char *cgroup_path;
        bool register_machine;
        uint32_t uid_shift;
        int uid_lock_fd; /* the UID range's lock, released once the container is gone; -1 */
        const char *net_link, *net_zone_bridge, *net_table; /* as in SupervisorHandoff */
} SupervisorGuard;

int supervisor_guard_to_argv(const SupervisorGuard *g, char ***ret);
int supervisor_guard_from_argv(int argc, char *const *argv, SupervisorGuard *ret);

/* The network fields of a handoff or guard as what network_cleanup_run() removes, and
 * back (empty strings are NULL). */
void supervisor_net_cleanup_get(const char *link, const char *zone_bridge, const char *table,
                                NetworkCleanup *ret);
void supervisor_net_cleanup_set(const NetworkCleanup *nc, const char **ret_link,
                                const char **ret_zone_bridge, const char **ret_table);

/* ---- the init stub: init-contract.h ---- */

/* argv[1] of the light binary, telling the handoff from the guard. */
#define SUPERVISOR_LIGHT_HANDOFF "handoff"
#define SUPERVISOR_LIGHT_GUARD "guard"
