/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The capabilities a container keeps in its bounding set: nspawn's default set, minus
 * CAP_MKNOD (devices are what /dev gives it) and CAP_AUDIT_CONTROL; CAP_NET_ADMIN only
 * with a private network. */
uint64_t caps_container_keep(bool private_network);
/* Drops every capability not in keep from the bounding set (libcap), and from the
 * inheritable and ambient sets. */
int caps_drop_bounding(uint64_t keep);
