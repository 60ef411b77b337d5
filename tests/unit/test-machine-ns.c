/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "machine-ns.h"
#include "netns-addr.h"
#include "tests.h"
#include "util/util.h"

TEST(uid_map_parse_shift) {
        static const struct {
                const char *text;
                int r;
                uint32_t shift;
        } table[] = {
                { "         0          0 4294967295\n", 0, 0 },
                { "0 0 4294967295", 0, 0 },
                { "         0     524288      65536\n", 0, 524288 },
                { "0 1879048192 65536\n", 0, 1879048192 },
                { "0 4294967295 1\n", 0, 4294967295u },
                { "1 1000 1\n", -EBADR, 0 },                       /* root not mapped */
                { "0 100000 65536\n65536 1000 1\n", -EBADR, 0 },   /* two ranges */
                { "0 100000 0\n", -EBADR, 0 },
                { "0 4294967296 1\n", -EBADR, 0 },
                { "", -EBADMSG, 0 },
                { "garbage", -EBADMSG, 0 },
                { "0 100000\n", -EBADMSG, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                uint32_t shift = 12345;
                int r = uid_map_parse_shift(table[i].text, &shift);
                if (r != table[i].r)
                        fprintf(stderr, "case %zu: %d\n", i, r);
                ASSERT_EQ(r, table[i].r);
                if (r == 0)
                        ASSERT_EQ(shift, table[i].shift);
        }
}

TEST(id_map_translate) {
        static const char *const identity = "         0          0 4294967295\n";
        static const char *const shifted = "         0     524288      65536\n";
        static const char *const two = "0 100000 1000\n1000 5000 10\n";
        static const struct {
                const char *map;
                uint32_t id;
                bool to_host;
                int r;
                uint32_t want;
        } table[] = {
                { identity, 0, true, 0, 0 },
                { identity, 1000, false, 0, 1000 },
                { identity, 4294967294u, true, 0, 4294967294u },
                { shifted, 0, true, 0, 524288 },
                { shifted, 65535, true, 0, 589823 },
                { shifted, 65536, true, -ESRCH, 0 },
                { shifted, 524288 + 1000, false, 0, 1000 },
                { shifted, 1000, false, -ESRCH, 0 },
                { two, 1005, true, 0, 5005 },
                { two, 999, true, 0, 100999 },
                { two, 5009, false, 0, 1009 },
                { two, 1010, true, -ESRCH, 0 },
                { "", 0, true, -ESRCH, 0 },
                { "garbage", 0, true, -ESRCH, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                uint32_t got = 0;
                int r = id_map_translate(table[i].map, table[i].id, table[i].to_host, &got);
                if (r != table[i].r)
                        fprintf(stderr, "case %zu: %d\n", i, r);
                ASSERT_EQ(r, table[i].r);
                if (r == 0)
                        ASSERT_EQ(got, table[i].want);
        }
}

/* Appends one RTM_NEWADDR message to buf at *off. */
static void add_addr(char *buf, size_t *off, int family, unsigned char scope, uint32_t flags, int index,
                     const void *local, const void *address, size_t alen) {
        struct nlmsghdr *h = (struct nlmsghdr *) (buf + *off);
        struct ifaddrmsg *ifa;
        struct rtattr *rta;
        size_t len = NLMSG_LENGTH(sizeof *ifa);

        memset(h, 0, 512);
        ifa = NLMSG_DATA(h);
        ifa->ifa_family = (unsigned char) family;
        ifa->ifa_scope = scope;
        ifa->ifa_index = (unsigned) index;
        ifa->ifa_flags = (unsigned char) flags;
        if (address) {
                rta = (struct rtattr *) ((char *) h + NLMSG_ALIGN(len));
                rta->rta_type = IFA_ADDRESS;
                rta->rta_len = RTA_LENGTH(alen);
                memcpy(RTA_DATA(rta), address, alen);
                len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
        }
        if (local) {
                rta = (struct rtattr *) ((char *) h + NLMSG_ALIGN(len));
                rta->rta_type = IFA_LOCAL;
                rta->rta_len = RTA_LENGTH(alen);
                memcpy(RTA_DATA(rta), local, alen);
                len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
        }
        rta = (struct rtattr *) ((char *) h + NLMSG_ALIGN(len));
        rta->rta_type = IFA_FLAGS;
        rta->rta_len = RTA_LENGTH(sizeof(uint32_t));
        memcpy(RTA_DATA(rta), &flags, sizeof flags);
        len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
        h->nlmsg_len = (uint32_t) len;
        h->nlmsg_type = RTM_NEWADDR;
        *off += NLMSG_ALIGN(len);
}

TEST(netns_addr_from_msg) {
        static const unsigned char lo4[4] = { 127, 0, 0, 1 }, a4[4] = { 10, 0, 0, 2 }, peer4[4] = { 10, 0, 0, 1 };
        static const unsigned char a6[16] = { 0xfd, 0, [15] = 2 }, ll6[16] = { 0xfe, 0x80, [15] = 1 };
        _cleanup_free_ char *buf = calloc(1, 8192);
        NetnsAddress list[8];
        size_t off = 0, n = 0, len;

        ASSERT_TRUE(buf);
        add_addr(buf, &off, AF_INET, RT_SCOPE_HOST, 0, 1, lo4, lo4, 4);            /* loopback: skipped */
        add_addr(buf, &off, AF_INET, RT_SCOPE_UNIVERSE, 0, 2, a4, peer4, 4);       /* ptp: IFA_LOCAL wins */
        add_addr(buf, &off, AF_INET6, RT_SCOPE_UNIVERSE, 0, 2, NULL, a6, 16);     /* IFA_ADDRESS only */
        add_addr(buf, &off, AF_INET6, RT_SCOPE_LINK, 0, 2, NULL, ll6, 16);        /* link-local: kept */
        add_addr(buf, &off, AF_INET6, RT_SCOPE_UNIVERSE, IFA_F_DEPRECATED, 2, NULL, a6, 16); /* skipped */
        add_addr(buf, &off, AF_INET, RT_SCOPE_UNIVERSE, 0, 2, a6, NULL, 16);      /* wrong length: skipped */
        len = off;
        for (const struct nlmsghdr *h = (const void *) buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                int r = netns_addr_from_msg(h, &list[n]);
                ASSERT_TRUE(r >= 0);
                n += r;
        }
        ASSERT_EQ(n, (size_t) 3);
        ASSERT_EQ(list[0].family, AF_INET);
        ASSERT_TRUE(memcmp(list[0].bytes, a4, 4) == 0);
        ASSERT_EQ(list[0].ifindex, 2u);
        ASSERT_EQ(list[1].family, AF_INET6);
        ASSERT_TRUE(memcmp(list[1].bytes, a6, 16) == 0);
        ASSERT_TRUE(memcmp(list[2].bytes, ll6, 16) == 0);
}
