/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings-file.h"
#include "settings-resources.h"
#include "util/strv.h"
#include "util/util.h"

/* "  Key = value" -> does Key equal the NAME of "NAME=VALUE"? */
static bool line_assigns(const char *line, const char *assignment) {
        size_t n = strcspn(assignment, "=");
        const char *p = line + strspn(line, " \t");
        size_t k = strcspn(p, "=");

        if (p[k] != '=')
                return false;
        while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
                k--;
        return k == n && strneq(p, assignment, n);
}

/* "[Name]" (whitespace around allowed) -> Name, or NULL when the line is no header. */
static bool line_is_section(const char *line, const char **ret_name, size_t *ret_len) {
        const char *p = line + strspn(line, " \t");
        size_t len = strlen(p);

        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
                len--;
        if (len < 2 || p[0] != '[' || p[len - 1] != ']')
                return false;
        *ret_name = p + 1;
        *ret_len = len - 2;
        return true;
}

int settings_text_set_resources(const char *text, char *const *assignments, char **ret) {
        _cleanup_strv_free_ char **lines = NULL, **out = NULL;
        _cleanup_free_ char *copy = strdup(text ?: "");
        ssize_t last_resources_end = -1; /* index in out after the last [Resources] line */
        bool in_resources = false;
        int r;

        if (!copy || !(out = calloc(1, sizeof(char *))))
                return -ENOMEM;
        for (char *line = copy, *next; line; line = next) {
                const char *name;
                size_t len;
                bool drop = false;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (!next && !*line)
                        break; /* the text's final newline */
                if (line_is_section(line, &name, &len))
                        in_resources = len == STRLEN("Resources") && strneq(name, "Resources", len);
                else if (in_resources)
                        STRV_FOREACH(a, assignments)
                                drop = drop || line_assigns(line, *a);
                if (drop)
                        continue;
                r = strv_extend(&out, line);
                if (r < 0)
                        return r;
                if (in_resources && (line[strspn(line, " \t")] != 0))
                        last_resources_end = (ssize_t) strv_length(out);
        }

        _cleanup_strv_free_ char **add = calloc(1, sizeof(char *));
        if (!add)
                return -ENOMEM;
        STRV_FOREACH(a, assignments) {
                const char *eq = strchr(*a, '=');
                if (!eq)
                        return -EINVAL;
                if (eq[1] && (r = strv_extend(&add, *a)) < 0)
                        return r;
        }

        /* Join: out[0..insert) + add + out[insert..), with a new section when needed. */
        size_t n_out = strv_length(out);
        size_t insert = last_resources_end >= 0 ? (size_t) last_resources_end : n_out;
        size_t size = 1;
        bool new_section = last_resources_end < 0 && strv_length(add) > 0;
        STRV_FOREACH(l, out)
                size += strlen(*l) + 1;
        STRV_FOREACH(l, add)
                size += strlen(*l) + 1;
        size += STRLEN("\n[Resources]\n");
        char *buf = malloc(size), *p = buf;
        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i <= n_out; i++) {
                if (i == insert) {
                        if (new_section)
                                p = stpcpy(p, n_out > 0 ? "\n[Resources]\n" : "[Resources]\n");
                        STRV_FOREACH(l, add) {
                                p = stpcpy(p, *l);
                                *p++ = '\n';
                        }
                }
                if (i < n_out) {
                        p = stpcpy(p, out[i]);
                        *p++ = '\n';
                }
        }
        *p = 0;
        *ret = buf;
        return 0;
}

static int edit_resources(const char *text, void *userdata, char **ret) {
        return settings_text_set_resources(text, userdata, ret);
}

int settings_file_set_resources(const char *path, char *const *assignments) {
        return settings_file_edit(path, edit_resources, (void *) assignments);
}
