/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The exit statuses of nspawnctl that mean something to scripts (nspawnctl --help and
 * docs/exit-status.md list them), and the one table that maps machined's errors to them. */

#include <systemd/sd-bus.h>

typedef enum ExitStatus {
        EXIT_OK = 0,
        EXIT_FAIL = 1,       /* the operation failed */
        EXIT_USAGE = 2,      /* bad command line */
        EXIT_NOT_FOUND = 3,  /* no such machine or image */
        EXIT_EXISTS = 4,     /* name already taken */
        EXIT_STATE = 5,      /* wrong state (running / not running) */
        EXIT_NO_SERVICE = 6, /* machined not reachable */
        EXIT_PERMISSION = 7, /* not allowed */
        EXIT_TIMEOUT = 8,    /* did not finish in time (poweroff --wait: terminated instead) */
} ExitStatus;

/* For a failed call: from the D-Bus error name when there is one, else from the errno. */
ExitStatus exit_status_from_bus_error(const sd_bus_error *error, int r);
/* For a failure without a D-Bus error (connecting, local checks). */
ExitStatus exit_status_from_errno(int r);
