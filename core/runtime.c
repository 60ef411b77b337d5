/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cgroup-layout.h"
#include "net-veth.h"
#include "runtime.h"
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
        _cleanup_free_ char *why = NULL;
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
                                 why ?: "Failed to plan /etc/resolv.conf.");
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

        if (id128_random_hex(ids->machine_id) < 0)
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
        r = cgroup_limits_check(&c->limits, &failed, &reason);
        if (r < 0) /* not the caller's usage error: this host cannot do it */
                return error_set(e, r == -EINVAL ? -EOPNOTSUPP : r, "Cannot apply %s=: %s.", strna(cgroup_limit_type_to_string(failed)), strna(reason));
        r = network_prepare(c, ids, e);
        if (r < 0)
                return r;
        r = cgroup_path_for_container(c->spawn.machine, &ids->cgroup_path);
        if (r < 0)
                return error_set(e, r, "Out of memory.");
        ids->supervise_binary = runtime_find_binary("nspawnctl-supervisor-light");

        c->spawn.machine_id = ids->machine_id;
        c->spawn.uuid = ids->uuid;
        c->spawn.cgroup_path = ids->cgroup_path;
        c->supervise_binary = ids->supervise_binary;
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
