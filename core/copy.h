/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

typedef enum CopyFlags {
        COPY_REFLINK = 1 << 0,   /* share extents (FICLONE) where the file system can */
        COPY_MERGE_TOP = 1 << 1, /* dst_name is an existing empty directory (a subvolume the
                                  * caller made) to copy the source directory's contents into */
        COPY_CROSS_MOUNTS = 1 << 2, /* copy_to/from_tree(): paths in the tree may cross mount
                                     * points (a running machine's root, /proc/PID/root) */
} CopyFlags;

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

/* Resolves path relative to root_fd as if root_fd were "/", with openat2()
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV: ".." and absolute symlinks
 * in the tree stay inside it. */
int chase_in_root(int root_fd, const char *path, int open_flags, int *ret_fd);
/* The same; with COPY_CROSS_MOUNTS in flags without RESOLVE_NO_XDEV. */
int chase_in_root_full(int root_fd, const char *path, int open_flags, CopyFlags flags, int *ret_fd);

/* copy-to: host_path (top-level symlink followed, it is the caller's file) is copied into
 * the tree below root_fd at container_path; if that is an existing directory the copy
 * goes inside it under the host file's name. Existing files are never replaced. */
int copy_to_tree(int root_fd, const char *host_path, const char *container_path);
/* copy-from: container_path inside the tree (resolved in the tree) to host_path (inside
 * it if that is a directory). Device nodes, fifos and sockets are refused. */
int copy_from_tree(int root_fd, const char *container_path, const char *host_path);
/* The same with flags (COPY_CROSS_MOUNTS for a running machine's root). */
int copy_to_tree_full(int root_fd, const char *host_path, const char *container_path, CopyFlags flags);
int copy_from_tree_full(int root_fd, const char *container_path, const char *host_path, CopyFlags flags);

/* A copy of path without trailing slashes ("/" stays "/"); -EINVAL for an empty one. */
int path_dup_strip(const char *path, char **ret);
/* Splits a path into its directory and last component, ignoring trailing slashes;
 * "a/b/" gives "a" and "b", "b" gives "." and "b", "/" gives "/" and "" (no name). */
int path_split_last(const char *path, char **ret_dir, char **ret_name);
