/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"
#include "log.h"
#include "net-veth.h"
#include "resolv-conf.h"
#include "run-network.h"
#include "util/util.h"

/* Logs "Invalid --OPTION= 'VALUE': HINT" and returns -EINVAL. */
static int invalid(const char *option, const char *value, const char *hint) {
        return log_error_errno(-EINVAL, "Invalid --%s= '%s': %s", option, value, hint);
}

int run_network_option(RunNetworkArgs *n, Settings *s, int opt, const char *arg) {
        PortForward p;
        int r;

        switch (opt) {
        case 'n':
                if (s->virtual_ethernet <= 0)
                        n->n_kinds++;
                s->virtual_ethernet = true;
                return 1;
        case ARG_NETWORK_BRIDGE:
                if (!ifname_is_valid(arg))
                        return invalid("network-bridge", arg,
                                       "not an interface name (1-15 bytes, no '/', ':' or spaces).");
                n->n_kinds++;
                return ini_set_string(&s->bridge, arg) < 0 ? log_oom() : 1;
        case ARG_NETWORK_ZONE:
                if (!zone_name_is_valid(arg))
                        return invalid("network-zone", arg, "use at most 12 of [A-Za-z0-9_-].");
                n->n_kinds++;
                return ini_set_string(&s->zone, arg) < 0 ? log_oom() : 1;
        case 'p':
                if (port_forward_parse(arg, &p) < 0)
                        return invalid("port", arg,
                                       "expected [tcp:|udp:]HOST[:CONTAINER] with ports 1-65535.");
                r = port_forwards_add(&s->ports, &s->n_ports, &p);
                if (r == -EEXIST)
                        return log_error_errno(-EINVAL,
                                               "Invalid --port= '%s': host port %s/%u is forwarded twice.",
                                               arg, port_protocol_to_string(p.protocol), p.host_port);
                if (r < 0)
                        return log_oom();
                return 1;
        case ARG_RESOLV_CONF:
                s->resolv_conf = resolv_conf_mode_from_string(arg);
                if (s->resolv_conf < 0)
                        return invalid("resolv-conf", arg,
                                       "use auto, off, delete, or copy-, replace-, bind- with host, static, "
                                       "uplink or stub.");
                return 1;
        case ARG_NFT_TABLE:
                if (!nft_table_name_is_valid(arg))
                        return invalid("nft-table", arg,
                                       "a letter, then letters, digits, '_' and '-', at most 63 bytes.");
                snprintf(n->nft_table, sizeof n->nft_table, "%s", arg);
                return 1;
        default:
                return 0;
        }
}

int run_network_check(const RunNetworkArgs *n) {
        if (n->n_kinds > 1)
                return log_error_errno(-EINVAL,
                                       "--network-veth, --network-bridge= and --network-zone= exclude "
                                       "each other.");
        return 0;
}

void run_network_apply(const RunNetworkArgs *n, SuperviseConfig *c) {
        memcpy(c->network.nft_table, n->nft_table, sizeof c->network.nft_table);
}
