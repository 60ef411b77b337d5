/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every start of a container computes the same way, whoever starts it: `nspawnctl run`
 * from its command line, nspawnctl-supervisor from machined's SupervisorStart. Settings
 * from the command line and from a .nspawn file are both a Settings; they are merged once
 * and applied to the SpawnConfig once. */

#include "error.h"
#include "settings.h"
#include "supervise.h"

/* Fields of dst that are unset (tristate -1, no list) are taken from src, which gives them
 * up: the command line wins over a settings file, as with systemd-nspawn's --settings=yes. */
void settings_merge(Settings *dst, Settings *src);

/* Points the settings-derived fields of c at s (which must outlive c). Unset tristates are
 * "no", an unset PrivateUsers= is "no" (as for systemd-nspawn). */
void settings_apply(const Settings *s, SuperviseConfig *c);

/* The strings a SuperviseConfig points at that runtime_prepare() makes. */
typedef struct RuntimeIds {
        char machine_id[33];
        char uuid[37];
        char *cgroup_path;
        char *supervise_binary;
        char *init_binary;          /* nspawnctl-init, for --as-pid2 */
        ResolvConfPlan resolv_plan; /* what spawn.resolv_conf points at */
        char **init_args;           /* host mode: the init's masks, then its parameters */
        CGroupHierarchies cgroup_hierarchies; /* what spawn.cgroup_hierarchies points at */
} RuntimeIds;

void runtime_ids_done(RuntimeIds *ids);

/* Fills in a fresh machine id and container UUID, the cgroup layout and path, the device
 * policy, the limits with their defaults, the network's cleanup, /etc/resolv.conf's plan and
 * (in the host's namespace) the init's masks of the guest's resolver and networkd, and the
 * light supervisor binary to hand over to (NULL when there is none: supervising
 * in-process). -EINVAL only for a usage error: a bad NSPAWNCTL_* environment setting, port
 * forwards without a link to the host. */
/* Checks the settings that only together can be wrong (-EBADMSG: AmbientCapability= outside
 * the bounding set, Volatile= with Ephemeral=, an unknown system call, ...), then fills in a
 * machine id and container UUID (MachineID= or a fresh one), the cgroup layout and path, the
 * device policy, the limits with their defaults, and the light supervisor binary to hand
 * over to (NULL when there is none: supervising in-process). -EINVAL only for a bad
 * NSPAWNCTL_* environment setting. */
int runtime_prepare(SuperviseConfig *c, RuntimeIds *ids, Error *e);

/* One of the project's helper programs: from the build tree when we run from it (so that a
 * build can be tested uninstalled), else from LIBEXECDIR. NULL when not executable there. */
char *runtime_find_binary(const char *name);
