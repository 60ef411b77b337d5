/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings-resources.h"
#include "util/strv.h"
#include "util/util.h"

#define SETTINGS_FILE_MAX (1024 * 1024)

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

int settings_file_set_resources(const char *path, char *const *assignments) {
        _cleanup_free_ char *text = NULL, *new_text = NULL, *tmp = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        mode_t mode = 0644;
        struct stat st;
        int r;

        if (fd >= 0) {
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode))
                        return -EBADFD;
                if (st.st_size > SETTINGS_FILE_MAX)
                        return -EFBIG;
                text = calloc(1, (size_t) st.st_size + 1);
                if (!text)
                        return -ENOMEM;
                ssize_t n = loop_read(fd, text, (size_t) st.st_size);
                if (n < 0)
                        return (int) n;
                text[n] = 0;
                if (strlen(text) != (size_t) n)
                        return -EBADMSG; /* a NUL byte: not a settings file */
                mode = st.st_mode & 07777;
        } else if (errno != ENOENT)
                return -errno;

        r = settings_text_set_resources(text, assignments, &new_text);
        if (r < 0)
                return r;

        /* ".#" marks a temporary file in the pool too (see pool.c), never an image. */
        const char *slash = strrchr(path, '/');
        if (asprintf(&tmp, "%.*s.#%sXXXXXX", slash ? (int) (slash - path + 1) : 0, path,
                     slash ? slash + 1 : path) < 0)
                return -ENOMEM;
        _cleanup_close_ int out = mkostemp(tmp, O_CLOEXEC);
        if (out < 0)
                return -errno;
        r = loop_write(out, new_text, strlen(new_text));
        if (r >= 0 && (fchmod(out, mode) < 0 || fsync(out) < 0))
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
