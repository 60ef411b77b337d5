/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* rtnetlink requests the network setup needs: links (veth pairs created straight into a
 * container's namespace, bridges), addresses and routes, in the host's namespace or in a
 * container's. Raw netlink on top of netlink-light.h; never logs. */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "in-addr.h"

typedef struct EtherAddr {
        uint8_t bytes[6];
} EtherAddr;

typedef struct LinkInfo {
        int ifindex;
        unsigned flags; /* IFF_UP ... */
        int master;     /* ifindex of the bridge it is a port of, 0 */
        char name[IFNAMSIZ];
        char kind[32]; /* "veth", "bridge", ...; "" for a plain device */
        EtherAddr mac;
} LinkInfo;

/* -ENODEV when there is no link called name. */
int rtnl_link_get(int fd, const char *name, LinkInfo *ret);
/* Creates a veth pair name <-> peer; the peer is created straight inside the network
 * namespace peer_netns_fd, so it never exists in ours. -EEXIST when name is taken. */
int rtnl_veth_create(int fd, const char *name, const EtherAddr *mac, const char *peer,
        const EtherAddr *peer_mac, int peer_netns_fd);
/* A bridge with a fixed MAC (a bridge would otherwise take the lowest port's MAC, and
 * change it under the boxes' neighbour caches as ports come and go). */
int rtnl_bridge_create(int fd, const char *name, const EtherAddr *mac);
int rtnl_link_set_up(int fd, int ifindex);
int rtnl_link_set_master(int fd, int ifindex, int master_ifindex);
/* Adds an address; 0 also when it is there already. nodad: usable at once (IPv6). */
int rtnl_addr_add(int fd, int ifindex, const InAddrPrefix *p, bool nodad);
int rtnl_addr_del(int fd, int ifindex, const InAddrPrefix *p);

typedef struct AddrEntry {
        int ifindex;
        InAddrPrefix prefix; /* the address with its prefix length */
        uint8_t scope;       /* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST */
} AddrEntry;
/* Every address of family (AF_UNSPEC: both) on ifindex (0: every link). */
int rtnl_addr_list(int fd, int family, int ifindex, AddrEntry **ret, size_t *ret_n);

typedef struct RouteEntry {
        InAddrPrefix dst; /* 0/0 for a default route */
        int oif;
        uint8_t type; /* RTN_UNICAST, RTN_LOCAL ... */
        uint32_t table;
} RouteEntry;
/* Every route of family in every table. */
int rtnl_route_list(int fd, int family, RouteEntry **ret, size_t *ret_n);

/* An rtnetlink socket inside the network namespace netns_fd (created by a short-lived child
 * that joins it; the socket stays bound to that namespace), subscribed to groups (RTMGRP_*,
 * 0 for none; then non-blocking). */
int rtnl_open_in_netns(int netns_fd, uint32_t groups, int *ret_fd);
/* Opens /proc/PID/ns/net. */
int netns_open_pid(pid_t pid, int *ret_fd);
