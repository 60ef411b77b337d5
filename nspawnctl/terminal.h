/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

/* What console and login/shell share on our side of a session: a raw terminal that is
 * always given back, the signals that end the session, and ^] three times to leave. */

typedef struct TtyGuard {
        int fd;
        bool saved;
        struct termios termios;
} TtyGuard;

/* Makes t->fd raw when it is a terminal; a no-op otherwise. */
int tty_guard_make_raw(TtyGuard *t);
/* Gives the terminal its old settings back; safe to call more than once. */
void tty_guard_restore(TtyGuard *t);

/* Blocks SIGTERM, SIGHUP, SIGINT, SIGQUIT (and SIGWINCH when with_winch) and returns a
 * signalfd for them, so they end the session through the poll loop and the terminal is
 * restored, rather than killing us in raw mode. */
int terminal_signalfd(bool with_winch);

/* Three ^] within a second. */
typedef struct EscapeState {
        uint64_t stamps[3];
        size_t count;
} EscapeState;

bool escape_pressed(EscapeState *e, const char *buf, size_t n);
