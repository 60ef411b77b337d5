/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Choosing the managed network's subnets: an IPv4 /24 out of 10.0.0.0/8 and an IPv6 ULA /64
 * (RFC 4193: fd + a 40-bit global ID) that overlap no route and no address of the host. */

#include <stddef.h>
#include <stdint.h>

#include "in-addr.h"

/* Picks a subnet of family (prefix length 24 for IPv4, 64 for IPv6) that overlaps none of
 * used. seed decides where the search starts (random in production, fixed in tests). Returns
 * -ENOSPC when every candidate is taken. Pure: no system access. */
int subnet_choose(int family, const InAddrPrefix *used, size_t n_used, uint64_t seed, InAddrPrefix *ret);
/* What the host uses: the destination of every route but default routes, and the prefix of
 * every address, of family, in the namespace of rtnl_fd; except what is on exclude_ifindex
 * (0: nothing excluded). */
int host_used_prefixes(int rtnl_fd, int family, int exclude_ifindex, InAddrPrefix **ret, size_t *ret_n);
/* Whether p overlaps any of used. */
int subnet_is_free(const InAddrPrefix *p, const InAddrPrefix *used, size_t n_used);
