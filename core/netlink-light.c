/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include "macro.h"
#include "netlink-light.h"

static struct nlmsghdr *current_hdr(NlMsg *m) {
        return (struct nlmsghdr *) (m->buf.data + m->current);
}

static void *reserve(NlMsg *m, size_t len) {
        size_t aligned = NLMSG_ALIGN(len);
        void *p;

        if (m->overflow || m->len + aligned > sizeof m->buf.data) {
                m->overflow = true;
                return NULL;
        }
        p = m->buf.data + m->len;
        memset(p, 0, aligned);
        m->len += aligned;
        current_hdr(m)->nlmsg_len = m->len - m->current;
        return p;
}

void nl_msg_begin(NlMsg *m, uint16_t type, uint16_t flags, const void *header, size_t header_len) {
        struct nlmsghdr *h;
        void *p;

        if (m->len == 0) {
                m->overflow = false;
                m->n_msgs = 0;
                m->n_acks = 0;
                m->seq = (uint32_t) time(NULL) ^ ((uint32_t) getpid() << 16);
        }
        m->n_nest = 0;
        if (m->overflow || m->len + NLMSG_HDRLEN > sizeof m->buf.data) {
                m->overflow = true;
                return;
        }
        m->current = m->len;
        h = (struct nlmsghdr *) (m->buf.data + m->len);
        memset(h, 0, NLMSG_HDRLEN);
        m->len += NLMSG_HDRLEN;
        h->nlmsg_len = NLMSG_HDRLEN;
        h->nlmsg_type = type;
        h->nlmsg_flags = NLM_F_REQUEST | flags;
        h->nlmsg_seq = m->seq + m->n_msgs++;
        if (flags & NLM_F_ACK)
                m->n_acks++;
        if (header_len > 0) {
                p = reserve(m, header_len);
                if (p)
                        memcpy(p, header, header_len);
        }
}

void nl_msg_put(NlMsg *m, uint16_t type, const void *data, size_t len) {
        struct nlattr *a = reserve(m, NLA_HDRLEN + len);

        if (!a)
                return;
        a->nla_type = type;
        a->nla_len = NLA_HDRLEN + len;
        if (len > 0)
                memcpy((uint8_t *) a + NLA_HDRLEN, data, len);
}

void nl_msg_put_raw(NlMsg *m, const void *data, size_t len) {
        void *p = reserve(m, len);
        if (p)
                memcpy(p, data, len);
}

void nl_msg_put_string(NlMsg *m, uint16_t type, const char *s) {
        nl_msg_put(m, type, s, strlen(s) + 1);
}

void nl_msg_put_u8(NlMsg *m, uint16_t type, uint8_t v) {
        nl_msg_put(m, type, &v, sizeof v);
}

void nl_msg_put_u32(NlMsg *m, uint16_t type, uint32_t v) {
        nl_msg_put(m, type, &v, sizeof v);
}

void nl_msg_put_be32(NlMsg *m, uint16_t type, uint32_t v) {
        v = __builtin_bswap32(v);
        nl_msg_put(m, type, &v, sizeof v);
}

void nl_msg_nest_begin(NlMsg *m, uint16_t type) {
        size_t off = m->len;
        struct nlattr *a;

        if (m->n_nest >= ELEMENTSOF(m->nest)) {
                m->overflow = true;
                return;
        }
        a = reserve(m, NLA_HDRLEN);
        if (!a)
                return;
        a->nla_type = type | NLA_F_NESTED;
        m->nest[m->n_nest++] = off;
}

void nl_msg_nest_end(NlMsg *m) {
        struct nlattr *a;

        if (m->overflow || m->n_nest == 0)
                return;
        a = (struct nlattr *) (m->buf.data + m->nest[--m->n_nest]);
        a->nla_len = m->len - m->nest[m->n_nest];
}

int nl_open_groups(int protocol, uint32_t groups, int *ret_fd) {
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
        int fd, one = 1;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0), protocol);
        if (fd < 0)
                return -errno;
        /* Errors come back as the short header only; extended ACKs are of no use to us. */
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int nl_open(int protocol, int *ret_fd) {
        return nl_open_groups(protocol, 0, ret_fd);
}

static int nl_send(int fd, NlMsg *m) {
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
        ssize_t n;

        if (m->overflow)
                return -ENOBUFS;
        n = sendto(fd, m->buf.data, m->len, 0, (struct sockaddr *) &sa, sizeof sa);
        if (n < 0)
                return -errno;
        return n == (ssize_t) m->len ? 0 : -EIO;
}

/* Reads answers until every message of m was answered (acks) or NLMSG_DONE (dump). */
static int nl_receive(int fd, NlMsg *m, bool dump, NlDumpCallback cb, void *userdata) {
        union {
                struct nlmsghdr align;
                uint8_t data[32768];
        } buf;
        unsigned answered = 0;
        int first_error = 0;

        for (;;) {
                ssize_t n = recv(fd, buf.data, sizeof buf.data, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (struct nlmsghdr *h = &buf.align; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        if (h->nlmsg_seq < m->seq || h->nlmsg_seq >= m->seq + m->n_msgs)
                                continue; /* not ours (e.g. a late answer to someone else) */
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);
                                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
                                        return -EIO;
                                if (e->error < 0 && first_error == 0)
                                        first_error = e->error;
                                if (dump)
                                        return first_error;
                                if (++answered >= m->n_acks)
                                        return first_error;
                                continue;
                        }
                        if (h->nlmsg_type == NLMSG_DONE)
                                return first_error;
                        if (cb && first_error == 0) {
                                int r = cb(h, userdata);
                                if (r < 0)
                                        first_error = r;
                        }
                }
        }
}

int nl_call(int fd, NlMsg *m, NlDumpCallback cb, void *userdata) {
        int r;

        if (m->n_acks == 0)
                return -EINVAL; /* we could never tell when the kernel is done */
        r = nl_send(fd, m);
        if (r < 0)
                return r;
        return nl_receive(fd, m, false, cb, userdata);
}

int nl_request(int fd, NlMsg *m) {
        return nl_call(fd, m, NULL, NULL);
}

int nl_dump(int fd, NlMsg *m, NlDumpCallback cb, void *userdata) {
        int r;

        current_hdr(m)->nlmsg_flags |= NLM_F_DUMP;
        r = nl_send(fd, m);
        if (r < 0)
                return r;
        return nl_receive(fd, m, true, cb, userdata);
}

void nl_attr_parse(const void *data, size_t len, const NlAttr **tb, uint16_t max) {
        const uint8_t *p = data;

        memset(tb, 0, sizeof(*tb) * (max + 1));
        while (len >= NLA_HDRLEN) {
                const NlAttr *a = (const NlAttr *) p;
                uint16_t type = a->nla_type & NLA_TYPE_MASK;
                size_t step;

                if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
                        break;
                if (type <= max)
                        tb[type] = a;
                step = NLA_ALIGN(a->nla_len);
                if (step >= len)
                        break;
                p += step;
                len -= step;
        }
}

const char *nl_attr_string(const NlAttr *a) {
        size_t n;

        if (!a)
                return NULL;
        n = nl_attr_len(a);
        if (n == 0 || ((const char *) nl_attr_data(a))[n - 1] != 0)
                return NULL;
        return nl_attr_data(a);
}

int rtnl_link_delete(int fd, const char *name) {
        struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
        NlMsg m = {};
        int r;

        nl_msg_begin(&m, RTM_DELLINK, NLM_F_ACK, &ifi, sizeof ifi);
        nl_msg_put_string(&m, IFLA_IFNAME, name);
        r = nl_request(fd, &m);
        return r == -ENODEV ? 0 : r;
}

/* nftables changes only ever happen in a batch. */
static void nft_batch_begin(NlMsg *m) {
        struct nfgenmsg g = {.nfgen_family = AF_UNSPEC,
                .version = NFNETLINK_V0,
                .res_id = __builtin_bswap16(NFNL_SUBSYS_NFTABLES)};
        m->len = 0;
        nl_msg_begin(m, NFNL_MSG_BATCH_BEGIN, 0, &g, sizeof g);
}

static void nft_batch_end(NlMsg *m) {
        struct nfgenmsg g = {.nfgen_family = AF_UNSPEC,
                .version = NFNETLINK_V0,
                .res_id = __builtin_bswap16(NFNL_SUBSYS_NFTABLES)};
        nl_msg_begin(m, NFNL_MSG_BATCH_END, 0, &g, sizeof g);
}

static int nft_delete(int fd, int family, int type, const char *table, const char *chain) {
        struct nfgenmsg g = {.nfgen_family = (uint8_t) family, .version = NFNETLINK_V0};
        NlMsg m;
        int r;

        nft_batch_begin(&m);
        nl_msg_begin(&m, (NFNL_SUBSYS_NFTABLES << 8) | type, NLM_F_ACK, &g, sizeof g);
        if (chain) {
                nl_msg_put_string(&m, NFTA_CHAIN_TABLE, table);
                nl_msg_put_string(&m, NFTA_CHAIN_NAME, chain);
        } else
                nl_msg_put_string(&m, NFTA_TABLE_NAME, table);
        nft_batch_end(&m);
        r = nl_request(fd, &m);
        return r == -ENOENT ? 0 : r;
}

int nft_chain_delete(int fd, int family, const char *table, const char *chain) {
        return nft_delete(fd, family, NFT_MSG_DELCHAIN, table, chain);
}

int nft_table_delete(int fd, int family, const char *table) {
        return nft_delete(fd, family, NFT_MSG_DELTABLE, table, NULL);
}
