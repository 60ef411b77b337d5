/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
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

/* The layout the container gets: the host's, or NSPAWNCTL_CGROUP_MODE (like
 * SYSTEMD_NSPAWN_UNIFIED_HIERARCHY) where the host allows it. */
static int container_cgroup_mode(CGroupMode *ret, Error *e) {
        const char *mode = getenv("NSPAWNCTL_CGROUP_MODE");
        CGroupMode m;
        int r;

        r = cgroup_detect_mode(ret);
        if (r < 0)
                return error_set(e, r, "Failed to find out how cgroups are mounted on this host: %m");
        if (isempty(mode))
                return 0;
        m = cgroup_mode_from_string(mode);
        if (m < 0)
                return error_set(e, -EINVAL, "Invalid NSPAWNCTL_CGROUP_MODE=%s: use unified, hybrid or legacy.", mode);
        if (cgroup_mode_supported(m) < 0)
                return error_set(e, -EOPNOTSUPP, "NSPAWNCTL_CGROUP_MODE=%s is not possible on this host.", mode);
        *ret = m;
        return 0;
}

int runtime_prepare(SuperviseConfig *c, RuntimeIds *ids, Error *e) {
        char *h = ids->machine_id;
        int r;

        if (id128_random_hex(ids->machine_id) < 0)
                return error_set(e, -EIO, "Failed to generate a machine id.");
        snprintf(ids->uuid, sizeof ids->uuid, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
        r = container_cgroup_mode(&c->spawn.cgroup_mode, e);
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
