/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netlink-light.h"
#include "netlink.h"
#include "util/util.h"

static bool family_is_ip(int family) {
        return family == AF_INET || family == AF_INET6;
}

static int parse_link(const struct nlmsghdr *h, void *userdata) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        const NlAttr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
        LinkInfo *info = userdata;
        const char *s;

        if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof *ifi))
                return 0;
        *info = (LinkInfo){.ifindex = ifi->ifi_index, .flags = ifi->ifi_flags};
        nl_attr_parse((const uint8_t *) ifi + NLMSG_ALIGN(sizeof *ifi),
                h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *ifi)), tb, IFLA_MAX);
        if ((s = nl_attr_string(tb[IFLA_IFNAME])))
                snprintf(info->name, sizeof info->name, "%s", s);
        if (tb[IFLA_MASTER] && nl_attr_len(tb[IFLA_MASTER]) == 4)
                memcpy(&info->master, nl_attr_data(tb[IFLA_MASTER]), 4);
        if (tb[IFLA_ADDRESS] && nl_attr_len(tb[IFLA_ADDRESS]) == sizeof info->mac.bytes)
                memcpy(info->mac.bytes, nl_attr_data(tb[IFLA_ADDRESS]), sizeof info->mac.bytes);
        if (tb[IFLA_LINKINFO]) {
                nl_attr_parse(
                        nl_attr_data(tb[IFLA_LINKINFO]), nl_attr_len(tb[IFLA_LINKINFO]), li, IFLA_INFO_MAX);
                if ((s = nl_attr_string(li[IFLA_INFO_KIND])))
                        snprintf(info->kind, sizeof info->kind, "%s", s);
        }
        return 0;
}

int rtnl_link_get(int fd, const char *name, LinkInfo *ret) {
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
        LinkInfo info = {};
        NlMsg m = {};
        int r;

        if (isempty(name) || strlen(name) >= IFNAMSIZ)
                return -EINVAL;
        nl_msg_begin(&m, RTM_GETLINK, NLM_F_ACK, &ifi, sizeof ifi);
        nl_msg_put_string(&m, IFLA_IFNAME, name);
        r = nl_call(fd, &m, parse_link, &info);
        if (r < 0)
                return r;
        if (info.ifindex <= 0)
                return -ENODEV;
        *ret = info;
        return 0;
}

/* Begins the creation of a new link name of kind, with mac unless NULL; leaves the
 * IFLA_LINKINFO nest open for the kind's data. */
static void link_new_begin(NlMsg *m, const char *name, const EtherAddr *mac, const char *kind) {
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};

        nl_msg_begin(m, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
        nl_msg_put_string(m, IFLA_IFNAME, name);
        if (mac)
                nl_msg_put(m, IFLA_ADDRESS, mac->bytes, sizeof mac->bytes);
        nl_msg_nest_begin(m, IFLA_LINKINFO);
        nl_msg_put_string(m, IFLA_INFO_KIND, kind);
}

int rtnl_veth_create(int fd, const char *name, const EtherAddr *mac, const char *peer,
        const EtherAddr *peer_mac, int peer_netns_fd) {
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
        NlMsg m = {};

        link_new_begin(&m, name, mac, "veth");
        nl_msg_nest_begin(&m, IFLA_INFO_DATA);
        nl_msg_nest_begin(&m, VETH_INFO_PEER);
        /* The peer's attributes follow an ifinfomsg of their own. */
        nl_msg_put_raw(&m, &ifi, sizeof ifi);
        nl_msg_put_string(&m, IFLA_IFNAME, peer);
        if (peer_mac)
                nl_msg_put(&m, IFLA_ADDRESS, peer_mac->bytes, sizeof peer_mac->bytes);
        if (peer_netns_fd >= 0)
                nl_msg_put_u32(&m, IFLA_NET_NS_FD, (uint32_t) peer_netns_fd);
        nl_msg_nest_end(&m);
        nl_msg_nest_end(&m);
        nl_msg_nest_end(&m);
        return nl_request(fd, &m);
}

int rtnl_bridge_create(int fd, const char *name, const EtherAddr *mac) {
        NlMsg m = {};

        link_new_begin(&m, name, mac, "bridge");
        nl_msg_nest_end(&m);
        return nl_request(fd, &m);
}

static int link_set(int fd, int ifindex, unsigned flags, unsigned change, int master) {
        struct ifinfomsg ifi = {
                .ifi_family = AF_UNSPEC, .ifi_index = ifindex, .ifi_flags = flags, .ifi_change = change};
        NlMsg m = {};

        nl_msg_begin(&m, RTM_NEWLINK, NLM_F_ACK, &ifi, sizeof ifi);
        if (master >= 0)
                nl_msg_put_u32(&m, IFLA_MASTER, (uint32_t) master);
        return nl_request(fd, &m);
}

int rtnl_link_set_up(int fd, int ifindex) {
        return link_set(fd, ifindex, IFF_UP, IFF_UP, -1);
}

int rtnl_link_set_master(int fd, int ifindex, int master_ifindex) {
        return link_set(fd, ifindex, 0, 0, master_ifindex);
}

static int addr_change(int fd, int type, int ifindex, const InAddrPrefix *p, bool nodad) {
        struct ifaddrmsg ifa = {.ifa_family = (uint8_t) p->family,
                .ifa_prefixlen = p->prefixlen,
                .ifa_index = (uint32_t) ifindex,
                .ifa_scope = RT_SCOPE_UNIVERSE};
        size_t size = in_addr_size(p->family);
        NlMsg m = {};

        nl_msg_begin(&m, type, NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0), &ifa,
                sizeof ifa);
        nl_msg_put(&m, IFA_LOCAL, p->addr.bytes, size);
        nl_msg_put(&m, IFA_ADDRESS, p->addr.bytes, size);
        if (nodad)
                nl_msg_put_u32(&m, IFA_FLAGS, IFA_F_NODAD);
        return nl_request(fd, &m);
}

int rtnl_addr_add(int fd, int ifindex, const InAddrPrefix *p, bool nodad) {
        int r = addr_change(fd, RTM_NEWADDR, ifindex, p, nodad);
        return r == -EEXIST ? 0 : r;
}

int rtnl_addr_del(int fd, int ifindex, const InAddrPrefix *p) {
        int r = addr_change(fd, RTM_DELADDR, ifindex, p, false);
        return r == -EADDRNOTAVAIL ? 0 : r;
}

typedef struct ListContext {
        void *items;
        size_t n, allocated, item_size;
        int ifindex;
} ListContext;

static void *list_push(ListContext *c) {
        if (c->n >= c->allocated) {
                size_t k = c->allocated ? c->allocated * 2 : 16;
                void *p = reallocarray(c->items, k, c->item_size);
                if (!p)
                        return NULL;
                c->items = p;
                c->allocated = k;
        }
        return memset((uint8_t *) c->items + c->n++ * c->item_size, 0, c->item_size);
}

/* Dumps with the request type and family header, parse adding the answers to c's list (freed
 * on failure). */
static int dump_list(int fd, uint16_t type, const void *header, size_t header_len, NlDumpCallback parse,
                     ListContext *c) {
        NlMsg m = {};
        int r;

        nl_msg_begin(&m, type, 0, header, header_len);
        r = nl_dump(fd, &m, parse, c);
        if (r < 0)
                c->items = mfree(c->items);
        return r;
}

static int parse_addr(const struct nlmsghdr *h, void *userdata) {
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        const NlAttr *tb[IFA_MAX + 1], *a;
        ListContext *c = userdata;
        AddrEntry *e;

        if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof *ifa))
                return 0;
        if (!family_is_ip(ifa->ifa_family) || (c->ifindex > 0 && (int) ifa->ifa_index != c->ifindex))
                return 0;
        nl_attr_parse((const uint8_t *) ifa + NLMSG_ALIGN(sizeof *ifa),
                h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *ifa)), tb, IFA_MAX);
        /* IFA_LOCAL is the address on point-to-point links, IFA_ADDRESS the peer's. */
        a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
        if (!a || nl_attr_len(a) != in_addr_size(ifa->ifa_family))
                return 0;
        e = list_push(c);
        if (!e)
                return -ENOMEM;
        e->ifindex = (int) ifa->ifa_index;
        e->scope = ifa->ifa_scope;
        e->prefix.family = ifa->ifa_family;
        e->prefix.prefixlen = ifa->ifa_prefixlen;
        memcpy(e->prefix.addr.bytes, nl_attr_data(a), nl_attr_len(a));
        return 0;
}

int rtnl_addr_list(int fd, int family, int ifindex, AddrEntry **ret, size_t *ret_n) {
        struct ifaddrmsg ifa = {.ifa_family = (uint8_t) family};
        ListContext c = {.item_size = sizeof(AddrEntry), .ifindex = ifindex};
        int r;

        r = dump_list(fd, RTM_GETADDR, &ifa, sizeof ifa, parse_addr, &c);
        if (r < 0)
                return r;
        *ret = c.items;
        *ret_n = c.n;
        return 0;
}

static int parse_route(const struct nlmsghdr *h, void *userdata) {
        const struct rtmsg *rtm = NLMSG_DATA(h);
        const NlAttr *tb[RTA_MAX + 1];
        ListContext *c = userdata;
        RouteEntry *e;

        if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof *rtm))
                return 0;
        if (!family_is_ip(rtm->rtm_family))
                return 0;
        nl_attr_parse((const uint8_t *) rtm + NLMSG_ALIGN(sizeof *rtm),
                h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *rtm)), tb, RTA_MAX);
        e = list_push(c);
        if (!e)
                return -ENOMEM;
        e->type = rtm->rtm_type;
        e->table = rtm->rtm_table;
        if (tb[RTA_TABLE] && nl_attr_len(tb[RTA_TABLE]) == 4)
                memcpy(&e->table, nl_attr_data(tb[RTA_TABLE]), 4);
        if (tb[RTA_OIF] && nl_attr_len(tb[RTA_OIF]) == 4)
                memcpy(&e->oif, nl_attr_data(tb[RTA_OIF]), 4);
        e->dst.family = rtm->rtm_family;
        e->dst.prefixlen = rtm->rtm_dst_len;
        if (tb[RTA_DST] && nl_attr_len(tb[RTA_DST]) == in_addr_size(rtm->rtm_family))
                memcpy(e->dst.addr.bytes, nl_attr_data(tb[RTA_DST]), nl_attr_len(tb[RTA_DST]));
        return 0;
}

int rtnl_route_list(int fd, int family, RouteEntry **ret, size_t *ret_n) {
        struct rtmsg rtm = {.rtm_family = (uint8_t) family};
        ListContext c = {.item_size = sizeof(RouteEntry)};
        int r;

        r = dump_list(fd, RTM_GETROUTE, &rtm, sizeof rtm, parse_route, &c);
        if (r < 0)
                return r;
        *ret = c.items;
        *ret_n = c.n;
        return 0;
}

int netns_open_pid(pid_t pid, int *ret_fd) {
        char p[64];
        int fd;

        snprintf(p, sizeof p, "/proc/%d/ns/net", (int) pid);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int rtnl_open_in_netns(int netns_fd, uint32_t groups, int *ret_fd) {
        _cleanup_close_ int self = -EBADF;
        int fd = -EBADF, r;

        /* A socket belongs to the network namespace it was made in, whatever its user does
         * later: so this thread steps into netns_fd for the socket() alone, and back. The
         * network namespace is a thread's own (setns() of one needs no single-threaded
         * process), and no fork is needed, which for a process with our libraries costs
         * milliseconds of page-table copying on the path of every start. */
        self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return -errno;
        r = nl_open_groups(NETLINK_ROUTE, groups, &fd);
        if (setns(self, CLONE_NEWNET) < 0)
                /* Left in the container's network namespace, every later netlink or nft
                 * call would act on it: that must not go on. With our own namespace's fd
                 * and CAP_SYS_ADMIN this cannot fail. */
                abort();
        if (r < 0)
                return r;
        *ret_fd = fd;
        return 0;
}
