/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The parts of a container's file system that settings add beyond the tree, the API file
 * systems and the binds (docs/settings.md): the root of Volatile=yes, Overlay= mounts,
 * Inaccessible= masks, /etc/localtime (Timezone=) and the journal link (LinkJournal=auto).
 * Used by the setup process in core/spawn.c, in its own mount namespace before the container
 * runs: these helpers do not log and do not know about the child's reporting; they return a
 * negative errno, and spawn.c says what failed. Paths in the tree are resolved in the tree
 * (core/util/chase.h); host paths come from trusted settings. */

#include <stdbool.h>

#include "settings-exec.h"

/* Volatile=yes: a tmpfs (mounted with tmpfs_options) on directory, the tree's /usr
 * ID-mapped with userns_fd (-EBADF: as it is) and read-only on its /usr, and the symlinks
 * /bin, /sbin, /lib, /lib64 into it where the tree's /usr has those directories. */
int volatile_root_mount(const char *directory, int tree_fd, int userns_fd, const char *tmpfs_options);

/* The overlay o as a detached mount (its place in the tree is the caller's): layers in the
 * tree ("+") are taken from root_fd as they are mounted there, layers on the host are
 * ID-mapped with userns_fd (-EBADF: not) like a bind; an empty top layer is a tmpfs made with
 * tmpfs_options. The work directory of a writable overlay is ".#work.NAME" next to its top
 * layer NAME, made when missing. -ENOENT when a layer is not there, -ENOTDIR when it is no
 * directory. */
int overlay_mount_detached(int root_fd, const OverlayMount *o, int userns_fd, const char *tmpfs_options,
                           int *ret_fd);

/* A small detached tmpfs (tmpfs_options) holding the two inaccessible nodes that masks are
 * bound from: a directory and a regular file, both mode 0000. */
int mask_source_new(const char *tmpfs_options, int *ret_fd);
/* A detached, read-only, noexec bind of the node of mask_source that fits over target_fd (the
 * directory for a directory, the file for anything else). */
int mask_mount_new(int mask_source, int target_fd, int *ret_fd);

/* Timezone=: /etc/localtime of the tree at root_fd as mode says (not TIMEZONE_OFF), from
 * the host's /etc/localtime; writable says whether the tree may be written (else auto binds
 * and copy, symlink, delete fail with -EROFS). -ENOENT for symlink when the host's zone is
 * not a zoneinfo link or the tree lacks that zone. */
int timezone_setup(int root_fd, TimezoneMode mode, bool writable);

/* LinkJournal=auto: the host's /var/log/journal/ID for the machine ID in the tree's
 * /etc/machine-id. Returns 1 with *ret_path (the same path in the host and in the tree), 0
 * when the host has no such directory or the tree no machine ID, -EEXIST when the tree has
 * the host's own machine ID. */
int journal_link_find(int root_fd, char **ret_path);
