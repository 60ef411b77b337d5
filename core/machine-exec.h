/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "macro.h"

/* Starting a login, a shell or a command inside a running machine, from the host: the
 * process joins the machine's cgroup and namespaces directly (pidfd + setns), so nothing in
 * the guest has to be systemd or run D-Bus, and it belongs to the machine (its cgroup, its
 * PID namespace) and dies with it.
 *
 * Two processes are forked. The helper stays on the host side: it enters the machine's PID
 * namespace for its children only, forks the payload and waits for it, then writes the
 * payload's end to the status pipe ("EXIT=N\n" or "SIGNAL=N\n") and exits. The payload
 * joins the cgroup, enters the other namespaces, takes a pty from the machine's own devpts
 * when asked, drops the bounding set, loads the container's seccomp filter, becomes the
 * user and execs. Both report failures on a socket, never by logging. */

typedef enum MachineExecKind {
        MACHINE_EXEC_LOGIN,   /* the guest's agetty (or login) on a new pty, as root */
        MACHINE_EXEC_SHELL,   /* the user's login shell, or path + argv */
        _MACHINE_EXEC_KIND_MAX,
        _MACHINE_EXEC_KIND_INVALID = -EINVAL,
} MachineExecKind;

/* Why a start failed, so callers can name the error (and nspawnctl pick its exit code). */
typedef enum MachineExecFailure {
        MACHINE_EXEC_FAILED,            /* anything else */
        MACHINE_EXEC_NO_SUCH_USER,
        MACHINE_EXEC_NO_SUCH_DIRECTORY,
        MACHINE_EXEC_COMMAND_NOT_FOUND, /* a shell would exit 127 */
        MACHINE_EXEC_CANNOT_EXECUTE,    /* 126 */
        MACHINE_EXEC_GONE,              /* the machine's leader is not the recorded one */
        _MACHINE_EXEC_FAILURE_MAX,
} MachineExecFailure;

typedef struct MachineExecParams {
        const char *machine;  /* for messages */
        pid_t leader;         /* host pid of the machine's PID 1 ... */
        uint64_t leader_start; /* ... and its start time (field 22 of /proc/PID/stat) */
        const char *cgroup;   /* the machine's cgroup (its record's CGROUP=), NULL: none */
        MachineExecKind kind;
        const char *user;     /* NULL or empty: root */
        const char *path;     /* NULL or empty: the user's login shell */
        char **argv;          /* with path; empty: { path } */
        char **environment;   /* VAR=VALUE, override the defaults */
        const char *directory; /* NULL: the user's home, else / */
        bool pty;             /* a pty from the machine's devpts, else stdio[] */
        int stdio[3];         /* without pty: the payload's stdin, stdout, stderr */
        /* The status pipe goes to a client: once nobody can read it any more (the client
         * died or left), the payload's process group gets SIGHUP, as a hung-up terminal
         * would send it. */
        bool hangup_without_reader;
        /* As the machine's init is filtered (the record's SYSCALL_DENY= and SUPPRESS_SYNC=):
         * SystemCallFilter=~ words, space-separated (NULL: none), and SuppressSync=. */
        const char *syscall_deny;
        bool suppress_sync;
        /* STATEDIR/seccomp: where the program of that filter is kept once built
         * (seccomp-cache.h); NULL: built for this session. */
        const char *seccomp_cache_dir;
} MachineExecParams;

typedef struct MachineExec {
        pid_t helper;
        int helper_pidfd;
        int payload_pidfd;  /* once reported */
        int report_fd;      /* poll it and call machine_exec_process() */
        int status_fd;      /* read end of the status pipe */
        int pty_master;     /* with pty, once reported */
        char pty_path[32];  /* "/dev/pts/N" as the guest sees it */
        bool want_pty;
        bool done;
} MachineExec;

#define MACHINE_EXEC_NULL                                                                  \
        ((MachineExec) { .helper_pidfd = -EBADF, .payload_pidfd = -EBADF, .report_fd = -EBADF, \
                         .status_fd = -EBADF, .pty_master = -EBADF })

void machine_exec_done(MachineExec *e);
/* Kills the payload and the helper (when a start is abandoned). */
void machine_exec_kill(MachineExec *e);

/* Checks the leader, reads its cgroup, forks the helper. Returns at once; the outcome comes
 * through report_fd. On failure e may get a message. */
int machine_exec_start(const MachineExecParams *p, MachineExec *ret, Error *e);

/* Reads what report_fd has (the fd stays open until machine_exec_done()). Returns 0 while
 * the start is still under way, 1 once the payload was exec'd (pty_master and pty_path are
 * set for a pty), or a negative errno with error (one line) and *ret_failure set. */
int machine_exec_process(MachineExec *e, MachineExecFailure *ret_failure, Error *error);

/* Parses a status line of the status pipe into a shell-style exit status (128+N for a
 * signal). -EBADMSG if it is none. */
int machine_exec_parse_status(const char *line, int *ret_status);
/* The status line for a waitpid() status, as the helper writes it (at most 32 bytes). */
void machine_exec_format_status(int wait_status, char *buf, size_t size);

const char *machine_exec_kind_to_string(MachineExecKind k);
MachineExecKind machine_exec_kind_from_string(const char *s);
