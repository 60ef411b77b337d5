/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "net-cleanup.h"
#include "netlink-light.h"
#include "nft.h"
#include "util/strv.h"
#include "util/util.h"

/* libnftables is opened when a rule is first made, not linked: it and the five libraries it
 * pulls in (libmnl, libnftnl, libxtables, libjansson, libgmp) would otherwise be mapped and
 * relocated at every start of every program here, `nspawnctl run` of a box without a
 * network included, which on a small VM costs more than the container setup itself. The
 * soname is the ABI the header describes. RTLD_NODELETE keeps it mapped once opened: the
 * next call finds it without loading it again, and no handle needs to live anywhere. */
#define LIBNFTABLES_SONAME "libnftables.so.1"

typedef struct NftLib {
        void *handle;
        typeof(nft_ctx_new) *ctx_new;
        typeof(nft_ctx_free) *ctx_free;
        typeof(nft_ctx_buffer_output) *buffer_output;
        typeof(nft_ctx_buffer_error) *buffer_error;
        typeof(nft_run_cmd_from_buffer) *run_cmd_from_buffer;
        typeof(nft_ctx_get_error_buffer) *get_error_buffer;
} NftLib;

static void nft_lib_done(NftLib *l) {
        if (l->handle)
                (void) dlclose(l->handle);
        l->handle = NULL;
}

static int nft_lib_open(NftLib *l, Error *error) {
        struct {
                const char *name;
                void **fn;
        } syms[] = {
                { "nft_ctx_new", (void **) &l->ctx_new },
                { "nft_ctx_free", (void **) &l->ctx_free },
                { "nft_ctx_buffer_output", (void **) &l->buffer_output },
                { "nft_ctx_buffer_error", (void **) &l->buffer_error },
                { "nft_run_cmd_from_buffer", (void **) &l->run_cmd_from_buffer },
                { "nft_ctx_get_error_buffer", (void **) &l->get_error_buffer },
        };

        l->handle = dlopen(LIBNFTABLES_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!l->handle)
                return error_set(error, -EOPNOTSUPP, "Cannot load %s (package libnftables1): %s",
                                 LIBNFTABLES_SONAME, dlerror());
        for (size_t i = 0; i < ELEMENTSOF(syms); i++)
                if (!(*syms[i].fn = dlsym(l->handle, syms[i].name))) {
                        nft_lib_done(l);
                        return error_set(error, -EOPNOTSUPP, "%s has no %s.", LIBNFTABLES_SONAME,
                                         syms[i].name);
                }
        return 0;
}

static const char *const chain_hooks[BOX_CHAIN_LOOPBACK6] = {
        [BOX_CHAIN_PREROUTING] = "type nat hook prerouting priority dstnat",
        [BOX_CHAIN_OUTPUT] = "type nat hook output priority -100",
        [BOX_CHAIN_POSTROUTING] = "type nat hook postrouting priority srcnat",
        [BOX_CHAIN_GUARD] = "type filter hook prerouting priority raw",
};

/* _cleanup_free_ on an array frees its first element only. */
static void box_chains_free(char *(*chains)[_BOX_CHAIN_MAX]) {
        for (int c = 0; c < _BOX_CHAIN_MAX; c++)
                free((*chains)[c]);
}

int nft_box_rules_text(const NftBoxRules *b, char **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_(box_chains_free) char *chains[_BOX_CHAIN_MAX] = {};
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
        return memstream_finish(&f, &buf, ret);
}

int nft_managed_rules_text(const NftManagedRules *m, char **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
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

        return memstream_finish(&f, &buf, ret);
}

int nft_box_loopback6_text(const char *table, const char *machine, const char *link,
        const union in_addr_union *loopback6, char **ret) {
        _cleanup_free_ char *buf = NULL, *chain = NULL;
        _cleanup_fclose_ FILE *f = NULL;
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
        return memstream_finish(&f, &buf, ret);
}

/* A rule's comment as the kernel keeps it for nft: type-length-value records in
 * NFTA_RULE_USERDATA, type 0 being the comment (libnftnl's NFTNL_UDATA_RULE_COMMENT). */
#define UDATA_RULE_COMMENT 0

int nft_udata_comment(const void *data, size_t n, char *buf, size_t size) {
        const uint8_t *p = data;

        while (n >= 2) {
                uint8_t type = p[0], len = p[1];
                if ((size_t) len + 2 > n)
                        return -EBADMSG;
                if (type == UDATA_RULE_COMMENT) {
                        size_t k = strnlen((const char *) p + 2, len);
                        if (k >= size)
                                return -ENOBUFS;
                        memcpy(buf, p + 2, k);
                        buf[k] = 0;
                        return 1;
                }
                p += 2 + len;
                n -= 2 + len;
        }
        return 0;
}

int nft_forward_from_rule(const char *chain, const char *comment, NftForward *ret) {
        size_t n = chain ? strlen(chain) : 0;
        NftForward f = {};

        /* Only the prerouting chain of a box counts: every forward has a rule there. */
        if (n <= STRLEN("box--pre") || !startswith(chain, "box-") || !endswith(chain, "-pre") ||
                n - STRLEN("box--pre") >= sizeof f.machine)
                return 0;
        if (!comment || !startswith(comment, NFT_PORT_COMMENT) ||
                port_forward_parse(comment + STRLEN(NFT_PORT_COMMENT), &f.port) < 0)
                return 0;
        memcpy(f.machine, chain + 4, n - STRLEN("box--pre"));
        f.machine[n - STRLEN("box--pre")] = 0;
        *ret = f;
        return 1;
}

typedef struct ForwardList {
        const char *only_machine;
        NftForward *l;
        size_t n;
} ForwardList;

static int collect_forward(const struct nlmsghdr *h, void *userdata) {
        const NlAttr *tb[NFTA_RULE_MAX + 1];
        ForwardList *fl = userdata;
        char comment[256];
        NftForward f;
        NftForward *x;

        if ((h->nlmsg_type & 0xff) != NFT_MSG_NEWRULE ||
                h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nfgenmsg)))
                return 0;
        nl_attr_parse((const uint8_t *) NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct nfgenmsg)),
                h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct nfgenmsg))), tb, NFTA_RULE_MAX);
        if (!tb[NFTA_RULE_USERDATA] ||
                nft_udata_comment(nl_attr_data(tb[NFTA_RULE_USERDATA]), nl_attr_len(tb[NFTA_RULE_USERDATA]),
                        comment, sizeof comment) <= 0 ||
                nft_forward_from_rule(nl_attr_string(tb[NFTA_RULE_CHAIN]), comment, &f) <= 0)
                return 0;
        if (fl->only_machine && !streq(fl->only_machine, f.machine))
                return 0;
        /* One rule per family: the same forward twice. */
        for (size_t i = 0; i < fl->n; i++)
                if (streq(fl->l[i].machine, f.machine) && port_forward_conflicts(&fl->l[i].port, &f.port) &&
                        fl->l[i].port.container_port == f.port.container_port)
                        return 0;
        x = reallocarray(fl->l, fl->n + 1, sizeof(NftForward));
        if (!x)
                return -ENOMEM;
        fl->l = x;
        fl->l[fl->n++] = f;
        return 0;
}

int nft_list_forwards(const char *table, const char *only_machine, NftForward **ret, size_t *ret_n) {
        struct nfgenmsg g = {.nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0};
        ForwardList fl = {.only_machine = only_machine};
        _cleanup_close_ int fd = -EBADF;
        NlMsg m = {};
        int r;

        /* Straight from the kernel (a dump of the table's rules), not through libnftables,
         * which would first fetch and parse the whole table. */
        r = nl_open(NETLINK_NETFILTER, &fd);
        if (r < 0)
                return r;
        nl_msg_begin(&m, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE, 0, &g, sizeof g);
        nl_msg_put_string(&m, NFTA_RULE_TABLE, table);
        r = nl_dump(fd, &m, collect_forward, &fl);
        if (r == -ENOENT) {
                r = 0; /* no table, no forwards */
                fl.n = 0;
        }
        if (r < 0) {
                free(fl.l);
                return r;
        }
        *ret = fl.l;
        *ret_n = fl.n;
        return 0;
}

int nft_table_exists(const char *table) {
        struct nfgenmsg g = {.nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0};
        _cleanup_close_ int fd = -EBADF;
        NlMsg m = {};
        int r;

        r = nl_open(NETLINK_NETFILTER, &fd);
        if (r < 0)
                return r;
        nl_msg_begin(&m, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, NLM_F_ACK, &g, sizeof g);
        nl_msg_put_string(&m, NFTA_TABLE_NAME, table);
        r = nl_call(fd, &m, NULL, NULL);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : 1;
}

int nft_run(const char *text, Error *error) {
        _cleanup_(nft_lib_done) NftLib lib = {};
        struct nft_ctx *ctx;
        const char *e;
        int r;

        r = nft_lib_open(&lib, error);
        if (r < 0)
                return r;
        ctx = lib.ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return -ENOMEM;
        if (lib.buffer_output(ctx) < 0 || lib.buffer_error(ctx) < 0)
                r = -ENOMEM;
        else if (lib.run_cmd_from_buffer(ctx, text) == 0)
                r = 0;
        else {
                /* The message lives in ctx's buffer: taken before ctx goes. */
                e = lib.get_error_buffer(ctx);
                r = e && strstr(e, "No such file or directory") ? -ENOENT
                    : e && strstr(e, "Operation not permitted") ? -EPERM
                                                                 : -EIO;
                if (e)
                        error_set(error, r, "%.*s", (int) strcspn(e, "\n"), e);
        }
        lib.ctx_free(ctx);
        return r;
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
