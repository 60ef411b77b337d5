/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "settings.h"
#include "util/strv.h"
#include "util/util.h"

static void check(const Settings *s, SettingsTrust trust) {
        /* Whatever the input, what comes out must be what the runtime may rely on. */
        for (size_t i = 0; i < s->n_binds; i++)
                if (trust != SETTINGS_TRUSTED || !path_is_safe_absolute(s->binds[i].source) ||
                    !path_is_safe_absolute(s->binds[i].destination))
                        abort();
        if (trust != SETTINGS_TRUSTED && (s->tmpfs || s->private_network >= 0))
                abort();
        if (s->working_directory && !path_is_safe_absolute(s->working_directory))
                abort();
        STRV_FOREACH(e, s->environment)
                if (!strchr(*e, '=') || **e == '=')
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *str = NULL;

        for (SettingsTrust trust = SETTINGS_UNTRUSTED; trust <= SETTINGS_TRUSTED; trust++) {
                _cleanup_(settings_freep) Settings *s = NULL;
                _cleanup_strv_free_ char **warnings = NULL;
                _cleanup_(error_done) Error error = ERROR_NULL;
                _cleanup_fclose_ FILE *f = NULL;
                int r;

                if (size == 0)
                        break;
                f = fmemopen((void *) data, size, "r");
                if (!f)
                        return 0;
                r = settings_parse(f, "fuzz.nspawn", trust, &s, &error, &warnings);
                if (r >= 0) {
                        if (!s || error_is_set(&error))
                                abort();
                        check(s, trust);
                } else if (s || warnings || (r == -EBADMSG && !error.message) ||
                           (error.message && strncmp(error.message, "fuzz.nspawn:", 12) != 0))
                        abort();
        }

        /* The same bytes as a --bind= argument and as Parameters=. */
        str = strndup((const char *) data, size);
        if (!str)
                return 0;
        for (int ro = 0; ro <= 1; ro++) {
                BindMount b = {};
                if (bind_mount_parse(str, ro, &b) >= 0) {
                        if (!path_is_safe_absolute(b.source) || !path_is_safe_absolute(b.destination))
                                abort();
                        bind_mount_done(&b);
                }
        }
        {
                _cleanup_strv_free_ char **l = NULL;
                (void) split_quoted(str, &l);
        }
        return 0;
}
