/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Images in a pool directory (see pool.h).
 *
 * Layout of the pool, every name relative to it:
 *   NAME                   an image: btrfs subvolume, or plain directory on other file systems
 *   NAME.raw               a raw disk image (listed, renamed, removed, cloned; not created here)
 *   .base-TEMPLATE         read-only base tree of a template; creates snapshot it
 *   .snapshots/NAME/SNAP   LXD-style snapshots of image NAME: read-only subvolumes (read-only
 *                          copies off btrfs), moved along on rename, removed with the image
 *   .#FILE.tmpXXXXXX       an image (or snapshot, inside .snapshots/NAME/) being built or
 *                          deleted; renamed to FILE only when complete, so a failure, a crash
 *                          or a full disk never leaves a half image under a real name
 *   .#NAME.lck             flock()ed by every operation on image NAME (and its temporaries
 *                          and snapshots); image_clean() removes temporaries whose lock is
 *                          free
 * Names given by users are checked with image_name_is_valid(), so they can never name a
 * hidden entry or leave the pool. Read-only is the btrfs subvolume flag for subvolumes and
 * the immutable inode flag (chattr +i) for directories and raw files, as systemd does. */

typedef enum ImageType {
        IMAGE_SUBVOLUME,
        IMAGE_DIRECTORY,
        IMAGE_RAW,
        _IMAGE_TYPE_MAX,
        _IMAGE_TYPE_INVALID = -EINVAL,
} ImageType;

const char *image_type_to_string(ImageType t);
ImageType image_type_from_string(const char *s);

typedef struct Image {
        char *name;
        char *path;
        ImageType type;
        bool read_only;
        uint64_t crtime; /* µs since the epoch, 0 if the file system does not know */
        uint64_t mtime;  /* µs */
        uint64_t usage;  /* bytes referenced, UINT64_MAX if not computed */
} Image;

Image *image_free(Image *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(Image *, image_free);
void image_list_free(Image **l, size_t n);

typedef enum ImageFlags {
        IMAGE_HIDDEN = 1 << 0,    /* list: include hidden images (.base-*) */
        IMAGE_USAGE = 1 << 1,     /* list/get: compute usage (walks the tree) */
        IMAGE_READ_ONLY = 1 << 2, /* clone/import/create: make the new image read-only */
} ImageFlags;

/* Answers whether a running machine uses image name; machined passes its own. */
typedef bool (*ImageInUseFunc)(const char *name, void *userdata);

/* Errors: -EINVAL bad name, -ENOENT no such image, -EEXIST name taken, -EBUSY locked by
 * another operation or in use, -EROFS read-only image. */
int image_list(const char *pool, ImageFlags flags, Image ***ret, size_t *ret_n);
int image_get(const char *pool, const char *name, ImageFlags flags, Image **ret);
int image_clone(const char *pool, const char *src, const char *dst, ImageFlags flags);
int image_rename(const char *pool, const char *old_name, const char *new_name,
                 ImageInUseFunc in_use, void *userdata);
int image_remove(const char *pool, const char *name, ImageInUseFunc in_use, void *userdata);
int image_set_read_only(const char *pool, const char *name, bool b);
/* PRETTY_NAME (else NAME) of the image's os-release: os_release_pretty_name_at(). */
int image_os_release(const char *pool, const char *name, char **ret);

int image_snapshot(const char *pool, const char *name, const char *snap);
int image_list_snapshots(const char *pool, const char *name, Image ***ret, size_t *ret_n);
/* The image goes back to the state of the snapshot (which stays); refused while in use. */
int image_restore(const char *pool, const char *name, const char *snap, ImageInUseFunc in_use,
                  void *userdata);
int image_remove_snapshot(const char *pool, const char *name, const char *snap);

/* Removes leftovers: temporaries (also of snapshots) and lock files nobody holds, and
 * snapshot directories of images that no longer exist. Returns how many it removed. */
int image_clean(const char *pool);

/* Removes the temporary tree on scope exit unless its name was taken (TAKE_PTR). */
typedef struct ImageTmp {
        int dir_fd;
        char *name;
} ImageTmp;

/* Building blocks shared with image-tar.c and the template code; they work on pool file
 * names (FILE above), which may be hidden, so callers validate user input first. */

/* Opens the pool directory; *ret_btrfs tells whether snapshots are possible. */
int image_pool_open(const char *pool, int *ret_fd, bool *ret_btrfs);
/* flock()s ".#NAME.lck" without waiting: -EBUSY if another operation holds it. The lock
 * is held as long as the returned fd is open. */
int image_lock(int pool_fd, const char *name, int *ret_fd);
/* The same, waiting for the holder if wait is true. */
int image_lock_full(int pool_fd, const char *name, bool wait, int *ret_fd);
/* Creates an empty ".#FILE.tmpXXXXXX" (a subvolume if btrfs, else a directory) in dir_fd. */
int image_tmp_make(int dir_fd, const char *file, bool btrfs, char **ret_tmp);
/* Makes the name ".#FILE.tmpXXXXXX" (nothing created). */
int image_tmp_name(const char *file, char **ret);
/* For ".#FILE.tmpXXXXXX" returns FILE; -EINVAL for anything else. */
int image_tmp_name_parse(const char *tmp, char **ret_file);
/* Renames tmp to file, never replacing an existing entry (-EEXIST). */
int image_tmp_commit(int dir_fd, const char *tmp, const char *file);
/* Removes an image tree of any type (nested subvolumes, immutable flags) below dir_fd. */
int image_tree_remove_at(int dir_fd, const char *name);
/* Sets or clears read-only on the tree name below dir_fd, whatever its type. */
int image_tree_set_read_only_at(int dir_fd, const char *name, bool b);
/* Finds image name in dir_fd: the directory NAME, else the raw file NAME.raw; returns its
 * file name and type. -ENOENT if neither exists. */
int image_find_at(int dir_fd, const char *name, char **ret_file, ImageType *ret_type);
/* Snapshots (btrfs subvolume source) or copies with reflinks the tree src_file of the given
 * type into a new temporary named after dst_file in dst_dir_fd, recorded in *tmp. */
int image_tree_duplicate(int src_dir_fd, const char *src_file, ImageType type, int dst_dir_fd,
                         const char *dst_file, bool btrfs, bool read_only, ImageTmp *tmp);
/* Whether image name (or name.raw) exists in the pool. */
int image_exists_at(int pool_fd, const char *name);
/* Whether the tree below dir_fd is a btrfs subvolume, or a read-only one. */
int image_tree_is_read_only_at(int dir_fd, const char *name);

/* What an operation on one existing image starts with: the pool opened, the image's lock
 * taken and the image found (validating name first). With new_name (clone, rename) also
 * the lock of new_name, which must be free (-EEXIST). */
typedef struct ImageRef {
        int pool_fd;
        bool btrfs;
        int lock_fd, new_lock_fd;
        char *file;
        ImageType type;
} ImageRef;
#define IMAGE_REF_NULL { .pool_fd = -EBADF, .lock_fd = -EBADF, .new_lock_fd = -EBADF }
int image_ref_open(const char *pool, const char *name, const char *new_name, ImageRef *ref);
void image_ref_done(ImageRef *ref);
/* What making a new image starts with (create, import): the pool opened and the lock of
 * name (validated by the caller: it may be a hidden base) taken; -EEXIST if it exists. */
int image_pool_open_new(const char *pool, const char *name, int *ret_pool_fd, bool *ret_btrfs,
                        int *ret_lock_fd);

/* Snapshot directory of image name: ".snapshots/NAME". */
#define IMAGE_SNAPSHOTS_DIR ".snapshots"
/* Name of the base image of a template: ".base-TEMPLATE". */
int image_base_name(const char *template_name, char **ret);

void image_tmp_done(ImageTmp *t);
/* Renames the finished temporary into place (read-only if asked) and takes its name, so
 * image_tmp_done() leaves it alone. */
int image_tmp_finish(int dir_fd, ImageTmp *tmp, const char *file, bool read_only);
