/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* Helpers to run the external tools the image code needs (mkfs.btrfs, tar, compressors,
 * debootstrap) as children: a fixed PATH and locale instead of the caller's environment,
 * only fds 0-2 open, the default signal dispositions, and killed with the parent. */

enum {
        EXEC_FD_NULL = -1,    /* /dev/null */
        EXEC_FD_INHERIT = -2, /* keep the parent's fd with the same number */
};

/* Starts argv[0] (looked up in the fixed PATH). fds are what becomes the child's 0, 1 and
 * 2. extra_env (may be NULL) is added to the clean environment. On success *ret_pid is
 * the child, which has already passed exec(); an exec failure is returned as its errno. */
int exec_spawn(char *const argv[], char *const extra_env[], const int fds[3], pid_t *ret_pid);

/* The same, in a mount namespace of the child's own where the directory tree (inside the
 * pool, which is mounted nodev,nosuid) is a bind mount of itself without nodev and nosuid:
 * for a tool that builds an OS tree there and runs its programs in it (debootstrap). */
int exec_spawn_in_tree(char *const argv[], char *const extra_env[], const int fds[3], const char *tree,
                       pid_t *ret_pid);

/* exec_spawn() and wait. Returns 0 on exit status 0, -EPROTO if the command failed (the
 * exit status is stored in *ret_status if given). */
int exec_run(char *const argv[], char *const extra_env[], const int fds[3], int *ret_status);

/* Waits for pid; 0 on exit status 0, -EPROTO otherwise. */
int exec_wait(pid_t pid, int *ret_status);
