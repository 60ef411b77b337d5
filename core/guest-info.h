/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Files from a guest's tree (an image, or a running machine's root as its init sees it),
 * read by privileged code: every one is hostile. Paths are resolved inside root_fd
 * (RESOLVE_IN_ROOT, no magic links), only regular files are read, opened non-blocking (a
 * FIFO or a device never stalls or reaches the host) and never more than a bound. */

/* Text files the machine1 methods read are small: os-release, machine-info, hostname. */
#define GUEST_FILE_MAX (64U * 1024U)
/* What a single value may be once sanitized (bytes of guest input). */
#define GUEST_VALUE_MAX 4096U
/* Keys of an env-style file beyond this many are ignored. */
#define GUEST_ENV_PAIRS_MAX 256U

typedef enum GuestReadFlags {
        /* Resolution may cross mount points below root_fd: a running machine's root seen
         * through /proc/PID/root, whose binds and tmpfs are the guest's. (Kept for callers:
         * read_guest_file() always may; the file must be a regular file wherever it is.) */
        GUEST_CROSS_MOUNTS = 1 << 0,
} GuestReadFlags;

/* Reads path (absolute or relative, always inside root_fd) whole, NUL-terminated. -EBADFD for
 * something that is not a regular file, -EFBIG for more than max bytes, -EBADMSG for a file
 * with a NUL byte in it. */
int guest_read_file_at(int root_fd, const char *path, size_t max, GuestReadFlags flags, char **ret,
                       size_t *ret_size);
/* The first of paths (NULL-terminated) that exists, read as above. */
int guest_read_first_at(int root_fd, const char *const *paths, size_t max, GuestReadFlags flags, char **ret);

/* Parses an env-style file (os-release, machine-info): KEY=VALUE lines, values unquoted or
 * in '' or "" (backslash escapes inside ""), '#' comments, blank lines; lines that are none
 * of these are skipped, as systemd does. Keys are [A-Za-z_][A-Za-z0-9_]*. Returns a strv of
 * KEY, VALUE, KEY, VALUE... with each value made safe for a bus message and a terminal
 * (escape_terminal(), at most GUEST_VALUE_MAX bytes of input), at most
 * GUEST_ENV_PAIRS_MAX pairs; a later assignment of a key replaces an earlier one. */
int env_text_parse(const char *text, char ***ret);

/* The first line of text (a hostname file), stripped and made safe as above; "" if none. */
int guest_first_line(const char *text, char **ret);
