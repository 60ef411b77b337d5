/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Finds the bridge called name and returns its ifindex. -ENODEV when there is none,
 * -EMEDIUMTYPE when a link of that name exists and is not a bridge. */
int bridge_lookup(int rtnl_fd, const char *name, int *ret_ifindex);
/* The same, creating the bridge (up, with a MAC derived from its name) when missing;
 * *ret_created says whether this call made it. */
int bridge_ensure(int rtnl_fd, const char *name, int *ret_ifindex, bool *ret_created);
