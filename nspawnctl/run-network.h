/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* nspawnctl run's network options: parsed into a NetworkConfig and a resolv.conf plan, and
 * turned into what the supervisor and the container's setup need. */

#include <getopt.h>

#include "net-setup.h"
#include "resolv-conf.h"
#include "supervise.h"

enum {
        ARG_NETWORK_BRIDGE = 0x200,
        ARG_NETWORK_ZONE,
        ARG_RESOLV_CONF,
        ARG_NFT_TABLE,
        ARG_DNS_STUB,
        ARG_NETWORK_LOOPBACK6,
};

#define RUN_NETWORK_OPTIONS                                                                \
        { "network-veth", no_argument, NULL, 'n' },                                        \
        { "network-bridge", required_argument, NULL, ARG_NETWORK_BRIDGE },                 \
        { "network-zone", required_argument, NULL, ARG_NETWORK_ZONE },                     \
        { "port", required_argument, NULL, 'p' },                                          \
        { "resolv-conf", required_argument, NULL, ARG_RESOLV_CONF },                       \
        { "nft-table", required_argument, NULL, ARG_NFT_TABLE },                           \
        { "dns-stub", required_argument, NULL, ARG_DNS_STUB },                             \
        { "network-loopback6", required_argument, NULL, ARG_NETWORK_LOOPBACK6 }

#define RUN_NETWORK_SHORT_OPTIONS "np:"

#define RUN_NETWORK_HELP                                                                   \
        "  -n --network-veth         A veth to the host: ve-NAME here, host0 inside\n"       \
        "     --network-bridge=BR    The veth's host side (vb-NAME) a port of bridge BR\n"  \
        "     --network-zone=ZONE    The same on bridge vz-ZONE, made for its first member\n" \
        "  -p --port=[tcp:|udp:]HOST[:CONTAINER]\n"                                         \
        "                            Forward a host port to the container (needs one of\n"   \
        "                            the three above)\n"                                     \
        "     --resolv-conf=MODE     /etc/resolv.conf: auto (default), off, delete,\n"       \
        "                            copy-|replace-|bind- + host|static|uplink|stub\n"       \
        "     --nft-table=NAME       nft table for the forwards (default: nspawnctl)\n"      \
        "     --dns-stub=FILE        resolv.conf of the local resolver meant for the\n"      \
        "                            container (machined's managed network)\n"               \
        "     --network-loopback6=ADDR  Source of forwarded connections from ::1 on the\n"  \
        "                            bridge (machined's managed network)\n"

typedef struct RunNetwork {
        NetworkConfig config;
        bool private_network; /* --private-network */
        unsigned n_kinds;     /* how many of veth, bridge, zone were given */
        ResolvConfMode resolv_conf;
        const char *dns_stub;
        ResolvConfPlan plan;
        char **init_args; /* boot: our arguments for the init, then the user's */
} RunNetwork;

void run_network_init(RunNetwork *n);
void run_network_done(RunNetwork *n);
/* 1 when opt was a network option (and was fine), 0 when it is not one, -EINVAL (logged)
 * when its value is bad. */
int run_network_option(RunNetwork *n, int opt, const char *arg);
/* Checks the combination and fills in c: spawn.private_network, spawn.resolv_conf, network,
 * net_cleanup, and the init's arguments. Logs; -EINVAL for a usage error. */
int run_network_finish(RunNetwork *n, SuperviseConfig *c);
