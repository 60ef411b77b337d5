/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pwd.h>
#include <sys/types.h>

/* Looks USER (a name or a numeric uid) up in /etc/passwd and its supplementary groups in
 * /etc/group of the current root: called inside a container, after entering its root.
 * NSS is not used on purpose: it would load the container's libnss_*.so into a privileged
 * process. Name, home and shell point into *ret_buf, which the caller frees. groups gets
 * the primary group first; *n_groups is its capacity on input and the count on output.
 * -ESRCH: no such user. Never logs. */
int user_record_lookup(const char *user, struct passwd *ret, char **ret_buf, gid_t *groups,
                       int *n_groups);
