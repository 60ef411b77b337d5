/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Lock files that exist only while held: the holder unlinks the file before closing it, so
 * the set of files in a lock directory is the set of locks held (machines, uid ranges). */

/* 0 and the locked fd, or -EEXIST while somebody else holds it; other errors negative. */
int lock_file_try(const char *path, int *ret_fd);

/* Unlinks path if it is still the file fd locked, then closes fd. fd < 0: nothing. */
void lock_file_release(const char *path, int fd);
