/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "image.h"
#include "tar-walk.h"

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
