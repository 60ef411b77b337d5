/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/personality.h>

#include "caps.h"
#include "config.h"
#include "cgroup-layout.h"
#include "net-veth.h"
#include "runtime.h"
#include "supervisor-contract.h"
#include "seccomp-policy.h"
#include "util/strv.h"
#include "util/util.h"

#define TAKE_IF_UNSET(dst, src)                                                            \
        do {                                                                               \
                if (!(dst))                                                                \
                        (dst) = TAKE_PTR(src);                                             \
        } while (0)
#define TAKE_TRISTATE(dst, src)                                                            \
        do {                                                                               \
                if ((dst) < 0)                                                             \
                        (dst) = (src);                                                     \
        } while (0)

static void settings_merge_exec(Settings *dst, Settings *src);

void settings_merge(Settings *dst, Settings *src) {
        if (!src)
                return;
        TAKE_TRISTATE(dst->boot, src->boot);
        TAKE_TRISTATE(dst->read_only, src->read_only);
        /* How the container is networked is one setting: any of it on the command line and
         * the file's kind is not taken (as systemd-nspawn's SETTING_NETWORK). */
        if (dst->private_network < 0 && dst->virtual_ethernet < 0 && !dst->bridge && !dst->zone) {
                dst->private_network = src->private_network;
                dst->virtual_ethernet = src->virtual_ethernet;
                dst->bridge = TAKE_PTR(src->bridge);
                dst->zone = TAKE_PTR(src->zone);
        }
        TAKE_TRISTATE(dst->resolv_conf, src->resolv_conf);
        if (dst->n_ports == 0) {
                free(dst->ports);
                dst->ports = TAKE_PTR(src->ports);
                dst->n_ports = src->n_ports;
                src->n_ports = 0;
        }
        if (dst->private_users.mode < 0)
                dst->private_users = src->private_users;
        if (dst->cgroup_layout < 0)
                dst->cgroup_layout = src->cgroup_layout;
        /* Limits key by key: the command line's over the file's. */
        CGroupLimits limits = src->limits;
        cgroup_limits_merge(&limits, &dst->limits);
        dst->limits = limits;
        TAKE_IF_UNSET(dst->parameters, src->parameters);
        TAKE_IF_UNSET(dst->environment, src->environment);
        TAKE_IF_UNSET(dst->user, src->user);
        TAKE_IF_UNSET(dst->working_directory, src->working_directory);
        TAKE_IF_UNSET(dst->tmpfs, src->tmpfs);
        if (dst->n_binds == 0) {
                free(dst->binds);
                dst->binds = TAKE_PTR(src->binds);
                dst->n_binds = src->n_binds;
                src->n_binds = 0;
        }
        settings_merge_exec(dst, src);
}

/* The keys of docs/settings.md beyond the first ones, the same way: dst's where set. */
static void settings_merge_exec(Settings *dst, Settings *src) {
        TAKE_TRISTATE(dst->ephemeral, src->ephemeral);
        TAKE_TRISTATE(dst->process_two, src->process_two);
        TAKE_TRISTATE(dst->notify_ready, src->notify_ready);
        TAKE_TRISTATE(dst->no_new_privileges, src->no_new_privileges);
        TAKE_TRISTATE(dst->suppress_sync, src->suppress_sync);
        TAKE_TRISTATE(dst->personality, src->personality);
        TAKE_TRISTATE(dst->volatile_mode, src->volatile_mode);
        TAKE_TRISTATE(dst->timezone, src->timezone);
        TAKE_TRISTATE(dst->link_journal, src->link_journal);
        if (!dst->capability_set) {
                dst->capability = src->capability;
                dst->capability_set = src->capability_set;
        }
        if (!dst->drop_capability_set) {
                dst->drop_capability = src->drop_capability;
                dst->drop_capability_set = src->drop_capability_set;
        }
        if (!dst->ambient_capability_set) {
                dst->ambient_capability = src->ambient_capability;
                dst->ambient_capability_set = src->ambient_capability_set;
        }
        /* A filter is one list as nspawn has it: the command line's, or the file's. */
        if (!dst->syscall_allow && !dst->syscall_deny) {
                dst->syscall_allow = TAKE_PTR(src->syscall_allow);
                dst->syscall_deny = TAKE_PTR(src->syscall_deny);
        }
        for (size_t i = 0; i < ELEMENTSOF(dst->rlimits.set); i++)
                if (!dst->rlimits.set[i] && src->rlimits.set[i]) {
                        dst->rlimits.set[i] = true;
                        dst->rlimits.value[i] = src->rlimits.value[i];
                }
        if (!dst->oom_score_adjust_set) {
                dst->oom_score_adjust = src->oom_score_adjust;
                dst->oom_score_adjust_set = src->oom_score_adjust_set;
        }
        if (!dst->cpu_affinity.set)
                dst->cpu_affinity = src->cpu_affinity;
        TAKE_IF_UNSET(dst->hostname, src->hostname);
        if (!dst->machine_id[0])
                memcpy(dst->machine_id, src->machine_id, sizeof dst->machine_id);
        if (dst->kill_signal == 0)
                dst->kill_signal = src->kill_signal;
        TAKE_IF_UNSET(dst->inaccessible, src->inaccessible);
        if (dst->n_overlays == 0) {
                free(dst->overlays);
                dst->overlays = TAKE_PTR(src->overlays);
                dst->n_overlays = src->n_overlays;
                src->n_overlays = 0;
        }
}

void settings_apply(const Settings *s, SuperviseConfig *sc) {
        SpawnConfig *c = &sc->spawn;

        sc->private_users = s->private_users.mode >= 0 ? s->private_users : (PrivateUsers) { .mode = PRIVATE_USERS_NO };
        sc->limits = s->limits;
        sc->cgroup_layout = s->cgroup_layout;
        c->boot = s->boot > 0;
        c->read_only = s->read_only > 0;
        c->private_network = s->private_network > 0;
        c->argv = s->parameters;
        c->environment = s->environment;
        c->user = s->user;
        c->working_directory = s->working_directory;
        c->binds = s->binds;
        c->n_binds = s->n_binds;
        c->tmpfs = s->tmpfs;

        /* Bridge= wins over Zone=, either over VirtualEthernet= (each is a veth). */
        sc->network = (NetworkConfig) { .mode = NETWORK_HOST, .ports = s->ports, .n_ports = s->n_ports };
        if (s->bridge) {
                sc->network.mode = NETWORK_BRIDGE;
                snprintf(sc->network.bridge, sizeof sc->network.bridge, "%s", s->bridge);
        } else if (s->zone && zone_bridge_ifname(s->zone, sc->network.bridge) >= 0)
                sc->network.mode = NETWORK_ZONE;
        else if (s->virtual_ethernet > 0)
                sc->network.mode = NETWORK_VETH;
        else if (s->private_network > 0)
                sc->network.mode = NETWORK_PRIVATE;
        sc->resolv_conf = s->resolv_conf >= 0 ? (ResolvConfMode) s->resolv_conf : RESOLV_CONF_AUTO;
        c->ephemeral = s->ephemeral > 0;
        c->as_pid2 = s->process_two > 0;
        c->notify = s->notify_ready >= 0 ? s->notify_ready > 0 : c->boot;
        c->hostname = s->hostname;
        c->caps_add = s->capability;
        c->caps_drop = s->drop_capability;
        c->caps_ambient = s->ambient_capability;
        c->no_new_privileges = s->no_new_privileges > 0;
        c->suppress_sync = s->suppress_sync > 0;
        c->syscall_deny = s->syscall_deny;
        c->rlimits = &s->rlimits;
        c->oom_score_adjust_set = s->oom_score_adjust_set;
        c->oom_score_adjust = s->oom_score_adjust;
        c->cpu_affinity = s->cpu_affinity.set ? &s->cpu_affinity : NULL;
        c->personality = s->personality == PERSONALITY_X86 ? PER_LINUX32 : 0;
        c->volatile_mode = s->volatile_mode >= 0 ? s->volatile_mode : VOLATILE_NO;
        c->inaccessible = s->inaccessible;
        c->overlays = s->overlays;
        c->n_overlays = s->n_overlays;
        c->timezone = s->timezone >= 0 ? s->timezone : TIMEZONE_OFF;
        c->link_journal = s->link_journal >= 0 ? s->link_journal : LINK_JOURNAL_NO;
        if (s->machine_id[0])
                c->machine_id = s->machine_id;
        sc->kill_signal = s->kill_signal;
}

/* What no single key can be wrong about, only keys together (or with the host): -EBADMSG,
 * as for a bad settings file. */
static int runtime_check_settings(const SuperviseConfig *sc, Error *e) {
        const SpawnConfig *c = &sc->spawn;
        uint64_t bounding = (caps_container_keep(c->private_network) | c->caps_add) & ~c->caps_drop;
        const char *bad = NULL;
        int r;

        if (c->caps_ambient && c->boot)
                return error_set(e, -EBADMSG,
                                 "AmbientCapability= does not go with booting an init (Boot=, --boot).");
        for (int i = 0; i < 64; i++)
                if (c->caps_ambient & ~bounding & (UINT64_C(1) << i))
                        return error_set(e, -EBADMSG, "AmbientCapability=%s is not in the bounding set "
                                         "(add it with Capability=).", strna(capability_to_name(i)));
        if (c->volatile_mode != VOLATILE_NO && c->ephemeral)
                return error_set(e, -EBADMSG, "Volatile= and Ephemeral= do not go together: both make the "
                                 "tree throwaway.");
        if (c->boot && c->as_pid2)
                return error_set(e, -EBADMSG,
                                 "ProcessTwo= does not go with booting an init (Boot=, --boot).");
        r = seccomp_check_names(c->syscall_deny, &bad);
        if (r == -EINVAL)
                return error_set(e, -EBADMSG, "SystemCallFilter=: no system call \"%s\" on this "
                                 "architecture.", strna(bad));
        if (r < 0)
                return error_set(e, r, "Failed to check SystemCallFilter=: %m");
        return 0;
}

/* A booted systemd in the host's namespace must leave the host's network alone: no resolved
 * stub or LLMNR on the host's ports, no networkd on the host's links. PID 1 in a container
 * reads its arguments like a kernel command line. */
static const char *const host_network_masks[] = {
        "systemd.mask=systemd-resolved.service",
        "systemd.mask=systemd-networkd.service",
        "systemd.mask=systemd-networkd.socket",
        "systemd.mask=systemd-networkd-wait-online.service",
};

/* The network part of runtime_prepare(): checks the combination, and fills in the private
 * namespace flag, what to clean up, the resolv.conf plan and the init's arguments. */
static int network_prepare(SuperviseConfig *c, RuntimeIds *ids, Error *e) {
        NetworkConfig *n = &c->network;
        _cleanup_(error_done) Error why = ERROR_NULL;
        ResolvConfPaths paths;
        int r;

        if (n->have_loopback6 && n->mode != NETWORK_BRIDGE)
                return error_set(e, -EINVAL, "The ::1 forwards of the managed network need its bridge.");
        if (n->n_ports > 0 && n->mode != NETWORK_VETH && n->mode != NETWORK_BRIDGE &&
            n->mode != NETWORK_ZONE)
                return error_set(e, -EINVAL,
                                 "Port forwards need a private network with a link to the host: "
                                 "--network-veth, --network-bridge= or --network-zone= (VirtualEthernet=, "
                                 "Bridge=, Zone=).");
        c->spawn.private_network = network_config_is_private(n);
        c->net_cleanup = (NetworkCleanup) {};
        if (c->spawn.private_network)
                network_config_cleanup(n, c->spawn.machine, &c->net_cleanup);

        resolv_conf_paths_default(&paths, c->dns_stub);
        r = resolv_conf_plan(c->resolv_conf, c->spawn.private_network, c->spawn.read_only, &paths,
                             &ids->resolv_plan, &why);
        if (r == -ENOMEM)
                return error_set(e, r, "Out of memory.");
        /* Copying onto a read-only tree is a combination of options that cannot work (a usage
         * error); a source this host lacks is not. */
        if (r < 0)
                return error_set(e, r == -EROFS ? -EINVAL : r == -EINVAL ? -EBADMSG : r, "%s",
                                 why.message ?: "Failed to plan /etc/resolv.conf.");
        c->spawn.resolv_conf = ids->resolv_plan.action != RESOLV_ACTION_NONE ? &ids->resolv_plan : NULL;

        if (c->spawn.boot && !c->spawn.private_network) {
                for (size_t i = 0; i < ELEMENTSOF(host_network_masks); i++)
                        if (strv_extend(&ids->init_args, host_network_masks[i]) < 0)
                                return error_set(e, -ENOMEM, "Out of memory.");
                if (strv_extend_strv(&ids->init_args, c->spawn.argv) < 0)
                        return error_set(e, -ENOMEM, "Out of memory.");
                c->spawn.argv = ids->init_args;
        }
        return 0;
}

void runtime_ids_done(RuntimeIds *ids) {
        ids->cgroup_path = mfree(ids->cgroup_path);
        ids->supervise_binary = mfree(ids->supervise_binary);
        ids->init_binary = mfree(ids->init_binary);
        resolv_conf_plan_done(&ids->resolv_plan);
        ids->init_args = strv_free(ids->init_args);
}

/* The cgroup layout the container gets: --cgroup-layout= or CGroupLayout=, else
 * NSPAWNCTL_CGROUP_MODE (the default for every run of a process, e.g. machined's), else
 * chosen by the guest's systemd version (core/cgroup-layout.h). */
static int container_cgroup_mode(CGroupLayout requested, const char *directory, CGroupMode *ret, Error *e) {
        const char *env = getenv("NSPAWNCTL_CGROUP_MODE");
        unsigned guest = 0;
        int r;

        if (requested < 0 && !isempty(env)) {
                requested = cgroup_layout_from_string(env);
                if (requested < 0)
                        return error_set(e, -EINVAL, "Invalid NSPAWNCTL_CGROUP_MODE=%s: use auto, unified, hybrid or legacy.",
                                         env);
        }
        if (requested < 0)
                requested = CGROUP_LAYOUT_AUTO;
        r = cgroup_layout_resolve(requested, directory, ret, &guest);
        if (r == -EOPNOTSUPP && requested == CGROUP_LAYOUT_AUTO)
                return error_set(e, r, "The tree's systemd %u needs the unified cgroup layout, but this host has no cgroup2 hierarchy.",
                                 guest);
        if (r == -EOPNOTSUPP)
                return error_set(e, r, "The %s cgroup layout is not possible on this host.", cgroup_layout_to_string(requested));
        if (r < 0)
                return error_set(e, r, "Failed to find out how cgroups are mounted on this host: %m");
        return 0;
}

int runtime_prepare(SuperviseConfig *c, RuntimeIds *ids, Error *e) {
        char *h = ids->machine_id;
        int r;

        r = runtime_check_settings(c, e);
        if (r < 0)
                return r;
        /* MachineID= (settings_apply() pointed at it) is also the container's UUID. */
        if (c->spawn.machine_id)
                memcpy(ids->machine_id, c->spawn.machine_id, sizeof ids->machine_id);
        else if (id128_random_hex(ids->machine_id) < 0)
                return error_set(e, -EIO, "Failed to generate a machine id.");
        snprintf(ids->uuid, sizeof ids->uuid, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
        r = container_cgroup_mode(c->cgroup_layout, c->spawn.directory, &c->spawn.cgroup_mode, e);
        if (r < 0)
                return r;
        if (device_policy_backend_from_env(&c->device_policy) < 0)
                return error_set(e, -EINVAL, "Invalid NSPAWNCTL_DEVICE_POLICY=%s: use auto, v1 or bpf.",
                                 getenv("NSPAWNCTL_DEVICE_POLICY"));
        /* Before anything exists: a limit this host cannot apply is refused. */
        CGroupLimitType failed = _CGROUP_LIMIT_TYPE_INVALID;
        const char *reason = NULL;
        cgroup_limits_fill_defaults(&c->limits);
        /* Read once for the whole start (the cgroups, the limits, the device policy). */
        r = cgroup_hierarchies_load(&ids->cgroup_hierarchies);
        if (r < 0)
                return error_set(e, r, "Failed to find the cgroup hierarchies: %m");
        c->spawn.cgroup_hierarchies = &ids->cgroup_hierarchies;
        r = cgroup_limits_check(c->spawn.cgroup_hierarchies, &c->limits, &failed, &reason);
        if (r < 0) /* not the caller's usage error: this host cannot do it */
                return error_set(e, r == -EINVAL ? -EOPNOTSUPP : r, "Cannot apply %s=: %s.", strna(cgroup_limit_type_to_string(failed)), strna(reason));
        r = network_prepare(c, ids, e);
        if (r < 0)
                return r;
        r = cgroup_path_for_container(c->spawn.machine, &ids->cgroup_path);
        if (r < 0)
                return error_set(e, r, "Out of memory.");
        ids->supervise_binary = runtime_find_binary("nspawnctl-supervisor-light");
        if (c->spawn.as_pid2)
                ids->init_binary = runtime_find_binary(SUPERVISOR_INIT_NAME);

        c->spawn.machine_id = ids->machine_id;
        c->spawn.uuid = ids->uuid;
        c->spawn.cgroup_path = ids->cgroup_path;
        c->supervise_binary = ids->supervise_binary;
        c->spawn.init_binary = ids->init_binary;
        return 0;
}

char *runtime_find_binary(const char *name) {
        char self[PATH_MAX];
        ssize_t n;
        char *p;

        n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                self[n] = 0;
                if (startswith(self, BUILD_ROOT "/")) {
                        p = strjoin(BUILD_ROOT, "/supervisor/", name);
                        if (p && access(p, X_OK) >= 0)
                                return p;
                        free(p);
                }
        }
        p = strjoin(LIBEXECDIR, "/", name);
        if (p && access(p, X_OK) >= 0)
                return p;
        free(p);
        return NULL;
}
