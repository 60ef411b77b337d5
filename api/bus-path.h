/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The object paths of machines and images (MACHINED_MACHINE_PATH_PREFIX/NAME, escaped by
 * sd_bus_path_encode()), for the service that serves them and any client. */

int machine_bus_path(const char *name, char **ret);
int image_bus_path(const char *name, char **ret);
/* The name in an image's object path; -ENOENT for a path that is not an image's. */
int image_name_from_bus_path(const char *path, char **ret);
