/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "error.h"

/* The INI dialect of systemd.nspawn files, shared by settings.c and template.c:
 * "[Section]" headers, "Key=Value" with whitespace around both trimmed, '#' and ';'
 * comment lines, no line continuation. Lines must be valid UTF-8 without control
 * characters (tab excepted) and at most INI_LINE_MAX bytes. */

#define INI_LINE_MAX (64U * 1024U)

typedef struct IniParser {
        const char *filename;
        unsigned line;
        char *error;
        char **warnings;
} IniParser;

/* Called for each assignment inside a known section. Returns 0 when the key was handled,
 * INI_UNKNOWN_KEY to have the standard "unknown key" warning added, or a negative errno;
 * for a syntax error use "return ini_syntax_error(p, ...)". */
#define INI_UNKNOWN_KEY 1
typedef int (*IniAssignment)(IniParser *p, const char *section, const char *key, const char *value,
                             void *userdata);

/* Opens path for reading as a FILE. Refuses a directory with -EISDIR and anything else
 * that is not a regular file with -EBADFD. */
int ini_open(const char *path, FILE **ret);

/* Sets *field to a copy of value, or frees it back to NULL for an empty value: an empty
 * assignment resets a setting, as in systemd's unit files. */
int ini_set_string(char **field, const char *value);

/* Records "FILE:LINE: message" as the error and returns -EBADMSG (-ENOMEM if it cannot). */
int ini_syntax_error(IniParser *p, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Appends "FILE:LINE: message" to the warnings. */
int ini_warning(IniParser *p, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Sections not in known_sections (NULL-terminated) get one warning and their contents are
 * skipped, as are assignments before the first section. On -EBADMSG e says
 * "FILE:LINE: message"; on success *ret_warnings gets the warning lines. Both may be
 * NULL. */
int ini_parse(FILE *f, const char *filename, const char *const *known_sections,
              IniAssignment callback, void *userdata, Error *e, char ***ret_warnings);
