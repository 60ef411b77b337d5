/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define BUILD_ID_MAX 64

/* The GNU build ID (the linker's NT_GNU_BUILD_ID note) of an object loaded in this process,
 * read from memory: of the main program when soname is NULL, else of the first shared
 * object whose file name contains soname. It changes with any change of the code. Returns
 * its length, -ENOENT when no such object is loaded, -ENODATA when it has no build ID. */
int build_id_of(const char *soname, uint8_t ret[BUILD_ID_MAX]);
