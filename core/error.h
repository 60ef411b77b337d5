/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One error carrier for every layer (after crun's libcrun_error_t): the negative errno that
 * says what kind of failure it was, and the one line a user should read, together. A
 * function that can explain itself takes an Error *, sets it once with error_set() (which
 * returns the code, so "return error_set(e, -ENOENT, ...)" reads naturally) and leaves it
 * alone on success. The caller prints error_message() and frees it with error_done(). A NULL
 * Error * is allowed: the code alone is returned then. */

#include <stdbool.h>

#include "macro.h"

typedef struct Error {
        int code;      /* negative errno; 0 while unset */
        char *message; /* one line, no trailing period needed; NULL: strerror(code) */
} Error;

#define ERROR_NULL ((Error) {})

/* Formats the message with errno set to -code, so "%m" names it. The first error set wins: a
 * later call leaves a set Error as it is. Returns code. */
int error_set(Error *e, int code, const char *fmt, ...) _printf_(3, 4);
/* The message, or strerror() of the code. */
const char *error_message(const Error *e);
void error_done(Error *e);

/* Whether a message or code was set: a function may fail with a bare code and leave the
 * wording to its caller. */
static inline bool error_is_set(const Error *e) {
        return e && e->code < 0;
}
