/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "cgroup-devices.h"
#include "cgroup-layout.h"
#include "cgroup-limits.h"
#include "net-cleanup.h"
#include "net-setup.h"
#include "resolv-conf.h"
#include "container-spawn.h"
#include "supervisor-contract.h"
#include "userns.h"

#include <sys/types.h>

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
        /* machined's end of the start (owned by the caller of supervise()): STARTED goes there
         * once the container runs; a failure is reported by the caller. -EBADF for none:
         * every initializer must say so, 0 is stdin. */
        int report_fd;
        /* Filled in by supervise() for a boot: how the machine is asked to power off. */
        MachineInit init;
        /* --private-users=, resolved by supervise() into spawn.uid_shift and spawn.uid_range;
         * for pick the range's lock (STATE_DIR/uidranges/SHIFT) is then held in
         * uid_range_lock_fd until the machine is gone (-EBADF: no lock). */
        PrivateUsers private_users;
        int uid_range_lock_fd;
        /* Set on the container's cgroup before its init runs (docs/resources.md). */
        CGroupLimits limits;
        DevicePolicyBackend device_policy;
        CGroupLayout cgroup_layout; /* asked for; _CGROUP_LAYOUT_INVALID: as the runtime picks */
        /* KillSignal=: how a stop request asks the container's PID 1 (0: SIGRTMIN+3 for a
         * boot, SIGTERM for a command); also machined's PowerOffMachine through the record. */
        int kill_signal;
        /* spawn.syscall_deny as the record has it, for sessions (supervise() fills it in). */
        const char *syscall_deny_text;
        /* Called once the container runs (after STARTED, before the handoff), with its init's
         * pid: nspawnctl-supervisor registers the box with systemd-machined there
         * (supervisor/supervisor-register.c), which needs libsystemd - the core does not
         * link it. NULL: nothing. */
        void (*on_started)(const struct SuperviseConfig *c, pid_t leader);
        /* The container's network (docs/network.md), from the settings (settings_apply(); the
         * ports point into the Settings) and, for machined's managed network, from the
         * SupervisorStart. NETWORK_HOST: the host's namespace. */
        NetworkConfig network;
        ResolvConfMode resolv_conf;
        const char *dns_stub; /* the managed network's resolv.conf for its boxes; NULL: none */
        /* What of the network to remove on the host when the container ends (runtime_prepare()
         * fills it in): also known to the light supervisor and the cleanup guard. */
        NetworkCleanup net_cleanup;
} SuperviseConfig;

/* Checks c (spawn_check()), then runs the container until it ends, forwarding the console
 * and signals. Returns the exit status to exit with (see docs/supervisor.md), or a negative
 * errno with e saying why in one line: -EEXIST when the name is taken, -ENOEXEC when the
 * tree has no init to boot. */
int supervise(const SuperviseConfig *c, Error *e);

/* The report's reason for a failure code of supervise() or of loading the settings. */
SupervisorFailure supervisor_failure_from_error(int r);

/* Exit status of a booted container that rebooted. */
#define EXIT_REBOOT 133
