/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <termios.h>

/* Opens a new pty pair from the devpts instance whose directory is pts_dir_fd (an fd of
 * the container's /dev/pts), so the console belongs to the container's own devpts. */
int pty_open_in(int pts_dir_fd, int *ret_master, int *ret_slave);
/* Puts a terminal into raw mode, saving the old settings for tty_restore(). */
int tty_make_raw(int fd, struct termios *saved);
void tty_restore(int fd, const struct termios *saved);
/* Copies the window size of the terminal `from` to the pty master `to`. */
int tty_copy_winsize(int from, int to);
