/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "error.h"
#include "machine-record.h"
#include "resolv-conf.h"
#include "settings.h"

typedef enum ConsoleMode {
        CONSOLE_INTERACTIVE, /* pty; stdin and stdout forwarded, terminal raw */
        CONSOLE_READ_ONLY,   /* pty; output forwarded, input not */
        CONSOLE_PASSIVE,     /* pty; nothing forwarded (drained to a log by the supervisor) */
        CONSOLE_PIPE,        /* no pty: the command gets the supervisor's stdio as is */
        _CONSOLE_MODE_MAX,
        _CONSOLE_MODE_INVALID = -EINVAL,
} ConsoleMode;

const char *console_mode_to_string(ConsoleMode m);
ConsoleMode console_mode_from_string(const char *s);

typedef struct SpawnConfig {
        const char *directory; /* absolute, canonical path of the tree */
        const char *machine;   /* host name inside */
        const char *uuid;      /* container_uuid, 8-4-4-4-12 form */
        const char *machine_id; /* 32 hex digits, for an image with an empty machine-id */
        bool boot;
        bool as_pid2;
        bool read_only;
        bool ephemeral;
        bool private_network;
        bool notify;           /* bind a notify socket at /run/host/notify */
        char **argv;           /* the command, or the init's parameters with boot */
        char **environment;    /* extra "NAME=VALUE" */
        const char *working_directory;
        const char *user;
        const BindMount *binds;
        size_t n_binds;
        char **tmpfs;
        ConsoleMode console;
        CGroupMode cgroup_mode;
        const char *cgroup_path;
        const CGroupHierarchies *cgroup_hierarchies; /* the host's, read once; NULL: read here */
        /* User namespace (core/userns.h): container UID/GID 0 is host uid_shift, uid_range
         * of them are mapped; uid_range 0: none, container root is host root. */
        uid_t uid_shift;
        uint32_t uid_range;
        const ResolvConfPlan *resolv_conf; /* NULL: /etc/resolv.conf left alone */
        /* Runs in the supervisor once the container's network namespace exists and before
         * anything runs in it (the container's processes wait): e.g. the veth into it. pid is
         * the process whose namespaces are the container's (its PID 1). A negative return
         * stops the start, with e saying why. */
        int (*on_namespaces)(pid_t pid, void *userdata, Error *e);
        void *on_namespaces_userdata;

        /* The rest of the settings (docs/settings.md); zero is "as by default" for each. */
        const char *hostname;          /* NULL: machine */
        uint64_t caps_add, caps_drop;  /* to and from the default bounding set */
        uint64_t caps_ambient;
        bool no_new_privileges;
        bool suppress_sync;
        char **syscall_deny;           /* names and @groups added to the deny-list */
        const char *seccomp_cache_dir; /* NULL: the filter is built at every start */
        const char *init_binary;       /* nspawnctl-init; NULL: --as-pid2's PID 1 is a fork */
        const RLimits *rlimits;        /* NULL: none */
        bool oom_score_adjust_set;
        int oom_score_adjust;
        const CPUSet *cpu_affinity;    /* NULL: as the supervisor's */
        unsigned long personality;     /* 0: as the host; else for personality(2) */
        VolatileMode volatile_mode;
        char **inaccessible;
        const OverlayMount *overlays;
        size_t n_overlays;
        TimezoneMode timezone;
        LinkJournal link_journal;
} SpawnConfig;

typedef struct Container {
        pid_t pid;        /* the container's PID 1, as seen from the host */
        int pidfd;
        int pty_master;   /* -EBADF with CONSOLE_PIPE */
        int notify_fd;    /* -EBADF unless notify */
        int exit_status;  /* on failure: the child's exit status (127 when exec found nothing) */
} Container;

void container_done(Container *c);

/* Checks what can be checked before any namespace exists: the tree, its /proc and /sys,
 * an init for boot (-ENOEXEC when there is none), bind sources. */
int spawn_check(const SpawnConfig *c, Error *e);

/* Starts the container and returns once its payload was exec'd (or failed to be, in which
 * case e has the child's one-line reason and nothing is left running). The caller has
 * created c->cgroup_path already. */
int container_spawn(const SpawnConfig *c, Container *ret, Error *e);

/* Which init a boot of the tree runs (the first of the init list that is there), by the name
 * of the file it resolves to. -ENOEXEC when there is none. */
int spawn_detect_init(const char *directory, MachineInit *ret);
