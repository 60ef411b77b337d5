/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netlink-light.h"
#include "netlink.h"
#include "netns-addr.h"
#include "util/util.h"

/* The most addresses reported: a guest could add thousands. */
#define NETNS_ADDRESSES_MAX 256U

typedef struct AddrList {
        NetnsAddress *l;
        size_t n;
} AddrList;

int netns_addr_from_msg(const struct nlmsghdr *h, NetnsAddress *ret) {
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        const NlAttr *tb[IFA_MAX + 1], *a;
        uint32_t flags;
        size_t alen;

        if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof *ifa))
                return 0;
        if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
                return 0;
        if (ifa->ifa_scope == RT_SCOPE_HOST || ifa->ifa_scope == RT_SCOPE_NOWHERE)
                return 0;
        alen = ifa->ifa_family == AF_INET ? 4 : 16;
        nl_attr_parse((const uint8_t *) ifa + NLMSG_ALIGN(sizeof *ifa),
                      h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *ifa)), tb, IFA_MAX);
        /* IFA_LOCAL is the address of the link itself; IFA_ADDRESS the peer's on point-to-point
         * links, and the same otherwise. */
        a = tb[IFA_LOCAL] && nl_attr_len(tb[IFA_LOCAL]) == alen ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (!a || nl_attr_len(a) != alen)
                return 0;
        flags = ifa->ifa_flags;
        if (tb[IFA_FLAGS] && nl_attr_len(tb[IFA_FLAGS]) == sizeof flags)
                memcpy(&flags, nl_attr_data(tb[IFA_FLAGS]), sizeof flags);
        if (flags & IFA_F_DEPRECATED)
                return 0;
        *ret = (NetnsAddress) { .family = ifa->ifa_family, .ifindex = ifa->ifa_index, .scope = ifa->ifa_scope };
        memcpy(ret->bytes, nl_attr_data(a), alen);
        return 1;
}

static int collect_addr(const struct nlmsghdr *h, void *userdata) {
        AddrList *c = userdata;
        NetnsAddress a, *l;

        if (netns_addr_from_msg(h, &a) <= 0 || c->n >= NETNS_ADDRESSES_MAX)
                return 0;
        l = reallocarray(c->l, c->n + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l[c->n++] = a;
        c->l = l;
        return 0;
}

int netns_list_addresses(int netns_fd, NetnsAddress **ret) {
        struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
        _cleanup_close_ int fd = -EBADF;
        AddrList c = {};
        NlMsg m = {};
        int r;

        assert(ret);
        /* A socket of the machine's namespace, so that the dump is of its addresses. */
        r = rtnl_open_in_netns(netns_fd, 0, &fd);
        if (r < 0)
                return r;
        nl_msg_begin(&m, RTM_GETADDR, 0, &ifa, sizeof ifa);
        r = nl_dump(fd, &m, collect_addr, &c);
        if (r < 0) {
                free(c.l);
                return r;
        }
        /* Global addresses first, each kind in the kernel's order. */
        for (size_t i = 0, k = 0; i < c.n; i++)
                if (c.l[i].scope == RT_SCOPE_UNIVERSE) {
                        NetnsAddress a = c.l[i];
                        memmove(c.l + k + 1, c.l + k, (i - k) * sizeof *c.l);
                        c.l[k++] = a;
                }
        *ret = c.l;
        return (int) c.n;
}

static int read_nsid(const struct nlmsghdr *h, void *userdata) {
        const struct rtgenmsg *g = NLMSG_DATA(h);
        const NlAttr *tb[NETNSA_MAX + 1];

        if (h->nlmsg_type != RTM_NEWNSID || h->nlmsg_len < NLMSG_LENGTH(NLMSG_ALIGN(sizeof *g)))
                return 0;
        nl_attr_parse((const uint8_t *) g + NLMSG_ALIGN(sizeof *g),
                      h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *g)), tb, NETNSA_MAX);
        if (tb[NETNSA_NSID] && nl_attr_len(tb[NETNSA_NSID]) == sizeof(int32_t))
                memcpy(userdata, nl_attr_data(tb[NETNSA_NSID]), sizeof(int32_t));
        return 0;
}

/* The id the caller's namespace has for netns_fd, or -ENOENT if it has none (then no link
 * of ours can point into it). */
static int netns_get_nsid(int fd_nl, int netns_fd, int32_t *ret) {
        struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
        int32_t nsid = -1;
        NlMsg m = {};
        int r;

        nl_msg_begin(&m, RTM_GETNSID, NLM_F_ACK, &g, sizeof g);
        nl_msg_put_u32(&m, NETNSA_FD, (uint32_t) netns_fd);
        r = nl_call(fd_nl, &m, read_nsid, &nsid);
        if (r < 0)
                return r;
        if (nsid < 0)
                return -ENOENT;
        *ret = nsid;
        return 0;
}

typedef struct PeerList {
        int32_t nsid;
        int *l;
        size_t n;
} PeerList;

static int collect_peer(const struct nlmsghdr *h, void *userdata) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        const NlAttr *tb[IFLA_MAX + 1];
        PeerList *c = userdata;
        int32_t id;
        int *l;

        if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof *ifi))
                return 0;
        nl_attr_parse((const uint8_t *) ifi + NLMSG_ALIGN(sizeof *ifi),
                      h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *ifi)), tb, IFLA_MAX);
        if (!tb[IFLA_LINK_NETNSID] || nl_attr_len(tb[IFLA_LINK_NETNSID]) != sizeof id)
                return 0;
        memcpy(&id, nl_attr_data(tb[IFLA_LINK_NETNSID]), sizeof id);
        if (id != c->nsid || c->n >= NETNS_ADDRESSES_MAX)
                return 0;
        l = reallocarray(c->l, c->n + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l[c->n++] = ifi->ifi_index;
        c->l = l;
        return 0;
}

int netns_host_peer_ifindices(int netns_fd, int **ret) {
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        _cleanup_close_ int fd = -EBADF;
        PeerList c = {};
        struct stat a, b;
        NlMsg m = {};
        int r;

        assert(ret);
        *ret = NULL;
        if (fstat(netns_fd, &a) < 0)
                return -errno;
        if (stat("/proc/self/ns/net", &b) < 0)
                return -errno;
        if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                return 0; /* the host's own namespace: no links into it */

        r = nl_open(NETLINK_ROUTE, &fd);
        if (r < 0)
                return r;
        r = netns_get_nsid(fd, netns_fd, &c.nsid);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        nl_msg_begin(&m, RTM_GETLINK, 0, &ifi, sizeof ifi);
        r = nl_dump(fd, &m, collect_peer, &c);
        if (r < 0) {
                free(c.l);
                return r;
        }
        *ret = c.l;
        return (int) c.n;
}
