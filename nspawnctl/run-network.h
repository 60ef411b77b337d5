/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* nspawnctl run's network options, parsed into the command line's Settings (what a .nspawn
 * file could say too: VirtualEthernet=, Bridge=, Zone=, Port=, ResolvConf=) and run's own
 * --nft-table=. Everything else about the network is the core's (runtime_prepare(),
 * supervise()), the same for run and the supervisor machined starts. */

#include <getopt.h>

#include "settings.h"
#include "supervise.h"

enum {
        ARG_NETWORK_BRIDGE = 0x200,
        ARG_NETWORK_ZONE,
        ARG_RESOLV_CONF,
        ARG_NFT_TABLE,
};

#define RUN_NETWORK_OPTIONS                                                                \
        { "network-veth", no_argument, NULL, 'n' },                                        \
        { "network-bridge", required_argument, NULL, ARG_NETWORK_BRIDGE },                 \
        { "network-zone", required_argument, NULL, ARG_NETWORK_ZONE },                     \
        { "port", required_argument, NULL, 'p' },                                          \
        { "resolv-conf", required_argument, NULL, ARG_RESOLV_CONF },                       \
        { "nft-table", required_argument, NULL, ARG_NFT_TABLE }

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
        "     --nft-table=NAME       nft table for the forwards (default: nspawnctl)\n"

typedef struct RunNetworkArgs {
        unsigned n_kinds; /* how many of --network-veth, --network-bridge=, --network-zone= */
        char nft_table[NFT_TABLE_NAME_MAX];
} RunNetworkArgs;

/* 1 when opt was a network option (and was fine), 0 when it is not one, -EINVAL (logged)
 * when its value is bad, -ENOMEM (logged). */
int run_network_option(RunNetworkArgs *n, Settings *s, int opt, const char *arg);
/* The command line's own combination; logs, -EINVAL. */
int run_network_check(const RunNetworkArgs *n);
/* What is run's own (after settings_apply()). */
void run_network_apply(const RunNetworkArgs *n, SuperviseConfig *c);
