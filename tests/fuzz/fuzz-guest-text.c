/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text from a guest (os-release, machine-info, hostname) reaches machine1's callers and
 * terminals through these parsers and escapes. Whatever the bytes, they must not crash,
 * and what they hand on must be what their callers rely on: no terminal control left in
 * it, well-formed UTF-8, within its bound, and (with ESCAPE_BACKSLASH) the input read back
 * from it byte for byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest-info.h"
#include "macro.h"
#include "os-release.h"
#include "util/escape.h"
#include "util/strv.h"
#include "util/util.h"

static void check_terminal_safe(const char *s) {
        if (!utf8_is_valid(s))
                abort();
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                if (*c < ' ' || *c == 0x7f)
                        abort();
                /* U+0080-U+009F, the C1 controls, in their UTF-8 form */
                if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)
                        abort();
        }
}

static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undoes escape_terminal(..., ESCAPE_BACKSLASH): \xNN is the byte, \u00NN (C1 controls)
 * is their UTF-8 form, everything else stands for itself. */
static char *unescape(const char *s) {
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                return NULL;
        for (const char *p = s; *p;) {
                if (p[0] != '\\') {
                        *o++ = *p++;
                        continue;
                }
                if (p[1] == 'x' && hex(p[2]) >= 0 && hex(p[3]) >= 0) {
                        *o++ = (char) (hex(p[2]) * 16 + hex(p[3]));
                        p += 4;
                } else if (p[1] == 'u' && p[2] == '0' && p[3] == '0' && hex(p[4]) >= 0 && hex(p[5]) >= 0) {
                        *o++ = (char) 0xc2;
                        *o++ = (char) (hex(p[4]) * 16 + hex(p[5]));
                        p += 6;
                } else
                        abort(); /* a lone backslash: ambiguous output */
        }
        *o = 0;
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *) data, size);
        size_t n;

        if (!s)
                return 0;
        n = strlen(s);

        /* escape_terminal(): safe, at most four times as long, and reversible. */
        _cleanup_free_ char *e = escape_terminal(s, ESCAPE_UNLIMITED, ESCAPE_BACKSLASH);
        if (!e)
                return 0;
        check_terminal_safe(e);
        if (strlen(e) > 4 * n)
                abort();
        _cleanup_free_ char *back = unescape(e);
        if (back && !streq(back, s))
                abort();

        /* Cut: what is shown is a prefix of the input that ends within the last character
         * begun before the bound, then "...". */
        size_t max = size % 64;
        _cleanup_free_ char *cut = escape_terminal(s, max, ESCAPE_BACKSLASH);
        if (cut) {
                check_terminal_safe(cut);
                if (streq(cut, e)) {
                        /* Not cut: it fits, or its last character begun before the bound
                         * ends it. */
                        if (n > max + 3)
                                abort();
                } else {
                        if (n <= max)
                                abort();
                        size_t k = strlen(cut);
                        if (k < 3 || !streq(cut + k - 3, "..."))
                                abort();
                        cut[k - 3] = 0;
                        _cleanup_free_ char *prefix = unescape(cut);
                        if (prefix && (strlen(prefix) > max + 3 || strncmp(prefix, s, strlen(prefix)) != 0))
                                abort();
                }
        }

        /* Into a buffer of every small size: never past it, always terminated. */
        for (size_t bsize = 4; bsize <= 20; bsize += 5) {
                char buf[32];
                memset(buf, 'Z', sizeof buf);
                size_t w = escape_terminal_buf(s, 0, buf, bsize);
                if (w >= bsize || buf[w] != 0 || buf[bsize] != 'Z')
                        abort();
                check_terminal_safe(buf);
        }

        /* For a bus message: well-formed UTF-8. */
        _cleanup_free_ char *u = utf8_escape_invalid(s);
        if (u && !utf8_is_valid(u))
                abort();

        /* JSON: quoted, UTF-8, no raw control. */
        _cleanup_free_ char *json = NULL;
        size_t jsize = 0;
        FILE *f = open_memstream(&json, &jsize);
        if (f) {
                json_write_string(f, s);
                if (fclose(f) == 0 && json) {
                        if (jsize < 2 || json[0] != '"' || json[jsize - 1] != '"' || !utf8_is_valid(json))
                                abort();
                        for (size_t i = 0; i < jsize; i++)
                                if ((unsigned char) json[i] < ' ' || json[i] == 0x7f)
                                        abort();
                }
        }

        /* env-style files: pairs of a valid key and a safe value, within the bounds. */
        _cleanup_strv_free_ char **env = NULL;
        if (env_text_parse(s, &env) >= 0) {
                size_t k = strv_length(env);
                if (k % 2 != 0 || k / 2 > GUEST_ENV_PAIRS_MAX)
                        abort();
                for (size_t i = 0; i < k; i += 2) {
                        const char *key = env[i];
                        if (!(key[0] == '_' || (key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z')))
                                abort();
                        for (const char *c = key; *c; c++)
                                if (!(*c == '_' || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                                      (*c >= '0' && *c <= '9')))
                                        abort();
                        for (size_t j = 0; j < i; j += 2)
                                if (streq(env[j], key))
                                        abort(); /* a later assignment replaces, never adds */
                        check_terminal_safe(env[i + 1]);
                }
        }

        _cleanup_free_ char *line = NULL;
        if (guest_first_line(s, &line) >= 0) {
                check_terminal_safe(line);
                if (strchr(line, '\n'))
                        abort();
        }

        /* os-release: no crash; a name is never longer than the text it came from. */
        _cleanup_free_ char *pretty = NULL;
        if (os_release_parse_pretty_name(s, &pretty) >= 0 && (!pretty || strlen(pretty) > n))
                abort();
        return 0;
}
