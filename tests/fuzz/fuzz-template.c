/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "names.h"
#include "template.h"
#include "util/strv.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *str = NULL, *m1 = NULL, *m2 = NULL;

        if (size > 0) {
                _cleanup_(template_freep) Template *t = NULL;
                _cleanup_(error_done) Error error = ERROR_NULL;
                _cleanup_fclose_ FILE *f = fmemopen((void *) data, size, "r");

                if (f && template_parse(f, "fuzz.template", "fuzz", &t, &error) >= 0) {
                        /* Everything that reaches debootstrap's command line is validated. */
                        if (!t->suite || !t->variant || error_is_set(&error))
                                abort();
                        STRV_FOREACH(p, t->include)
                                if (!debian_package_name_is_valid(*p))
                                        abort();
                        if (t->hostname && !machine_name_is_valid(t->hostname))
                                abort();
                }
        }

        /* The same bytes as apt sources, in both formats. */
        str = strndup((const char *) data, size);
        if (!str)
                return 0;
        if (apt_mirror_from_deb822(str, &m1) >= 0 && (!m1 || strpbrk(m1, " \t\n")))
                abort();
        if (apt_mirror_from_one_line(str, &m2) >= 0 && (!m2 || strpbrk(m2, " \t\n")))
                abort();
        return 0;
}
