/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A machine's addresses and port forwards, asked from machined, for list, status and port.
 * Both return 0 or the positive exit status of a failure (api/exit-status.h), logged. */

#include <systemd/sd-bus.h>

/* The machine's addresses as text, global ones first (empty list when it has none or is
 * not running). */
int machine_addresses_get(sd_bus *bus, const char *name, char ***ret);
/* Its forwards as "tcp:8080:80" (empty list when it has none). what: NULL to take a failed
 * call as no forwards, else what to say when it fails (and fail). */
int machine_forwards_get(sd_bus *bus, const char *name, const char *what, char ***ret);
/* ["a","b"] */
void json_print_strv(char **l);
/* [{"protocol":"tcp","host":8080,"container":80},...] from machine_forwards_get()'s list. */
void json_print_forwards(char **l);
