/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
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
        const ResolvConfPlan *resolv_conf; /* NULL: /etc/resolv.conf left alone */
        /* Runs in the supervisor once the namespaces exist and before the container's setup
         * begins (the child waits): e.g. the veth into its network namespace. A negative
         * return stops the start; *ret_error says why in one line. */
        int (*on_namespaces)(pid_t pid, void *userdata, char **ret_error);
        void *on_namespaces_userdata;
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
 * an init for boot, bind sources. On failure *ret_error says what is wrong in one line. */
int spawn_check(const SpawnConfig *c, char **ret_error);

/* Starts the container and returns once its payload was exec'd (or failed to be, in which
 * case *ret_error has the child's one-line reason and nothing is left running). The caller
 * has created c->cgroup_path already. */
int container_spawn(const SpawnConfig *c, Container *ret, char **ret_error);
