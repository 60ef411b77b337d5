/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Appends a copy of value; on failure the list is unchanged. */
int strv_extend(char ***l, const char *value);
/* Takes ownership of value, also on failure (it is freed then). */
int strv_consume(char ***l, char *value);
int strv_extend_strv(char ***l, char *const *other);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);
/* The strings joined by separator ("" for an empty or NULL list); NULL on OOM. */
char *strv_join(char *const *l, const char *separator);
/* Sets or replaces "NAME=value" in an environment block. */
int strv_env_set(char ***env, const char *assignment);
const char *strv_env_get(char *const *env, const char *name);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

#define FOREACH_STRING(x, ...)                                                             \
        for (const char *const *_l_##x = (const char *const[]) { __VA_ARGS__, NULL }, *x;  \
             (x = *_l_##x); _l_##x++)
