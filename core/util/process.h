/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Waits for pid, returns its exit code, or 128+signal if it was killed. */
int wait_for_terminate(pid_t pid, int *ret_status);
int pidfd_open_safe(pid_t pid);
/* Field 22 of /proc/PID/stat: with the pid, it names one process for good. */
int proc_start_time(pid_t pid, uint64_t *ret);
/* Opens a pidfd for pid and checks it is the process that started at start_time and has not
 * exited. -ESRCH when it is gone or the pid now belongs to another process. */
int pidfd_open_verified(pid_t pid, uint64_t start_time);
int pidfd_send_signal_safe(int pidfd, int sig);

typedef enum ForkFlags {
        FORK_RESET_SIGNALS = 1 << 0, /* default dispositions, empty mask */
        FORK_CLOSE_ALL_FDS = 1 << 1, /* every fd >= 3 but the listed ones */
        FORK_DEATHSIG = 1 << 2,      /* SIGKILL when the parent dies */
        FORK_DEATHSIG_SIGTERM = 1 << 6, /* SIGTERM when the parent dies (a tool may clean up) */
        FORK_NEW_SESSION = 1 << 3,   /* setsid(): no controlling tty, own process group */
        FORK_NULL_STDIO = 1 << 4,    /* 0, 1 and 2 on /dev/null */
        FORK_WAIT = 1 << 5,          /* the parent waits; returns -EPROTO on a non-zero exit */
} ForkFlags;

/* fork() with the usual preparation of the child done in one place. Returns 0 in the child,
 * 1 in the parent (with *ret_pid and, when asked for, a pidfd of the child set), or a
 * negative errno. A child that cannot be prepared exits with status 127 at once. except_fds
 * are kept by FORK_CLOSE_ALL_FDS (and lose O_CLOEXEC nowhere: callers decide what survives
 * an exec). */
int safe_fork_full(const char *name, const int *except_fds, size_t n_except, ForkFlags flags, pid_t *ret_pid,
                   int *ret_pidfd);
/* safe_fork_full() without a pidfd for the child. */
static inline int safe_fork(const char *name, const int *except_fds, size_t n_except, ForkFlags flags,
                            pid_t *ret_pid) {
        return safe_fork_full(name, except_fds, n_except, flags, ret_pid, NULL);
}

/* A stack for a clone() child: size bytes (a multiple of the page size), reserved only as
 * they are used, above a page that faults, so that an overflow stops there instead of
 * writing into whatever lies below. Returns its lowest byte (its top is that + size), or
 * MAP_FAILED with errno set. */
void *stack_new(size_t size);
void stack_free(void *stack, size_t size);

/* Copies fds (up to the first negative entry) to numbers >= min, O_CLOEXEC, into high:
 * what a child that moves them to fixed numbers needs, so that no source is another one's
 * target. Returns how many, or a negative errno with nothing left open. */
int fds_dup_above(const int *fds, size_t n_fds, int min, int *high);

/* Starts path with argv without a copy of this process: posix_spawn(), which shares our
 * memory until the exec instead of copying it, so neither side pays the copy-on-write faults
 * a fork() of a process with many libraries costs. fds[i] becomes fd 3+i in the new
 * program (negative entries are left out and end the list) and every other fd >= 3 is
 * closed; FORK_RESET_SIGNALS, FORK_NEW_SESSION and FORK_NULL_STDIO mean what they mean for
 * safe_fork(), other flags are refused. Returns 0 with *ret_pid set, or a negative errno
 * (including the exec's own failure). */
int spawn_exec(const char *path, char *const *argv, const int *fds, size_t n_fds, ForkFlags flags,
               pid_t *ret_pid);
