/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network modules' parsers, validators and formats: addresses, port specs, subnet choice,
 * names and MACs, nft rule text and listings, dnsmasq's configuration, host entries and
 * leases, the managed network's state file. No root needed, nothing touches the system. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsmasq.h"
#include "in-addr.h"
#include "managed-net.h"
#include "net-cleanup.h"
#include "net-setup.h"
#include "netlink-light.h"
#include "resolv-conf.h"
#include "supervise-loop.h"
#include "net-port.h"
#include "net-subnet.h"
#include "net-veth.h"
#include "nft.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

static InAddrPrefix P(const char *s) {
        InAddrPrefix p = {};
        if (in_addr_prefix_from_string(s, &p) < 0)
                abort();
        return p;
}

TEST(in_addr_prefix_parse) {
        static const struct {
                const char *in, *out; /* out NULL: refused */
        } t[] = {
                {"10.0.0.0/24", "10.0.0.0/24"},
                {"10.1.2.3", "10.1.2.3/32"},
                {"fd00::/64", "fd00::/64"},
                {"fd00::1", "fd00::1/128"},
                {"0.0.0.0/0", "0.0.0.0/0"},
                {"10.0.0.0/33", NULL},
                {"fd00::/129", NULL},
                {"10.0.0.0/", NULL},
                {"10.0.0.0/-1", NULL},
                {"10.0.0.0/+8", NULL},
                {"10.0.0.0/ 8", NULL},
                {"10.0.0/24", NULL},
                {"", NULL},
                {"/24", NULL},
                {"example.com", NULL},
                {"10.0.0.0/24/1", NULL},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                InAddrPrefix p;
                char buf[IN_ADDR_PREFIX_STRLEN];
                int r = in_addr_prefix_from_string(t[i].in, &p);
                if (!t[i].out) {
                        ASSERT_TRUE(r < 0);
                        continue;
                }
                ASSERT_OK(r);
                ASSERT_STREQ(in_addr_prefix_to_string(&p, buf), t[i].out);
        }
}

TEST(in_addr_prefix_math) {
        InAddrPrefix a = P("10.1.2.0/24"), b = P("10.1.0.0/16"), c = P("10.1.3.0/24"), d = P("fd00::/8");
        union in_addr_union x;
        char buf[INET6_ADDRSTRLEN];

        ASSERT_TRUE(in_addr_prefix_overlap(&a, &b));
        ASSERT_TRUE(in_addr_prefix_overlap(&b, &a));
        ASSERT_FALSE(in_addr_prefix_overlap(&a, &c));
        ASSERT_FALSE(in_addr_prefix_overlap(&a, &d));
        ASSERT_OK(in_addr_prefix_nth(&a, 1, &x));
        ASSERT_STREQ(in_addr_to_string(AF_INET, &x, buf), "10.1.2.1");
        ASSERT_OK(in_addr_prefix_nth(&a, 255, &x));
        ASSERT_STREQ(in_addr_to_string(AF_INET, &x, buf), "10.1.2.255");
        ASSERT_EQ(in_addr_prefix_nth(&a, 256, &x), -ERANGE);
        ASSERT_EQ(in_addr_prefix_offset(&a, &x), 255);
        InAddrPrefix s6 = P("fd12:3456:789a:1::/64");
        ASSERT_OK(in_addr_prefix_nth(&s6, 0xffff, &x));
        ASSERT_STREQ(in_addr_to_string(AF_INET6, &x, buf), "fd12:3456:789a:1::ffff");
        ASSERT_EQ(in_addr_prefix_offset(&s6, &x), 0xffff);
        ASSERT_TRUE(in_addr_prefix_contains(&s6, AF_INET6, &x));
        ASSERT_FALSE(in_addr_prefix_contains(&a, AF_INET6, &x));
        InAddrPrefix h = P("10.1.2.77/24");
        in_addr_prefix_mask(&h);
        ASSERT_STREQ(in_addr_prefix_to_string(&h, (char[IN_ADDR_PREFIX_STRLEN]){}), "10.1.2.0/24");
}

TEST(port_forward_parse) {
        static const struct {
                const char *in, *out; /* NULL: refused */
        } t[] = {
                {"80", "tcp:80:80"},
                {"8080:80", "tcp:8080:80"},
                {"tcp:8080:80", "tcp:8080:80"},
                {"udp:53", "udp:53:53"},
                {"udp:5353:53", "udp:5353:53"},
                {"1", "tcp:1:1"},
                {"65535:65535", "tcp:65535:65535"},
                {"0", NULL},
                {"65536", NULL},
                {"8080:0", NULL},
                {"8080:65536", NULL},
                {"", NULL},
                {"tcp:", NULL},
                {"sctp:80", NULL},
                {"TCP:80", NULL},
                {"tcp:udp:80", NULL},
                {"80:", NULL},
                {":80", NULL},
                {"80:80:80", NULL},
                {"-80", NULL},
                {"+80", NULL},
                {" 80", NULL},
                {"80 ", NULL},
                {"080", NULL},
                {"8o", NULL},
                {"99999999999999999999", NULL},
                {"0x50", NULL},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                PortForward p;
                char buf[PORT_FORWARD_STRLEN];
                int r = port_forward_parse(t[i].in, &p);
                if (!t[i].out) {
                        if (r >= 0)
                                fprintf(stderr, "accepted: \"%s\"\n", t[i].in);
                        ASSERT_EQ(r, -EINVAL);
                        continue;
                }
                ASSERT_OK(r);
                ASSERT_STREQ(port_forward_to_string(&p, buf), t[i].out);
                /* the full form reads back the same */
                PortForward q;
                ASSERT_OK(port_forward_parse(buf, &q));
                ASSERT_TRUE(memcmp(&p, &q, sizeof p) == 0);
        }
        PortForward a, b, c;
        ASSERT_OK(port_forward_parse("8080:80", &a));
        ASSERT_OK(port_forward_parse("tcp:8080:81", &b));
        ASSERT_OK(port_forward_parse("udp:8080:80", &c));
        ASSERT_TRUE(port_forward_conflicts(&a, &b));
        ASSERT_FALSE(port_forward_conflicts(&a, &c));
        PortForward *l = NULL;
        size_t n = 0;
        ASSERT_OK(port_forwards_add(&l, &n, &a));
        ASSERT_EQ(port_forwards_add(&l, &n, &b), -EEXIST);
        ASSERT_OK(port_forwards_add(&l, &n, &c));
        ASSERT_EQ(n, 2);
        free(l);
        ASSERT_STREQ(port_protocol_to_string(PORT_PROTOCOL_UDP), "udp");
        ASSERT_EQ(port_protocol_from_string("tcp"), PORT_PROTOCOL_TCP);
        ASSERT_EQ(port_protocol_from_string("icmp"), -EINVAL);
}

TEST(subnet_choose) {
        /* This host's kind of routes: a /24 and a /64 on eth0, default routes, the local
         * table's entries; plus 10.0.0.0/9 which blocks half of 10/8. */
        InAddrPrefix used4[] = {P("192.0.2.0/24"), P("10.0.0.0/9"), P("127.0.0.0/8")};
        InAddrPrefix used6[] = {P("fd00::/64"), P("fe80::/64"), P("::1/128")};
        InAddrPrefix r;
        char buf[IN_ADDR_PREFIX_STRLEN];

        for (uint64_t seed = 0; seed < 2000; seed += 7) {
                ASSERT_OK(subnet_choose(AF_INET, used4, ELEMENTSOF(used4), seed, &r));
                ASSERT_EQ(r.prefixlen, 24);
                ASSERT_EQ(r.addr.bytes[0], 10);
                ASSERT_TRUE(r.addr.bytes[1] >= 128);
                ASSERT_EQ(r.addr.bytes[3], 0);
                ASSERT_TRUE(subnet_is_free(&r, used4, ELEMENTSOF(used4)));
                ASSERT_OK(subnet_choose(AF_INET6, used6, ELEMENTSOF(used6), seed, &r));
                ASSERT_EQ(r.prefixlen, 64);
                ASSERT_EQ(r.addr.bytes[0], 0xfd);
                ASSERT_TRUE(subnet_is_free(&r, used6, ELEMENTSOF(used6)));
        }
        /* The same seed, the same choice. */
        ASSERT_OK(subnet_choose(AF_INET, NULL, 0, 0x12345, &r));
        ASSERT_STREQ(in_addr_prefix_to_string(&r, buf), "10.35.69.0/24");
        /* Nothing free: all of 10/8 taken. */
        InAddrPrefix all[] = {P("10.0.0.0/8")};
        ASSERT_EQ(subnet_choose(AF_INET, all, 1, 42, &r), -ENOSPC);
        InAddrPrefix all6[] = {P("fd00::/8")};
        ASSERT_EQ(subnet_choose(AF_INET6, all6, 1, 42, &r), -ENOSPC);
        ASSERT_EQ(subnet_choose(AF_UNIX, NULL, 0, 42, &r), -EAFNOSUPPORT);
        /* A taken candidate is skipped. */
        InAddrPrefix first = P("10.35.69.0/24");
        ASSERT_OK(subnet_choose(AF_INET, &first, 1, 0x12345, &r));
        ASSERT_FALSE(in_addr_prefix_overlap(&r, &first));
}

TEST(ifnames) {
        char n[IFNAMSIZ];
        static const char *const valid[] = {"eth0", "nspawnctl0", "ve-abc", "a", "123456789012345"};
        static const char *const invalid[] = {
                "", ".", "..", "a/b", "a:b", "a b", "1234567890123456", "tab\t", "\x7f", "é"};
        for (size_t i = 0; i < ELEMENTSOF(valid); i++)
                ASSERT_TRUE(ifname_is_valid(valid[i]));
        for (size_t i = 0; i < ELEMENTSOF(invalid); i++)
                ASSERT_FALSE(ifname_is_valid(invalid[i]));

        ASSERT_EQ(veth_host_ifname("web", false, n), 0);
        ASSERT_STREQ(n, "ve-web");
        ASSERT_EQ(veth_host_ifname("web", true, n), 0);
        ASSERT_STREQ(n, "vb-web");
        ASSERT_EQ(veth_host_ifname("twelve-chars", false, n), 0); /* 15 bytes fit */
        ASSERT_STREQ(n, "ve-twelve-chars");
        ASSERT_EQ(veth_host_ifname("thirteen-char", false, n), 1);
        ASSERT_EQ(strlen(n), 15);
        ASSERT_TRUE(strneq(n, "ve-thirteen", 11));
        ASSERT_TRUE(ifname_is_valid(n));
        /* Long names that share their first bytes still get different links. */
        char m[IFNAMSIZ];
        ASSERT_EQ(veth_host_ifname("my-long-machine-name-1", true, m), 1);
        ASSERT_EQ(veth_host_ifname("my-long-machine-name-2", true, n), 1);
        ASSERT_TRUE(strneq(m, "vb-my-long-", 11));
        ASSERT_FALSE(streq(m, n));
        ASSERT_TRUE(ifname_is_valid(m) && ifname_is_valid(n));
        /* and the same name gives the same link every time */
        char k[IFNAMSIZ];
        veth_host_ifname("my-long-machine-name-1", true, k);
        ASSERT_STREQ(k, m);

        ASSERT_TRUE(zone_name_is_valid("lab"));
        ASSERT_TRUE(zone_name_is_valid("a_b-c123456"));
        ASSERT_TRUE(zone_name_is_valid("twelve-chars"));
        ASSERT_FALSE(zone_name_is_valid("thirteen-char"));
        ASSERT_FALSE(zone_name_is_valid(""));
        ASSERT_FALSE(zone_name_is_valid("a.b"));
        ASSERT_FALSE(zone_name_is_valid("a/b"));
        ASSERT_OK(zone_bridge_ifname("lab", n));
        ASSERT_STREQ(n, "vz-lab");
        ASSERT_EQ(zone_bridge_ifname("a b", n), -EINVAL);

        ASSERT_TRUE(nft_table_name_is_valid("nspawnctl"));
        ASSERT_TRUE(nft_table_name_is_valid("t1234_net-x"));
        ASSERT_FALSE(nft_table_name_is_valid("1abc"));
        ASSERT_FALSE(nft_table_name_is_valid(""));
        ASSERT_FALSE(nft_table_name_is_valid("a b"));
        ASSERT_FALSE(nft_table_name_is_valid("a\"b"));
        ASSERT_FALSE(nft_table_name_is_valid("a;b"));
        ASSERT_FALSE(
                nft_table_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        char *c = box_chain_name("web.lab", BOX_CHAIN_PREROUTING);
        ASSERT_STREQ(c, "box-web.lab-pre");
        free(c);
}

TEST(mac) {
        EtherAddr a, b, c;
        char buf[ETHER_ADDR_STRLEN];

        mac_derive("web", "host0", &a);
        mac_derive("web", "host0", &b);
        mac_derive("web", "host", &c);
        ASSERT_TRUE(memcmp(&a, &b, sizeof a) == 0);
        ASSERT_FALSE(memcmp(&a, &c, sizeof a) == 0);
        /* unicast, locally administered */
        ASSERT_EQ(a.bytes[0] & 0x03, 0x02);
        ASSERT_EQ(c.bytes[0] & 0x03, 0x02);
        for (int i = 0; i < 200; i++) {
                char name[16];
                snprintf(name, sizeof name, "m%d", i);
                mac_derive(name, "host0", &a);
                ASSERT_EQ(a.bytes[0] & 0x03, 0x02);
        }
        EtherAddr x = {{0x02, 0xab, 0x00, 0x10, 0xff, 0x01}}, y;
        ASSERT_STREQ(ether_addr_to_string(&x, buf), "02:ab:00:10:ff:01");
        ASSERT_OK(ether_addr_from_string("02:AB:00:10:ff:01", &y));
        ASSERT_TRUE(memcmp(&x, &y, sizeof x) == 0);
        FOREACH_STRING(bad, "", "02:ab:00:10:ff", "02:ab:00:10:ff:01:", "02-ab-00-10-ff-01",
                "0g:ab:00:10:ff:01", "02:ab:00:10:ff:0")
        ASSERT_EQ(ether_addr_from_string(bad, &y), -EINVAL);
}

TEST(nft_box_rules) {
        PortForward p[2];
        ASSERT_OK(port_forward_parse("8080:80", &p[0]));
        ASSERT_OK(port_forward_parse("udp:5353:53", &p[1]));
        NftBoxRules b = {.table = "nspawnctl",
                .machine = "web",
                .link = "ve-web",
                .have4 = true,
                .ports = p,
                .n_ports = 2,
                .own_snat = true,
                .own_guard = true};
        ASSERT_OK(in_addr_from_string(AF_INET, "10.0.0.2", NULL, &b.addr4));
        _cleanup_free_ char *text = NULL;
        ASSERT_OK(nft_box_rules_text(&b, &text));
        static const char expected[] =
                "add table inet nspawnctl\n"
                "add chain inet nspawnctl box-web-pre { type nat hook prerouting priority dstnat; policy "
                "accept; }\n"
                "flush chain inet nspawnctl box-web-pre\n"
                "add chain inet nspawnctl box-web-out { type nat hook output priority -100; policy accept; "
                "}\n"
                "flush chain inet nspawnctl box-web-out\n"
                "add chain inet nspawnctl box-web-post { type nat hook postrouting priority srcnat; policy "
                "accept; }\n"
                "flush chain inet nspawnctl box-web-post\n"
                "add chain inet nspawnctl box-web-guard { type filter hook prerouting priority raw; policy "
                "accept; }\n"
                "flush chain inet nspawnctl box-web-guard\n"
                "add rule inet nspawnctl box-web-pre fib daddr type local meta nfproto ipv4 tcp dport 8080 "
                "dnat ip to 10.0.0.2:80 comment \"nspawnctl-port tcp:8080:80\"\n"
                "add rule inet nspawnctl box-web-out fib daddr type local meta nfproto ipv4 tcp dport 8080 "
                "dnat ip to 10.0.0.2:80 comment \"nspawnctl-port tcp:8080:80\"\n"
                "add rule inet nspawnctl box-web-pre fib daddr type local meta nfproto ipv4 udp dport 5353 "
                "dnat ip to 10.0.0.2:53 comment \"nspawnctl-port udp:5353:53\"\n"
                "add rule inet nspawnctl box-web-out fib daddr type local meta nfproto ipv4 udp dport 5353 "
                "dnat ip to 10.0.0.2:53 comment \"nspawnctl-port udp:5353:53\"\n"
                "add rule inet nspawnctl box-web-post ip daddr 10.0.0.2 ct status dnat ip saddr 127.0.0.0/8 "
                "masquerade\n"
                "add rule inet nspawnctl box-web-post ip daddr 10.0.0.2 ct status dnat iifname \"ve-web\" "
                "oifname \"ve-web\" masquerade\n"
                "add rule inet nspawnctl box-web-guard iifname \"ve-web\" ip daddr 127.0.0.0/8 drop\n"
                "add rule inet nspawnctl box-web-guard iifname \"ve-web\" ip saddr 127.0.0.0/8 drop\n";
        if (!streq(text, expected))
                fprintf(stderr, "%s", text);
        ASSERT_STREQ(text, expected);

        /* The managed network's boxes: IPv6 too, no rules of their own but the DNAT. */
        free(text);
        text = NULL;
        b = (NftBoxRules){.table = "t1",
                .machine = "a.b",
                .link = "br0",
                .have4 = true,
                .have6 = true,
                .ports = p,
                .n_ports = 1};
        ASSERT_OK(in_addr_from_string(AF_INET, "10.9.8.7", NULL, &b.addr4));
        ASSERT_OK(in_addr_from_string(AF_INET6, "fd00:1::7", NULL, &b.addr6));
        ASSERT_OK(nft_box_rules_text(&b, &text));
        ASSERT_TRUE(
                strstr(text, "add rule inet t1 box-a.b-pre fib daddr type local meta nfproto ipv6 tcp dport "
                             "8080 dnat ip6 to [fd00:1::7]:80 comment \"nspawnctl-port tcp:8080:80\"\n"));
        ASSERT_FALSE(strstr(text, "masquerade"));
        ASSERT_FALSE(strstr(text, "drop"));
        /* No forwards: empty chains, which is how forwards are all removed. */
        free(text);
        text = NULL;
        b.n_ports = 0;
        ASSERT_OK(nft_box_rules_text(&b, &text));
        ASSERT_FALSE(strstr(text, "add rule"));
        ASSERT_TRUE(strstr(text, "flush chain inet t1 box-a.b-out\n"));
        b.link = NULL;
        ASSERT_EQ(nft_box_rules_text(&b, &text), -EINVAL);
}

TEST(nft_managed_rules) {
        NftManagedRules m = {.table = "nspawnctl",
                .bridge = "nspawnctl0",
                .subnet4 = P("10.1.2.0/24"),
                .subnet6 = P("fd01:2:3:4::/64")};
        _cleanup_free_ char *text = NULL;
        ASSERT_OK(in_addr_from_string(AF_INET6, "fd01:2:3:4::ffff", NULL, &m.loopback6));
        ASSERT_OK(nft_managed_rules_text(&m, &text));
        FOREACH_STRING(line,
                "add rule inet nspawnctl postrouting ip saddr 10.1.2.0/24 oifname != \"nspawnctl0\" "
                "masquerade\n",
                "add rule inet nspawnctl postrouting ip6 saddr fd01:2:3:4::/64 oifname != \"nspawnctl0\" "
                "masquerade\n",
                "add rule inet nspawnctl postrouting oifname \"nspawnctl0\" ct status dnat ip saddr "
                "127.0.0.0/8 masquerade\n",
                "add rule inet nspawnctl postrouting oifname \"nspawnctl0\" ct status dnat ip6 saddr ::1 "
                "snat ip6 to fd01:2:3:4::ffff\n",
                "add rule inet nspawnctl postrouting iifname \"nspawnctl0\" oifname \"nspawnctl0\" ct "
                "status dnat masquerade\n",
                "add rule inet nspawnctl forward iifname \"nspawnctl0\" accept\n",
                "add rule inet nspawnctl guard iifname \"nspawnctl0\" ip daddr 127.0.0.0/8 drop\n",
                "add rule inet nspawnctl forward oifname \"nspawnctl0\" accept\n",
                "add rule inet nspawnctl input iifname \"lo\" ip6 saddr fd01:2:3:4::/64 ct status & dnat == "
                "0 drop\n") {
                if (!strstr(text, line))
                        fprintf(stderr, "missing: %s---\n%s", line, text);
                ASSERT_TRUE(strstr(text, line));
        }
        /* Only our own tables are ever named. */
        for (const char *p = text; (p = strstr(p, " table ")); p++)
                ASSERT_TRUE(strneq(p, " table inet nspawnctl\n", 22));
        m.subnet4 = P("fd00::/64");
        ASSERT_EQ(nft_managed_rules_text(&m, &text), -EINVAL);

        _cleanup_free_ char *lo6 = NULL;
        ASSERT_OK(nft_box_loopback6_text("nspawnctl", "web", "vb-web", &m.loopback6, &lo6));
        ASSERT_STREQ(lo6,
                "add table netdev nspawnctl\n"
                "add chain netdev nspawnctl box-web-lo6 { type filter hook ingress device \"vb-web\" "
                "priority 0; policy accept; }\n"
                "flush chain netdev nspawnctl box-web-lo6\n"
                "add rule netdev nspawnctl box-web-lo6 ip6 daddr fd01:2:3:4::ffff meta l4proto { tcp, udp } "
                "ether daddr set 00:00:00:00:00:00 meta pkttype set host fwd to \"lo\"\n");
}

TEST(nft_forward_from_rule) {
        static const struct {
                const char *chain, *comment;
                const char *machine, *spec; /* NULL: not a forward */
        } t[] = {
                {"box-web-pre", "nspawnctl-port tcp:8080:80", "web", "tcp:8080:80"},
                {"box-db.lab-pre", "nspawnctl-port udp:53:5353", "db.lab", "udp:53:5353"},
                {"box-web-out", "nspawnctl-port tcp:8080:80", NULL, NULL}, /* counted in -pre only */
                {"box--pre", "nspawnctl-port tcp:1:1", NULL, NULL},
                {"postrouting", "nspawnctl-port tcp:1:1", NULL, NULL},
                {"box-web-pre", "other", NULL, NULL},
                {"box-web-pre", "nspawnctl-port tcp:0:1", NULL, NULL},
                {"box-web-pre", "nspawnctl-port ", NULL, NULL},
                {"box-web-pre", NULL, NULL, NULL},
                {NULL, "nspawnctl-port tcp:1:1", NULL, NULL},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                NftForward f;
                char buf[PORT_FORWARD_STRLEN];
                int r = nft_forward_from_rule(t[i].chain, t[i].comment, &f);
                if (!t[i].machine) {
                        ASSERT_EQ(r, 0);
                        continue;
                }
                ASSERT_EQ(r, 1);
                ASSERT_STREQ(f.machine, t[i].machine);
                ASSERT_STREQ(port_forward_to_string(&f.port, buf), t[i].spec);
        }

        /* NFTA_RULE_USERDATA: type, length, value records; the comment is type 0. */
        static const uint8_t ud[] = {7, 2, 'x', 'y', 0, 6, 'a', 'b', 'c', 'd', 'e', 0};
        char c[16];
        ASSERT_EQ(nft_udata_comment(ud, sizeof ud, c, sizeof c), 1);
        ASSERT_STREQ(c, "abcde");
        ASSERT_EQ(nft_udata_comment(ud, 4, c, sizeof c), 0);        /* none */
        ASSERT_EQ(nft_udata_comment(ud, 7, c, sizeof c), -EBADMSG); /* cut short */
        ASSERT_EQ(nft_udata_comment(ud, sizeof ud, c, 3), -ENOBUFS);
        static const uint8_t unterminated[] = {0, 3, 'a', 'b', 'c'};
        ASSERT_EQ(nft_udata_comment(unterminated, sizeof unterminated, c, sizeof c), 1);
        ASSERT_STREQ(c, "abc");
}

TEST(dnsmasq_config) {
        char *servers[] = {(char *)"127.0.0.9", (char *)"::1", NULL};
        DnsmasqConfig c = {.dir = "/run/x/network/dnsmasq",
                .bridge = "nspawnctl0",
                .subnet4 = P("10.1.2.0/24"),
                .subnet6 = P("fd01:2:3:4::/64"),
                .domain = "nspawnctl.internal",
                .servers = servers,
                .user = "dnsmasq"};
        _cleanup_free_ char *text = NULL;
        ASSERT_OK(in_addr_from_string(AF_INET, "10.1.2.1", NULL, &c.gateway4));
        ASSERT_OK(in_addr_from_string(AF_INET6, "fd01:2:3:4::1", NULL, &c.gateway6));
        ASSERT_OK(dnsmasq_config_text(&c, &text));
        FOREACH_STRING(line, "\ninterface=nspawnctl0\n", "\nexcept-interface=lo\n", "\nbind-dynamic\n",
                "\npid-file=/run/x/network/dnsmasq/dnsmasq.pid\n", "\nuser=dnsmasq\n", "\nno-hosts\n",
                "\nhostsdir=/run/x/network/dnsmasq/hosts\n",
                "\ndhcp-hostsdir=/run/x/network/dnsmasq/dhcp-hosts\n",
                "\ndhcp-leasefile=/run/x/network/dnsmasq/leases\n", "\ndhcp-ignore-names\n",
                "\ndomain=nspawnctl.internal\n", "\nlocal=/nspawnctl.internal/\n",
                "\nno-resolv\nserver=127.0.0.9\nserver=::1\n", "\ndhcp-range=10.1.2.2,10.1.2.254,1h\n",
                "\ndhcp-option=option:router,10.1.2.1\n", "\ndhcp-option=option:dns-server,10.1.2.1\n",
                "\nenable-ra\ndhcp-range=fd01:2:3:4::2,fd01:2:3:4::fffe,64,1h\n",
                "\ndhcp-option=option6:dns-server,[fd01:2:3:4::1]\n") {
                if (!strstr(text, line))
                        fprintf(stderr, "missing: %s---\n%s", line, text);
                ASSERT_TRUE(strstr(text, line));
        }
        ASSERT_FALSE(strstr(text, "resolv-file"));
        /* No upstream given: the host's resolv.conf. A /30: one box. */
        free(text);
        text = NULL;
        c.servers = NULL;
        c.subnet4 = P("10.1.2.4/30");
        ASSERT_OK(dnsmasq_config_text(&c, &text));
        ASSERT_TRUE(strstr(text, "\nresolv-file=/etc/resolv.conf\n"));
        ASSERT_TRUE(strstr(text, "\ndhcp-range=10.1.2.6,10.1.2.6,1h\n"));
        ASSERT_FALSE(strstr(text, "no-resolv"));
        c.subnet4 = P("10.1.2.0/31");
        ASSERT_EQ(dnsmasq_config_text(&c, &text), -EINVAL);
}

TEST(dnsmasq_host_entries) {
        EtherAddr mac = {{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}}, m2;
        union in_addr_union a4, a6, b4, b6;
        _cleanup_free_ char *dhcp = NULL, *hosts = NULL;

        ASSERT_OK(in_addr_from_string(AF_INET, "10.1.2.7", NULL, &a4));
        ASSERT_OK(in_addr_from_string(AF_INET6, "fd01::7", NULL, &a6));
        ASSERT_OK(dnsmasq_host_entries("web", &mac, &a4, &a6, &dhcp, &hosts));
        ASSERT_STREQ(dhcp, "02:11:22:33:44:55,10.1.2.7,[fd01::7],web\n");
        ASSERT_STREQ(hosts, "10.1.2.7 web\nfd01::7 web\n");
        ASSERT_OK(dnsmasq_dhcp_host_parse(dhcp, &m2, &b4, &b6));
        ASSERT_TRUE(memcmp(&mac, &m2, sizeof mac) == 0);
        ASSERT_TRUE(in_addr_equal(AF_INET, &a4, &b4));
        ASSERT_TRUE(in_addr_equal(AF_INET6, &a6, &b6));
        FOREACH_STRING(bad, "", "02:11:22:33:44:55", "02:11:22:33:44:55,10.1.2.7",
                "02:11:22:33:44:55,10.1.2.7,fd01::7,x", "02:11:22:33:44,10.1.2.7,[fd01::7],x",
                "02:11:22:33:44:55,10.1.2,[fd01::7],x", "02:11:22:33:44:55,10.1.2.7,[fd01::7,x",
                "02:11:22:33:44:55,10.1.2.7,[10.1.2.8],x")
        ASSERT_EQ(dnsmasq_dhcp_host_parse(bad, &m2, &b4, &b6), -EINVAL);
}

TEST(dnsmasq_leases) {
        static const char text[] = "1700003600 02:11:22:33:44:55 10.1.2.7 web "
                                   "ff:aa:bb:cc:dd:00:01:00:01:2c:aa:bb:cc:02:11:22:33:44:55\n"
                                   "1700003600 02:11:22:33:44:66 10.1.2.8 * *\n"
                                   "garbage line\n"
                                   "duid 00:01:00:01:2c:ee:ff:00:02:aa:bb:cc:dd:ee\n"
                                   "1700003600 1234567 fd01::7 web 00:02:00:00:ab:11:22:33:44:55:66:77\n"
                                   "1700003600 notanumber fd01::8 x 00:02\n";
        _cleanup_free_ DnsmasqLease *l = NULL;
        _cleanup_free_ char *duid = NULL;
        char buf[INET6_ADDRSTRLEN], m[ETHER_ADDR_STRLEN];
        size_t n = 0;

        ASSERT_OK(dnsmasq_leases_parse(text, &l, &n, &duid));
        ASSERT_EQ(n, 3);
        ASSERT_EQ(l[0].family, AF_INET);
        ASSERT_STREQ(in_addr_to_string(AF_INET, &l[0].addr, buf), "10.1.2.7");
        ASSERT_STREQ(ether_addr_to_string(&l[0].mac, m), "02:11:22:33:44:55");
        ASSERT_STREQ(l[0].hostname, "web");
        ASSERT_STREQ(l[1].client_id, "*");
        ASSERT_EQ(l[2].family, AF_INET6);
        ASSERT_EQ(l[2].iaid, 1234567);
        ASSERT_STREQ(in_addr_to_string(AF_INET6, &l[2].addr, buf), "fd01::7");
        ASSERT_STREQ(l[2].client_id, "00:02:00:00:ab:11:22:33:44:55:66:77");
        ASSERT_STREQ(duid, "00:01:00:01:2c:ee:ff:00:02:aa:bb:cc:dd:ee");
        free(l);
        l = NULL;
        ASSERT_OK(dnsmasq_leases_parse("", &l, &n, NULL));
        ASSERT_EQ(n, 0);
}

TEST(managed_net_state) {
        char dir[] = "/tmp/test-network.XXXXXX";
        ASSERT_TRUE(mkdtemp(dir));
        _cleanup_free_ char *path = strjoin(dir, "/managed.state");
        ManagedNetState s = {.bridge = "nspawnctl0",
                                .table = "nspawnctl",
                                .subnet4 = P("10.1.2.0/24"),
                                .subnet6 = P("fd01:2:3:4::/64"),
                                .dnsmasq_pid = 4242,
                                .dnsmasq_start = 123456789},
                        r;
        char a[IN_ADDR_PREFIX_STRLEN];

        ASSERT_EQ(managed_net_state_read(path, &r), -ENOENT);
        ASSERT_OK(managed_net_state_write(path, &s));
        ASSERT_OK(managed_net_state_read(path, &r));
        ASSERT_STREQ(r.bridge, "nspawnctl0");
        ASSERT_STREQ(r.table, "nspawnctl");
        ASSERT_STREQ(in_addr_prefix_to_string(&r.subnet4, a), "10.1.2.0/24");
        ASSERT_STREQ(in_addr_prefix_to_string(&r.subnet6, a), "fd01:2:3:4::/64");
        ASSERT_EQ(r.dnsmasq_pid, 4242);
        ASSERT_EQ(r.dnsmasq_start, 123456789);

        /* Files that are not ours are refused, not half-read. */
        FOREACH_STRING(bad, "BRIDGE=a b\nTABLE=x\nIPV4=10.0.0.0/24\nIPV6=fd00::/64\n",
                "BRIDGE=br\nTABLE=x\nIPV4=fd00::/64\nIPV6=fd00::/64\n",
                "BRIDGE=br\nTABLE=x\nIPV4=10.0.0.0/24\n", "just text\n",
                "BRIDGE=br\nTABLE=x\nIPV4=10.0.0.0/24\nIPV6=fd00::/64\nDNSMASQ_PID=-3\n") {
                FILE *f = fopen(path, "we");
                ASSERT_TRUE(f);
                fputs(bad, f);
                fclose(f);
                ASSERT_EQ(managed_net_state_read(path, &r), -EBADMSG);
        }
        unlink(path);
        rmdir(dir);
}

TEST(resolv_conf_modes) {
        static const char *const names[] = {"off", "copy-host", "copy-static", "copy-uplink", "copy-stub",
                "replace-host", "replace-static", "replace-uplink", "replace-stub", "bind-host",
                "bind-static", "bind-uplink", "bind-stub", "delete", "auto"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                ResolvConfMode m = resolv_conf_mode_from_string(names[i]);
                ASSERT_EQ(m, (int) i);
                ASSERT_STREQ(resolv_conf_mode_to_string(m), names[i]);
        }
        FOREACH_STRING(bad, "", "copy", "bind-", "Auto", "copy-host ")
        ASSERT_EQ(resolv_conf_mode_from_string(bad), -EINVAL);
        ASSERT_TRUE(resolv_conf_mode_to_string(_RESOLV_CONF_MODE_MAX) == NULL);

        ASSERT_TRUE(resolv_conf_is_local_only("nameserver 127.0.0.53\noptions edns0\n"));
        ASSERT_TRUE(resolv_conf_is_local_only("# x\nnameserver 127.0.0.1\n nameserver\t::1\n"));
        ASSERT_FALSE(resolv_conf_is_local_only("nameserver 127.0.0.53\nnameserver 192.0.2.1\n"));
        ASSERT_FALSE(resolv_conf_is_local_only("nameserver 10.255.255.53\n"));
        ASSERT_FALSE(resolv_conf_is_local_only(""));
        ASSERT_FALSE(resolv_conf_is_local_only("search example.com\n"));
        ASSERT_FALSE(resolv_conf_is_local_only("nameservers 127.0.0.1\n"));

        static const struct {
                const char *link, *target; /* NULL: refused */
        } t[] = {
                {"../run/systemd/resolve/stub-resolv.conf", "/run/systemd/resolve/stub-resolv.conf"},
                {"/run/systemd/resolve/resolv.conf", "/run/systemd/resolve/resolv.conf"},
                {"../run/./resolvconf//resolv.conf", "/run/resolvconf/resolv.conf"},
                {"/run/x/../y/resolv.conf", "/run/y/resolv.conf"},
                {"../../../../run/a/b", "/run/a/b"},
                {"/run/resolv.conf", NULL}, /* not below a directory of /run */
                {"../run", NULL},
                {"/etc/shadow", NULL},
                {"../run/../etc/shadow", NULL},
                {"resolv.conf.real", NULL},
                {"/proc/self/root/etc/x", NULL},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                char out[4096];
                int r = resolv_conf_run_target(t[i].link, out);
                if (!t[i].target) {
                        ASSERT_EQ(r, -EPERM);
                        continue;
                }
                ASSERT_OK(r);
                ASSERT_STREQ(out, t[i].target);
        }
}

TEST(resolv_conf_plan) {
        char dir[] = "/tmp/test-resolv.XXXXXX";
        ASSERT_TRUE(mkdtemp(dir));
        _cleanup_free_ char *host = strjoin(dir, "/host"), *local = strjoin(dir, "/local"),
                            *stat = strjoin(dir, "/static"), *managed = strjoin(dir, "/managed"),
                            *missing = strjoin(dir, "/missing");
        FILE *f;
        ASSERT_TRUE((f = fopen(host, "we")));
        fputs("nameserver 192.0.2.53\n", f);
        fclose(f);
        ASSERT_TRUE((f = fopen(local, "we")));
        fputs("nameserver 127.0.0.53\n", f);
        fclose(f);
        ASSERT_TRUE((f = fopen(stat, "we")));
        fputs("nameserver 127.0.0.53\n# static\n", f);
        fclose(f);
        ASSERT_TRUE((f = fopen(managed, "we")));
        fputs("nameserver 10.1.2.1\nsearch nspawnctl.internal\n", f);
        fclose(f);

        ResolvConfPaths p = {.host = host, .stat = stat, .uplink = missing, .stub = missing};
        ResolvConfPlan plan;
        _cleanup_(error_done) Error e = ERROR_NULL;

        /* host network, auto: the host's file, copied (bound on a read-only tree), the stub
         * symlink followed into /run */
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_AUTO, false, false, &p, &plan, &e));
        ASSERT_EQ(plan.action, RESOLV_ACTION_COPY);
        ASSERT_STREQ(plan.content, "nameserver 192.0.2.53\n");
        ASSERT_TRUE(plan.follow_run_symlink && plan.bind_if_read_only);
        resolv_conf_plan_done(&plan);
        /* private network, auto: the guest's business ... */
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_AUTO, true, false, &p, &plan, &e));
        ASSERT_EQ(plan.action, RESOLV_ACTION_NONE);
        /* ... unless it is on the managed network */
        p.managed = managed;
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_AUTO, true, false, &p, &plan, &e));
        ASSERT_EQ(plan.action, RESOLV_ACTION_COPY);
        ASSERT_STREQ(plan.source, managed);
        ASSERT_FALSE(plan.follow_run_symlink);
        resolv_conf_plan_done(&plan);
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_BIND_STUB, true, true, &p, &plan, &e));
        ASSERT_EQ(plan.action, RESOLV_ACTION_BIND);
        ASSERT_STREQ(plan.source, managed);
        resolv_conf_plan_done(&plan);
        p.managed = NULL;
        /* stub without resolved or the managed network: refused */
        ASSERT_EQ(resolv_conf_plan(RESOLV_CONF_COPY_STUB, true, false, &p, &plan, &e), -ENOENT);
        ASSERT_TRUE(e.message && strstr(e.message, "copy-stub"));
        error_done(&e);
        /* uplink without resolved: the host's file, unless it names a local resolver only */
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_REPLACE_UPLINK, true, false, &p, &plan, &e));
        ASSERT_EQ(plan.action, RESOLV_ACTION_REPLACE);
        ASSERT_STREQ(plan.source, host);
        resolv_conf_plan_done(&plan);
        p.host = local;
        ASSERT_EQ(resolv_conf_plan(RESOLV_CONF_COPY_UPLINK, true, false, &p, &plan, &e), -ENOENT);
        p.host = host;
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_COPY_STATIC, true, false, &p, &plan, &e));
        ASSERT_STREQ(plan.content, "nameserver 127.0.0.53\n# static\n");
        resolv_conf_plan_done(&plan);
        p.stat = missing;
        ASSERT_EQ(resolv_conf_plan(RESOLV_CONF_BIND_STATIC, true, false, &p, &plan, &e), -ENOENT);
        error_done(&e);
        /* copy and replace need a writable tree; bind and off do not */
        ASSERT_EQ(resolv_conf_plan(RESOLV_CONF_COPY_HOST, false, true, &p, &plan, &e), -EROFS);
        ASSERT_TRUE(e.message && strstr(e.message, "bind-host"));
        ASSERT_EQ(resolv_conf_plan(RESOLV_CONF_REPLACE_HOST, false, true, &p, &plan, &e), -EROFS);
        ASSERT_EQ(resolv_conf_plan(RESOLV_CONF_DELETE, false, true, &p, &plan, &e), -EROFS);
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_BIND_HOST, false, true, &p, &plan, &e));
        resolv_conf_plan_done(&plan);
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_OFF, false, true, &p, &plan, &e));
        ASSERT_EQ(plan.action, RESOLV_ACTION_NONE);
        ASSERT_OK(resolv_conf_plan(RESOLV_CONF_DELETE, false, false, &p, &plan, &e));
        ASSERT_EQ(plan.action, RESOLV_ACTION_DELETE);
        /* A source that is not a regular file is refused. */
        p.host = dir;
        ASSERT_EQ(resolv_conf_plan(RESOLV_CONF_COPY_HOST, false, false, &p, &plan, &e), -EBADFD);

        FOREACH_STRING(x, host, local, stat, managed)
        unlink(x);
        rmdir(dir);
}

TEST(network_config_cleanup) {
        NetworkConfig c = {.mode = NETWORK_ZONE, .bridge = "vz-lab"};
        NetworkCleanup nc;
        PortForward p;

        network_config_cleanup(&c, "web", &nc);
        ASSERT_STREQ(nc.link, "vb-web");
        ASSERT_STREQ(nc.zone_bridge, "vz-lab");
        ASSERT_STREQ(nc.nft_table, "");
        ASSERT_OK(port_forward_parse("80", &p));
        c = (NetworkConfig){.mode = NETWORK_VETH, .ports = &p, .n_ports = 1};
        network_config_cleanup(&c, "a-very-long-machine-name", &nc);
        ASSERT_TRUE(strneq(nc.link, "ve-a-very-l", 11) && strlen(nc.link) == 15);
        ASSERT_STREQ(nc.zone_bridge, "");
        ASSERT_STREQ(nc.nft_table, "nspawnctl");
        c = (NetworkConfig){.mode = NETWORK_BRIDGE, .bridge = "br0", .nft_table = "t1"};
        network_config_cleanup(&c, "web", &nc);
        ASSERT_STREQ(nc.link, "vb-web");
        ASSERT_STREQ(nc.zone_bridge, "");
        ASSERT_STREQ(nc.nft_table, "t1");
        c = (NetworkConfig){.mode = NETWORK_PRIVATE};
        network_config_cleanup(&c, "web", &nc);
        ASSERT_TRUE(!nc.link[0] && !nc.zone_bridge[0] && !nc.nft_table[0]);
        ASSERT_STREQ(network_mode_to_string(NETWORK_ZONE), "zone");
}

TEST(netlink_message) {
        NlMsg m = {};
        const NlAttr *tb[8];
        struct nlmsghdr *h = (struct nlmsghdr *) m.buf.data;

        nl_msg_begin(&m, 16, NLM_F_ACK, "\1\2\3\4", 4);
        nl_msg_put_string(&m, 1, "veth0");
        nl_msg_nest_begin(&m, 2);
        nl_msg_put_u32(&m, 3, 42);
        nl_msg_nest_end(&m);
        nl_msg_put_u8(&m, 4, 7);
        ASSERT_FALSE(m.overflow);
        ASSERT_EQ(h->nlmsg_len, m.len);
        ASSERT_EQ(m.n_msgs, 1);
        ASSERT_EQ(m.n_acks, 1);
        nl_attr_parse(m.buf.data + NLMSG_HDRLEN + 4, m.len - NLMSG_HDRLEN - 4, tb, 7);
        ASSERT_STREQ(nl_attr_string(tb[1]), "veth0");
        ASSERT_TRUE(tb[2] && (tb[2]->nla_type & NLA_F_NESTED));
        const NlAttr *inner[4];
        nl_attr_parse(nl_attr_data(tb[2]), nl_attr_len(tb[2]), inner, 3);
        ASSERT_TRUE(
                inner[3] && nl_attr_len(inner[3]) == 4 && *(const uint32_t *) nl_attr_data(inner[3]) == 42);
        ASSERT_TRUE(tb[4] && *(const uint8_t *) nl_attr_data(tb[4]) == 7);
        ASSERT_TRUE(!tb[0] && !tb[5]);
        /* A second message in the same buffer (an nftables batch). */
        size_t first = m.len;
        nl_msg_begin(&m, 17, 0, NULL, 0);
        ASSERT_EQ(m.n_msgs, 2);
        ASSERT_EQ(m.n_acks, 1);
        ASSERT_EQ(((struct nlmsghdr *) (m.buf.data + first))->nlmsg_seq, h->nlmsg_seq + 1);
        /* Too much does not fit: refused when sent, never written past the buffer. */
        char big[1000];
        memset(big, 'x', sizeof big);
        for (int i = 0; i < 20; i++)
                nl_msg_put(&m, 5, big, sizeof big);
        ASSERT_TRUE(m.overflow);
        ASSERT_TRUE(m.len <= sizeof m.buf.data);
        /* A string attribute without its NUL is not a string. */
        NlMsg n = {};
        nl_msg_begin(&n, 16, 0, NULL, 0);
        nl_msg_put(&n, 1, "abc", 3);
        nl_attr_parse(n.buf.data + NLMSG_HDRLEN, n.len - NLMSG_HDRLEN, tb, 7);
        ASSERT_TRUE(tb[1] && nl_attr_string(tb[1]) == NULL);
}

TEST(networkd_dropin) {
        _cleanup_free_ char *t = NULL;

        ASSERT_OK(managed_net_networkd_dropin_text("nspawnctl0", &t));
        ASSERT_TRUE(strstr(t, "\n[Match]\nName=nspawnctl0 vb-* ve-* vz-*\n"));
        ASSERT_TRUE(strstr(t, "\n[Link]\nUnmanaged=yes\n"));
}
