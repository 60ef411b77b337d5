/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* The addresses inside a network namespace and the host's links into it, by netlink: what
 * machine1's GetMachineAddresses and NetworkInterfaces report, for any way a machine is
 * networked (the host's namespace, a private one, veth, macvlan...). */

typedef struct NetnsAddress {
        int32_t family;    /* AF_INET or AF_INET6 */
        uint8_t bytes[16]; /* 4 or 16 used */
        uint32_t ifindex;  /* inside the namespace */
        uint8_t scope;     /* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, ... */
} NetnsAddress;

/* Lists the addresses of every link in the namespace netns_fd (an fd of /proc/PID/ns/net),
 * as systemd's machined does: no host-scope (loopback) or deprecated ones, and global ones
 * first (what `list` shows of a machine is its first address). The dump goes through a
 * netlink socket of that namespace (rtnl_open_in_netns()). Returns how many, with *ret set
 * (NULL for none). */
int netns_list_addresses(int netns_fd, NetnsAddress **ret);

/* One message of an RTM_GETADDR dump: 1 with *ret set for an address the list reports, 0 for
 * one it leaves out (or another message); exported for tests. */
int netns_addr_from_msg(const struct nlmsghdr *h, NetnsAddress *ret);

/* The ifindices of the links in the caller's network namespace whose other end is in the
 * namespace netns_fd (the host side of a veth): machine1's NetworkInterfaces. None when
 * netns_fd is the caller's own namespace. Returns how many, with *ret set. */
int netns_host_peer_ifindices(int netns_fd, int **ret);
