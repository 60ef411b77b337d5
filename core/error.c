/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int error_set(Error *e, int code, const char *fmt, ...) {
        va_list ap;
        int saved = errno;

        if (code >= 0)
                code = -EIO;
        if (!e || e->code < 0)
                return code;
        e->code = code;
        e->message = NULL;
        if (fmt) {
                errno = -code;
                va_start(ap, fmt);
                if (vasprintf(&e->message, fmt, ap) < 0)
                        e->message = NULL;
                va_end(ap);
                errno = saved;
        }
        return code;
}

const char *error_message(const Error *e) {
        if (!e || e->code >= 0)
                return "Success";
        return e->message ?: strerror(-e->code);
}

void error_done(Error *e) {
        if (!e)
                return;
        free(e->message);
        *e = ERROR_NULL;
}
