/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How machined turns an image and its settings into a supervisor command line
 * (docs/supervisor.md). Pure functions, no logging, so the unit tests can check them. */

#include "settings.h"

/* Finds the init of a tree to boot, resolving the tree's own symlinks inside rootfd (a
 * directory fd of the image), never on the host: /sbin/init, then /usr/lib/systemd/systemd.
 * Returns 0 and the path found (static string), -ENOENT when there is none, or -EACCES when
 * the file exists but is not an executable regular file. */
int image_find_init(int rootfd, const char **ret_path);

/* The argv (NULL-terminated, malloc'ed) that starts the supervisor for machine name with root
 * directory root. settings may be NULL. Returns -EINVAL with *ret_error set to a
 * human-readable reason when the settings cannot be expressed as options. */
int run_argv_build(const char *runtime, const char *root, const char *name,
                   const char *state_dir, const Settings *settings, char ***ret,
                   const char **ret_error);
