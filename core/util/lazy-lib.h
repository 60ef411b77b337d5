/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A function of a shared library that a program loads on first use instead of linking it
 * (api/sd-bus-lazy.c, core/util-linux-lazy.c): name in soname, loaded now if need be, NULL
 * when the library or the name is missing. Each call looks it up again (a dlopen() of a
 * loaded object and a dlsym() are hash lookups), so no table of pointers is kept anywhere;
 * RTLD_NODELETE keeps a library mapped once it was loaded. flags: 0, or RTLD_NOLOAD for a
 * call that has nothing to do unless the library is loaded already (a free of what only
 * the library can have made). */
void *lazy_lib_sym(const char *soname, const char *name, int flags);
