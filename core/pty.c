/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "macro.h"
#include "pty.h"

int pty_open_in(int pts_dir_fd, int *ret_master, int *ret_slave) {
        _cleanup_close_ int master = -EBADF;
        int unlock = 0, slave;

        master = openat(pts_dir_fd, "ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (master < 0)
                return -errno;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return -errno;
        /* TIOCGPTPEER opens the peer without a path lookup, so nothing in the tree can
         * swap /dev/pts/N for something else between allocation and use. */
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return -errno;
        *ret_master = TAKE_FD(master);
        *ret_slave = slave;
        return 0;
}

int tty_make_raw(int fd, struct termios *saved) {
        struct termios t;

        if (tcgetattr(fd, &t) < 0)
                return -errno;
        *saved = t;
        cfmakeraw(&t);
        if (tcsetattr(fd, TCSANOW, &t) < 0)
                return -errno;
        return 0;
}

void tty_restore(int fd, const struct termios *saved) {
        (void) tcsetattr(fd, TCSANOW, saved);
}

int tty_copy_winsize(int from, int to) {
        struct winsize ws;

        if (ioctl(from, TIOCGWINSZ, &ws) < 0)
                return -errno;
        if (ioctl(to, TIOCSWINSZ, &ws) < 0)
                return -errno;
        return 0;
}
