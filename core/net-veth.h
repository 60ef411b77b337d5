/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Names and MAC addresses of the links a container gets, and the veth setup itself. */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "net-cleanup.h" /* ifname_is_valid() */
#include "netlink.h"

#define CONTAINER_IFNAME "host0"

/* The host side of a container's veth: "ve-NAME", or "vb-NAME" when it is a port of a bridge.
 * A name too long for IFNAMSIZ keeps its first 11 bytes and gets 4 characters of a hash of
 * the full name, as systemd-nspawn does, so long machine names still get distinct links.
 * Returns 1 when the name was shortened, 0 when not. */
int veth_host_ifname(const char *machine, bool bridged, char ret[static IFNAMSIZ]);
int zone_bridge_ifname(const char *zone, char ret[static IFNAMSIZ]);

/* 64-bit FNV-1a; seed distinguishes uses. */
uint64_t net_hash64(const void *p, size_t n, uint64_t seed);
/* A stable, locally administered unicast MAC for the link called what of machine `name`
 * (the same on every start, so DHCP reservations and neighbour caches keep working). */
void mac_derive(const char *name, const char *what, EtherAddr *ret);
#define ETHER_ADDR_STRLEN 18
const char *ether_addr_to_string(const EtherAddr *a, char buf[static ETHER_ADDR_STRLEN]);
int ether_addr_from_string(const char *s, EtherAddr *ret);

/* Creates the container's veth: host side ifname (up, a port of bridge_ifindex when > 0),
 * container side "host0" with the derived MAC, straight inside netns_fd. rtnl_fd is a
 * socket in the host's namespace. */
int veth_create_for_container(
        int rtnl_fd, const char *machine, const char *ifname, int netns_fd, int bridge_ifindex);
/* Brings up lo inside the container's namespace (systemd does it too; a plain command
 * would otherwise have no loopback at all). */
int netns_loopback_up(int netns_fd);
