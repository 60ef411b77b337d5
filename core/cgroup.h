/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef enum CGroupMode {
        CGROUP_UNIFIED, /* /sys/fs/cgroup is cgroup2 */
        CGROUP_HYBRID,  /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
        CGROUP_LEGACY,  /* v1 only, name=systemd hierarchy for tracking */
        _CGROUP_MODE_MAX,
        _CGROUP_MODE_INVALID = -EINVAL,
} CGroupMode;

const char *cgroup_mode_to_string(CGroupMode m);
CGroupMode cgroup_mode_from_string(const char *s);

int cgroup_detect_mode(CGroupMode *ret);
/* Can a container get this layout on this host? (unified works wherever a cgroup2
 * hierarchy is mounted, also on a hybrid host; legacy on a hybrid host.) */
int cgroup_mode_supported(CGroupMode mode);

/* PATH is relative to the hierarchy roots, e.g. "/nspawnctl/box". The container gets its
 * own cgroup in each hierarchy systemd uses for tracking (cgroup2 and/or name=systemd);
 * that subtree is the root of its cgroup namespace and the only part it may write. */
int cgroup_create(CGroupMode mode, const char *path);
int cgroup_attach(CGroupMode mode, const char *path, pid_t pid);
/* Hands PATH in the tracking hierarchies to uid:gid (a container's root in its user
 * namespace), so that systemd inside can manage the subtree. */
int cgroup_delegate(CGroupMode mode, const char *path, uid_t uid, gid_t gid);
/* Removes PATH and everything the container created below it (depth first). Processes
 * must be gone: returns -EBUSY while some remain. */
int cgroup_remove(CGroupMode mode, const char *path);
/* Pids of all processes whose cgroup (in any hierarchy, read from /proc/PID/cgroup) is
 * cgroup or below it. */
int cgroup_list_pids(const char *cgroup, pid_t **ret, size_t *ret_n);
/* Whether the process pid is in cgroup or below it (in any hierarchy). */
bool cgroup_contains_pid(const char *cgroup, pid_t pid);
/* The cgroup path of a machine: "/nspawnctl/NAME". */
int cgroup_path_for_container(const char *machine, char **ret);

/* Called inside the container's mount and cgroup namespaces, before pivot_root: mounts
 * /sys/fs/cgroup under root_fd the way systemd inside expects for this mode. */
int cgroup_mount_in_container(CGroupMode mode, int root_fd);
