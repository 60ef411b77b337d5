/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The capabilities a container keeps in its bounding set: nspawn's default set, minus
 * CAP_MKNOD (devices are what /dev gives it), CAP_AUDIT_CONTROL, and CAP_SYS_PTRACE:
 * with it, container root could open /proc/PID/exe of the host processes that enter the
 * container (the --as-pid2 init, a shell being set up) even though they are
 * non-dumpable - the runc CVE-2019-5736 route. CAP_NET_ADMIN only with a private
 * network. */
uint64_t caps_container_keep(bool private_network);
/* Drops every capability not in keep from the bounding set (libcap), and from the
 * inheritable and ambient sets. */
int caps_drop_bounding(uint64_t keep);
/* Raises the capabilities in ambient into the ambient set (and inheritable), so that they
 * survive exec (AmbientCapability=); each must be in the permitted and bounding sets. */
int caps_raise_ambient(uint64_t ambient);
