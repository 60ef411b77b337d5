/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* os-release of a guest tree: read with read_guest_file() (a regular file, resolved inside
 * the tree, at most OS_RELEASE_MAX_SIZE bytes), so a fifo or a sparse 600 MB file there
 * costs a refusal, not memory or a blocked caller (machined answers OSRelease to anyone). */

/* Real ones are under 1 KiB. */
#define OS_RELEASE_MAX_SIZE (64 * 1024)

/* PRETTY_NAME, else NAME, of the tree at root_fd: /etc/os-release, else /usr/lib/os-release.
 * -ENODATA if the file has neither, -EBADFD if it is not a regular file, -EFBIG if too big. */
int os_release_pretty_name_at(int root_fd, char **ret);

/* The same from the text of an os-release file: VAR=VALUE lines, VALUE unquoted as a shell
 * would ('...' literally, "..." with \", \\, \$ and \` escapes). */
int os_release_parse_pretty_name(const char *text, char **ret);
