/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct sock_filter;

/* Loads the container's system call filter into the calling process: kernel interfaces
 * that are not namespaced (keyrings, bpf, kexec, modules, perf, open_by_handle_at, ...)
 * fail with EPERM, and the TIOCSTI/TIOCLINUX ioctls with any upper 32 bits fail too.
 * Installed for the native ABI and its compat ABIs (x86, x32) so a 32-bit binary cannot
 * step around it. extra_deny (SystemCallFilter=~..., names and @groups) fail with EPERM
 * too; suppress_sync (SuppressSync=) turns the sync calls into no-ops. Nothing can take a
 * call off the deny-list. */
int seccomp_load_container_filter(char **extra_deny, bool suppress_sync);

/* The same filter as a BPF program, built ahead of the moment it is loaded: the container's
 * first process builds it while the setup process still mounts its file systems. */
typedef struct SeccompProgram {
        struct sock_filter *insns;
        size_t n_insns;
} SeccompProgram;
int seccomp_build_container_filter(char **extra_deny, bool suppress_sync, SeccompProgram *ret);
/* Loads a built program into the calling process, as seccomp_load_container_filter() does. */
int seccomp_program_load(const SeccompProgram *p);
void seccomp_program_done(SeccompProgram *p);
/* Whether every name among words (@groups are skipped) is a system call of the native or a
 * compat architecture; -EINVAL with *ret_bad pointing at the first that is not. */
int seccomp_check_names(char **words, const char **ret_bad);

/* The deny-list itself: seccomp_denied_syscalls in syscall-sets.h. */
#include "syscall-sets.h"
