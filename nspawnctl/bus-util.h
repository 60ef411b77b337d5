/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* The state directory machined serves its private socket in: --state-dir, else
 * $NSPAWNCTL_STATE_DIR, else /run/nspawnctl. */
const char *bus_state_dir(const char *arg);

/* Takes --state-dir=DIR into *ret; logs and returns -EINVAL when DIR is empty. */
int bus_parse_state_dir(const char *arg, const char **ret);

/* Connects to machined: on the system bus when machined owns (or can be activated for) its
 * name there, else on STATEDIR/private. Logs and returns EXIT_NO_SERVICE-worthy -EHOSTDOWN
 * (or -EACCES for a non-root caller that only has the private socket) when it is not
 * reachable. */
int bus_connect_machined(const char *state_dir, sd_bus **ret);

/* Calls a machined method; logs "Failed to <what>: <message>" on failure (nothing when what
 * is NULL). */
int bus_call_machined(sd_bus *bus, const char *path, const char *interface, const char *member,
                      uint64_t timeout_usec, const char *what, sd_bus_message **ret_reply,
                      const char *types, ...);

/* The exit code of the last failure logged by bus_call_machined(). */
int bus_last_exit_code(void);

/* Writes s as a JSON string, with quotes, to stdout: json_write_string() (core/util/escape.h). */
void json_print_string(const char *s);

/* A copy of s fit for an error message: escape_terminal() with backslashes escaped too, cut
 * at 80 bytes. NULL on OOM. */
char *cescape_for_message(const char *s);

/* Logs "Invalid WHAT 'VALUE'HINT" with VALUE escaped (names and option values may carry
 * terminal escape sequences) and returns EXIT_USAGE. */
int log_invalid(const char *what, const char *value, const char *hint);

#define MACHINE_NAME_HINT                                                                  \
        ": a host name of at most 64 bytes, labels of [A-Za-z0-9-] joined by single dots."
