/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autostart.h"
#include "names.h"
#include "util/strv.h"
#include "util/util.h"

#define AUTOSTART_MAX (1024 * 1024)

int autostart_read(const char *path, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        size_t size;
        int r;

        r = read_full_file(path, &text, &size);
        if (r == -ENOENT) {
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        if (size > AUTOSTART_MAX)
                return -EFBIG;
        names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *s = strstrip(l);
                if (!machine_name_is_valid(s) || strv_contains(names, s))
                        continue;
                r = strv_extend(&names, s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

int autostart_write(const char *path, char *const *names) {
        _cleanup_free_ char *list = strv_join(names, "\n"), *text = NULL;

        if (!list)
                return -ENOMEM;
        text = strjoin("# Machines started at boot by the nspawnctl-machined init script (written by machined).\n",
                       list, isempty(list) ? "" : "\n");
        if (!text)
                return -ENOMEM;
        return write_string_file_atomic(path, NULL, text);
}

int autostart_set(const char *path, const char *name, bool enable) {
        _cleanup_strv_free_ char **names = NULL, **out = NULL;
        bool found;
        int r;

        if (!machine_name_is_valid(name))
                return -EINVAL;
        r = autostart_read(path, &names);
        if (r < 0)
                return r;
        found = strv_contains(names, name);
        if (found == enable)
                return 0;
        out = calloc(1, sizeof(char *));
        if (!out)
                return -ENOMEM;
        STRV_FOREACH(n, names)
                if (!streq(*n, name) && (r = strv_extend(&out, *n)) < 0)
                        return r;
        if (enable && (r = strv_extend(&out, name)) < 0)
                return r;
        r = autostart_write(path, out);
        return r < 0 ? r : 1;
}
