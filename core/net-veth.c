/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net-veth.h"
#include "netlink-light.h"
#include "util/util.h"

uint64_t net_hash64(const void *p, size_t n, uint64_t seed) {
        const uint8_t *b = p;
        uint64_t h = 0xcbf29ce484222325ULL ^ seed;

        for (size_t i = 0; i < n; i++) {
                h ^= b[i];
                h *= 0x100000001b3ULL;
        }
        /* A final mix, so that nearby inputs differ in the low bits too. */
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return h;
}

static char base64url_char(unsigned v) {
        static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        return table[v & 63];
}

int veth_host_ifname(const char *machine, bool bridged, char ret[static IFNAMSIZ]) {
        char full[128];
        uint64_t h;
        size_t n;

        n = (size_t) snprintf(full, sizeof full, "%s%s", bridged ? "vb-" : "ve-", machine);
        if (n < IFNAMSIZ) {
                memcpy(ret, full, n + 1);
                return 0;
        }
        h = net_hash64(full, MIN(n, sizeof full - 1), 0x6966);
        memcpy(ret, full, IFNAMSIZ - 5);
        ret[IFNAMSIZ - 5] = base64url_char((unsigned) (h >> 18));
        ret[IFNAMSIZ - 4] = base64url_char((unsigned) (h >> 12));
        ret[IFNAMSIZ - 3] = base64url_char((unsigned) (h >> 6));
        ret[IFNAMSIZ - 2] = base64url_char((unsigned) h);
        ret[IFNAMSIZ - 1] = 0;
        return 1;
}

int zone_bridge_ifname(const char *zone, char ret[static IFNAMSIZ]) {
        if (!zone_name_is_valid(zone))
                return -EINVAL;
        snprintf(ret, IFNAMSIZ, "vz-%s", zone);
        return 0;
}

void mac_derive(const char *name, const char *what, EtherAddr *ret) {
        uint64_t h = net_hash64(name, strlen(name), net_hash64(what, strlen(what), 0x6d6163));

        for (size_t i = 0; i < sizeof ret->bytes; i++)
                ret->bytes[i] = (uint8_t) (h >> (8 * i));
        ret->bytes[0] &= 0xfe; /* unicast */
        ret->bytes[0] |= 0x02; /* locally administered */
}

const char *ether_addr_to_string(const EtherAddr *a, char buf[static ETHER_ADDR_STRLEN]) {
        snprintf(buf, ETHER_ADDR_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", a->bytes[0], a->bytes[1],
                a->bytes[2], a->bytes[3], a->bytes[4], a->bytes[5]);
        return buf;
}

int ether_addr_from_string(const char *s, EtherAddr *ret) {
        EtherAddr a;

        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (size_t i = 0; i < 6; i++) {
                unsigned v = 0;
                for (size_t j = 0; j < 2; j++) {
                        char c = s[i * 3 + j];
                        v <<= 4;
                        if (c >= '0' && c <= '9')
                                v |= (unsigned) (c - '0');
                        else if (c >= 'a' && c <= 'f')
                                v |= (unsigned) (c - 'a' + 10);
                        else if (c >= 'A' && c <= 'F')
                                v |= (unsigned) (c - 'A' + 10);
                        else
                                return -EINVAL;
                }
                if (i < 5 && s[i * 3 + 2] != ':')
                        return -EINVAL;
                a.bytes[i] = (uint8_t) v;
        }
        *ret = a;
        return 0;
}

int veth_create_for_container(
        int rtnl_fd, const char *machine, const char *ifname, int netns_fd, int bridge_ifindex) {
        EtherAddr host_mac, container_mac;
        LinkInfo li;
        int r;

        mac_derive(machine, "host", &host_mac);
        mac_derive(machine, CONTAINER_IFNAME, &container_mac);
        r = rtnl_veth_create(rtnl_fd, ifname, &host_mac, CONTAINER_IFNAME, &container_mac, netns_fd);
        if (r < 0)
                return r;
        r = rtnl_link_get(rtnl_fd, ifname, &li);
        if (r >= 0 && bridge_ifindex > 0)
                r = rtnl_link_set_master(rtnl_fd, li.ifindex, bridge_ifindex);
        if (r >= 0)
                r = rtnl_link_set_up(rtnl_fd, li.ifindex);
        if (r < 0)
                (void) rtnl_link_delete(rtnl_fd, ifname);
        return r;
}

int netns_loopback_up(int netns_fd) {
        _cleanup_close_ int fd = -EBADF;
        LinkInfo li;
        int r;

        r = rtnl_open_in_netns(netns_fd, 0, &fd);
        if (r < 0)
                return r;
        r = rtnl_link_get(fd, "lo", &li);
        if (r < 0)
                return r;
        return rtnl_link_set_up(fd, li.ifindex);
}
