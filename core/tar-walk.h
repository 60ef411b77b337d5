/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A member path is acceptable if it is relative and has no ".." component. */
bool tar_path_is_safe(const char *p);

/* Why tar_walk() refused an archive. */
typedef struct TarRefusal {
        char *path;         /* the member (or link target) that was refused */
        const char *reason; /* static string */
} TarRefusal;
void tar_refusal_done(TarRefusal *r);

/* Called with every block of the archive that passed the checks, in order. */
typedef int (*TarForwardFunc)(const void *buf, size_t n, void *userdata);

/* Walks a tar stream (ustar, GNU long names and sparse headers, pax path/linkpath/size
 * records) read from fd. Returns 0 if every member is acceptable for a root file system
 * import, -EPERM if one is not (absolute path, ".." component, block or character device,
 * fifo, hard link to an absolute or ".." target, unknown member type), with the details
 * in *refusal, -EBADMSG for a damaged or non-tar stream. If forward is given, each header
 * is passed on only after it was checked, so an extractor fed by it never sees a refused
 * member. Symlinks may point anywhere: absolute targets are normal in a root fs and tar
 * does not follow them out of the target directory. */
int tar_walk(int fd, TarForwardFunc forward, void *userdata, TarRefusal *refusal);

typedef enum TarWalkFlags {
        /* Block and character devices (as in a debootstrap tarball's /dev) are left out of
         * what is forwarded, with the headers before them (long names, pax records), and
         * counted, rather than refused. Everything else is refused as before. */
        TAR_WALK_SKIP_DEVICES = 1 << 0,
} TarWalkFlags;
/* tar_walk() with flags; *ret_skipped (if given) counts the members left out. */
int tar_walk_full(int fd, TarWalkFlags flags, TarForwardFunc forward, void *userdata, TarRefusal *refusal,
                  unsigned *ret_skipped);
