/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        STRV_FOREACH(s, l)
                n++;
        return n;
}

int strv_consume(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c;

        if (!value)
                return -ENOMEM;
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        return strv_consume(l, strdup(value));
}

int strv_extend_strv(char ***l, char *const *other) {
        STRV_FOREACH(s, other) {
                int r = strv_extend(l, *s);
                if (r < 0)
                        return r;
        }
        return 0;
}

char **strv_copy(char *const *l) {
        char **c = calloc(1, sizeof(char *));
        if (!c)
                return NULL;
        if (strv_extend_strv(&c, l) < 0)
                return strv_free(c);
        return c;
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

static char **env_find(char *const *env, const char *name, size_t len) {
        for (char *const *i = env; i && *i; i++)
                if (strneq(*i, name, len) && (*i)[len] == '=')
                        return (char **) i;
        return NULL;
}

int strv_env_set(char ***env, const char *assignment) {
        const char *eq = strchr(assignment, '=');
        char **slot, *copy;

        if (!eq || eq == assignment)
                return -EINVAL;
        slot = env_find(*env, assignment, eq - assignment);
        if (!slot)
                return strv_extend(env, assignment);
        copy = strdup(assignment);
        if (!copy)
                return -ENOMEM;
        free(*slot);
        *slot = copy;
        return 0;
}

const char *strv_env_get(char *const *env, const char *name) {
        size_t len = strlen(name);
        char **slot = env_find(env, name, len);
        return slot ? *slot + len + 1 : NULL;
}

char *strv_join(char *const *l, const char *separator) {
        size_t n = 1, k = strlen(separator);
        char *r, *p;

        STRV_FOREACH(s, l)
                n += strlen(*s) + k;
        r = p = malloc(n);
        if (!r)
                return NULL;
        *p = 0;
        STRV_FOREACH(s, l) {
                if (s != l)
                        p = stpcpy(p, separator);
                p = stpcpy(p, *s);
        }
        return r;
}
