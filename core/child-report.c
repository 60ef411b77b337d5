/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "child-report.h"

void child_report_send(int sock, const void *msg, size_t msg_size, char *message, size_t message_size,
                       int error, const char *fmt, va_list ap) {
        errno = error;
        vsnprintf(message, message_size, fmt, ap);
        /* Nothing to be done if the parent is gone: the exit status still tells it. */
        (void) send(sock, msg, msg_size, MSG_NOSIGNAL);
}
