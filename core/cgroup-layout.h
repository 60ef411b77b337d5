/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>

#include "cgroup.h"

/* Which cgroup layout a container sees inside: chosen per guest, since systemd 256 and
 * later refuse cgroup v1 while old ones cannot run on a pure cgroup2 tree. */
typedef enum CGroupLayout {
        CGROUP_LAYOUT_AUTO, /* by the guest's systemd version, as systemd-nspawn does */
        CGROUP_LAYOUT_UNIFIED,
        CGROUP_LAYOUT_HYBRID,
        CGROUP_LAYOUT_LEGACY,
        _CGROUP_LAYOUT_MAX,
        _CGROUP_LAYOUT_INVALID = -EINVAL,
} CGroupLayout;

const char *cgroup_layout_to_string(CGroupLayout l);
CGroupLayout cgroup_layout_from_string(const char *s);

/* The first systemd version that refuses cgroup v1, and the first that knows the hybrid
 * layout (older ones get legacy on a hybrid host). */
#define SYSTEMD_VERSION_UNIFIED_ONLY 256
#define SYSTEMD_VERSION_HYBRID 232

/* The systemd version of the tree at directory: the highest N of the
 * libsystemd-shared-N*.so names in its usr/lib/systemd, lib/systemd, usr/lib64/systemd and
 * usr/lib/TRIPLET/systemd directories, resolved inside the tree (a symlink never leads out
 * of it) and only listed, never opened. 0 when there is none (no systemd, or an old one
 * without the shared library). */
int guest_systemd_version(const char *directory, unsigned *ret);

/* The layout for a container: requested if the host can give it (-EOPNOTSUPP if not);
 * for CGROUP_LAYOUT_AUTO unified on a cgroup2 host and for a guest systemd >= 256 (which
 * needs a cgroup2 hierarchy on the host: -EOPNOTSUPP without), legacy for a systemd older
 * than 232 on a hybrid host, else the host's own. unified_possible: the host has a cgroup2
 * hierarchy. Pure, for the unit test; cgroup_layout_resolve() asks the host. */
int cgroup_layout_pick(CGroupLayout requested, CGroupMode host, bool unified_possible,
                       unsigned guest_systemd, CGroupMode *ret);
int cgroup_layout_resolve(CGroupLayout requested, const char *directory, CGroupMode *ret,
                          unsigned *ret_guest_systemd);
