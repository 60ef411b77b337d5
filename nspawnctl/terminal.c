/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "pty.h"
#include "terminal.h"
#include "util/util.h"

#define ESCAPE_CHAR 0x1d /* ^] */

int tty_guard_make_raw(TtyGuard *t) {
        int r;

        if (!isatty(t->fd))
                return 0;
        r = tty_make_raw(t->fd, &t->termios);
        if (r < 0)
                return r;
        t->saved = true;
        return 0;
}

void tty_guard_restore(TtyGuard *t) {
        if (t->saved)
                tty_restore(t->fd, &t->termios);
        t->saved = false;
}

int terminal_signalfd(bool with_winch) {
        sigset_t mask;

        sigemptyset(&mask);
        /* console has no window size to pass on: a resize must not end it. */
        if (with_winch)
                sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGQUIT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        return RET_NERRNO(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
}

bool escape_pressed(EscapeState *e, const char *buf, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (buf[i] != ESCAPE_CHAR) {
                        e->count = 0;
                        continue;
                }
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                e->stamps[e->count++ % 3] = now;
                if (e->count >= 3 && now - e->stamps[(e->count - 3) % 3] <= 1000000ULL)
                        return true;
        }
        return false;
}
