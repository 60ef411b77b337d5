/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "net-subnet.h"
#include "netlink.h"
#include "util/util.h"

int subnet_is_free(const InAddrPrefix *p, const InAddrPrefix *used, size_t n_used) {
        for (size_t i = 0; i < n_used; i++)
                if (in_addr_prefix_overlap(p, &used[i]))
                        return 0;
        return 1;
}

int subnet_choose(int family, const InAddrPrefix *used, size_t n_used, uint64_t seed, InAddrPrefix *ret) {
        InAddrPrefix c = {.family = family};

        if (family == AF_INET) {
                /* The 65536 /24s of 10.0.0.0/8, visited in an order that starts at the seed and
                 * steps by an odd stride, which reaches every one of them. */
                uint32_t start = (uint32_t) (seed & 0xffff), stride = (uint32_t) ((seed >> 16) | 1) & 0xffff;
                c.prefixlen = 24;
                for (uint32_t i = 0; i < 0x10000; i++) {
                        uint32_t k = (start + i * stride) & 0xffff;
                        c.addr.bytes[0] = 10;
                        c.addr.bytes[1] = (uint8_t) (k >> 8);
                        c.addr.bytes[2] = (uint8_t) k;
                        c.addr.bytes[3] = 0;
                        if (subnet_is_free(&c, used, n_used)) {
                                *ret = c;
                                return 0;
                        }
                }
                return -ENOSPC;
        }
        if (family == AF_INET6) {
                /* A ULA global ID from the seed; on a (very unlikely) collision, the next. */
                c.prefixlen = 64;
                for (uint64_t i = 0; i < 4096; i++) {
                        uint64_t id = (seed + i * 0x9e3779b97f4a7c15ULL) & 0xffffffffffULL;
                        memset(&c.addr, 0, sizeof c.addr);
                        c.addr.bytes[0] = 0xfd;
                        for (int b = 0; b < 5; b++)
                                c.addr.bytes[1 + b] = (uint8_t) (id >> (8 * (4 - b)));
                        if (subnet_is_free(&c, used, n_used)) {
                                *ret = c;
                                return 0;
                        }
                }
                return -ENOSPC;
        }
        return -EAFNOSUPPORT;
}

int host_used_prefixes(int rtnl_fd, int family, int exclude_ifindex, InAddrPrefix **ret, size_t *ret_n) {
        _cleanup_free_ RouteEntry *routes = NULL;
        _cleanup_free_ AddrEntry *addrs = NULL;
        _cleanup_free_ InAddrPrefix *l = NULL;
        size_t n_routes = 0, n_addrs = 0, n = 0;
        int r;

        r = rtnl_route_list(rtnl_fd, family, &routes, &n_routes);
        if (r < 0)
                return r;
        r = rtnl_addr_list(rtnl_fd, family, 0, &addrs, &n_addrs);
        if (r < 0)
                return r;
        l = calloc(n_routes + n_addrs + 1, sizeof(InAddrPrefix));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n_routes; i++) {
                /* A default route overlaps everything and says nothing about what is used. */
                if (routes[i].dst.prefixlen == 0 ||
                        (exclude_ifindex > 0 && routes[i].oif == exclude_ifindex))
                        continue;
                l[n++] = routes[i].dst;
        }
        for (size_t i = 0; i < n_addrs; i++) {
                InAddrPrefix p = addrs[i].prefix;
                /* Link-local and loopback are never candidates anyway. */
                if (addrs[i].scope == RT_SCOPE_HOST || addrs[i].scope == RT_SCOPE_LINK ||
                        (exclude_ifindex > 0 && addrs[i].ifindex == exclude_ifindex))
                        continue;
                in_addr_prefix_mask(&p);
                l[n++] = p;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}
