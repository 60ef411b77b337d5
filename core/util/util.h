/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "macro.h"

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)
/* Closes *f, a memstream on *buf, and hands its text to *ret: -ENOMEM when a write to it
 * failed (*buf then stays the caller's to free). *f is NULL afterwards either way. */
int memstream_finish(FILE **f, char **buf, char **ret);

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* directories */
/* A DIR for reading the directory fd from its start, on an fd of its own (fd stays the
 * caller's and its offset untouched). */
int opendir_fd(int fd, DIR **ret);
static inline bool dot_or_dot_dot(const char *name) {
        return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}
/* Every entry of d but "." and "..". errno is 0 after the loop unless readdir() failed. */
#define FOREACH_DIRENT(de, d)                                                              \
        for (struct dirent *de; (errno = 0, de = readdir(d));)                             \
                if (dot_or_dot_dot(de->d_name))                                            \
                        continue;                                                          \
                else

/* fd helpers */
int fd_cloexec(int fd, bool cloexec);
int fd_nonblock(int fd, bool nonblock);
/* Closes every fd >= 3 that is not listed; for the moment just before exec. */
int close_all_fds_except(const int *keep, size_t n_keep);
/* Moves fd to the given number (dup2 without CLOEXEC), closing the original. */
int fd_move_to(int fd, int target);
/* "/proc/self/fd/FD": a path the kernel resolves to the very object the fd holds, for the
 * calls that take a path only (mount sources, overlay layers, linkat(), reopening an O_PATH
 * fd). FORMAT_PROC_FD_PATH() puts it in a buffer that lives until the end of the block. */
#define PROC_FD_PATH_MAX (STRLEN("/proc/self/fd/") + 11 + 1) /* "-2147483648", NUL */
const char *format_proc_fd_path(char buf[static PROC_FD_PATH_MAX], int fd);
#define FORMAT_PROC_FD_PATH(fd) format_proc_fd_path((char[PROC_FD_PATH_MAX]) {}, (fd))

/* file I/O: short files only (sysfs, procfs, cgroupfs, /etc/hostname...) */
int write_string_file(const char *path, const char *s);
int write_string_file_at(int dirfd, const char *path, const char *s);
/* Replaces path with a new file (0644) holding s: written to tmp (path".tmp" when NULL) and
 * renamed over path, so that a reader sees the old text or the new, never a part. */
int write_string_file_atomic(const char *path, const char *tmp, const char *s);
/* The end of an atomic replace in dir_fd: when r >= 0, renames tmp to name; when r < 0 or
 * the rename failed, removes tmp. Returns r, or the rename's error. */
int rename_into_place_at(int dir_fd, const char *tmp, const char *name, int r);
int read_one_line(const char *path, char **ret);
int read_full_file(const char *path, char **ret, size_t *ret_size);
ssize_t loop_read(int fd, void *buf, size_t n);
/* The whole content of the open fd, NUL-terminated: -EBADFD unless it is a regular file,
 * -EFBIG when it is larger than max. For trusted host files read with a bound. */
int read_regular_fd(int fd, uint64_t max, char **ret);
int loop_write(int fd, const void *buf, size_t n);
/* loop_write() with send() and its flags (MSG_NOSIGNAL) on a socket. */
int loop_send(int fd, const void *buf, size_t n, int flags);

/* parsing */
int safe_atoi(const char *s, int *ret);
int safe_atou64(const char *s, uint64_t *ret);
int parse_boolean(const char *s);
int parse_sec_usec(const char *s, uint64_t *ret_usec);
int signal_from_string(const char *s);
const char *signal_to_string(int sig);

/* strings */
char *strjoin_real(const char *a, ...) _sentinel_;
#define strjoin(a, ...) strjoin_real((a), __VA_ARGS__, NULL)
bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
char *strstrip(char *s);
/* The length (1-4) of the well-formed UTF-8 sequence at the start of s (n bytes), and its
 * code point; 0 if there is none there: a stray byte, an overlong form, a surrogate, a code
 * point beyond U+10FFFF or a sequence cut short. */
size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp);
bool utf8_is_valid(const char *s);

/* enum <-> name tables: NAME_table[] indexed by the enum, which has _MAX and an _INVALID
 * of -EINVAL */
int string_table_lookup(const char *const *table, size_t n, const char *s);
#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, max)                              \
        const char *name##_to_string(type i) {                                             \
                if (i < 0 || i >= (max))                                                   \
                        return NULL;                                                       \
                return name##_table[i];                                                    \
        }
#define DEFINE_STRING_TABLE_LOOKUP_FULL(scope, name, type, max)                             \
        scope const char *name##_to_string(type i) {                                       \
                if (i < 0 || i >= (max))                                                   \
                        return NULL;                                                       \
                return name##_table[i];                                                    \
        }                                                                                  \
        scope type name##_from_string(const char *s) {                                     \
                return (type) string_table_lookup(name##_table, (max), s);                 \
        }
#define DEFINE_STRING_TABLE_LOOKUP(name, type, max) DEFINE_STRING_TABLE_LOOKUP_FULL(, name, type, max)
/* For a table only its own file uses. */
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP(name, type, max)                                \
        DEFINE_STRING_TABLE_LOOKUP_FULL(static _unused_, name, type, max)

/* time */
uint64_t now_usec(int clock);

/* random 128-bit id as 32 lower-case hex digits (machine-id format) */
int id128_random_hex(char ret[33]);

/* SCM_RIGHTS over a unix socket: one fd with an optional small payload. */
int send_one_fd(int sock, int fd, const void *data, size_t len);
/* Returns the fd (or -EBADF when the message carried none) and the payload. */
int receive_one_fd(int sock, void *data, size_t len, ssize_t *ret_len, int *ret_fd);
