/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Raw netlink with libc alone: a message builder, request/acknowledge and dump loops, and
 * the few deletions the supervisor and its cleanup guard need after the container ended
 * (a link by name, the chains a box owns in the project's nft table). Part of the light
 * library, so the static nspawnctl-supervise can clean up too. Never logs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#define NL_BUFFER_SIZE 8192

/* One buffer that holds one or more netlink messages (several for an nftables batch). */
typedef struct NlMsg {
        union {
                struct nlmsghdr align;
                uint8_t data[NL_BUFFER_SIZE];
        } buf;
        size_t len;     /* bytes used by all messages */
        size_t current; /* offset of the message being built */
        size_t nest[8]; /* offsets of the open nested attributes */
        unsigned n_nest;
        uint32_t seq; /* sequence number of the first message */
        unsigned n_msgs;
        unsigned n_acks; /* messages that asked for an acknowledgement */
        bool overflow;   /* something did not fit: the request is refused when sent */
} NlMsg;

/* Starts a new message in m (m->len = 0 resets it) with a family header of header_len
 * bytes copied from header. NLM_F_REQUEST is always set; pass NLM_F_ACK for every message
 * nl_request() should wait for (all but the begin and end of an nftables batch). */
void nl_msg_begin(NlMsg *m, uint16_t type, uint16_t flags, const void *header, size_t header_len);
void nl_msg_put(NlMsg *m, uint16_t type, const void *data, size_t len);
/* Raw bytes (padded to alignment), e.g. the ifinfomsg that starts a veth peer's attributes. */
void nl_msg_put_raw(NlMsg *m, const void *data, size_t len);
void nl_msg_put_string(NlMsg *m, uint16_t type, const char *s);
void nl_msg_put_u8(NlMsg *m, uint16_t type, uint8_t v);
void nl_msg_put_u32(NlMsg *m, uint16_t type, uint32_t v);
void nl_msg_put_be32(NlMsg *m, uint16_t type, uint32_t v);
void nl_msg_nest_begin(NlMsg *m, uint16_t type);
void nl_msg_nest_end(NlMsg *m);

/* A NETLINK_ROUTE or NETLINK_NETFILTER socket, O_CLOEXEC. */
int nl_open(int protocol, int *ret_fd);
/* The same, subscribed to the multicast groups (RTMGRP_*), non-blocking. */
int nl_open_groups(int protocol, uint32_t groups, int *ret_fd);
/* Sends the messages of m and waits for the answer to each that has NLM_F_ACK. Returns 0 or
 * the first negative errno the kernel answered. */
int nl_request(int fd, NlMsg *m);
/* Sends the one (dump) request in m and calls cb for each answer until NLMSG_DONE. A
 * negative return of cb stops the dump (the rest is still read) and is returned. */
typedef int (*NlDumpCallback)(const struct nlmsghdr *h, void *userdata);
int nl_dump(int fd, NlMsg *m, NlDumpCallback cb, void *userdata);
/* nl_request() that also hands the answers before the acknowledgement to cb (a GET). */
int nl_call(int fd, NlMsg *m, NlDumpCallback cb, void *userdata);

/* Attributes (rtattr and nlattr share their layout): tb[type] points to the attribute's
 * header, or is NULL; types above max are skipped. */
typedef struct nlattr NlAttr;
void nl_attr_parse(const void *data, size_t len, const NlAttr **tb, uint16_t max);
static inline const void *nl_attr_data(const NlAttr *a) {
        return (const uint8_t *) a + NLA_HDRLEN;
}
static inline size_t nl_attr_len(const NlAttr *a) {
        return a->nla_len - NLA_HDRLEN;
}
/* A NUL-terminated string attribute, or NULL if it is not one. */
const char *nl_attr_string(const NlAttr *a);

/* Deletes the link called name in the namespace of fd (NETLINK_ROUTE). 0 also when there
 * is none. */
int rtnl_link_delete(int fd, const char *name);

/* Deletes the chain of family (NFPROTO_INET, NFPROTO_NETDEV...) in table, with its rules.
 * 0 also when the chain or the table does not exist. fd is NETLINK_NETFILTER. */
int nft_chain_delete(int fd, int family, const char *table, const char *chain);
int nft_table_delete(int fd, int family, const char *table);
