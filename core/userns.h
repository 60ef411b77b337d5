/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* User namespaces for containers: the --private-users= / PrivateUsers= value, the choice
 * and locking of a per-machine UID range ("pick"), and the user namespaces that ID-mapped
 * mounts are made with. libc only: the static supervisor releases range locks too. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum PrivateUsersMode {
        PRIVATE_USERS_NO,       /* no user namespace: container root is host root */
        PRIVATE_USERS_YES,      /* the range starts at the owner of the tree's root directory */
        PRIVATE_USERS_PICK,     /* a free 65536-UID range, the same one for a name each start */
        PRIVATE_USERS_IDENTITY, /* 0:65536, capabilities isolated, UIDs not */
        PRIVATE_USERS_FIXED,    /* UID[:COUNT] */
        _PRIVATE_USERS_MODE_MAX,
        _PRIVATE_USERS_MODE_INVALID = -EINVAL,
} PrivateUsersMode;

typedef struct PrivateUsers {
        PrivateUsersMode mode;
        uid_t shift;    /* first host UID of the range (FIXED; IDENTITY: 0) */
        uint32_t range; /* number of UIDs (FIXED; the other modes: USERNS_RANGE_DEFAULT) */
} PrivateUsers;

#define USERNS_RANGE_DEFAULT UINT32_C(0x10000)
/* systemd-nspawn's window for picked ranges: above the host's ordinary users, below the
 * ranges other tools hand out, each range aligned to 65536. */
#define USERNS_PICK_MIN UINT32_C(0x00080000)
#define USERNS_PICK_MAX UINT32_C(0x6FFF0000)
#define USERNS_PICK_SLOTS ((USERNS_PICK_MAX - USERNS_PICK_MIN) / USERNS_RANGE_DEFAULT)

/* "no"/"false"/..., "yes"/"true"/..., "pick", "identity" or "UID[:COUNT]" (decimal; COUNT
 * defaults to 65536, must be > 0, and the range may not reach UID 4294967295). Digits alone
 * are a UID, never a boolean. -EINVAL on anything else (empty included). */
int private_users_parse(const char *s, PrivateUsers *ret);
#define PRIVATE_USERS_STRING_MAX 24
/* The form private_users_parse() reads back: "no", "yes", "pick", "identity", "UID:COUNT". */
const char *private_users_to_string(const PrivateUsers *p, char buf[static PRIVATE_USERS_STRING_MAX]);

/* Candidate i (0, 1, ...) of the range picked for machine: a hash of the name gives the first
 * slot of the window, the next ones follow it, wrapping around. */
uid_t uid_range_candidate(const char *machine, unsigned i);
/* Whether an /etc/passwd or /etc/group text has an entry whose third field (UID or GID) lies
 * in [base, base + n). Lines that do not parse are skipped. */
bool user_db_has_id_in(const char *text, uid_t base, uint32_t n);

/* Picks the range for machine: the first candidate that no line of passwd or group (texts
 * of the host's /etc/passwd and /etc/group) uses and whose lock STATE_DIR/uidranges/BASE
 * nobody holds, and takes that lock (flock, held by *ret_lock_fd). -EBUSY when every slot
 * is taken. */
int uid_range_pick(const char *state_dir, const char *machine, const char *passwd, const char *group,
        uid_t *ret_base, int *ret_lock_fd);
/* Removes the lock file (when fd still is the file at its path) and closes fd. */
void uid_range_release(const char *state_dir, uid_t base, int fd);
char *uid_range_lock_path(const char *state_dir, uid_t base);

/* Reads a host user database (/etc/passwd, /etc/group): a regular file only, at most 16 MiB,
 * never through NSS. */
int user_db_read(const char *path, char **ret);

/* A user namespace (an O_RDONLY fd of it) mapping n UIDs from uid_inside to uid_outside and n
 * GIDs from gid_inside to gid_outside, for an ID-mapped mount: a short-lived child is made
 * with CLONE_NEWUSER, its maps written, its namespace opened. */
int userns_new_fd(
        uid_t uid_inside, uid_t uid_outside, gid_t gid_inside, gid_t gid_outside, uint32_t n, int *ret_fd);
/* Writes "0 shift range" to /proc/PID/uid_map and gid_map (dir_fd: /proc/PID). */
int userns_write_maps(int proc_pid_fd, uid_t shift, uint32_t range);

/* A detached copy of the mount tree at source_fd (recursive: with its submounts), ID-mapped
 * with userns_fd (-EBADF: not mapped) and given attr_set (MOUNT_ATTR_*), to be attached with
 * move_mount(). -EOPNOTSUPP when a file system in it does not support ID-mapped mounts. */
int mount_clone_idmapped(int source_fd, bool recursive, int userns_fd, uint64_t attr_set, int *ret_fd);
/* A new, detached mount of fstype with options ("a=b,c", as for mount(8)) and MOUNT_ATTR_*
 * attr_set, made through fsopen()/fsmount(): no path is looked up. */
int mount_new_detached(const char *fstype, const char *options, uint64_t attr_set, int *ret_fd);
/* Attaches a detached tree (mount_clone_idmapped()) on top of target_fd. */
int mount_move_onto(int tree_fd, int target_fd);

/* For a tmpfs mounted for a container whose root is host UID shift: "uid=N"/"gid=N" in
 * options (container IDs, N < range) become host IDs, and uid=/gid= of the container's
 * root are added when absent. -ERANGE for an ID outside the range, -EINVAL for a bad
 * number. options may be NULL. */
int tmpfs_options_shift(const char *options, uid_t shift, uint32_t range, char **ret);
