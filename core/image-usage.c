/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "btrfs.h"
#include "image-usage.h"
#include "util/util.h"

typedef struct InodeSet {
        struct {
                dev_t dev;
                ino_t ino;
        } *items;
        size_t n, allocated;
} InodeSet;

/* Returns 1 if (dev, ino) was in the set already, else adds it. */
static int inode_set_put(InodeSet *s, dev_t dev, ino_t ino) {
        for (size_t i = 0; i < s->n; i++)
                if (s->items[i].dev == dev && s->items[i].ino == ino)
                        return 1;
        if (s->n == s->allocated) {
                size_t n = s->allocated ? s->allocated * 2 : 64;
                void *p = reallocarray(s->items, n, sizeof s->items[0]);
                if (!p)
                        return -ENOMEM;
                s->items = p;
                s->allocated = n;
        }
        s->items[s->n].dev = dev;
        s->items[s->n++].ino = ino;
        return 0;
}

static int tree_usage(int fd, InodeSet *seen, uint64_t *usage) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_fd(fd, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT(de, d) {
                struct stat st;

                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
                        r = inode_set_put(seen, st.st_dev, st.st_ino);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                continue;
                }
                *usage += (uint64_t) st.st_blocks * 512;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int child = openat(dirfd(d), de->d_name,
                                                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (child < 0)
                                continue;
                        r = tree_usage(child, seen, usage);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int image_tree_usage_fd(int fd, const struct stat *st, uint64_t *ret) {
        InodeSet seen = {};
        uint64_t u = (uint64_t) st->st_blocks * 512;
        int r = 0;

        if (S_ISDIR(st->st_mode))
                r = tree_usage(fd, &seen, &u);
        free(seen.items);
        if (r < 0)
                return r;
        *ret = u;
        return 0;
}

typedef struct UsageEntry {
        ImageUsageKey key;
        uint64_t computed_usec;
        uint64_t usage;
} UsageEntry;

struct ImageUsageCache {
        uint64_t max_age_usec;
        UsageEntry *entries;
        size_t n, allocated;
};

/* Entries of removed images are not tracked; past this many the cache starts over. */
#define USAGE_CACHE_MAX 4096

int image_usage_cache_new(uint64_t max_age_usec, ImageUsageCache **ret) {
        ImageUsageCache *c = calloc(1, sizeof *c);

        if (!c)
                return -ENOMEM;
        c->max_age_usec = max_age_usec;
        *ret = c;
        return 0;
}

ImageUsageCache *image_usage_cache_free(ImageUsageCache *c) {
        if (!c)
                return NULL;
        free(c->entries);
        free(c);
        return NULL;
}

/* Opens i and tells which version of it that is. */
static int image_usage_open(const Image *i, ImageUsageKey *ret_key, struct stat *ret_st) {
        _cleanup_close_ int fd = -EBADF;
        ImageUsageKey key;
        struct stat st;
        int r;

        /* O_NONBLOCK: the entry could have been replaced by a fifo since it was listed. */
        fd = open(i->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        key = (ImageUsageKey){
                .dev = st.st_dev,
                .ino = st.st_ino,
                .crtime = i->crtime,
                .subvolume = i->type == IMAGE_SUBVOLUME,
        };
        if (key.subvolume) {
                r = btrfs_subvol_get_generation_fd(fd, &key.generation);
                if (r < 0)
                        return r;
        }
        *ret_key = key;
        if (ret_st)
                *ret_st = st;
        return TAKE_FD(fd);
}

static UsageEntry *usage_cache_find(ImageUsageCache *c, const ImageUsageKey *key) {
        for (size_t i = 0; i < c->n; i++)
                if (c->entries[i].key.dev == key->dev && c->entries[i].key.ino == key->ino &&
                    c->entries[i].key.crtime == key->crtime &&
                    c->entries[i].key.subvolume == key->subvolume)
                        return &c->entries[i];
        return NULL;
}

int image_usage_cache_lookup(ImageUsageCache *c, Image *i) {
        _cleanup_close_ int fd = -EBADF;
        ImageUsageKey key;
        UsageEntry *e;

        fd = image_usage_open(i, &key, NULL);
        if (fd < 0)
                return fd;
        e = usage_cache_find(c, &key);
        if (!e)
                return 0;
        if (key.subvolume ? e->key.generation != key.generation
                          : now_usec(CLOCK_MONOTONIC) - e->computed_usec >= c->max_age_usec)
                return 0;
        i->usage = e->usage;
        return 1;
}

int image_usage_walk(const Image *i, ImageUsageKey *ret_key, uint64_t *ret_usage) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = image_usage_open(i, ret_key, &st);
        if (fd < 0)
                return fd;
        return image_tree_usage_fd(fd, &st, ret_usage);
}

void image_usage_cache_put(ImageUsageCache *c, const ImageUsageKey *key, uint64_t usage) {
        UsageEntry *e = usage_cache_find(c, key);

        if (!e) {
                if (c->n >= USAGE_CACHE_MAX)
                        c->n = 0;
                if (c->n == c->allocated) {
                        size_t n = c->allocated ? c->allocated * 2 : 64;
                        UsageEntry *p = reallocarray(c->entries, n, sizeof *p);
                        if (!p)
                                return; /* not remembered: the next list walks again */
                        c->entries = p;
                        c->allocated = n;
                }
                e = &c->entries[c->n++];
        }
        *e = (UsageEntry){ .key = *key, .computed_usec = now_usec(CLOCK_MONOTONIC), .usage = usage };
}

int image_usage_cache_get(ImageUsageCache *c, Image *i) {
        ImageUsageKey key;
        int r;

        r = image_usage_cache_lookup(c, i);
        if (r != 0)
                return r < 0 ? r : 0;
        r = image_usage_walk(i, &key, &i->usage);
        if (r < 0)
                return r;
        image_usage_cache_put(c, &key, i->usage);
        return 1;
}
