/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net-veth.h"
#include "run-network.h"
#include "util/strv.h"
#include "util/util.h"

void run_network_init(RunNetwork *n) {
        *n = (RunNetwork){.resolv_conf = RESOLV_CONF_AUTO};
}

void run_network_done(RunNetwork *n) {
        network_config_done(&n->config);
        resolv_conf_plan_done(&n->plan);
        strv_free(n->init_args);
        n->init_args = NULL;
}

int run_network_option(RunNetwork *n, int opt, const char *arg) {
        PortForward p;
        int r;

        switch (opt) {
        case 'n':
                if (n->config.mode != NETWORK_VETH)
                        n->n_kinds++;
                n->config.mode = NETWORK_VETH;
                return 1;
        case ARG_NETWORK_BRIDGE:
                if (!ifname_is_valid(arg))
                        return log_error_errno(-EINVAL,
                                "Invalid --network-bridge= '%s': not an interface name (1-15 bytes, no '/', "
                                "':' or spaces).",
                                arg);
                n->n_kinds++;
                n->config.mode = NETWORK_BRIDGE;
                snprintf(n->config.bridge, sizeof n->config.bridge, "%s", arg);
                return 1;
        case ARG_NETWORK_ZONE:
                if (zone_bridge_ifname(arg, n->config.bridge) < 0)
                        return log_error_errno(-EINVAL,
                                "Invalid --network-zone= '%s': use at most 12 of [A-Za-z0-9_-].", arg);
                n->n_kinds++;
                n->config.mode = NETWORK_ZONE;
                return 1;
        case 'p':
                if (port_forward_parse(arg, &p) < 0)
                        return log_error_errno(-EINVAL,
                                "Invalid --port= '%s': expected [tcp:|udp:]HOST[:CONTAINER] with ports "
                                "1-65535.",
                                arg);
                r = port_forwards_add(&n->config.ports, &n->config.n_ports, &p);
                if (r == -EEXIST)
                        return log_error_errno(-EINVAL,
                                "Invalid --port= '%s': host port %s/%u is forwarded twice.", arg,
                                port_protocol_to_string(p.protocol), p.host_port);
                if (r < 0)
                        return log_oom();
                return 1;
        case ARG_RESOLV_CONF:
                n->resolv_conf = resolv_conf_mode_from_string(arg);
                if (n->resolv_conf < 0)
                        return log_error_errno(-EINVAL,
                                "Invalid --resolv-conf= '%s': use auto, off, delete, or copy-, replace-, "
                                "bind- with host, static, uplink or stub.",
                                arg);
                return 1;
        case ARG_NFT_TABLE:
                if (!nft_table_name_is_valid(arg))
                        return log_error_errno(-EINVAL,
                                "Invalid --nft-table= '%s': a letter, then letters, digits, '_' and '-', at "
                                "most 63 bytes.",
                                arg);
                snprintf(n->config.nft_table, sizeof n->config.nft_table, "%s", arg);
                return 1;
        case ARG_NETWORK_LOOPBACK6:
                if (in_addr_from_string(AF_INET6, arg, NULL, &n->config.loopback6) < 0)
                        return log_error_errno(
                                -EINVAL, "Invalid --network-loopback6= '%s': an IPv6 address.", arg);
                n->config.have_loopback6 = true;
                return 1;
        case ARG_DNS_STUB:
                if (isempty(arg) || arg[0] != '/')
                        return log_error_errno(
                                -EINVAL, "Invalid --dns-stub= '%s': must be an absolute path.", arg);
                n->dns_stub = arg;
                return 1;
        default:
                return 0;
        }
}

/* A booted systemd in the host's namespace must leave the host's network alone: no
 * resolved stub or LLMNR on the host's ports, no networkd on the host's links. PID 1 in a
 * container reads its arguments like a kernel command line. */
static const char *const host_network_masks[] = {
        "systemd.mask=systemd-resolved.service",
        "systemd.mask=systemd-networkd.service",
        "systemd.mask=systemd-networkd.socket",
        "systemd.mask=systemd-networkd-wait-online.service",
};

int run_network_finish(RunNetwork *n, SuperviseConfig *c) {
        ResolvConfPaths paths;
        _cleanup_free_ char *error = NULL;
        int r;

        if (n->n_kinds > 1)
                return log_error_errno(-EINVAL,
                        "--network-veth, --network-bridge= and --network-zone= exclude each other.");
        if (n->config.mode == NETWORK_HOST && n->private_network)
                n->config.mode = NETWORK_PRIVATE;
        if (n->config.have_loopback6 && n->config.mode != NETWORK_BRIDGE)
                return log_error_errno(-EINVAL, "--network-loopback6= needs --network-bridge=.");
        if (n->config.n_ports > 0 && n->config.mode != NETWORK_VETH && n->config.mode != NETWORK_BRIDGE &&
                n->config.mode != NETWORK_ZONE)
                return log_error_errno(-EINVAL, "--port= needs a private network with a link to the host: "
                                                "--network-veth, --network-bridge= or --network-zone=.");

        c->spawn.private_network = network_config_is_private(&n->config);
        if (c->spawn.private_network) {
                c->network = &n->config;
                network_config_cleanup(&n->config, c->spawn.machine, &c->net_cleanup);
        }

        resolv_conf_paths_default(&paths, n->dns_stub);
        r = resolv_conf_plan(
                n->resolv_conf, c->spawn.private_network, c->spawn.read_only, &paths, &n->plan, &error);
        if (r < 0)
                return log_error_errno(
                        r == -ENOMEM ? r : -EINVAL, "%s", error ?: "Failed to plan /etc/resolv.conf.");
        if (n->plan.action != RESOLV_ACTION_NONE)
                c->spawn.resolv_conf = &n->plan;

        if (c->spawn.boot && !c->spawn.private_network) {
                for (size_t i = 0; i < ELEMENTSOF(host_network_masks); i++)
                        if (strv_extend(&n->init_args, host_network_masks[i]) < 0)
                                return log_oom();
                if (strv_extend_strv(&n->init_args, c->spawn.argv) < 0)
                        return log_oom();
                c->spawn.argv = n->init_args;
        }
        return 0;
}
