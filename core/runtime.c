/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cgroup-layout.h"
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
        TAKE_TRISTATE(dst->private_network, src->private_network);
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
}

void runtime_ids_done(RuntimeIds *ids) {
        ids->cgroup_path = mfree(ids->cgroup_path);
        ids->supervise_binary = mfree(ids->supervise_binary);
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
