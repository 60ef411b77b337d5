/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Port forwards: "[tcp:|udp:]HOST[:CONTAINER]" as in --port=, Port= and `nspawnctl port`. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum PortProtocol {
        PORT_PROTOCOL_TCP,
        PORT_PROTOCOL_UDP,
        _PORT_PROTOCOL_MAX,
        _PORT_PROTOCOL_INVALID = -EINVAL,
} PortProtocol;

const char *port_protocol_to_string(PortProtocol p);
PortProtocol port_protocol_from_string(const char *s);

typedef struct PortForward {
        PortProtocol protocol;
        uint16_t host_port;      /* 1..65535 */
        uint16_t container_port; /* 1..65535; the host port when not given */
} PortForward;

/* Parses a spec; -EINVAL for anything but [tcp:|udp:]PORT[:PORT] with ports 1..65535 in
 * plain decimal (no sign, no spaces, no leading zeros beyond "0"... which is itself invalid). */
int port_forward_parse(const char *s, PortForward *ret);
/* "tcp:8080:80": always the full form, which port_forward_parse() reads back. */
#define PORT_FORWARD_STRLEN 20
const char *port_forward_to_string(const PortForward *p, char buf[static PORT_FORWARD_STRLEN]);
/* The same protocol and host port: two such forwards cannot coexist. */
bool port_forward_conflicts(const PortForward *a, const PortForward *b);

/* Whether the host port is free: something listening on it (TCP) or bound to it (UDP), on
 * any address of either family, makes it -EADDRINUSE. Asks the kernel by binding it. */
int port_host_check_free(const PortForward *p);

/* A list of forwards, appended to with a check for conflicts inside the list. */
int port_forwards_add(PortForward **list, size_t *n, const PortForward *p);
