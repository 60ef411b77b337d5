/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "in-addr.h"
#include "util/util.h"

int in_addr_from_string(int family, const char *s, int *ret_family, union in_addr_union *ret) {
        union in_addr_union a = {};

        if (isempty(s))
                return -EINVAL;
        if ((family == AF_UNSPEC || family == AF_INET) && inet_pton(AF_INET, s, &a.in) == 1) {
                if (ret_family)
                        *ret_family = AF_INET;
        } else if ((family == AF_UNSPEC || family == AF_INET6) && inet_pton(AF_INET6, s, &a.in6) == 1) {
                if (ret_family)
                        *ret_family = AF_INET6;
        } else
                return -EINVAL;
        if (ret)
                *ret = a;
        return 0;
}

int in_addr_prefix_from_string(const char *s, InAddrPrefix *ret) {
        char buf[IN_ADDR_PREFIX_STRLEN];
        const char *slash;
        InAddrPrefix p = {};
        int r;

        if (isempty(s) || strlen(s) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, s);
        slash = strchr(s, '/');
        if (slash)
                buf[slash - s] = 0;
        r = in_addr_from_string(AF_UNSPEC, buf, &p.family, &p.addr);
        if (r < 0)
                return r;
        p.prefixlen = in_addr_size(p.family) * 8;
        if (slash) {
                int n;
                /* Digits only: no sign, no space, no empty length. */
                if (slash[1] == 0 || strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
                        strlen(slash + 1) > 3 || safe_atoi(slash + 1, &n) < 0 || n > p.prefixlen)
                        return -EINVAL;
                p.prefixlen = (uint8_t) n;
        }
        *ret = p;
        return 0;
}

const char *in_addr_to_string(int family, const union in_addr_union *a, char buf[static INET6_ADDRSTRLEN]) {
        if (!inet_ntop(family, a, buf, INET6_ADDRSTRLEN))
                snprintf(buf, INET6_ADDRSTRLEN, "?");
        return buf;
}

const char *in_addr_prefix_to_string(const InAddrPrefix *p, char buf[static IN_ADDR_PREFIX_STRLEN]) {
        char a[INET6_ADDRSTRLEN];
        snprintf(buf, IN_ADDR_PREFIX_STRLEN, "%s/%u", in_addr_to_string(p->family, &p->addr, a),
                p->prefixlen);
        return buf;
}

bool in_addr_equal(int family, const union in_addr_union *a, const union in_addr_union *b) {
        return memcmp(a->bytes, b->bytes, in_addr_size(family)) == 0;
}

static void mask_bytes(uint8_t *b, size_t size, unsigned prefixlen) {
        for (size_t i = 0; i < size; i++) {
                unsigned bits = prefixlen >= (i + 1) * 8 ? 8 : prefixlen > i * 8 ? prefixlen - i * 8 : 0;
                b[i] &= (uint8_t) (0xff00 >> bits);
        }
}

void in_addr_prefix_mask(InAddrPrefix *p) {
        mask_bytes(p->addr.bytes, in_addr_size(p->family), p->prefixlen);
}

bool in_addr_prefix_contains(const InAddrPrefix *p, int family, const union in_addr_union *a) {
        InAddrPrefix x = {.family = family, .addr = *a, .prefixlen = p->prefixlen}, y = *p;

        if (family != p->family)
                return false;
        in_addr_prefix_mask(&x);
        in_addr_prefix_mask(&y);
        return in_addr_equal(family, &x.addr, &y.addr);
}

bool in_addr_prefix_overlap(const InAddrPrefix *a, const InAddrPrefix *b) {
        InAddrPrefix x = *a, y = *b;
        uint8_t len;

        if (a->family != b->family)
                return false;
        len = MIN(a->prefixlen, b->prefixlen);
        x.prefixlen = y.prefixlen = len;
        in_addr_prefix_mask(&x);
        in_addr_prefix_mask(&y);
        return in_addr_equal(a->family, &x.addr, &y.addr);
}

int in_addr_prefix_nth(const InAddrPrefix *p, uint64_t n, union in_addr_union *ret) {
        size_t size = in_addr_size(p->family);
        unsigned host_bits = size * 8 - p->prefixlen;
        InAddrPrefix net = *p;
        uint64_t carry = n;

        if (host_bits < 64 && n >> host_bits)
                return -ERANGE;
        in_addr_prefix_mask(&net);
        for (size_t i = size; i > 0 && carry; i--) {
                uint64_t v = net.addr.bytes[i - 1] + (carry & 0xff);
                net.addr.bytes[i - 1] = (uint8_t) v;
                carry = (carry >> 8) + (v >> 8);
        }
        *ret = net.addr;
        return 0;
}

uint64_t in_addr_prefix_offset(const InAddrPrefix *p, const union in_addr_union *a) {
        InAddrPrefix host = {.family = p->family, .addr = *a, .prefixlen = p->prefixlen};
        size_t size = in_addr_size(p->family);
        uint64_t v = 0;

        /* Keep only the host bits: a with the network part cleared. */
        for (size_t i = 0; i < size; i++) {
                unsigned bits = p->prefixlen >= (i + 1) * 8 ? 8
                                : p->prefixlen > i * 8      ? p->prefixlen - i * 8
                                                            : 0;
                host.addr.bytes[i] &= (uint8_t) ~(0xff00 >> bits);
        }
        for (size_t i = size > 8 ? size - 8 : 0; i < size; i++)
                v = (v << 8) | host.addr.bytes[i];
        return v;
}
