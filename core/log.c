/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util/escape.h"

/* The log level is process-wide by nature (like errno); it is set once from main() and
 * only read afterwards. */
static int log_max_level = LOG_INFO;
static const char *log_prefix;

void log_set_max_level(int level) {
        log_max_level = level;
}

void log_set_prefix(const char *prefix) {
        log_prefix = prefix;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        int e = error < 0 ? -error : error;

        if (level > log_max_level)
                return -e;

        /* %m must expand to the error we were given, not to whatever errno is now. */
        char buf[2048];
        va_list ap;
        int saved = errno;
        errno = e;
        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);
        errno = saved;

        /* Messages carry names, paths and texts from guests and users: whatever they hold,
         * a message stays one line and no control sequence reaches the terminal. */
        char esc[4 * sizeof buf];
        escape_terminal_buf(buf, 0, esc, sizeof esc);

        if (log_max_level >= LOG_DEBUG)
                fprintf(stderr, "%s%s(%s:%d %s) %s\n", log_prefix ?: "", log_prefix ? ": " : "",
                        file, line, func, esc);
        else
                fprintf(stderr, "%s%s%s\n", log_prefix ?: "", log_prefix ? ": " : "", esc);
        return -e;
}
