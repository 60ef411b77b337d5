/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest-info.h"
#include "util/escape.h"
#include "util/guest-file.h"
#include "util/strv.h"
#include "util/util.h"

int guest_read_file_at(int root_fd, const char *path, size_t max, GuestReadFlags flags, char **ret,
                       size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        int r;

        assert(ret);
        /* Regular files only, never opened otherwise, bounded, non-blocking: the one way to
         * read a guest's file (core/util/guest-file.c). Symlinks are followed inside the root
         * (/etc/os-release is one). */
        r = read_guest_file(root_fd, path, max, 0, &buf, &n);
        if (r < 0)
                return r;
        if (memchr(buf, 0, n))
                return -EBADMSG;
        if (ret_size)
                *ret_size = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

int guest_read_first_at(int root_fd, const char *const *paths, size_t max, GuestReadFlags flags,
                        char **ret) {
        int r = -ENOENT;

        for (size_t i = 0; paths[i]; i++) {
                r = guest_read_file_at(root_fd, paths[i], max, flags, ret, NULL);
                if (r != -ENOENT)
                        return r;
        }
        return r;
}

static bool key_char(char c, bool first) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
               (!first && c >= '0' && c <= '9');
}

/* Unquotes v (up to the end of the line) into a new string; NULL for a malformed value. */
static char *unquote_value(const char *v, size_t len) {
        _cleanup_free_ char *out = malloc(len + 1);
        size_t o = 0, i = 0;
        char q = 0;

        if (!out)
                return NULL;
        /* Values are unquoted words or quoted strings, possibly several glued together. */
        while (i < len) {
                char c = v[i++];
                if (q) {
                        if (c == q) {
                                q = 0;
                                continue;
                        }
                        if (q == '"' && c == '\\' && i < len && strchr("\"\\$`", v[i]))
                                c = v[i++];
                        out[o++] = c;
                        continue;
                }
                if (c == '"' || c == '\'') {
                        q = c;
                        continue;
                }
                if (c == '\\' && i < len)
                        c = v[i++];
                else if (c == ' ' || c == '\t') {
                        /* Unquoted whitespace ends the value unless only blanks follow. */
                        size_t j = i;
                        while (j < len && (v[j] == ' ' || v[j] == '\t'))
                                j++;
                        if (j == len)
                                break;
                        return NULL;
                }
                out[o++] = c;
        }
        if (q)
                return NULL;
        out[o] = 0;
        return TAKE_PTR(out);
}

static int pairs_set(char ***pairs, size_t *n, char *key, char *value) {
        for (size_t i = 0; i < *n; i++)
                if (streq((*pairs)[2 * i], key)) {
                        free(key);
                        free((*pairs)[2 * i + 1]);
                        (*pairs)[2 * i + 1] = value;
                        return 0;
                }
        if (*n >= GUEST_ENV_PAIRS_MAX) {
                free(key);
                free(value);
                return 0;
        }
        if (strv_consume(pairs, key) < 0) {
                free(value);
                return -ENOMEM;
        }
        if (strv_consume(pairs, value) < 0)
                return -ENOMEM;
        (*n)++;
        return 0;
}

int env_text_parse(const char *text, char ***ret) {
        _cleanup_strv_free_ char **pairs = calloc(1, sizeof(char *));
        size_t n = 0;
        int r;

        assert(text);
        assert(ret);
        if (!pairs)
                return -ENOMEM;
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                const char *next = line + len + (line[len] == '\n');
                const char *p = line, *end = line + len, *eq;

                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                eq = memchr(p, '=', (size_t) (end - p));
                if (p < end && *p != '#' && eq && eq > p && key_char(*p, true)) {
                        const char *k = p;
                        bool ok = true;
                        for (const char *c = k + 1; c < eq; c++)
                                if (!key_char(*c, false))
                                        ok = false;
                        if (ok) {
                                _cleanup_free_ char *raw = unquote_value(eq + 1, (size_t) (end - eq - 1));
                                char *key = NULL, *value = NULL;
                                if (raw) {
                                        key = strndup(k, (size_t) (eq - k));
                                        value = escape_terminal(raw, GUEST_VALUE_MAX, ESCAPE_BACKSLASH);
                                        if (!key || !value) {
                                                free(key);
                                                free(value);
                                                return -ENOMEM;
                                        }
                                        r = pairs_set(&pairs, &n, key, value);
                                        if (r < 0)
                                                return r;
                                }
                        }
                }
                line = next;
        }
        *ret = TAKE_PTR(pairs);
        return 0;
}

int guest_first_line(const char *text, char **ret) {
        _cleanup_free_ char *line = strndup(text, strcspn(text, "\n"));
        char *s;

        if (!line)
                return -ENOMEM;
        s = escape_terminal(strstrip(line), GUEST_VALUE_MAX, ESCAPE_BACKSLASH);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
