/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* The state directory machined serves its private socket in: --state-dir, else
 * $NSPAWNCTL_STATE_DIR, else /run/nspawnctl. */
const char *bus_state_dir(const char *arg);

/* Takes --state-dir=DIR into *ret; logs and returns -EINVAL when DIR is empty. */
int bus_parse_state_dir(const char *arg, const char **ret);

/* The CLI's currency is the exit status (api/exit-status.h): the helpers below return 0 or
 * the positive ExitStatus of the failure, after logging its one line, so that a verb's error
 * path is "return r;". */

/* Connects to machined: on the system bus when machined owns (or can be activated for) its
 * name there, else on STATEDIR/private. Logs and returns EXIT_NO_SERVICE when it is not
 * reachable (EXIT_PERMISSION for a non-root caller that only has the private socket). */
int bus_connect_machined(const char *state_dir, sd_bus **ret);

/* Calls a machined method; on failure logs "Failed to <what>: <message>" (nothing when what
 * is NULL) and returns the ExitStatus the error means. */
int bus_call_machined(sd_bus *bus, const char *path, const char *interface, const char *member,
                      uint64_t timeout_usec, const char *what, sd_bus_message **ret_reply,
                      const char *types, ...);

/* One property of a GetAll reply and where its value goes: offset into the caller's struct
 * of a char * ("s", replaced), int ("b"), uint32_t ("u"), uint64_t ("t") or char ** ("as",
 * replaced); or, with read set, read(m, field) takes the variant itself. */
typedef struct BusProperty {
        const char *name;
        const char *signature;
        size_t offset;
        int (*read)(sd_bus_message *m, void *field);
} BusProperty;

/* GetAll of interface on path, storing the properties named in table (ended by a NULL name)
 * into data; others are skipped. Returns 0, the positive ExitStatus of a failed call (logged
 * as "Failed to <what>" unless what is NULL), or a negative errno for a reply it cannot read
 * (not logged). */
int bus_get_properties(sd_bus *bus, const char *path, const char *interface, const char *what,
                       const BusProperty *table, void *data);

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
