/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The managed network machined puts its boxes on: a bridge (nspawnctl0) with an IPv4 /24
 * and an IPv6 ULA /64 chosen at first start so that they collide with nothing on the host
 * and kept across restarts; dnsmasq on it for DHCPv4, RA/DHCPv6 and DNS (each box's name,
 * everything else forwarded upstream); masquerade and port forwards in the project's nft
 * table; forwarding switched on only for the bridge and the host's uplinks.
 *
 * Everything lives in the host and outlives machined: a new machined adopts the bridge and
 * dnsmasq (pid and start time) instead of starting over. Files, under STATEDIR/network:
 *   managed.state     the chosen subnets and dnsmasq's pid (format: managed_net_state_*)
 *   resolv.conf       what boxes whose /etc/resolv.conf is a plain file get
 *   dnsmasq/          see dnsmasq.h
 *   lock              serializes changes to bridges, boxes and forwards (net-cleanup.h)
 * A box's reserved addresses are its dnsmasq/dhcp-hosts/NAME entry; its MAC is derived from
 * its name (net-veth.h), so the supervisor creates host0 with the MAC dnsmasq expects. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "in-addr.h"
#include "macro.h"
#include "net-port.h"
#include "netlink.h"

#define MANAGED_NET_DEFAULT_BRIDGE "nspawnctl0"
#define MANAGED_NET_DEFAULT_DOMAIN "nspawnctl.internal"

typedef struct ManagedNetState {
        char bridge[IFNAMSIZ];
        char table[64];
        InAddrPrefix subnet4, subnet6;
        pid_t dnsmasq_pid;      /* 0: none */
        uint64_t dnsmasq_start; /* its start time (field 22 of /proc/PID/stat) */
} ManagedNetState;

int managed_net_state_write(const char *path, const ManagedNetState *s);
/* -ENOENT when there is no state yet, -EBADMSG when the file is not ours. */
int managed_net_state_read(const char *path, ManagedNetState *ret);

typedef struct ManagedNetConfig {
        const char *state_dir;           /* machined's state directory */
        const char *bridge;              /* NULL: nspawnctl0 */
        const char *table;               /* NULL: nspawnctl */
        const char *domain;              /* NULL: nspawnctl.internal */
        char **dns_servers;              /* upstream DNS servers; NULL: the host's /etc/resolv.conf */
        bool have_subnet4, have_subnet6; /* fixed instead of chosen */
        InAddrPrefix subnet4, subnet6;
        /* Where the networkd drop-in that keeps a host's networkd off our links goes; NULL:
         * /run/systemd/network when the host runs systemd, nowhere otherwise. */
        const char *networkd_dir;
} ManagedNetConfig;

typedef struct ManagedNet {
        char *state_dir, *dir, *dnsmasq_dir, *bridge, *table, *domain, *networkd_dir;
        char **dns_servers;
        bool have_subnet4, have_subnet6;
        InAddrPrefix subnet4, subnet6;
        union in_addr_union gateway4, gateway6, loopback6;
        int bridge_ifindex;
        bool up;
        pid_t dnsmasq_pid;
        uint64_t dnsmasq_start;
} ManagedNet;

int managed_net_new(const ManagedNetConfig *c, ManagedNet **ret);
ManagedNet *managed_net_free(ManagedNet *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(ManagedNet *, managed_net_free);

/* Sets the network up, or adopts what a previous machined left running; idempotent. On
 * failure nothing this call created stays, and e says what is wrong in a line. */
int managed_net_up(ManagedNet *n, Error *e);
/* Starts dnsmasq again when it is gone (machined watches its pidfd). */
int managed_net_restart_dnsmasq(ManagedNet *n, Error *e);

typedef struct ManagedBox {
        char name[65];
        EtherAddr mac;
        union in_addr_union addr4, addr6;
} ManagedBox;

/* Reserves addresses for a box (keeping an earlier reservation of the same name) and makes
 * its name resolvable. -ENOSPC when the range is exhausted. */
int managed_net_box_add(ManagedNet *n, const char *name, ManagedBox *ret, Error *e);
/* -ENOENT when the box has no reservation. */
int managed_net_box_get(ManagedNet *n, const char *name, ManagedBox *ret);
/* Removes the box's reservation, name, leases and forwards. */
int managed_net_box_remove(ManagedNet *n, const char *name);
/* Names of the boxes that have a reservation. */
int managed_net_box_list(ManagedNet *n, char ***ret);

/* Replaces the box's forwards with ports, after checking that no other box and no host
 * socket holds any of their host ports (-EADDRINUSE, e names the holder). */
int managed_net_forwards_set(
        ManagedNet *n, const ManagedBox *b, const PortForward *ports, size_t n_ports, Error *e);
/* The box's forwards as the kernel has them. */
int managed_net_forwards_get(ManagedNet *n, const char *name, PortForward **ret, size_t *ret_n);
/* Checks one forward for a box: -EADDRINUSE when another box or a host socket holds it. */
int managed_net_forward_check(ManagedNet *n, const char *name, const PortForward *p, Error *e);

/* The systemd-networkd drop-in that keeps a host's networkd off the bridge and the boxes'
 * links (written to /run/systemd/network on systemd hosts). */
int managed_net_networkd_dropin_text(const char *bridge, char **ret);

/* STATEDIR/network/resolv.conf */
char *managed_net_resolv_conf_path(const ManagedNet *n);
