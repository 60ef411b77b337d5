/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* System call names as data, libc only: the project's deny-list (what seccomp-policy.c
 * loads into every container) and the "@group" names of SystemCallFilter=, with the same
 * meaning as in systemd.exec(5) for the groups listed here. settings.c checks a filter
 * against them once, when it parses it; seccomp-policy.c resolves them when it loads. */

#include <stdbool.h>

/* The names of the denied system calls, NULL-terminated (for tests and documentation). */
extern const char *const seccomp_denied_syscalls[];

/* The members of "@name" (name given with the '@'), NULL-terminated, or NULL for a group
 * this project does not know. */
const char *const *syscall_group_lookup(const char *name);
/* The known group names, NULL-terminated, for messages. */
extern const char *const syscall_group_names[];

/* Whether word is a plausible system call name ([a-z0-9_], at most 64 bytes) or a known
 * "@group". Whether the kernel knows the name is for libseccomp to say. */
bool syscall_word_is_valid(const char *word);

/* Whether the project's deny-list holds name, or (for "@group") any member of the group. */
bool syscall_word_is_denied(const char *word);

/* Calls f for every system call name word stands for: itself, or a group's members. */
int syscall_word_foreach(const char *word, int (*f)(const char *name, void *userdata), void *userdata);
