/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Debian's dnsmasq-base as the managed network's DHCPv4, router advertisement, DHCPv6 and
 * DNS server: its configuration, per-box host entries, its lease file, and the process
 * (started detached so it outlives machined, adopted again by pid file and start time).
 *
 * Files under DIR (one owner: this module):
 *   DIR/dnsmasq.conf        generated configuration
 *   DIR/dnsmasq.pid         written by dnsmasq
 *   DIR/dnsmasq.log         its log
 *   DIR/leases              its lease file
 *   DIR/hosts/NAME          "ADDRESS NAME" lines: the box's name in DNS (read on change)
 *   DIR/dhcp-hosts/NAME     "MAC,IPV4,[IPV6],NAME": the box's reserved addresses */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "in-addr.h"
#include "netlink.h"

typedef struct DnsmasqConfig {
        const char *dir;
        const char *bridge;
        InAddrPrefix subnet4, subnet6;
        union in_addr_union gateway4, gateway6; /* the bridge's own addresses */
        const char *domain;
        char **servers;   /* upstream DNS servers; NULL: the host's /etc/resolv.conf */
        const char *user; /* to drop to; NULL: dnsmasq's default */
} DnsmasqConfig;

int dnsmasq_config_text(const DnsmasqConfig *c, char **ret);

/* The two per-box entries. */
int dnsmasq_host_entries(const char *name, const EtherAddr *mac, const union in_addr_union *a4,
        const union in_addr_union *a6, char **ret_dhcp_host, char **ret_hosts);
/* Parses a dhcp-hosts/NAME file back (what dnsmasq_host_entries() wrote). */
int dnsmasq_dhcp_host_parse(
        const char *line, EtherAddr *ret_mac, union in_addr_union *ret_a4, union in_addr_union *ret_a6);

typedef struct DnsmasqLease {
        int family;
        union in_addr_union addr;
        EtherAddr mac;       /* IPv4 leases */
        uint32_t iaid;       /* IPv6 leases */
        char client_id[256]; /* "*" when none */
        char hostname[256];
} DnsmasqLease;

/* Parses dnsmasq's lease file; *ret_server_duid (may be NULL) gets the "duid" line's value. */
int dnsmasq_leases_parse(const char *text, DnsmasqLease **ret, size_t *ret_n, char **ret_server_duid);
/* Ends the lease of a box that went away (dhcp_release/dhcp_release6 from dnsmasq-utils):
 * nothing of it stays in the lease file. -ENOENT when the tools are missing. */
int dnsmasq_release_lease(const char *bridge, const DnsmasqLease *l, const char *server_duid);

/* Finds dnsmasq in $PATH. -ENOENT when there is none. */
int dnsmasq_find(char **ret);
/* Starts dnsmasq detached with DIR/dnsmasq.conf and waits until it is serving (dnsmasq
 * forks only once it is). On failure e gets dnsmasq's own one-line reason. */
int dnsmasq_start(
        const char *binary, const char *dir, pid_t *ret_pid, uint64_t *ret_start_time, Error *e);
/* Whether pid (with start time, from /proc) is still our dnsmasq. */
bool dnsmasq_is_running(pid_t pid, uint64_t start_time);
/* Reads DIR/dnsmasq.pid and checks the process is a dnsmasq. */
int dnsmasq_read_pid(const char *dir, pid_t *ret_pid, uint64_t *ret_start_time);
/* SIGTERM, up to 5 s, then SIGKILL. */
int dnsmasq_stop(pid_t pid, uint64_t start_time);
