/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Text that came from a guest (os-release, process titles, file names) or from a user
 * (names, option values) may hold terminal control sequences: ESC [ ... or the 8-bit CSI
 * 0x9b, OSC sequences that set the window title or write the clipboard, and so on. Before
 * it reaches a terminal (or a log a terminal will show) it goes through one of these.
 *
 * What is escaped: the C0 controls (0x00-0x1f) and DEL as \xNN; every byte that is not part
 * of well-formed UTF-8 as \xNN (so a lone 0x80-0x9f, the 8-bit C1 controls, always is); the
 * C1 controls in their UTF-8 form (U+0080-U+009F, C2 80 - C2 9F) as \u0080-\u009f; with
 * ESCAPE_BACKSLASH also "\" as \x5c, so that the result reads back unambiguously. Other
 * UTF-8 text is kept as it is. The result is never longer than four times the input. */

typedef enum EscapeFlags {
        ESCAPE_BACKSLASH = 1 << 0,
} EscapeFlags;

#define ESCAPE_UNLIMITED SIZE_MAX

/* A newly allocated escaped copy of s; when s is longer than max_len bytes it is cut there
 * (at a character boundary) and "..." appended. NULL on OOM. */
char *escape_terminal(const char *s, size_t max_len, EscapeFlags flags);

/* The same into a buffer of size bytes (at least 4), cut with "..." if it does not fit.
 * Returns the length written (without the NUL). */
size_t escape_terminal_buf(const char *s, EscapeFlags flags, char *out, size_t size);

/* A copy of s that is well-formed UTF-8, as D-Bus wants its strings: each byte that is not
 * part of well-formed UTF-8 as \xNN, everything else (controls too: the client escapes
 * them for its terminal) as it is. NULL on OOM. */
char *utf8_escape_invalid(const char *s);

/* Writes s to f as a JSON string, quotes included: '"' and '\' escaped, the C0 controls,
 * DEL and the C1 controls (U+0080-U+009F) as \u00XX, and each byte that is not part of
 * well-formed UTF-8 as \ufffd (JSON text must be UTF-8; the replacement character is what
 * Unicode says to put there). */
void json_write_string(FILE *f, const char *s);
