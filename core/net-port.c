/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net-port.h"
#include "util/util.h"

static const char *const port_protocol_table[_PORT_PROTOCOL_MAX] = {
        [PORT_PROTOCOL_TCP] = "tcp",
        [PORT_PROTOCOL_UDP] = "udp",
};

DEFINE_STRING_TABLE_LOOKUP(port_protocol, PortProtocol, _PORT_PROTOCOL_MAX);

static int parse_port(const char *s, size_t n, uint16_t *ret) {
        unsigned v = 0;

        /* 1..65535, digits only, no leading zero. */
        if (n == 0 || n > 5 || s[0] == '0')
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

int port_forward_parse(const char *s, PortForward *ret) {
        PortForward p = {.protocol = PORT_PROTOCOL_TCP};
        const char *colon;
        int r;

        if (isempty(s))
                return -EINVAL;
        if (startswith(s, "tcp:"))
                s += 4;
        else if (startswith(s, "udp:")) {
                p.protocol = PORT_PROTOCOL_UDP;
                s += 4;
        }
        colon = strchr(s, ':');
        r = parse_port(s, colon ? (size_t) (colon - s) : strlen(s), &p.host_port);
        if (r < 0)
                return r;
        if (colon) {
                r = parse_port(colon + 1, strlen(colon + 1), &p.container_port);
                if (r < 0)
                        return r;
        } else
                p.container_port = p.host_port;
        *ret = p;
        return 0;
}

const char *port_forward_to_string(const PortForward *p, char buf[static PORT_FORWARD_STRLEN]) {
        snprintf(buf, PORT_FORWARD_STRLEN, "%s:%u:%u", port_protocol_to_string(p->protocol) ?: "?",
                p->host_port, p->container_port);
        return buf;
}

bool port_forward_conflicts(const PortForward *a, const PortForward *b) {
        return a->protocol == b->protocol && a->host_port == b->host_port;
}

static int try_bind(int family, const PortForward *p) {
        _cleanup_close_ int fd = -EBADF;
        int type = p->protocol == PORT_PROTOCOL_TCP ? SOCK_STREAM : SOCK_DGRAM, one = 1;
        union {
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } sa = {};
        socklen_t len;

        fd = socket(family, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return errno == EAFNOSUPPORT ? 0 : -errno;
        /* SO_REUSEADDR so that a connection in TIME_WAIT does not count; a listener still
         * does. The IPv6 socket is v6-only: the IPv4 side is asked by its own socket. */
        if (type == SOCK_STREAM)
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (family == AF_INET) {
                sa.in.sin_family = AF_INET;
                sa.in.sin_port = htons(p->host_port);
                len = sizeof sa.in;
        } else {
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
                sa.in6.sin6_family = AF_INET6;
                sa.in6.sin6_port = htons(p->host_port);
                len = sizeof sa.in6;
        }
        if (bind(fd, (struct sockaddr *) &sa, len) < 0)
                return errno == EADDRNOTAVAIL ? 0 : -errno;
        return 0;
}

int port_host_check_free(const PortForward *p) {
        int r = try_bind(AF_INET, p);
        if (r < 0)
                return r;
        return try_bind(AF_INET6, p);
}

int port_forwards_add(PortForward **list, size_t *n, const PortForward *p) {
        PortForward *l;

        for (size_t i = 0; i < *n; i++)
                if (port_forward_conflicts(&(*list)[i], p))
                        return -EEXIST;
        l = reallocarray(*list, *n + 1, sizeof(PortForward));
        if (!l)
                return -ENOMEM;
        l[(*n)++] = *p;
        *list = l;
        return 0;
}
