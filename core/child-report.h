/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stddef.h>

/* A child after clone() or fork() logs nothing through shared state: it tells its parent
 * why it failed with one message on a socket and leaves. Each caller has its own message
 * layout; message points at the text buffer inside msg. errno is set to error while fmt
 * is formatted, so that "%m" names it. */
void child_report_send(int sock, const void *msg, size_t msg_size, char *message, size_t message_size,
                       int error, const char *fmt, va_list ap);
