/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

typedef enum CopyFlags {
        COPY_REFLINK = 1 << 0,   /* share extents (FICLONE) where the file system can */
        COPY_MERGE_TOP = 1 << 1, /* dst_name is an existing empty directory (a subvolume the
                                  * caller made) to copy the source directory's contents into */
        COPY_REFUSE_SPECIAL = 1 << 2, /* a fifo, socket or device node anywhere: -EBADFD */
        COPY_CROSS_MOUNTS = 1 << 3,   /* copy_to/from_tree(): paths in the tree may cross mount
                                       * points (a running machine's root, /proc/PID/root) */
} CopyFlags;

/* Why copy_to_tree() or copy_from_tree() refused (-EBADFD): a special file. */
typedef struct CopyRefusal {
        char *path;       /* the source path of it, as the caller named the source */
        const char *what; /* "a fifo", "a socket", "a character device", ... (static) */
} CopyRefusal;
void copy_refusal_done(CopyRefusal *r);

/* Copies file contents: reflink first if asked, then copy_file_range(), then read/write.
 * Returns -ENOSPC etc. as is, so a full disk stops the copy. */
int copy_file_data(int in_fd, int out_fd, CopyFlags flags);

/* Copies the file system object src_name below src_dir_fd (not following a symlink there)
 * to the new name dst_name below dst_dir_fd: directories recursively, with ownership,
 * mode, timestamps, extended attributes and hard links inside the tree kept. Nothing is
 * ever written through an existing entry: every object is created with O_EXCL or its
 * *at() equivalent, so dst_name must not exist (-EEXIST). On failure the partial copy
 * is left for the caller to remove (it builds under a temporary name). */
int copy_tree_at(int src_dir_fd, const char *src_name, int dst_dir_fd, const char *dst_name,
                 CopyFlags flags);


/* copy-to: host_path (top-level symlink followed, it is the caller's file) is copied into
 * the tree below root_fd at container_path; if that is an existing directory the copy
 * goes inside it under the host file's name. Existing files are never replaced (-EEXIST).
 * copy-from: container_path inside the tree (resolved in the tree) to host_path (inside
 * it if that is a directory).
 * Both copy regular files, directories and symlinks only: a device node, fifo or socket,
 * at the top or at any depth, is refused with -EBADFD and named in *refusal (if given).
 * The copy is built under a temporary name (".#nspawnctl-copy-*") beside its target and
 * renamed into place when complete; on any failure it is removed, so nothing half-copied
 * is left behind. COPY_CROSS_MOUNTS in flags for a running machine's root. */
int copy_to_tree(int root_fd, const char *host_path, const char *container_path, CopyFlags flags,
                 CopyRefusal *refusal);
int copy_from_tree(int root_fd, const char *container_path, const char *host_path, CopyFlags flags,
                   CopyRefusal *refusal);

/* A copy of path without trailing slashes ("/" stays "/"); -EINVAL for an empty one. */
int path_dup_strip(const char *path, char **ret);
/* Splits a path into its directory and last component, ignoring trailing slashes;
 * "a/b/" gives "a" and "b", "b" gives "." and "b", "/" gives "/" and "" (no name). */
int path_split_last(const char *path, char **ret_dir, char **ret_name);
