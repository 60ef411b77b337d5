/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "net-bridge.h"
#include "net-veth.h"
#include "netlink-light.h"
#include "netlink.h"
#include "util/util.h"

int bridge_lookup(int rtnl_fd, const char *name, int *ret_ifindex) {
        LinkInfo li;
        int r;

        r = rtnl_link_get(rtnl_fd, name, &li);
        if (r < 0)
                return r;
        if (!streq(li.kind, "bridge"))
                return -EMEDIUMTYPE;
        *ret_ifindex = li.ifindex;
        return 0;
}

int bridge_ensure(int rtnl_fd, const char *name, int *ret_ifindex, bool *ret_created) {
        bool created = false;
        EtherAddr mac;
        int r, ifindex;

        r = bridge_lookup(rtnl_fd, name, &ifindex);
        if (r == -ENODEV) {
                mac_derive(name, "bridge", &mac);
                r = rtnl_bridge_create(rtnl_fd, name, &mac);
                if (r == -EEXIST) /* somebody else was quicker: fine if it is a bridge */
                        return bridge_ensure(rtnl_fd, name, ret_ifindex, ret_created);
                if (r < 0)
                        return r;
                created = true;
                r = bridge_lookup(rtnl_fd, name, &ifindex);
        }
        if (r >= 0)
                r = rtnl_link_set_up(rtnl_fd, ifindex);
        if (r < 0) {
                if (created)
                        (void) rtnl_link_delete(rtnl_fd, name);
                return r;
        }
        *ret_ifindex = ifindex;
        if (ret_created)
                *ret_created = created;
        return 0;
}
