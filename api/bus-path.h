/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* The object paths of machines and images (MACHINED_MACHINE_PATH_PREFIX/NAME, escaped by
 * sd_bus_path_encode()), for the service that serves them and any client. */

int machine_bus_path(const char *name, char **ret);
int image_bus_path(const char *name, char **ret);
/* The name in an image's object path; -ENOENT for a path that is not an image's. */
int image_name_from_bus_path(const char *path, char **ret);

/* The same objects under org.freedesktop.machine1's paths (machine1 == true). */
int machine_bus_path_full(bool machine1, const char *name, char **ret);
int image_bus_path_full(bool machine1, const char *name, char **ret);
/* The name in a machine's or an image's object path under either prefix; -ENOENT if it is
 * none. */
int machine_name_from_bus_path(const char *path, char **ret);
int image_name_from_bus_path_any(const char *path, char **ret);
/* Whether path is one of org.freedesktop.machine1's (so replies speak machine1). */
bool bus_path_is_machine1(const char *path);
/* machine1's name for one of our error names, or NULL where machine1 has none. */
const char *bus_error_name_to_machine1(const char *name);
