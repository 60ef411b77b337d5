/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* /etc/resolv.conf of a container: systemd-nspawn's --resolv-conf= modes, mapped to hosts
 * without systemd-resolved. The plan is made by the supervisor before the container exists
 * (sources are read on the host, bounded); the container's setup child applies it to the tree
 * before pivot_root. */

#include <errno.h>
#include <stdbool.h>

#include "error.h"
#include "resolv-conf-mode.h"

typedef enum ResolvConfAction {
        RESOLV_ACTION_NONE,
        RESOLV_ACTION_COPY,    /* write the content, unless the file is there and not a regular file */
        RESOLV_ACTION_REPLACE, /* write the content, replacing whatever is there */
        RESOLV_ACTION_BIND,    /* bind source read-only over the file */
        RESOLV_ACTION_DELETE,
} ResolvConfAction;

typedef struct ResolvConfPlan {
        ResolvConfAction action;
        char *source;  /* the host file */
        char *content; /* its content, for copy and replace */
        /* A tree whose /etc/resolv.conf is a symlink into /run (systemd-resolved's stub) gets
         * the file written there instead, in its own fresh /run: set when the resolver the
         * link means cannot run (host network, resolved masked). */
        bool follow_run_symlink;
        /* auto on a read-only tree: bind instead of copy. */
        bool bind_if_read_only;
} ResolvConfPlan;

void resolv_conf_plan_done(ResolvConfPlan *p);

typedef struct ResolvConfPaths {
        const char *host;   /* /etc/resolv.conf */
        const char *stat;   /* /usr/lib/systemd/resolv.conf */
        const char *uplink; /* /run/systemd/resolve/resolv.conf */
        const char *stub;   /* /run/systemd/resolve/stub-resolv.conf */
        /* The local resolver meant for the box, when there is one: the managed network's
         * dnsmasq. It is what "stub" means for the box, and what auto gives a private one. */
        const char *managed;
} ResolvConfPaths;

void resolv_conf_paths_default(ResolvConfPaths *ret, const char *managed);

/* Decides what mode means for a container with (private_network) or without its own network
 * namespace. Refuses with a one-line reason what cannot work here (a source that does not
 * exist on this host, copy or replace on a read-only tree). */
int resolv_conf_plan(ResolvConfMode mode, bool private_network, bool read_only, const ResolvConfPaths *paths,
        ResolvConfPlan *ret, Error *e);

/* Whether a resolv.conf names only loopback servers (a local resolver: no uplink list). */
bool resolv_conf_is_local_only(const char *content);

/* Where /etc/resolv.conf's symlink text link points, normalized as an absolute path in the
 * tree: only a path below /run/SOMETHING/ is returned (-EPERM otherwise). */
int resolv_conf_run_target(const char *link, char ret[static 4096]);

/* In the container's setup child, before pivot_root, with /run mounted: applies the plan to
 * the tree at root_fd. Never follows the tree's symlinks out of the tree. */
int resolv_conf_apply(int root_fd, const ResolvConfPlan *p, bool read_only);
