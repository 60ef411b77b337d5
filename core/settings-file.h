/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one writer of .nspawn files that machined keeps settings in (set-limit's [Resources],
 * `port`'s Port= lines): the file is read bounded and only as a regular file, edited as
 * text by the caller, and replaced atomically with its mode kept. */

typedef int (*SettingsTextEdit)(const char *text, void *userdata, char **ret);

/* Runs edit on the text of the file at path (NULL when it is missing; then it is created
 * 0644) and puts what edit returns in its place: a temporary ".#NAME..." file next to it,
 * synced and renamed. -EBADFD for a file that is not regular, -EFBIG above 1 MiB, -EBADMSG
 * for one that holds a NUL byte. */
int settings_file_edit(const char *path, SettingsTextEdit edit, void *userdata);
