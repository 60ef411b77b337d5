/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define MACHINE_NAME_MAX 64

/* Machine names: hostname-like, labels of [A-Za-z0-9-] (not starting or ending with '-')
 * joined by single dots, 1..64 bytes. They become host names, file names under
 * /run/nspawnctl, cgroup names and D-Bus object path components. */
bool machine_name_is_valid(const char *s);
/* Image names: the machine name rule; names starting with ".#" (temporary) or "." (hidden,
 * internal) are never valid as user input. */
bool image_name_is_valid(const char *s);

/* Environment variable names: [A-Za-z_][A-Za-z0-9_]*, n bytes of s. */
bool env_name_is_valid(const char *s, size_t n);
/* "NAME=VALUE" with a valid NAME. */
bool env_assignment_is_valid(const char *s);
/* User names as -u/User= take them: the portable set or a numeric uid; nothing that
 * could pass for an option, a path or a passwd field separator. */
bool user_name_is_valid(const char *s);
