/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Keeping limits set on a running machine in its .nspawn file, so a restart keeps them
 * (what `nspawnctl set-limit` does unless --runtime). Only the [Resources] assignments
 * named are touched; comments, other sections and other keys stay as they are. */

/* text with each "NAME=VALUE" of assignments (validated by the caller) set in its
 * [Resources] section: earlier assignments of NAME there are dropped, the new one goes at
 * the end of the last [Resources] section (a new section at the end when there is none);
 * "NAME=" (empty) only drops. */
int settings_text_set_resources(const char *text, char *const *assignments, char **ret);
/* The same on the file at path (a regular file of at most 1 MiB; created 0644 when
 * missing), replaced atomically. */
int settings_file_set_resources(const char *path, char *const *assignments);
