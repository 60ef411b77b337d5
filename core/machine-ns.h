/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What machined reaches of a running machine through its init process (leader + start
 * time, as the machine record names it, so that a recycled pid is never used): its root
 * directory as the guest sees it (its mount namespace: binds and tmpfs included), its
 * network namespace, its user namespace mapping, and live bind mounts into it. None of
 * these logs; the ones that fork report the child's errno and a message. */

/* O_PATH fd of /proc/LEADER/root: paths resolved below it walk the machine's own mount
 * namespace. Checked after opening that the leader is still the one meant (-ESRCH). */
int machine_open_root(pid_t leader, uint64_t leader_start, int *ret_fd);
/* The same, as a directory fd one can read (O_RDONLY): for a client that asked for it. */
int machine_open_root_directory(pid_t leader, uint64_t leader_start, int *ret_fd);
/* The same for /proc/LEADER/ns/NAME ("net", "mnt", "user"). */
int machine_open_ns(pid_t leader, uint64_t leader_start, const char *name, int *ret_fd);

/* The host uid that root of the machine is (the machine1 "UID shift"): 0 without a user
 * namespace, else the start of the range its uid_map maps 0 to. -EBADR for a mapping that is
 * not one range starting at 0, or whose gid_map differs. */
int machine_uid_shift(pid_t leader, uint64_t leader_start, uint32_t *ret);
/* Parses a uid_map/gid_map text into the shift it means (see above); exported for tests. */
int uid_map_parse_shift(const char *text, uint32_t *ret);

/* Translates id through a uid_map/gid_map text: from inside the namespace to the host
 * (to_host), or back. -ESRCH when no range of the map holds it. */
int id_map_translate(const char *text, uint32_t id, bool to_host, uint32_t *ret);
/* Reads /proc/LEADER/uid_map (gid: gid_map), checking the leader as machine_open_root(). */
int machine_read_id_map(pid_t leader, uint64_t leader_start, bool gid, char **ret);

typedef enum MachineBindFlags {
        MACHINE_BIND_READ_ONLY = 1 << 0,
        MACHINE_BIND_MKDIR = 1 << 1, /* create the destination (and its parents) if missing */
} MachineBindFlags;

/* Binds the host path source onto destination inside the running machine: the tree is
 * cloned on the host (open_tree), made read-only if asked, and moved into the machine's
 * mount namespace by a forked child that resolved destination inside the machine's root
 * (never through a symlink out of it; a destination that is itself a symlink is refused
 * with -ELOOP). A directory goes onto a directory, anything else onto a non-directory
 * (-ENOTDIR/-EISDIR otherwise). On failure error (if not NULL) gets a line. */
int machine_bind_mount(pid_t leader, uint64_t leader_start, const char *source, const char *destination,
                       MachineBindFlags flags, char *error, size_t error_size);
