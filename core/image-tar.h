/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "image.h"

typedef enum TarCompression {
        TAR_COMPRESSION_NONE,
        TAR_COMPRESSION_GZIP,
        TAR_COMPRESSION_XZ,
        TAR_COMPRESSION_ZSTD,
        _TAR_COMPRESSION_MAX,
        _TAR_COMPRESSION_INVALID = -EINVAL,
} TarCompression;

const char *tar_compression_to_string(TarCompression c);
/* By suffix: .tar, .tar.gz/.tgz, .tar.xz/.txz, .tar.zst/.tzst; -EINVAL otherwise. */
TarCompression tar_compression_from_filename(const char *filename);

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

/* Progress of an import or export: bytes of the tar stream so far, and the total when known
 * (0 when not: a compressed archive, an export). */
typedef void (*TarProgressFunc)(uint64_t bytes, uint64_t total, void *userdata);

/* Exports image name as a tar archive (compressed by the file name's suffix) to path, which
 * must not exist; written under a nameless temporary file and linked into place when
 * complete. */
int image_export_tar(const char *pool, const char *name, const char *path, TarProgressFunc progress,
                     void *userdata);

/* Imports the archive at path as the new image name: checked first (nothing is created for
 * a refused archive), then extracted with GNU tar as root (ownership, modes, xattrs kept)
 * into a temporary subvolume - through the same checks again, so an archive changed
 * meanwhile cannot slip by - and renamed into place when complete. flags: IMAGE_READ_ONLY.
 * Device nodes are left out (the runtime makes /dev itself); *ret_skipped_devices (if given)
 * says how many. A failure leaves nothing in the pool, not even the name's lock file. */
int image_import_tar(const char *pool, const char *path, const char *name, ImageFlags flags,
                     TarProgressFunc progress, void *userdata, unsigned *ret_skipped_devices,
                     TarRefusal *refusal);
