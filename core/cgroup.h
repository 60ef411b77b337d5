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

/* One mounted cgroup hierarchy of the host, directly below /sys/fs/cgroup (or
 * /sys/fs/cgroup itself on a cgroup2 host). */
typedef struct CGroupHierarchy {
        char mount_point[96];  /* "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified", ... */
        char controllers[160]; /* v1: "memory", "cpu,cpuacct", "name=systemd"; v2: the root's
                                * cgroup.controllers ("cpu io memory pids"), maybe empty */
        bool unified;          /* cgroup2 */
} CGroupHierarchy;

#define CGROUP_HIERARCHIES_MAX 24

typedef struct CGroupHierarchies {
        CGroupHierarchy h[CGROUP_HIERARCHIES_MAX];
        size_t n;
} CGroupHierarchies;

/* Reads /proc/self/mountinfo: every v1 and v2 hierarchy mounted at /sys/fs/cgroup/NAME or
 * /sys/fs/cgroup, each once (co-mounted controllers reached through symlinks are one). */
int cgroup_hierarchies_load(CGroupHierarchies *ret);
/* given, or else the hierarchies read into buf: for the functions below, which take the set
 * a runtime read once at its start (mountinfo is read and parsed in 35 us here, some ten
 * times per start otherwise), or NULL to read it themselves (machined, tools, a supervisor
 * that was handed a machine over). */
int cgroup_hierarchies_get(const CGroupHierarchies *given, CGroupHierarchies *buf,
                           const CGroupHierarchies **ret);
/* The v1 hierarchy that has controller ("memory", "name=systemd"), or NULL. */
const CGroupHierarchy *cgroup_hierarchies_find_v1(const CGroupHierarchies *hs, const char *controller);
/* The cgroup2 hierarchy, or NULL. */
const CGroupHierarchy *cgroup_hierarchies_unified(const CGroupHierarchies *hs);
/* Whether a list of controllers as found in CGroupHierarchy.controllers (',' or ' '
 * separated) names controller exactly ("cpu" is not "cpuacct"). */
bool cgroup_controllers_have(const char *list, const char *controller);

/* The container's processes live one level below its cgroup, in PATH/payload: that is the
 * root of its cgroup namespace. Limits and the device policy are set on PATH itself,
 * which the container cannot see, so container root cannot raise them by writing to its
 * own cgroup's files (cgroup v1 has no delegation boundary), and on cgroup2 PATH can
 * hold controllers while its child holds the processes. */
#define CGROUP_PAYLOAD "payload"

/* PATH is relative to the hierarchy roots, e.g. "/nspawnctl/box". The container gets its
 * own cgroup PATH in every hierarchy the host has mounted (each v1 controller, name=systemd
 * and cgroup2), whatever layout it sees inside, so that the root of its cgroup
 * namespace is its own everywhere: a v1 hierarchy mounted inside never shows the host's
 * root (release_agent), and limits can be set through whichever controller the host has.
 * v1 cpuset cgroups get their parent's cpus and mems; on cgroup2 the parents delegate
 * cpu, io, memory and pids where the host has them. A PATH left over by a supervisor that
 * was killed is reused if nothing lives in it; -EEXIST otherwise. */
int cgroup_create(const CGroupHierarchies *hs, const char *path);
/* Creates PATH/payload in every hierarchy (after the limits and device policy were set
 * on PATH: a v1 devices cgroup can only be restricted while it has no children) and
 * moves pid there. */
int cgroup_attach(const CGroupHierarchies *hs, const char *path, pid_t pid);
/* For a container in its own user namespace: its root (uid, gid as the host sees them) gets
 * PATH/payload and the files that make a delegated subtree (cgroup.procs, cgroup.threads,
 * cgroup.subtree_control, tasks) in the hierarchies it may write - cgroup2 and
 * name=systemd, as systemd-nspawn does -, so a systemd inside can manage its cgroups.
 * Never PATH itself, whose files hold the limits and the device policy; never a v1
 * controller. Call it after cgroup_attach(), before the container runs. */
int cgroup_delegate_payload(const CGroupHierarchies *hs, const char *path, uid_t uid, gid_t gid);
/* Removes PATH and everything below it (depth first) in every hierarchy, and the shared
 * parent once the last container is gone. Processes must be gone: returns -EBUSY while
 * some remain. Also what the cleanup guard runs after a supervisor was killed. */
int cgroup_remove(const CGroupHierarchies *hs, const char *path);
/* Pids of all processes whose cgroup (in any hierarchy, read from /proc/PID/cgroup) is
 * cgroup or below it. */
int cgroup_list_pids(const char *cgroup, pid_t **ret, size_t *ret_n);
/* Whether the process pid is in cgroup or below it (in any hierarchy). */
bool cgroup_contains_pid(const char *cgroup, pid_t pid);
/* The cgroup path of a machine: "/nspawnctl/NAME". */
int cgroup_path_for_container(const char *machine, char **ret);

/* Called inside the container's mount and cgroup namespaces, before pivot_root: mounts
 * /sys/fs/cgroup under root_fd the way systemd inside expects for this mode. */
int cgroup_mount_in_container(const CGroupHierarchies *hs, CGroupMode mode, int root_fd);
