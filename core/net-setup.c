/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "net-bridge.h"
#include "net-setup.h"
#include "net-veth.h"
#include "netlink-light.h"
#include "netlink.h"
#include "nft.h"
#include "util/util.h"

static const char *const network_mode_table[_NETWORK_MODE_MAX] = {
        [NETWORK_HOST] = "host",
        [NETWORK_PRIVATE] = "private",
        [NETWORK_VETH] = "veth",
        [NETWORK_BRIDGE] = "bridge",
        [NETWORK_ZONE] = "zone",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(network_mode, NetworkMode, _NETWORK_MODE_MAX);

static const char *table_of(const NetworkConfig *c) {
        return isempty(c->nft_table) ? DEFAULT_NFT_TABLE : c->nft_table;
}

void network_config_cleanup(const NetworkConfig *c, const char *machine, NetworkCleanup *ret) {
        *ret = (NetworkCleanup){};
        if (c->mode == NETWORK_VETH || c->mode == NETWORK_BRIDGE || c->mode == NETWORK_ZONE)
                (void) veth_host_ifname(machine, c->mode != NETWORK_VETH, ret->link);
        if (c->mode == NETWORK_ZONE)
                snprintf(ret->zone_bridge, sizeof ret->zone_bridge, "%s", c->bridge);
        /* A table named explicitly (machined's) may get the box's forwards later, live. */
        if (c->n_ports > 0 || c->have_loopback6 || !isempty(c->nft_table))
                snprintf(ret->nft_table, sizeof ret->nft_table, "%s", table_of(c));
}

struct NetworkRuntime {
        char *machine, *table;
        char link[IFNAMSIZ];
        PortForward *ports;
        size_t n_ports;
        int watch_fd;   /* address events in the container's namespace */
        int request_fd; /* address dumps there */
        bool have4, have6;
        union in_addr_union addr4, addr6;
        bool applied;
};

NetworkRuntime *network_runtime_free(NetworkRuntime *rt) {
        if (!rt)
                return NULL;
        safe_close(rt->watch_fd);
        safe_close(rt->request_fd);
        free(rt->machine);
        free(rt->table);
        free(rt->ports);
        free(rt);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(NetworkRuntime *, network_runtime_free);

int network_runtime_fd(NetworkRuntime *rt) {
        return rt ? rt->watch_fd : -EBADF;
}

static int apply_rules(NetworkRuntime *rt, Error *e) {
        _cleanup_free_ char *text = NULL;
        NftBoxRules b = {
                .table = rt->table,
                .machine = rt->machine,
                .link = rt->link,
                .have4 = rt->have4,
                .have6 = rt->have6,
                .addr4 = rt->addr4,
                .addr6 = rt->addr6,
                .ports = rt->ports,
                .n_ports = rt->n_ports,
                /* Nobody else masquerades for this link, or guards it. */
                .own_snat = true,
                .own_guard = true,
        };
        int r;

        r = nft_box_rules_text(&b, &text);
        if (r < 0)
                return r;
        return nft_run(text, e);
}

int network_runtime_update(NetworkRuntime *rt) {
        _cleanup_free_ AddrEntry *addrs = NULL;
        union in_addr_union a4 = {}, a6 = {};
        bool h4 = false, h6 = false;
        size_t n = 0;
        LinkInfo li;
        char buf[4096];
        int r;

        if (!rt)
                return 0;
        /* Drain the events: they only say "look again". */
        while (read(rt->watch_fd, buf, sizeof buf) > 0)
                ;
        r = rtnl_link_get(rt->request_fd, CONTAINER_IFNAME, &li);
        if (r < 0)
                return r;
        r = rtnl_addr_list(rt->request_fd, AF_UNSPEC, li.ifindex, &addrs, &n);
        if (r < 0)
                return r;
        /* The first global address of each family is where forwards go, as nspawn does. */
        for (size_t i = 0; i < n; i++) {
                if (addrs[i].scope != RT_SCOPE_UNIVERSE)
                        continue;
                if (addrs[i].prefix.family == AF_INET && !h4) {
                        a4 = addrs[i].prefix.addr;
                        h4 = true;
                } else if (addrs[i].prefix.family == AF_INET6 && !h6) {
                        a6 = addrs[i].prefix.addr;
                        h6 = true;
                }
        }
        if (rt->applied && h4 == rt->have4 && h6 == rt->have6 &&
                (!h4 || in_addr_equal(AF_INET, &a4, &rt->addr4)) &&
                (!h6 || in_addr_equal(AF_INET6, &a6, &rt->addr6)))
                return 0;
        rt->have4 = h4;
        rt->have6 = h6;
        rt->addr4 = a4;
        rt->addr6 = a6;
        r = apply_rules(rt, NULL);
        if (r >= 0)
                rt->applied = true;
        return r;
}

static int check_forwards(const NetworkConfig *c, const char *machine, Error *e) {
        _cleanup_free_ NftForward *all = NULL;
        size_t n_all = 0;
        int r;

        r = nft_list_forwards(table_of(c), NULL, &all, &n_all);
        if (r < 0)
                return error_set(e, r, "Failed to read the forwards of table inet %s: %m", table_of(c));
        for (size_t i = 0; i < c->n_ports; i++) {
                const PortForward *p = &c->ports[i];
                for (size_t j = 0; j < n_all; j++)
                        if (port_forward_conflicts(&all[j].port, p) && !streq(all[j].machine, machine))
                                return error_set(e, -EADDRINUSE,
                                        "Host port %s/%u is already forwarded to machine %s.",
                                        port_protocol_to_string(p->protocol), p->host_port, all[j].machine);
                r = port_host_check_free(p);
                if (r == -EADDRINUSE)
                        return error_set(e, r, "Host port %s/%u is in use by a program on the host.",
                                port_protocol_to_string(p->protocol), p->host_port);
                if (r < 0)
                        return error_set(e, r, "Cannot check host port %u: %m", p->host_port);
        }
        return 0;
}

int network_setup(const NetworkConfig *c, const char *machine, const char *state_dir, pid_t pid,
        NetworkRuntime **ret, Error *e) {
        _cleanup_(network_runtime_freep) NetworkRuntime *rt = NULL;
        _cleanup_close_ int netns = -EBADF, rtnl = -EBADF, lock = -EBADF;
        _cleanup_free_ char *lock_path = NULL;
        NetworkCleanup cleanup;
        char ifname[IFNAMSIZ];
        bool created_zone = false, created_link = false;
        int r, bridge_ifindex = 0;

        *ret = NULL;
        if (c->mode == NETWORK_HOST)
                return 0;
        network_config_cleanup(c, machine, &cleanup);
        r = netns_open_pid(pid, &netns);
        if (r < 0)
                return error_set(e, r, "Failed to open the container's network namespace: %m");
        if (c->mode == NETWORK_PRIVATE) {
                r = netns_loopback_up(netns);
                return r < 0 ? error_set(e, r, "Failed to bring up lo in the container: %m") : 0;
        }

        lock_path = network_lock_path(state_dir);
        if (!lock_path)
                return -ENOMEM;
        /* One at a time: zone bridges are made and removed, forwards checked and added. */
        r = network_lock_take(lock_path, &lock);
        if (r < 0)
                return error_set(e, r, "Failed to take %s: %m", lock_path);
        r = nl_open(NETLINK_ROUTE, &rtnl);
        if (r < 0)
                return error_set(e, r, "Failed to open rtnetlink: %m");
        if (c->n_ports > 0) {
                r = check_forwards(c, machine, e);
                if (r < 0)
                        return r;
        }

        if (c->mode == NETWORK_BRIDGE) {
                r = bridge_lookup(rtnl, c->bridge, &bridge_ifindex);
                if (r == -ENODEV)
                        return error_set(e, r, "Bridge %s does not exist.", c->bridge);
                if (r == -EMEDIUMTYPE)
                        return error_set(e, r, "%s is not a bridge.", c->bridge);
                if (r < 0)
                        return error_set(e, r, "Failed to look up bridge %s: %m", c->bridge);
        } else if (c->mode == NETWORK_ZONE) {
                r = bridge_ensure(rtnl, c->bridge, &bridge_ifindex, &created_zone);
                if (r == -EMEDIUMTYPE)
                        return error_set(e, r,
                                "%s exists and is not a bridge, cannot use it for the zone.", c->bridge);
                if (r < 0)
                        return error_set(e, r, "Failed to create the zone's bridge %s: %m", c->bridge);
        }

        snprintf(ifname, sizeof ifname, "%s", cleanup.link);
        r = veth_create_for_container(rtnl, machine, ifname, netns, bridge_ifindex);
        if (r == -EEXIST) {
                error_set(e, r, "Network interface %s exists already.", ifname);
                goto fail;
        }
        if (r < 0) {
                error_set(e, r, "Failed to create the veth %s for the container: %m", ifname);
                goto fail;
        }
        created_link = true;
        r = netns_loopback_up(netns);
        if (r < 0) {
                error_set(e, r, "Failed to bring up lo in the container: %m");
                goto fail;
        }
        if (c->have_loopback6) {
                _cleanup_free_ char *text = NULL;
                r = nft_box_loopback6_text(table_of(c), machine, ifname, &c->loopback6, &text);
                if (r >= 0)
                        r = nft_run(text, e);
                if (r < 0) {
                        /* nft's own words, if it had any */
                        error_set(e, r, "Failed to set up the ::1 forwards of %s: %m", machine);
                        goto fail;
                }
        }

        if (c->n_ports > 0) {
                const char *link = c->mode == NETWORK_VETH ? ifname : c->bridge;
                char path[128];

                rt = calloc(1, sizeof *rt);
                if (!rt) {
                        r = -ENOMEM;
                        goto fail;
                }
                rt->watch_fd = rt->request_fd = -EBADF;
                rt->machine = strdup(machine);
                rt->table = strdup(table_of(c));
                rt->ports = calloc(c->n_ports, sizeof(PortForward));
                if (!rt->machine || !rt->table || !rt->ports) {
                        r = error_set(e, -ENOMEM, "Out of memory.");
                        goto fail;
                }
                memcpy(rt->ports, c->ports, c->n_ports * sizeof(PortForward));
                rt->n_ports = c->n_ports;
                snprintf(rt->link, sizeof rt->link, "%s", link);
                /* 127.0.0.1 as a source must be routable onto the link (the guard chain keeps
                 * the box itself from using that). A bridge that is not ours keeps its
                 * setting: there the forwards answer on the host's addresses only. */
                if (c->mode != NETWORK_BRIDGE) {
                        snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", link);
                        (void) write_string_file(path, "1");
                }
                r = rtnl_open_in_netns(netns, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, &rt->watch_fd);
                if (r >= 0)
                        r = rtnl_open_in_netns(netns, 0, &rt->request_fd);
                if (r < 0) {
                        error_set(e, r, "Failed to watch the container's addresses: %m");
                        goto fail;
                }
                r = apply_rules(rt, e);
                if (r < 0) {
                        error_set(e, r, "Failed to set up the port forwards in table inet %s: %m", rt->table);
                        goto fail;
                }
                rt->applied = true;
        }
        *ret = TAKE_PTR(rt);
        return 0;

fail:
        /* Nothing half-configured: the chains, the veth and a zone bridge this call made. */
        lock = safe_close(lock);
        if (!created_link)
                cleanup.link[0] = 0;
        if (!created_zone)
                cleanup.zone_bridge[0] = 0;
        (void) network_cleanup_run(&cleanup, machine, lock_path, false);
        return r;
}
