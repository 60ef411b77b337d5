/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Loads the container's system call filter into the calling process: kernel interfaces
 * that are not namespaced (keyrings, bpf, kexec, modules, perf, open_by_handle_at, ...)
 * fail with EPERM, and the TIOCSTI/TIOCLINUX ioctls with any upper 32 bits fail too.
 * Installed for the native ABI and its compat ABIs (x86, x32) so a 32-bit binary cannot
 * step around it. */
int seccomp_load_container_filter(void);

/* The names of the denied system calls, NULL-terminated (for tests and documentation). */
extern const char *const seccomp_denied_syscalls[];
