/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* machined's side of networking (core/managed-net.c does the work): its options, adoption
 * of the managed network at startup, what a start adds to the SupervisorStart, what a
 * machine's end removes, and the port forward methods. Hooked into machined.c,
 * machined-start.c, machined-registry.c and machined-manager.c with one call each. */

#include <getopt.h>
#include <systemd/sd-bus.h>

#include "settings.h"
#include "supervisor-contract.h"

typedef struct Manager Manager;
typedef struct Machine Machine;
typedef struct MachinedNetwork MachinedNetwork;

enum {
        ARG_NETWORK = 0x300,
        ARG_NETWORK_BRIDGE,
        ARG_NETWORK_TABLE,
        ARG_NETWORK_IPV4,
        ARG_NETWORK_IPV6,
        ARG_NETWORK_DNS,
        ARG_NETWORK_DOMAIN,
};

#define MACHINED_NETWORK_OPTIONS                                                                            \
        {"network", required_argument, NULL, ARG_NETWORK},                                                  \
                {"network-bridge", required_argument, NULL, ARG_NETWORK_BRIDGE},                            \
                {"network-table", required_argument, NULL, ARG_NETWORK_TABLE},                              \
                {"network-ipv4", required_argument, NULL, ARG_NETWORK_IPV4},                                \
                {"network-ipv6", required_argument, NULL, ARG_NETWORK_IPV6},                                \
                {"network-dns", required_argument, NULL, ARG_NETWORK_DNS}, {                                \
                "network-domain", required_argument, NULL, ARG_NETWORK_DOMAIN                               \
        }

#define MACHINED_NETWORK_HELP                                                                               \
        "     --network=BOOL      Machines get the managed network (default: yes; no:\n"            \
        "                         without network settings, the host's namespace)\n"         \
        "     --network-bridge=NAME  Its bridge (default: nspawnctl0)\n"                                    \
        "     --network-table=NAME   Its nft table (default: nspawnctl)\n"                                  \
        "     --network-ipv4=PREFIX  Its IPv4 subnet (default: a free /24 of 10/8)\n"                       \
        "     --network-ipv6=PREFIX  Its IPv6 /64 (default: a free ULA)\n"                                  \
        "     --network-dns=ADDR     Upstream DNS server (repeatable; default: the\n"                       \
        "                            host's /etc/resolv.conf)\n"                                            \
        "     --network-domain=NAME  DNS domain of the machines (nspawnctl.internal)\n"

/* 1 when opt is a network option, 0 when not, < 0 (logged) for a bad value. */
int manager_network_option(Manager *m, int opt, const char *arg);
/* After the records were loaded: adopts a managed network a previous machined left (bridge,
 * dnsmasq), and drops the reservations of machines that are gone. */
int manager_network_init(Manager *m);
void manager_network_free(Manager *m);

/* StartMachine: for a machine on the managed network reserves its addresses, sets up its
 * forwards and fills in the network fields of start (*ret_dns_stub holds the string
 * start->network_dns_stub points at); for one networked by its settings, only the nft table.
 * Returns 1 when something was set up that manager_network_machine_gone() must undo should
 * the start fail, 0 when nothing was; replies to error and returns < 0 on failure, with
 * nothing left configured. */
int manager_network_start(Manager *m, const char *name, const char *image, SupervisorStart *start,
                          char **ret_dns_stub, sd_bus_error *error);
/* A start that failed, and a machine that is gone: its reservation, name, leases and
 * forwards go (unless the name is running again meanwhile). */
void manager_network_machine_gone(Manager *m, const char *name);

/* Manager.AddMachinePortForward(s machine, s spec), RemoveMachinePortForward(s, s),
 * ListMachinePortForwards(s) -> a(sqq) (protocol, host port, container port): ours only,
 * machine1 has no such methods. The machine's addresses are machine1's GetMachineAddresses
 * (machined-machine-info.c). */
int manager_add_network_bus_objects(Manager *m, sd_bus *bus);
