/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "dnsmasq.h"
#include "managed-net.h"
#include "net-bridge.h"
#include "net-cleanup.h"
#include "net-subnet.h"
#include "net-veth.h"
#include "netlink-light.h"
#include "nft.h"
#include "util/strv.h"
#include "util/util.h"

/* ---- the state file ---------------------------------------------------------------- */

int managed_net_state_write(const char *path, const ManagedNetState *s) {
        char a[IN_ADDR_PREFIX_STRLEN], b[IN_ADDR_PREFIX_STRLEN];
        _cleanup_free_ char *text = NULL;

        if (asprintf(&text,
                     "# nspawnctl managed network, written by machined (core/managed-net.c)\n"
                     "BRIDGE=%s\nTABLE=%s\nIPV4=%s\nIPV6=%s\nDNSMASQ_PID=%d\nDNSMASQ_START=%llu\n",
                     s->bridge, s->table, in_addr_prefix_to_string(&s->subnet4, a),
                     in_addr_prefix_to_string(&s->subnet6, b), (int) s->dnsmasq_pid,
                     (unsigned long long) s->dnsmasq_start) < 0)
                return -ENOMEM;
        return write_string_file_atomic(path, NULL, text);
}

int managed_net_state_read(const char *path, ManagedNetState *ret) {
        _cleanup_free_ char *text = NULL;
        ManagedNetState s = {};
        unsigned seen = 0;
        size_t size;
        int r;

        r = read_full_file(path, &text, &size);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                char *eq;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (line[0] == '#' || line[0] == 0)
                        continue;
                eq = strchr(line, '=');
                if (!eq)
                        return -EBADMSG;
                *eq++ = 0;
                if (streq(line, "BRIDGE")) {
                        if (!ifname_is_valid(eq))
                                return -EBADMSG;
                        snprintf(s.bridge, sizeof s.bridge, "%s", eq);
                        seen |= 1;
                } else if (streq(line, "TABLE")) {
                        if (!nft_table_name_is_valid(eq))
                                return -EBADMSG;
                        snprintf(s.table, sizeof s.table, "%s", eq);
                        seen |= 2;
                } else if (streq(line, "IPV4")) {
                        if (in_addr_prefix_from_string(eq, &s.subnet4) < 0 || s.subnet4.family != AF_INET)
                                return -EBADMSG;
                        seen |= 4;
                } else if (streq(line, "IPV6")) {
                        if (in_addr_prefix_from_string(eq, &s.subnet6) < 0 || s.subnet6.family != AF_INET6)
                                return -EBADMSG;
                        seen |= 8;
                } else if (streq(line, "DNSMASQ_PID")) {
                        int pid;
                        if (safe_atoi(eq, &pid) < 0 || pid < 0)
                                return -EBADMSG;
                        s.dnsmasq_pid = pid;
                } else if (streq(line, "DNSMASQ_START")) {
                        if (safe_atou64(eq, &s.dnsmasq_start) < 0)
                                return -EBADMSG;
                }
                /* Unknown keys are skipped: a newer machined may add some. */
        }
        if (seen != 15)
                return -EBADMSG;
        *ret = s;
        return 0;
}

/* ---- setup ------------------------------------------------------------------------- */

ManagedNet *managed_net_free(ManagedNet *n) {
        if (!n)
                return NULL;
        free(n->state_dir);
        free(n->dir);
        free(n->dnsmasq_dir);
        free(n->bridge);
        free(n->table);
        free(n->domain);
        free(n->networkd_dir);
        strv_free(n->dns_servers);
        free(n);
        return NULL;
}

int managed_net_new(const ManagedNetConfig *c, ManagedNet **ret) {
        _cleanup_(managed_net_freep) ManagedNet *n = NULL;

        if (!c->state_dir)
                return -EINVAL;
        if (c->bridge && !ifname_is_valid(c->bridge))
                return -EINVAL;
        if (c->table && !nft_table_name_is_valid(c->table))
                return -EINVAL;
        if ((c->have_subnet4 && (c->subnet4.family != AF_INET || c->subnet4.prefixlen < 16 ||
                                        c->subnet4.prefixlen > 30)) ||
                (c->have_subnet6 && (c->subnet6.family != AF_INET6 || c->subnet6.prefixlen != 64)))
                return -EINVAL;
        n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->state_dir = strdup(c->state_dir);
        n->dir = strjoin(c->state_dir, "/network");
        n->dnsmasq_dir = strjoin(c->state_dir, "/network/dnsmasq");
        n->bridge = strdup(c->bridge ?: MANAGED_NET_DEFAULT_BRIDGE);
        n->table = strdup(c->table ?: DEFAULT_NFT_TABLE);
        n->domain = strdup(c->domain ?: MANAGED_NET_DEFAULT_DOMAIN);
        if (!n->state_dir || !n->dir || !n->dnsmasq_dir || !n->bridge || !n->table || !n->domain)
                return -ENOMEM;
        if (c->networkd_dir)
                n->networkd_dir = strdup(c->networkd_dir);
        else if (access("/run/systemd/system", F_OK) >= 0)
                n->networkd_dir = strdup("/run/systemd/network");
        if ((c->networkd_dir || access("/run/systemd/system", F_OK) >= 0) && !n->networkd_dir)
                return -ENOMEM;
        if (c->dns_servers && !(n->dns_servers = strv_copy(c->dns_servers)))
                return -ENOMEM;
        n->have_subnet4 = c->have_subnet4;
        n->have_subnet6 = c->have_subnet6;
        n->subnet4 = c->subnet4;
        n->subnet6 = c->subnet6;
        in_addr_prefix_mask(&n->subnet4);
        in_addr_prefix_mask(&n->subnet6);
        *ret = TAKE_PTR(n);
        return 0;
}

static char *state_path(const ManagedNet *n) {
        return strjoin(n->dir, "/managed.state");
}

char *managed_net_resolv_conf_path(const ManagedNet *n) {
        return strjoin(n->dir, "/resolv.conf");
}

static int mkdir_if_missing(const char *p) {
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Written next to path, or in tmp_dir: dnsmasq watches the host directories and would read
 * (and, for dhcp-hostsdir, keep) a temporary file there. */
static int write_file_atomic_via(const char *tmp_dir, const char *path, const char *text) {
        const char *base = strrchr(path, '/');
        _cleanup_free_ char *tmp =
                tmp_dir ? strjoin(tmp_dir, "/.#", base ? base + 1 : path, ".tmp") : strjoin(path, ".tmp");

        if (!tmp)
                return -ENOMEM;
        return write_string_file_atomic(path, tmp, text);
}

static int write_file_atomic(const char *path, const char *text) {
        return write_file_atomic_via(NULL, path, text);
}

static void compute_addresses(ManagedNet *n) {
        (void) in_addr_prefix_nth(&n->subnet4, 1, &n->gateway4);
        (void) in_addr_prefix_nth(&n->subnet6, 1, &n->gateway6);
        /* Outside the DHCPv6 range (::2 - ::fffe): the source of forwarded ::1 traffic. */
        (void) in_addr_prefix_nth(&n->subnet6, 0xffff, &n->loopback6);
}

static int sysctl_write(const char *path, const char *value) {
        return write_string_file(path, value);
}

/* Forwarding only where it is needed: the bridge (boxes out) and the interfaces the host's
 * default routes leave through (answers back in, forwards from other hosts). IPv4 has
 * per-interface switches; IPv6 has force_forwarding (Linux 6.17+), which unlike
 * conf/all/forwarding does not turn the host into a router that stops listening to router
 * advertisements. */
static int enable_forwarding(ManagedNet *n, int rtnl_fd) {
        _cleanup_free_ RouteEntry *routes = NULL;
        size_t n_routes = 0;
        char path[128], name[IFNAMSIZ];
        int r;

        snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/forwarding", n->bridge);
        r = sysctl_write(path, "1");
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", n->bridge);
        r = sysctl_write(path, "1");
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/force_forwarding", n->bridge);
        if (access(path, F_OK) >= 0)
                (void) sysctl_write(path, "1");

        FOREACH_STRING(fam, "4", "6") {
                int family = fam[0] == '4' ? AF_INET : AF_INET6;
                free(routes);
                routes = NULL;
                if (rtnl_route_list(rtnl_fd, family, &routes, &n_routes) < 0)
                        continue;
                for (size_t i = 0; i < n_routes; i++) {
                        if (routes[i].dst.prefixlen != 0 || routes[i].type != RTN_UNICAST ||
                                routes[i].oif <= 0 || routes[i].table != RT_TABLE_MAIN ||
                                !if_indextoname((unsigned) routes[i].oif, name))
                                continue;
                        if (family == AF_INET)
                                snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/forwarding", name);
                        else
                                snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/force_forwarding",
                                        name);
                        if (access(path, F_OK) >= 0)
                                (void) sysctl_write(path, "1");
                }
        }
        return 0;
}

static char *networkd_dropin_path(const ManagedNet *n) {
        return n->networkd_dir ? strjoin(n->networkd_dir, "/10-nspawnctl-", n->bridge, ".network") : NULL;
}

/* A host's systemd-networkd would otherwise configure the bridge and its ports (its own
 * 80-container-*.network files match ve-* and vb-*): the first .network file that matches
 * wins, and this one says hands off. */
int managed_net_networkd_dropin_text(const char *bridge, char **ret) {
        return asprintf(ret,
                        "# Written by nspawnctl: the managed network's bridge and the boxes' links are\n"
                        "# configured by nspawnctl, not by networkd.\n"
                        "[Match]\nName=%s vb-* ve-* vz-*\n\n[Link]\nUnmanaged=yes\n",
                        bridge) < 0
                       ? -ENOMEM
                       : 0;
}

static int write_networkd_dropin(const ManagedNet *n) {
        _cleanup_free_ char *path = networkd_dropin_path(n), *text = NULL;
        int r;

        if (!path)
                return 0;
        r = managed_net_networkd_dropin_text(n->bridge, &text);
        if (r < 0)
                return r;
        (void) mkdir_if_missing(n->networkd_dir);
        return write_file_atomic(path, text);
}

static int dnsmasq_config(ManagedNet *n, char **ret) {
        DnsmasqConfig c = {
                .dir = n->dnsmasq_dir,
                .bridge = n->bridge,
                .subnet4 = n->subnet4,
                .subnet6 = n->subnet6,
                .gateway4 = n->gateway4,
                .gateway6 = n->gateway6,
                .domain = n->domain,
                .servers = n->dns_servers,
                /* Debian's dnsmasq-base has a user of its own; elsewhere dnsmasq's default. */
                .user = getpwnam("dnsmasq") ? "dnsmasq" : NULL,
        };
        return dnsmasq_config_text(&c, ret);
}

static int write_state(ManagedNet *n) {
        _cleanup_free_ char *path = state_path(n);
        ManagedNetState s = {
                .subnet4 = n->subnet4,
                .subnet6 = n->subnet6,
                .dnsmasq_pid = n->dnsmasq_pid,
                .dnsmasq_start = n->dnsmasq_start,
        };

        if (!path)
                return -ENOMEM;
        snprintf(s.bridge, sizeof s.bridge, "%s", n->bridge);
        snprintf(s.table, sizeof s.table, "%s", n->table);
        return managed_net_state_write(path, &s);
}

/* Writes dnsmasq's configuration; starts it unless the one recorded runs with exactly this
 * configuration already (a new machined after kill -9 of the old one). */
static int dnsmasq_ensure(ManagedNet *n, pid_t old_pid, uint64_t old_start, Error *e) {
        _cleanup_free_ char *conf = NULL, *path = NULL, *old = NULL, *binary = NULL;
        _cleanup_free_ char *hosts = NULL, *dhcp_hosts = NULL;
        _cleanup_(error_done) Error error = ERROR_NULL;
        size_t size;
        int r;

        r = dnsmasq_config(n, &conf);
        if (r < 0)
                return error_set(e, r, "Failed to generate dnsmasq's configuration: %m");
        path = strjoin(n->dnsmasq_dir, "/dnsmasq.conf");
        hosts = strjoin(n->dnsmasq_dir, "/hosts");
        dhcp_hosts = strjoin(n->dnsmasq_dir, "/dhcp-hosts");
        if (!path || !hosts || !dhcp_hosts)
                return -ENOMEM;
        if ((r = mkdir_if_missing(n->dnsmasq_dir)) < 0 || (r = mkdir_if_missing(hosts)) < 0 ||
                (r = mkdir_if_missing(dhcp_hosts)) < 0)
                return error_set(e, r, "Failed to create %s: %m", n->dnsmasq_dir);

        if (old_pid > 0 && dnsmasq_is_running(old_pid, old_start) &&
                read_full_file(path, &old, &size) >= 0 && streq(old, conf)) {
                n->dnsmasq_pid = old_pid;
                n->dnsmasq_start = old_start;
                return 0;
        }
        if (old_pid > 0)
                (void) dnsmasq_stop(old_pid, old_start);

        r = dnsmasq_find(&binary);
        if (r < 0)
                return error_set(e, r,
                        "dnsmasq not found in PATH: the managed network needs it (Debian package "
                        "dnsmasq-base).");
        r = write_file_atomic(path, conf);
        if (r < 0)
                return error_set(e, r, "Failed to write %s: %m", path);
        r = dnsmasq_start(binary, n->dnsmasq_dir, &n->dnsmasq_pid, &n->dnsmasq_start, &error);
        if (r < 0)
                return error_set(
                        e, r, "Failed to start dnsmasq on %s: %s", n->bridge, error.message ?: strerror(-r));
        return 0;
}

/* A bridge of ours left from before (its state file gone) does not count as "in use". */
static int choose_subnets(ManagedNet *n, int rtnl_fd, int own_ifindex, Error *e) {
        FOREACH_STRING(fam, "4", "6") {
                int family = fam[0] == '4' ? AF_INET : AF_INET6;
                InAddrPrefix *target = family == AF_INET ? &n->subnet4 : &n->subnet6;
                bool fixed = family == AF_INET ? n->have_subnet4 : n->have_subnet6;
                _cleanup_free_ InAddrPrefix *used = NULL;
                size_t n_used = 0;
                uint64_t seed;
                int r;

                r = host_used_prefixes(rtnl_fd, family, own_ifindex, &used, &n_used);
                if (r < 0)
                        return error_set(e, r, "Failed to read the host's routes and addresses: %m");
                if (fixed) {
                        char s[IN_ADDR_PREFIX_STRLEN];
                        if (!subnet_is_free(target, used, n_used))
                                return error_set(e, -EADDRINUSE,
                                        "Subnet %s is already in use on this host.",
                                        in_addr_prefix_to_string(target, s));
                        continue;
                }
                if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
                        return error_set(e, -EIO, "Failed to get random bytes: %m");
                r = subnet_choose(family, used, n_used, seed, target);
                if (r < 0)
                        return error_set(e, r, "No free IPv%s subnet left for the managed network.", fam);
        }
        return 0;
}

int managed_net_up(ManagedNet *n, Error *e) {
        _cleanup_free_ char *spath = state_path(n), *lock_path = network_lock_path(n->state_dir);
        _cleanup_free_ char *rules = NULL, *resolv = NULL, *resolv_path = NULL;
        _cleanup_(error_done) Error nft_error = ERROR_NULL;
        _cleanup_close_ int rtnl = -EBADF, lock = -EBADF;
        ManagedNetState old = {};
        bool have_old, created_bridge = false, created_table = false;
        char g4[INET6_ADDRSTRLEN], g6[INET6_ADDRSTRLEN];
        int r;

        if (!spath || !lock_path)
                return -ENOMEM;
        r = network_lock_take(lock_path, &lock);
        if (r < 0)
                return error_set(e, r, "Failed to take %s: %m", lock_path);
        r = managed_net_state_read(spath, &old);
        have_old = r >= 0 && streq(old.bridge, n->bridge) && streq(old.table, n->table);

        r = nl_open(NETLINK_ROUTE, &rtnl);
        if (r < 0)
                return error_set(e, r, "Failed to open rtnetlink: %m");
        r = bridge_lookup(rtnl, n->bridge, &n->bridge_ifindex);
        if (r == -EMEDIUMTYPE)
                return error_set(e, r,
                        "Cannot use %s for the managed network: a link of that name exists and is not a "
                        "bridge.",
                        n->bridge);
        if (r < 0 && r != -ENODEV)
                return error_set(e, r, "Failed to look up %s: %m", n->bridge);

        if (have_old) {
                /* Kept across restarts, unless the configuration now fixes others. */
                if (!n->have_subnet4)
                        n->subnet4 = old.subnet4;
                if (!n->have_subnet6)
                        n->subnet6 = old.subnet6;
        } else {
                r = choose_subnets(n, rtnl, r >= 0 ? n->bridge_ifindex : 0, e);
                if (r < 0)
                        return r;
        }
        compute_addresses(n);

        r = bridge_ensure(rtnl, n->bridge, &n->bridge_ifindex, &created_bridge);
        if (r < 0)
                return error_set(e, r, "Failed to create bridge %s: %m", n->bridge);

        InAddrPrefix a4 = {.family = AF_INET, .addr = n->gateway4, .prefixlen = n->subnet4.prefixlen};
        InAddrPrefix a6 = {.family = AF_INET6, .addr = n->gateway6, .prefixlen = 64};
        InAddrPrefix lb6 = {.family = AF_INET6, .addr = n->loopback6, .prefixlen = 128};
        if ((r = rtnl_addr_add(rtnl, n->bridge_ifindex, &a4, false)) < 0 ||
                (r = rtnl_addr_add(rtnl, n->bridge_ifindex, &a6, true)) < 0 ||
                (r = rtnl_addr_add(rtnl, n->bridge_ifindex, &lb6, true)) < 0) {
                error_set(e, r, "Failed to add addresses to %s: %m", n->bridge);
                goto fail;
        }
        r = enable_forwarding(n, rtnl);
        if (r < 0) {
                error_set(e, r, "Failed to enable forwarding on %s: %m", n->bridge);
                goto fail;
        }

        created_table = nft_table_exists(n->table) == 0;
        NftManagedRules mr = {.table = n->table,
                .bridge = n->bridge,
                .subnet4 = n->subnet4,
                .subnet6 = n->subnet6,
                .loopback6 = n->loopback6};
        r = nft_managed_rules_text(&mr, &rules);
        if (r >= 0)
                r = nft_run(rules, &nft_error);
        if (r < 0) {
                error_set(e, r, "Failed to set up table inet %s: %s", n->table,
                        nft_error.message ?: strerror(-r));
                goto fail;
        }
        r = write_networkd_dropin(n);
        if (r < 0) {
                error_set(e, r, "Failed to write the networkd drop-in: %m");
                goto fail;
        }

        resolv_path = managed_net_resolv_conf_path(n);
        if (!resolv_path || asprintf(&resolv,
                                    "# Written by nspawnctl: the managed network's DNS.\nnameserver "
                                    "%s\nnameserver %s\nsearch %s\n",
                                    in_addr_to_string(AF_INET, &n->gateway4, g4),
                                    in_addr_to_string(AF_INET6, &n->gateway6, g6), n->domain) < 0) {
                r = error_set(e, -ENOMEM, "Out of memory.");
                goto fail;
        }
        r = write_file_atomic(resolv_path, resolv);
        if (r < 0) {
                error_set(e, r, "Failed to write %s: %m", resolv_path);
                goto fail;
        }

        r = dnsmasq_ensure(n, have_old ? old.dnsmasq_pid : 0, have_old ? old.dnsmasq_start : 0, e);
        if (r < 0)
                goto fail;
        r = write_state(n);
        if (r < 0) {
                error_set(e, r, "Failed to write %s: %m", spath);
                (void) dnsmasq_stop(n->dnsmasq_pid, n->dnsmasq_start);
                goto fail;
        }
        n->up = true;
        return 0;

fail:
        /* Nothing half-configured: what this call made goes again. */
        if (created_table)
                (void) nft_delete_tables(n->table);
        if (created_bridge) {
                _cleanup_free_ char *dropin = networkd_dropin_path(n);
                (void) rtnl_link_delete(rtnl, n->bridge);
                if (dropin)
                        (void) unlink(dropin);
        }
        n->dnsmasq_pid = 0;
        return r;
}

int managed_net_restart_dnsmasq(ManagedNet *n, Error *e) {
        int r;

        if (dnsmasq_is_running(n->dnsmasq_pid, n->dnsmasq_start))
                return 0;
        r = dnsmasq_ensure(n, 0, 0, e);
        if (r < 0)
                return r;
        return write_state(n);
}

/* ---- boxes ------------------------------------------------------------------------- */

static char *box_file(const ManagedNet *n, const char *sub, const char *name) {
        return strjoin(n->dnsmasq_dir, "/", sub, "/", name);
}

int managed_net_box_get(ManagedNet *n, const char *name, ManagedBox *ret) {
        _cleanup_free_ char *path = box_file(n, "dhcp-hosts", name), *line = NULL;
        ManagedBox b = {};
        int r;

        if (!path)
                return -ENOMEM;
        r = read_one_line(path, &line);
        if (r < 0)
                return r;
        r = dnsmasq_dhcp_host_parse(line, &b.mac, &b.addr4, &b.addr6);
        if (r < 0)
                return r;
        snprintf(b.name, sizeof b.name, "%s", name);
        *ret = b;
        return 0;
}

int managed_net_box_list(ManagedNet *n, char ***ret) {
        _cleanup_free_ char *dir = strjoin(n->dnsmasq_dir, "/dhcp-hosts");
        _cleanup_strv_free_ char **l = NULL;
        DIR *d;

        if (!dir)
                return -ENOMEM;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = TAKE_PTR(l);
                return 0;
        }
        FOREACH_DIRENT(de, d) {
                if (endswith(de->d_name, ".tmp"))
                        continue;
                if (strv_extend(&l, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        }
        closedir(d);
        *ret = TAKE_PTR(l);
        return 0;
}

static void used_offsets(ManagedNet *n, const char *except, uint8_t *used, uint64_t size) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *leases_path = strjoin(n->dnsmasq_dir, "/leases"), *text = NULL;
        _cleanup_free_ DnsmasqLease *leases = NULL;
        size_t n_leases = 0, len;

        if (managed_net_box_list(n, &names) >= 0)
                STRV_FOREACH(name, names) {
                        ManagedBox b;
                        if (streq(*name, except) || managed_net_box_get(n, *name, &b) < 0 ||
                                !in_addr_prefix_contains(&n->subnet4, AF_INET, &b.addr4))
                                continue;
                        uint64_t o = in_addr_prefix_offset(&n->subnet4, &b.addr4);
                        if (o < size)
                                used[o] = 1;
                }
        /* An address still leased to someone else (a client that joined the bridge without
         * a reservation) is not free either. */
        if (leases_path && read_full_file(leases_path, &text, &len) >= 0 &&
                dnsmasq_leases_parse(text, &leases, &n_leases, NULL) >= 0) {
                EtherAddr mine;
                mac_derive(except, CONTAINER_IFNAME, &mine);
                for (size_t i = 0; i < n_leases; i++) {
                        if (leases[i].family != AF_INET || memcmp(&leases[i].mac, &mine, sizeof mine) == 0 ||
                                !in_addr_prefix_contains(&n->subnet4, AF_INET, &leases[i].addr))
                                continue;
                        uint64_t o = in_addr_prefix_offset(&n->subnet4, &leases[i].addr);
                        if (o < size)
                                used[o] = 1;
                }
        }
}

int managed_net_box_add(ManagedNet *n, const char *name, ManagedBox *ret, Error *e) {
        _cleanup_free_ char *dhcp_path = box_file(n, "dhcp-hosts", name),
                            *hosts_path = box_file(n, "hosts", name);
        _cleanup_free_ char *dhcp = NULL, *hosts = NULL, *lock_path = network_lock_path(n->state_dir);
        _cleanup_free_ uint8_t *used = NULL;
        _cleanup_close_ int lock = -EBADF;
        uint64_t size, start;
        ManagedBox b = {};
        int r;

        if (!dhcp_path || !hosts_path || !lock_path)
                return -ENOMEM;
        if (!n->up)
                return error_set(e, -ENETDOWN, "The managed network is not up.");
        r = network_lock_take(lock_path, &lock);
        if (r < 0)
                return error_set(e, r, "Failed to take %s: %m", lock_path);

        snprintf(b.name, sizeof b.name, "%s", name);
        mac_derive(name, CONTAINER_IFNAME, &b.mac);
        /* The offsets 2 .. broadcast-1: .1 is the bridge. */
        size = 1ULL << (32 - n->subnet4.prefixlen);
        used = calloc(size, 1);
        if (!used)
                return -ENOMEM;
        used[0] = used[1] = used[size - 1] = 1;
        used_offsets(n, name, used, size);

        /* An earlier reservation of the name is kept if it is still valid and free. */
        ManagedBox old;
        if (managed_net_box_get(n, name, &old) >= 0 &&
                in_addr_prefix_contains(&n->subnet4, AF_INET, &old.addr4) &&
                !used[in_addr_prefix_offset(&n->subnet4, &old.addr4)])
                start = in_addr_prefix_offset(&n->subnet4, &old.addr4);
        else
                start = 2 + net_hash64(name, strlen(name), 0x6970) % (size - 3);
        for (uint64_t i = 0; i < size - 3; i++) {
                uint64_t o = 2 + (start - 2 + i) % (size - 3);
                if (used[o])
                        continue;
                (void) in_addr_prefix_nth(&n->subnet4, o, &b.addr4);
                (void) in_addr_prefix_nth(&n->subnet6, o, &b.addr6);
                r = dnsmasq_host_entries(name, &b.mac, &b.addr4, &b.addr6, &dhcp, &hosts);
                if (r < 0)
                        return r;
                /* The reservation first: dnsmasq must know the MAC before the box asks. */
                r = write_file_atomic_via(n->dnsmasq_dir, dhcp_path, dhcp);
                if (r >= 0)
                        r = write_file_atomic_via(n->dnsmasq_dir, hosts_path, hosts);
                if (r < 0) {
                        (void) unlink(dhcp_path);
                        (void) unlink(hosts_path);
                        return error_set(e, r, "Failed to write the host entries of %s: %m", name);
                }
                *ret = b;
                return 0;
        }
        {
                char s[IN_ADDR_PREFIX_STRLEN];
                return error_set(e, -ENOSPC,
                        "No free address left for %s in %s: the managed network's range is exhausted.", name,
                        in_addr_prefix_to_string(&n->subnet4, s));
        }
}

static void release_leases(ManagedNet *n, const ManagedBox *b) {
        _cleanup_free_ char *path = strjoin(n->dnsmasq_dir, "/leases"), *text = NULL, *duid = NULL;
        _cleanup_free_ DnsmasqLease *l = NULL;
        size_t n_l = 0, len;

        if (!path || read_full_file(path, &text, &len) < 0 ||
                dnsmasq_leases_parse(text, &l, &n_l, &duid) < 0)
                return;
        for (size_t i = 0; i < n_l; i++) {
                bool mine = l[i].family == AF_INET ? memcmp(&l[i].mac, &b->mac, sizeof b->mac) == 0 ||
                                                             in_addr_equal(AF_INET, &l[i].addr, &b->addr4)
                                                   : in_addr_equal(AF_INET6, &l[i].addr, &b->addr6);
                if (mine)
                        (void) dnsmasq_release_lease(n->bridge, &l[i], duid);
        }
}

int managed_net_box_remove(ManagedNet *n, const char *name) {
        _cleanup_free_ char *dhcp_path = box_file(n, "dhcp-hosts", name),
                            *hosts_path = box_file(n, "hosts", name);
        _cleanup_free_ char *lock_path = network_lock_path(n->state_dir);
        _cleanup_close_ int lock = -EBADF, nf = -EBADF;
        ManagedBox b;
        bool had;

        if (!dhcp_path || !hosts_path || !lock_path)
                return -ENOMEM;
        (void) network_lock_take(lock_path, &lock);
        had = managed_net_box_get(n, name, &b) >= 0;
        if (nl_open(NETLINK_NETFILTER, &nf) >= 0)
                (void) box_chains_delete(nf, n->table, name);
        (void) unlink(hosts_path);
        (void) unlink(dhcp_path);
        if (had) {
                if (n->up)
                        release_leases(n, &b);
                /* dhcp-hostsdir only ever adds: a removed reservation needs a reread. */
                if (dnsmasq_is_running(n->dnsmasq_pid, n->dnsmasq_start))
                        (void) kill(n->dnsmasq_pid, SIGHUP);
        }
        return 0;
}

/* ---- forwards ---------------------------------------------------------------------- */

static int forward_check_locked(ManagedNet *n, const char *name, const PortForward *p, const NftForward *all,
        size_t n_all, Error *e) {
        char s[PORT_FORWARD_STRLEN];
        bool ours = false;
        int r;

        for (size_t i = 0; i < n_all; i++) {
                if (!port_forward_conflicts(&all[i].port, p))
                        continue;
                if (!streq(all[i].machine, name))
                        return error_set(e, -EADDRINUSE,
                                "Host port %s/%u is already forwarded to machine %s.",
                                port_protocol_to_string(p->protocol), p->host_port, all[i].machine);
                ours = true;
        }
        if (ours)
                return 0; /* the box's own forward: the kernel check would not tell anything */
        r = port_host_check_free(p);
        if (r == -EADDRINUSE)
                return error_set(e, r, "Host port %s/%u is in use by a program on the host.",
                        port_protocol_to_string(p->protocol), p->host_port);
        if (r < 0)
                return error_set(e, r, "Cannot check host port %s: %m", port_forward_to_string(p, s));
        return 0;
}

int managed_net_forward_check(ManagedNet *n, const char *name, const PortForward *p, Error *e) {
        _cleanup_free_ NftForward *all = NULL;
        size_t n_all = 0;
        int r;

        r = nft_list_forwards(n->table, NULL, &all, &n_all);
        if (r < 0)
                return error_set(e, r, "Failed to read the forwards of table inet %s: %m", n->table);
        return forward_check_locked(n, name, p, all, n_all, e);
}

int managed_net_forwards_set(
        ManagedNet *n, const ManagedBox *b, const PortForward *ports, size_t n_ports, Error *e) {
        _cleanup_free_ char *lock_path = network_lock_path(n->state_dir), *text = NULL;
        _cleanup_(error_done) Error nft_error = ERROR_NULL;
        _cleanup_free_ NftForward *all = NULL;
        _cleanup_close_ int lock = -EBADF;
        size_t n_all = 0;
        int r;

        if (!lock_path)
                return -ENOMEM;
        r = network_lock_take(lock_path, &lock);
        if (r < 0)
                return error_set(e, r, "Failed to take %s: %m", lock_path);
        if (n_ports == 0) {
                /* No forwards, no chains: a start without Port= costs no nft transaction. */
                _cleanup_close_ int nf = -EBADF;
                r = nl_open(NETLINK_NETFILTER, &nf);
                if (r >= 0)
                        r = box_chains_delete(nf, n->table, b->name);
                return r < 0 ? error_set(e, r, "Failed to remove the forwards of %s: %m", b->name)
                             : 0;
        }
        r = nft_list_forwards(n->table, NULL, &all, &n_all);
        if (r < 0)
                return error_set(e, r, "Failed to read the forwards of table inet %s: %m", n->table);
        for (size_t i = 0; i < n_ports; i++) {
                for (size_t j = 0; j < i; j++)
                        if (port_forward_conflicts(&ports[i], &ports[j]))
                                return error_set(e, -EEXIST, "Host port %s/%u is given twice.",
                                        port_protocol_to_string(ports[i].protocol), ports[i].host_port);
                r = forward_check_locked(n, b->name, &ports[i], all, n_all, e);
                if (r < 0)
                        return r;
        }
        NftBoxRules rules = {
                .table = n->table,
                .machine = b->name,
                .link = n->bridge,
                .have4 = true,
                .have6 = true,
                .addr4 = b->addr4,
                .addr6 = b->addr6,
                .ports = ports,
                .n_ports = n_ports,
        };
        r = nft_box_rules_text(&rules, &text);
        if (r < 0)
                return error_set(e, r, "Failed to generate the rules of %s: %m", b->name);
        /* A running box's port gets the ::1 return path here; a box about to start gets it
         * from its supervisor, which makes the port (--network-loopback6). */
        char port[IFNAMSIZ];
        LinkInfo li;
        _cleanup_close_ int rtnl = -EBADF;
        (void) veth_host_ifname(b->name, true, port);
        if (nl_open(NETLINK_ROUTE, &rtnl) >= 0 && rtnl_link_get(rtnl, port, &li) >= 0) {
                _cleanup_free_ char *lo6 = NULL, *both = NULL;
                r = nft_box_loopback6_text(n->table, b->name, port, &n->loopback6, &lo6);
                if (r < 0 || !(both = strjoin(text, lo6)))
                        return error_set(e, r < 0 ? r : -ENOMEM,
                                "Failed to generate the rules of %s: %m", b->name);
                free(text);
                text = TAKE_PTR(both);
        }
        r = nft_run(text, &nft_error);
        if (r < 0)
                return error_set(e, r, "Failed to apply the forwards of %s: %s", b->name,
                        nft_error.message ?: strerror(-r));
        return 0;
}

int managed_net_forwards_get(ManagedNet *n, const char *name, PortForward **ret, size_t *ret_n) {
        _cleanup_free_ NftForward *all = NULL;
        _cleanup_free_ PortForward *l = NULL;
        size_t n_all = 0, k = 0;
        int r;

        r = nft_list_forwards(n->table, name, &all, &n_all);
        if (r < 0)
                return r;
        l = calloc(n_all + 1, sizeof(PortForward));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n_all; i++)
                l[k++] = all[i].port;
        *ret = TAKE_PTR(l);
        *ret_n = k;
        return 0;
}
