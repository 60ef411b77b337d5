/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Starts a watcher for the read end of a pipe (fds[0]) that becomes the program path only
 * when it has to. Until then it is a clone(CLONE_VM) of this process: no address space is
 * made for it, which on a virtual machine with shadow page tables is the dearest part of a
 * process (and serialised across CPUs). The watcher
 *  - exits with status 0 when it reads done_byte (other bytes are skipped), once this
 *    process has exited too (or grace_msec passed): the last of the two to leave the
 *    memory tears it down, and that should not be this process, whose exit its caller
 *    waits for;
 *  - on end of file (every writer gone), or when nothing said done within grace_msec,
 *    execs path with argv (and this process's environment as it is now), with fds[i] on
 *    3+i, 0-2 on /dev/null, in a session of its own, every signal at its default,
 *    named name until then.
 * Everything it uses is copied into a mapping of its own first, which this process keeps
 * (a few pages) until it execs or exits: the watcher may still be using it. It touches no
 * memory of ours and calls no libc function, so this process may go on as if it had only
 * started a program. Returns 0 with *ret_pid set, -EOPNOTSUPP where raw system calls are not
 * known (see raw-syscall.h), -ENOENT/-EACCES when path cannot be executed, or another
 * negative errno. */
int spawn_exec_lazy(const char *path, char *const *argv, const int *fds, size_t n_fds, const char *name,
                    char done_byte, unsigned grace_msec, pid_t *ret_pid);
