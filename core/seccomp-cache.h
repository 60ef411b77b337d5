/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "seccomp-policy.h"

/* The container's seccomp filter as a program, built once per set of inputs and kept in
 * cache_dir (STATEDIR/seccomp): libseccomp takes 1.2-1.8 ms on the test VM to build it, a
 * tenth of a whole start, and its output depends only on what the key below names. A file
 * there is used only when it holds exactly this key: the build IDs of this program and of
 * libseccomp, libseccomp's version, the native architecture, the kernel (its features
 * decide what libseccomp emits), suppress_sync and the deny words. cache_dir NULL: built
 * every time. A cache that cannot be read or written is passed over, never an error. */
int seccomp_container_program(const char *cache_dir, char **extra_deny, bool suppress_sync, SeccompProgram *ret);

/* The parts, for the tests. The key (text, one field per line) and the file name for it
 * (16 hex digits of its hash); -EOPNOTSUPP when this program has no build ID. */
int seccomp_cache_key(char **extra_deny, bool suppress_sync, char **ret_key, size_t *ret_len);
void seccomp_cache_name(const char *key, size_t len, char ret[17]);
/* A program stored under name in dir_fd, if the file is ours (a regular file owned by our
 * euid, writable by nobody else, of the exact size its header says) and holds key.
 * -ENOENT when there is none, -EBADMSG when it is not such a file or holds another key. */
int seccomp_cache_load(int dir_fd, const char *name, const char *key, size_t len, SeccompProgram *ret);
/* Stores p under name, atomically (a temporary file renamed into place). */
int seccomp_cache_store(int dir_fd, const char *name, const char *key, size_t len, const SeccompProgram *p);
