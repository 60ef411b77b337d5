/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"


static bool char_is_label(char c) {
        /* Explicit ASCII ranges: isalnum() is locale dependent and would let bytes >= 0x80
         * through in some locales. */
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-';
}

bool machine_name_is_valid(const char *s) {
        size_t n = 0, label_len = 0;
        char prev = '.';

        if (!s)
                return false;

        for (const char *p = s; *p; p++, n++) {
                if (n >= MACHINE_NAME_MAX)
                        return false;

                if (*p == '.') {
                        /* Covers a leading dot, ".." and a label ending in '-'. */
                        if (label_len == 0 || prev == '-')
                                return false;
                        label_len = 0;
                } else if (char_is_label(*p)) {
                        if (label_len == 0 && *p == '-')
                                return false;
                        label_len++;
                } else
                        return false;

                prev = *p;
        }

        /* Empty string, trailing dot, trailing '-'. */
        return label_len > 0 && prev != '-';
}

bool image_name_is_valid(const char *s) {
        if (!s)
                return false;
        /* ".#name" (temporary) and ".name" (hidden) belong to the pool itself. The machine
         * rule already refuses a leading dot; this keeps the reason visible should that
         * rule ever be relaxed. */
        if (s[0] == '.')
                return false;
        return machine_name_is_valid(s);
}

bool env_name_is_valid(const char *s, size_t n) {
        if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

bool user_name_is_valid(const char *s) {
        /* The portable user name set plus a numeric UID; refuses anything that could be
         * mistaken for an option, a path or a passwd field separator. */
        size_t n = strlen(s);

        if (n == 0 || n > 256 || s[0] == '-' || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-')
                        continue;
                if (c == '$' && i == n - 1)
                        continue;
                return false;
        }
        return true;
}

bool env_assignment_is_valid(const char *s) {
        const char *eq = s ? strchr(s, '=') : NULL;
        return eq && env_name_is_valid(s, eq - s);
}
