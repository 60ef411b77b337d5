/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pwd.h>
#include <sys/types.h>

/* Users of a guest, looked up in its /etc/passwd and /etc/group by our own parser. NSS is
 * not used on purpose: it would load the guest's libnss_*.so into a privileged process. The
 * files are the guest's, so they are read with read_guest_file() (regular files only, never
 * blocking) and bounded: at most USER_DB_MAX_SIZE bytes each (-EFBIG beyond), lines longer
 * than USER_DB_LINE_MAX are skipped, so a 30 MB line costs a refusal, not a parser that
 * rescans it (glibc's fgetpwent grows its buffer and re-reads the line, quadratically). */

#define USER_DB_MAX_SIZE (16 * 1024 * 1024)
#define USER_DB_LINE_MAX (64 * 1024)

/* Looks USER (a name or a numeric uid) up in /etc/passwd and its supplementary groups in
 * /etc/group of the tree at root_fd. Name, home, shell and GECOS point into *ret_buf, which
 * the caller frees; an empty shell is /bin/sh, as login(1) has it. groups gets the primary
 * group first; *n_groups is its capacity on input and the count on output. -ESRCH: no
 * such user; -EBADFD: /etc/passwd is not a regular file; -EFBIG: it is too big. A group
 * file that cannot be read gives no supplementary groups. Never logs. */
int user_record_lookup_at(int root_fd, const char *user, struct passwd *ret, char **ret_buf, gid_t *groups,
                          int *n_groups);
/* The lookup itself, on the texts of the two files (group may be NULL: no supplementary
 * groups). What user_record_lookup_at() runs once it has read them. */
int user_record_parse(const char *passwd, size_t passwd_size, const char *group, size_t group_size,
                      const char *user, struct passwd *ret, char **ret_buf, gid_t *groups, int *n_groups);
/* The same for the current root: called inside a container, after entering its root. */
int user_record_lookup(const char *user, struct passwd *ret, char **ret_buf, gid_t *groups,
                       int *n_groups);
