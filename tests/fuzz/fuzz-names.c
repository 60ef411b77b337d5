/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "names.h"

static bool label_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        bool m, im;
        size_t n;

        s = strndup((const char *) data, size);
        if (!s)
                return 0;
        n = strlen(s);

        m = machine_name_is_valid(s);
        im = image_name_is_valid(s);

        /* The rule restated the slow way; any disagreement is a bug in one of them. */
        if (m) {
                if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.' || s[0] == '-' || s[n - 1] == '-')
                        abort();
                if (strstr(s, "..") || strstr(s, ".-") || strstr(s, "-.") || strchr(s, '/'))
                        abort();
                for (size_t i = 0; i < n; i++)
                        if (!label_char(s[i]) && s[i] != '-' && s[i] != '.')
                                abort();
        }
        if (im && (!m || s[0] == '.'))
                abort();
        return 0;
}
