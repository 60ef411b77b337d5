/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "image.h"
#include "macro.h"

/* Usage of an image is what "du -s" says: the blocks of every inode below it, hard links
 * counted once. Without btrfs quota groups there is no cheaper way than the walk, so a list
 * of many images must not walk each of them every time: ImageUsageCache remembers the
 * result per image until the image may have changed - for a subvolume while its btrfs
 * generation stays the same (it moves with every transaction that touches the subvolume, so
 * a change shows at the latest with the next commit), for anything else for max_age_usec. */

/* Bytes allocated by fd (st is its stat) and everything below it. */
int image_tree_usage_fd(int fd, const struct stat *st, uint64_t *ret);

typedef struct ImageUsageCache ImageUsageCache;

int image_usage_cache_new(uint64_t max_age_usec, ImageUsageCache **ret);
ImageUsageCache *image_usage_cache_free(ImageUsageCache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageUsageCache *, image_usage_cache_free);

/* Which version of an image a usage belongs to. */
typedef struct ImageUsageKey {
        dev_t dev;
        ino_t ino;
        uint64_t crtime;
        bool subvolume;
        uint64_t generation; /* subvolumes only */
} ImageUsageKey;

/* Sets i->usage and returns 1 when the cache knows i as it is now (a stat, and an ioctl for a
 * subvolume: cheap), 0 when it does not. */
int image_usage_cache_lookup(ImageUsageCache *c, Image *i);
/* The walk, and the version of i it was made on; may run elsewhere (a worker) and be
 * handed to image_usage_cache_put(). */
int image_usage_walk(const Image *i, ImageUsageKey *ret_key, uint64_t *ret_usage);
void image_usage_cache_put(ImageUsageCache *c, const ImageUsageKey *key, uint64_t usage);

/* Lookup, else walk and put. Returns 1 if it walked, 0 if the cache answered. */
int image_usage_cache_get(ImageUsageCache *c, Image *i);
