/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "os-release.h"
#include "util/guest-file.h"
#include "util/util.h"

/* Unquotes value (up to end) into a new string. */
static char *unquote(const char *v, const char *end) {
        size_t n = end - v;
        char *r, *o;

        r = malloc(n + 1);
        if (!r)
                return NULL;
        o = r;
        if (n >= 2 && v[0] == '\'' && end[-1] == '\'') {
                memcpy(r, v + 1, n - 2);
                r[n - 2] = 0;
                return r;
        }
        if (n >= 2 && v[0] == '"' && end[-1] == '"') {
                for (const char *p = v + 1; p < end - 1; p++) {
                        if (*p == '\\' && p + 1 < end - 1 && strchr("\"\\$`", p[1]))
                                p++;
                        *o++ = *p;
                }
                *o = 0;
                return r;
        }
        memcpy(r, v, n);
        r[n] = 0;
        return r;
}

int os_release_parse_pretty_name(const char *text, char **ret) {
        _cleanup_free_ char *pretty = NULL, *plain = NULL;

        for (const char *line = text; *line;) {
                const char *end = line + strcspn(line, "\n"), *next = *end ? end + 1 : end;
                char **target = startswith(line, "PRETTY_NAME=") ? &pretty
                                : startswith(line, "NAME=")      ? &plain
                                                                 : NULL;
                if (target) {
                        const char *v = strchr(line, '=') + 1;
                        while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                                end--;
                        free(*target);
                        *target = unquote(v, end);
                        if (!*target)
                                return -ENOMEM;
                }
                line = next;
        }
        if (isempty(pretty) && isempty(plain))
                return -ENODATA;
        *ret = !isempty(pretty) ? TAKE_PTR(pretty) : TAKE_PTR(plain);
        return 0;
}

int os_release_pretty_name_at(int root_fd, char **ret) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_guest_file(root_fd, "/etc/os-release", OS_RELEASE_MAX_SIZE, 0, &text, NULL);
        if (r == -ENOENT)
                r = read_guest_file(root_fd, "/usr/lib/os-release", OS_RELEASE_MAX_SIZE, 0, &text, NULL);
        if (r < 0)
                return r;
        return os_release_parse_pretty_name(text, ret);
}
