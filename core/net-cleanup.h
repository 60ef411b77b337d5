/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a supervisor created on the host for its container's network, and how to remove it
 * when the container ends - also from the cleanup guard after kill -9 of the supervisor.
 * libc only (light library). Never logs. */

#include <net/if.h>
#include <stdbool.h>

/* The box's chains in the project's nft table (see nft.h): their names are derived from the
 * machine name so that whoever outlives the box can find and delete them. */
typedef enum BoxChain {
        BOX_CHAIN_PREROUTING,  /* dnat, traffic arriving from outside and from other boxes */
        BOX_CHAIN_OUTPUT,      /* dnat, traffic the host itself sends (127.0.0.1, ::1) */
        BOX_CHAIN_POSTROUTING, /* snat for the loopback and hairpin cases */
        BOX_CHAIN_GUARD,       /* filter: what route_localnet must never let in */
        BOX_CHAIN_LOOPBACK6,   /* netdev ingress of the box's link: answers to ::1 (nft.c) */
        _BOX_CHAIN_MAX,
} BoxChain;

#define NFT_TABLE_NAME_MAX 64
#define DEFAULT_NFT_TABLE "nspawnctl"

/* "box-NAME-pre" and so on; NULL on allocation failure. */
char *box_chain_name(const char *machine, BoxChain c);
/* The family of a box chain: NFPROTO_INET, or NFPROTO_NETDEV for BOX_CHAIN_LOOPBACK6. */
int box_chain_family(BoxChain c);
/* Deletes the box's chains (and so its rules) in the tables called TABLE; fd is NETLINK_NETFILTER.
 * Returns the first error, 0 when they are gone or never existed. */
int box_chains_delete(int fd, const char *table, const char *machine);
/* A kernel interface name: 1..15 bytes of printable ASCII, no '/', ':' or space, not "."
 * or "..". */
bool ifname_is_valid(const char *s);
/* Zone names: [A-Za-z0-9_-], at most 12 bytes, so that "vz-ZONE" is a valid ifname. */
bool zone_name_is_valid(const char *zone);
/* A table name we create and own: [A-Za-z0-9_-], starting with a letter, at most 63 bytes. */
bool nft_table_name_is_valid(const char *s);

typedef struct NetworkCleanup {
        char link[IFNAMSIZ];                /* host side of the container's veth; "" when none */
        char zone_bridge[IFNAMSIZ];         /* a zone's bridge, removed once no port is left; "" */
        char nft_table[NFT_TABLE_NAME_MAX]; /* the table with the box's chains; "" when none */
} NetworkCleanup;

/* Deletes the box's chains, the veth and an empty zone bridge. lock_path (may be NULL) is
 * the file every creator and remover of zone bridges locks, so that a bridge is never
 * removed under a container that is about to join it. rebooting: the same supervisor boots
 * the container again at once: the forwards and the zone stay, the link goes. Returns the
 * first error; tries everything anyway. */
int network_cleanup_run(const NetworkCleanup *nc, const char *machine, const char *lock_path,
                        bool rebooting);
/* 1 when the bridge has no port, 0 when it has, -ENOENT when it does not exist. */
int bridge_is_empty(const char *name);
/* Path of the lock file under state_dir ("STATEDIR/network/lock"). */
char *network_lock_path(const char *state_dir);
/* Takes the lock at path (creating STATEDIR/network) and returns the locked fd. */
int network_lock_take(const char *path, int *ret_fd);
