/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nftables/libnftables.h>

#include "net-cleanup.h"
#include "nft.h"
#include "util/strv.h"
#include "util/util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(struct nft_ctx *, nft_ctx_free, nft_ctx_freep);

static void close_memstream(FILE **f) {
        if (*f)
                fclose(*f);
}

/* Text goes through a memstream: the caller gets the buffer once it is closed. */
static int finish(FILE **f, char **buf, char **ret) {
        bool failed = ferror(*f);

        if (fclose(*f) != 0)
                failed = true;
        *f = NULL;
        if (failed) {
                free(*buf);
                *buf = NULL;
                return -ENOMEM;
        }
        *ret = *buf;
        *buf = NULL;
        return 0;
}

static const char *const chain_hooks[BOX_CHAIN_LOOPBACK6] = {
        [BOX_CHAIN_PREROUTING] = "type nat hook prerouting priority dstnat",
        [BOX_CHAIN_OUTPUT] = "type nat hook output priority -100",
        [BOX_CHAIN_POSTROUTING] = "type nat hook postrouting priority srcnat",
        [BOX_CHAIN_GUARD] = "type filter hook prerouting priority raw",
};

int nft_box_rules_text(const NftBoxRules *b, char **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(close_memstream) FILE *f = NULL;
        _cleanup_free_ char *chains[_BOX_CHAIN_MAX] = {};
        size_t size = 0;

        if (!b->table || !b->machine || !b->link)
                return -EINVAL;
        for (int c = 0; c < _BOX_CHAIN_MAX; c++)
                if (!(chains[c] = box_chain_name(b->machine, c)))
                        return -ENOMEM;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fprintf(f, "add table inet %s\n", b->table);
        for (int c = 0; c < BOX_CHAIN_LOOPBACK6; c++)
                fprintf(f, "add chain inet %s %s { %s; policy accept; }\nflush chain inet %s %s\n", b->table,
                        chains[c], chain_hooks[c], b->table, chains[c]);

        for (size_t i = 0; i < b->n_ports; i++) {
                const PortForward *p = &b->ports[i];
                const char *proto = port_protocol_to_string(p->protocol);
                char spec[PORT_FORWARD_STRLEN], a[INET6_ADDRSTRLEN];

                port_forward_to_string(p, spec);
                /* Only what is addressed to the host itself: a box reaching some other host's
                 * port HOST must not be redirected. The same rules in output catch what the
                 * host sends, to 127.0.0.1 and ::1 too. */
                for (int c = BOX_CHAIN_PREROUTING; c <= BOX_CHAIN_OUTPUT; c++) {
                        if (b->have4)
                                fprintf(f,
                                        "add rule inet %s %s fib daddr type local meta nfproto ipv4 %s "
                                        "dport %u "
                                        "dnat ip to %s:%u comment \"" NFT_PORT_COMMENT "%s\"\n",
                                        b->table, chains[c], proto, p->host_port,
                                        in_addr_to_string(AF_INET, &b->addr4, a), p->container_port, spec);
                        if (b->have6)
                                fprintf(f,
                                        "add rule inet %s %s fib daddr type local meta nfproto ipv6 %s "
                                        "dport %u "
                                        "dnat ip6 to [%s]:%u comment \"" NFT_PORT_COMMENT "%s\"\n",
                                        b->table, chains[c], proto, p->host_port,
                                        in_addr_to_string(AF_INET6, &b->addr6, a), p->container_port, spec);
                }
        }

        if (b->own_snat && b->n_ports > 0) {
                char a[INET6_ADDRSTRLEN];
                const char *post = chains[BOX_CHAIN_POSTROUTING];
                /* From 127.0.0.1 the box could not answer: the source becomes the link's
                 * address. Between two ends on the same link (hairpin), the answer would
                 * bypass us: the source becomes ours. */
                if (b->have4) {
                        in_addr_to_string(AF_INET, &b->addr4, a);
                        fprintf(f,
                                "add rule inet %s %s ip daddr %s ct status dnat ip saddr 127.0.0.0/8 "
                                "masquerade\n",
                                b->table, post, a);
                        fprintf(f,
                                "add rule inet %s %s ip daddr %s ct status dnat iifname \"%s\" oifname "
                                "\"%s\" masquerade\n",
                                b->table, post, a, b->link, b->link);
                }
                if (b->have6) {
                        in_addr_to_string(AF_INET6, &b->addr6, a);
                        fprintf(f,
                                "add rule inet %s %s ip6 daddr %s ct status dnat iifname \"%s\" oifname "
                                "\"%s\" masquerade\n",
                                b->table, post, a, b->link, b->link);
                }
        }
        if (b->own_guard && b->n_ports > 0) {
                /* route_localnet on the link lets 127.0.0.0/8 through in both directions:
                 * only our own translated connections may use it, never the box by itself. */
                fprintf(f, "add rule inet %s %s iifname \"%s\" ip daddr 127.0.0.0/8 drop\n", b->table,
                        chains[BOX_CHAIN_GUARD], b->link);
                fprintf(f, "add rule inet %s %s iifname \"%s\" ip saddr 127.0.0.0/8 drop\n", b->table,
                        chains[BOX_CHAIN_GUARD], b->link);
        }
        return finish(&f, &buf, ret);
}

int nft_managed_rules_text(const NftManagedRules *m, char **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(close_memstream) FILE *f = NULL;
        char s4[IN_ADDR_PREFIX_STRLEN], s6[IN_ADDR_PREFIX_STRLEN], lb6[INET6_ADDRSTRLEN];
        const char *t = m->table, *br = m->bridge;
        size_t size = 0;

        if (!t || !br || m->subnet4.family != AF_INET || m->subnet6.family != AF_INET6)
                return -EINVAL;
        in_addr_prefix_to_string(&m->subnet4, s4);
        in_addr_prefix_to_string(&m->subnet6, s6);
        in_addr_to_string(AF_INET6, &m->loopback6, lb6);
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;

        fprintf(f, "add table inet %s\n", t);
        fprintf(f,
                "add chain inet %s postrouting { type nat hook postrouting priority srcnat; policy accept; "
                "}\n",
                t);
        fprintf(f,
                "add chain inet %s forward { type filter hook forward priority filter; policy accept; }\n",
                t);
        fprintf(f, "add chain inet %s guard { type filter hook prerouting priority raw; policy accept; }\n",
                t);
        fprintf(f, "add chain inet %s input { type filter hook input priority filter; policy accept; }\n",
                t);
        fprintf(f,
                "flush chain inet %s postrouting\nflush chain inet %s forward\nflush chain inet %s guard\n",
                t, t, t);
        fprintf(f, "flush chain inet %s input\n", t);
        /* What leaves the host from the boxes carries the host's address. */
        fprintf(f, "add rule inet %s postrouting ip saddr %s oifname != \"%s\" masquerade\n", t, s4, br);
        fprintf(f, "add rule inet %s postrouting ip6 saddr %s oifname != \"%s\" masquerade\n", t, s6, br);
        /* Forwards reached from the host's loopback or from another box (hairpin). */
        fprintf(f,
                "add rule inet %s postrouting oifname \"%s\" ct status dnat ip saddr 127.0.0.0/8 "
                "masquerade\n",
                t, br);
        fprintf(f,
                "add rule inet %s postrouting oifname \"%s\" ct status dnat ip6 saddr ::1 snat ip6 to %s\n",
                t, br, lb6);
        fprintf(f, "add rule inet %s postrouting iifname \"%s\" oifname \"%s\" ct status dnat masquerade\n",
                t, br, br);
        fprintf(f, "add rule inet %s forward iifname \"%s\" accept\n", t, br);
        fprintf(f, "add rule inet %s forward oifname \"%s\" accept\n", t, br);
        fprintf(f, "add rule inet %s guard iifname \"%s\" ip daddr 127.0.0.0/8 drop\n", t, br);
        fprintf(f, "add rule inet %s guard iifname \"%s\" ip saddr 127.0.0.0/8 drop\n", t, br);
        /* What the boxes' ports hand to lo (box-NAME-lo6) must be answers to our forwards
         * from ::1, nothing else: arriving "from lo", a packet a box made up would pass a
         * host firewall that trusts lo. */
        fprintf(f, "add rule inet %s input iifname \"lo\" ip6 saddr %s ct status & dnat == 0 drop\n", t, s6);

        return finish(&f, &buf, ret);
}

int nft_box_loopback6_text(const char *table, const char *machine, const char *link,
        const union in_addr_union *loopback6, char **ret) {
        _cleanup_free_ char *buf = NULL, *chain = NULL;
        _cleanup_(close_memstream) FILE *f = NULL;
        char lb6[INET6_ADDRSTRLEN];
        size_t size = 0;

        if (!table || !machine || !link || !loopback6)
                return -EINVAL;
        chain = box_chain_name(machine, BOX_CHAIN_LOOPBACK6);
        if (!chain)
                return -ENOMEM;
        in_addr_to_string(AF_INET6, loopback6, lb6);
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        /* The kernel never routes a packet to ::1 that arrived on another interface (RFC
         * 4291), and there is no route_localnet for IPv6: the answers to connections from
         * ::1, whose source became loopback6, would be dropped once translated back to ::1.
         * So they are handed to lo before the IP layer (and a bridge, and br_netfilter) sees
         * them, addressed to lo and marked for this host: as if received on lo they are
         * translated back and delivered. Hooked on the box's own link, the bridge port,
         * because with br_netfilter the bridge's own ingress never sees them. ICMPv6
         * (neighbour discovery) stays where it is. */
        fprintf(f, "add table netdev %s\n", table);
        fprintf(f,
                "add chain netdev %s %s { type filter hook ingress device \"%s\" priority 0; policy accept; "
                "}\n",
                table, chain, link);
        fprintf(f, "flush chain netdev %s %s\n", table, chain);
        fprintf(f,
                "add rule netdev %s %s ip6 daddr %s meta l4proto { tcp, udp } "
                "ether daddr set 00:00:00:00:00:00 meta pkttype set host fwd to \"lo\"\n",
                table, chain, lb6);
        return finish(&f, &buf, ret);
}

static int push_forward(NftForward **l, size_t *n, const char *machine, const PortForward *p) {
        NftForward *x;

        for (size_t i = 0; i < *n; i++)
                if (streq((*l)[i].machine, machine) && port_forward_conflicts(&(*l)[i].port, p) &&
                        (*l)[i].port.container_port == p->container_port)
                        return 0;
        x = reallocarray(*l, *n + 1, sizeof(NftForward));
        if (!x)
                return -ENOMEM;
        *l = x;
        x = &x[(*n)++];
        *x = (NftForward){.port = *p};
        snprintf(x->machine, sizeof x->machine, "%s", machine);
        return 0;
}

int nft_parse_forwards(const char *listing, const char *only_machine, NftForward **ret, size_t *ret_n) {
        _cleanup_free_ NftForward *l = NULL;
        char machine[65] = "";
        size_t n = 0;
        int r;

        for (const char *line = listing; line && *line;) {
                const char *end = strchrnul(line, '\n'), *s = line, *c;
                size_t len;

                while (s < end && (*s == ' ' || *s == '\t'))
                        s++;
                len = (size_t) (end - s);
                if (len > 6 && strneq(s, "chain ", 6)) {
                        /* chain NAME {  or  chain "NAME" { */
                        const char *name = s + 6, *name_end;
                        if (*name == '"')
                                name++;
                        name_end = name;
                        while (name_end < end && *name_end != '"' && *name_end != ' ')
                                name_end++;
                        machine[0] = 0;
                        if ((size_t) (name_end - name) > STRLEN("box--pre") && strneq(name, "box-", 4) &&
                                strneq(name_end - 4, "-pre", 4) &&
                                (size_t) (name_end - name) - 8 < sizeof machine) {
                                memcpy(machine, name + 4, (size_t) (name_end - name) - 8);
                                machine[(size_t) (name_end - name) - 8] = 0;
                        }
                } else if (machine[0] && (c = strstr(s, "comment \"" NFT_PORT_COMMENT)) && c < end) {
                        char spec[PORT_FORWARD_STRLEN];
                        const char *p = c + STRLEN("comment \"" NFT_PORT_COMMENT), *q = p;
                        PortForward pf;

                        while (q < end && *q != '"')
                                q++;
                        if (q < end && (size_t) (q - p) < sizeof spec) {
                                memcpy(spec, p, (size_t) (q - p));
                                spec[q - p] = 0;
                                if (port_forward_parse(spec, &pf) >= 0 &&
                                        (!only_machine || streq(only_machine, machine))) {
                                        r = push_forward(&l, &n, machine, &pf);
                                        if (r < 0)
                                                return r;
                                }
                        }
                }
                line = *end ? end + 1 : end;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

int nft_run(const char *text, char **ret_error) {
        _cleanup_(nft_ctx_freep) struct nft_ctx *ctx = NULL;
        const char *e;
        int r;

        ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return -ENOMEM;
        if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0)
                return -ENOMEM;
        r = nft_run_cmd_from_buffer(ctx, text);
        if (r == 0)
                return 0;
        e = nft_ctx_get_error_buffer(ctx);
        if (ret_error && e) {
                const char *nl = strchr(e, '\n');
                *ret_error = strndup(e, nl ? (size_t) (nl - e) : strlen(e));
        }
        if (e && strstr(e, "No such file or directory"))
                return -ENOENT;
        if (e && strstr(e, "Operation not permitted"))
                return -EPERM;
        return -EIO;
}

int nft_list_table(const char *table, char **ret) {
        _cleanup_(nft_ctx_freep) struct nft_ctx *ctx = NULL;
        _cleanup_free_ char *cmd = NULL;
        const char *out, *e;

        if (!nft_table_name_is_valid(table))
                return -EINVAL;
        cmd = strjoin("list table inet ", table);
        ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (!cmd || !ctx)
                return -ENOMEM;
        if (nft_ctx_buffer_output(ctx) < 0 || nft_ctx_buffer_error(ctx) < 0)
                return -ENOMEM;
        if (nft_run_cmd_from_buffer(ctx, cmd) != 0) {
                e = nft_ctx_get_error_buffer(ctx);
                return e && strstr(e, "No such file or directory") ? -ENOENT : -EIO;
        }
        out = nft_ctx_get_output_buffer(ctx);
        *ret = strdup(out ?: "");
        return *ret ? 0 : -ENOMEM;
}

int nft_list_forwards(const char *table, const char *only_machine, NftForward **ret, size_t *ret_n) {
        _cleanup_free_ char *listing = NULL;
        int r;

        r = nft_list_table(table, &listing);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        return nft_parse_forwards(listing, only_machine, ret, ret_n);
}

int nft_delete_tables(const char *table) {
        FOREACH_STRING(family, "inet", "netdev") {
                _cleanup_free_ char *cmd = strjoin("delete table ", family, " ", table);
                int r;
                if (!cmd)
                        return -ENOMEM;
                r = nft_run(cmd, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}
