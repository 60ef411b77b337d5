/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <stddef.h>

#include "lazy-lib.h"

void *lazy_lib_sym(const char *soname, const char *name, int flags) {
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | flags);
        void *f;

        if (!h)
                return NULL;
        f = dlsym(h, name);
        (void) dlclose(h);
        return f;
}
