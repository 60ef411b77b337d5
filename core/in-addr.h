/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* IPv4/IPv6 addresses and prefixes as one type, parsed once from text and formatted back. */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

union in_addr_union {
        struct in_addr in;
        struct in6_addr in6;
        uint8_t bytes[16];
};

typedef struct InAddrPrefix {
        int family; /* AF_INET or AF_INET6 */
        union in_addr_union addr;
        uint8_t prefixlen;
} InAddrPrefix;

/* Large enough for "ffff:...:ffff/128". */
#define IN_ADDR_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

static inline size_t in_addr_size(int family) {
        return family == AF_INET ? 4 : 16;
}
/* An address of family (AF_UNSPEC: either). */
int in_addr_from_string(int family, const char *s, int *ret_family, union in_addr_union *ret);
/* "ADDR/LEN", or a bare address (full length). Host bits are kept as given. */
int in_addr_prefix_from_string(const char *s, InAddrPrefix *ret);
const char *in_addr_to_string(int family, const union in_addr_union *a, char buf[static INET6_ADDRSTRLEN]);
const char *in_addr_prefix_to_string(const InAddrPrefix *p, char buf[static IN_ADDR_PREFIX_STRLEN]);
bool in_addr_equal(int family, const union in_addr_union *a, const union in_addr_union *b);
/* Clears the host bits. */
void in_addr_prefix_mask(InAddrPrefix *p);
/* Whether the two prefixes share any address (one contains the other). */
bool in_addr_prefix_overlap(const InAddrPrefix *a, const InAddrPrefix *b);
bool in_addr_prefix_contains(const InAddrPrefix *p, int family, const union in_addr_union *a);
/* The address n after the prefix's network address (n = 1: the first host). -ERANGE when
 * n does not fit in the prefix. */
int in_addr_prefix_nth(const InAddrPrefix *p, uint64_t n, union in_addr_union *ret);
/* The inverse for an address inside p: how far it is from the network address (low 64 bits). */
uint64_t in_addr_prefix_offset(const InAddrPrefix *p, const union in_addr_union *a);
