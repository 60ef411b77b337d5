/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "util.h"

static bool is_c1(uint32_t cp) {
        return cp >= 0x80 && cp <= 0x9f;
}

/* The text for the character at s (n > 0 bytes left) into t; *ret_used gets how many bytes
 * of s it stands for. Returns the length of t (at most 6). */
static size_t escape_one(const char *s, size_t n, EscapeFlags flags, char t[static 8], size_t *ret_used) {
        unsigned char c = (unsigned char) s[0];
        uint32_t cp;
        size_t k;

        *ret_used = 1;
        if (c < 0x20 || c == 0x7f || (c == '\\' && (flags & ESCAPE_BACKSLASH)))
                return (size_t) snprintf(t, 8, "\\x%02x", c);
        if (c < 0x80) {
                t[0] = (char) c;
                return 1;
        }
        k = utf8_decode(s, n, &cp);
        if (k == 0)
                return (size_t) snprintf(t, 8, "\\x%02x", c);
        *ret_used = k;
        if (is_c1(cp))
                return (size_t) snprintf(t, 8, "\\u%04x", (unsigned) cp);
        memcpy(t, s, k);
        return k;
}

static size_t escape_into(const char *s, size_t max_len, EscapeFlags flags, char *out, size_t size) {
        size_t len = strlen(s), i, o, need = 0;
        bool cut;

        assert(size >= 4);
        /* First the length of the whole result: when it fits, nothing is cut. Otherwise room
         * for "..." is kept after every character, so the cut always fits it. */
        for (i = 0; i < len && i < max_len;) {
                char t[8];
                size_t used;
                need += escape_one(s + i, len - i, flags, t, &used);
                i += used;
        }
        cut = i < len || need + 1 > size;

        for (i = 0, o = 0; i < len && i < max_len;) {
                char t[8];
                size_t used, tl;

                tl = escape_one(s + i, len - i, flags, t, &used);
                if (o + tl + (cut ? 4 : 1) > size)
                        break;
                memcpy(out + o, t, tl);
                o += tl;
                i += used;
        }
        if (cut) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = 0;
        return o;
}

char *escape_terminal(const char *s, size_t max_len, EscapeFlags flags) {
        size_t n = strlen(s), size;
        char *out;

        /* At most 4 bytes out per byte in; the last character may reach 3 bytes past
         * max_len; then "..." and the NUL. */
        size = (MIN(n, max_len) + 3) * 4 + 4;
        out = malloc(size);
        if (!out)
                return NULL;
        escape_into(s, max_len, flags, out, size);
        return out;
}

size_t escape_terminal_buf(const char *s, EscapeFlags flags, char *out, size_t size) {
        return escape_into(s, ESCAPE_UNLIMITED, flags, out, size);
}

char *utf8_escape_invalid(const char *s) {
        size_t n = strlen(s), o = 0;
        char *out = malloc(n * 4 + 1);

        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t k = utf8_decode(s + i, n - i, NULL);
                if (k == 0) {
                        o += (size_t) sprintf(out + o, "\\x%02x", (unsigned char) s[i]);
                        i++;
                        continue;
                }
                memcpy(out + o, s + i, k);
                o += k;
                i += k;
        }
        out[o] = 0;
        return out;
}

void json_write_string(FILE *f, const char *s) {
        size_t n = strlen(s ?: "");

        fputc('"', f);
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                uint32_t cp;
                size_t k;

                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c == '\n')
                        fputs("\\n", f);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(f, "\\u%04x", c);
                else if (c < 0x80)
                        fputc(c, f);
                else {
                        k = utf8_decode(s + i, n - i, &cp);
                        if (k == 0)
                                fputs("\\ufffd", f);
                        else if (is_c1(cp))
                                fprintf(f, "\\u%04x", (unsigned) cp);
                        else
                                fwrite(s + i, 1, k, f);
                        i += k ?: 1;
                        continue;
                }
                i++;
        }
        fputc('"', f);
}
