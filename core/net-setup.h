/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A container's network as the runtime (nspawnctl run) sets it up: the host's namespace, a
 * private one with lo only, or a veth to host0 - plain (ve-NAME), a port of a bridge
 * (vb-NAME), or of a zone's bridge vz-ZONE made on demand - plus port forwards that follow
 * the container's addresses. The supervisor calls network_setup() between clone and the
 * container's first instruction; network_cleanup_run() (net-cleanup.h, libc only) removes
 * it all when the container ends, from the supervisor or from its cleanup guard. */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "in-addr.h"
#include "net-cleanup.h"
#include "net-port.h"

typedef enum NetworkMode {
        NETWORK_HOST,    /* the host's namespace */
        NETWORK_PRIVATE, /* own namespace, lo only */
        NETWORK_VETH,    /* ve-NAME <-> host0 */
        NETWORK_BRIDGE,  /* vb-NAME, a port of an existing bridge */
        NETWORK_ZONE,    /* vb-NAME, a port of vz-ZONE */
        _NETWORK_MODE_MAX,
        _NETWORK_MODE_INVALID = -EINVAL,
} NetworkMode;

const char *network_mode_to_string(NetworkMode m);

typedef struct NetworkConfig {
        NetworkMode mode;
        char bridge[IFNAMSIZ]; /* NETWORK_BRIDGE: the bridge; NETWORK_ZONE: vz-ZONE */
        const PortForward *ports; /* not owned: the Settings' */
        size_t n_ports;
        char nft_table[NFT_TABLE_NAME_MAX]; /* where the forwards go; "" = nspawnctl */
        /* The managed network's source address for forwarded connections from ::1: the box's
         * link gets the chain that lets their answers back to ::1 (nft.c). */
        bool have_loopback6;
        union in_addr_union loopback6;
} NetworkConfig;

static inline bool network_config_is_private(const NetworkConfig *c) {
        return c->mode != NETWORK_HOST;
}
/* What network_cleanup_run() must remove for this configuration. */
void network_config_cleanup(const NetworkConfig *c, const char *machine, NetworkCleanup *ret);

typedef struct NetworkRuntime NetworkRuntime;

/* Sets up the container's side for the container whose PID 1 is pid (not running yet).
 * state_dir holds the network lock. On failure nothing stays and e (one line) says
 * why. *ret is NULL unless the forwards have to follow the container's addresses. */
int network_setup(const NetworkConfig *c, const char *machine, const char *state_dir, pid_t pid,
        NetworkRuntime **ret, Error *e);
/* The fd to poll while the container runs (readable when its addresses change). */
int network_runtime_fd(NetworkRuntime *rt);
/* Points the forwards at the container's current addresses. */
int network_runtime_update(NetworkRuntime *rt);
NetworkRuntime *network_runtime_free(NetworkRuntime *rt);
