/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The addresses inside a network namespace and the host's links into it, by netlink: what
 * machine1's GetMachineAddresses and NetworkInterfaces report, for any way a machine is
 * networked (the host's namespace, a private one, veth, macvlan...). */

typedef struct NetnsAddress {
        int32_t family;    /* AF_INET or AF_INET6 */
        uint8_t bytes[16]; /* 4 or 16 used */
        uint32_t ifindex;  /* inside the namespace */
} NetnsAddress;

/* Lists the addresses of every link in the namespace netns_fd (an fd of /proc/PID/ns/net),
 * as systemd's machined does: no host-scope (loopback) or deprecated ones. A forked child
 * enters the namespace (setns needs a single thread of its own) and sends them back.
 * Returns how many, with *ret set (NULL for none). */
int netns_list_addresses(int netns_fd, NetnsAddress **ret);

/* Parses a netlink RTM_NEWADDR dump buffer into addresses (appending to *list); exported for
 * tests. Returns 1 when the dump is complete (NLMSG_DONE), 0 when more follows. */
int netns_parse_addr_dump(const void *buf, size_t len, NetnsAddress **list, size_t *n);

/* The ifindices of the links in the caller's network namespace whose other end is in the
 * namespace netns_fd (the host side of a veth): machine1's NetworkInterfaces. None when
 * netns_fd is the caller's own namespace. Returns how many, with *ret set. */
int netns_host_peer_ifindices(int netns_fd, int **ret);
