/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>

#include "net-cleanup.h"
#include "netlink-light.h"
#include "util/util.h"

static const char *const box_chain_suffix[_BOX_CHAIN_MAX] = {
        [BOX_CHAIN_PREROUTING] = "-pre",
        [BOX_CHAIN_OUTPUT] = "-out",
        [BOX_CHAIN_POSTROUTING] = "-post",
        [BOX_CHAIN_GUARD] = "-guard",
        [BOX_CHAIN_LOOPBACK6] = "-lo6",
};

int box_chain_family(BoxChain c) {
        return c == BOX_CHAIN_LOOPBACK6 ? NFPROTO_NETDEV : NFPROTO_INET;
}

char *box_chain_name(const char *machine, BoxChain c) {
        if (c < 0 || c >= _BOX_CHAIN_MAX)
                return NULL;
        return strjoin("box-", machine, box_chain_suffix[c]);
}

int box_chains_delete(int fd, const char *table, const char *machine) {
        int r = 0;

        for (int c = 0; c < _BOX_CHAIN_MAX; c++) {
                _cleanup_free_ char *chain = box_chain_name(machine, c);
                int k = chain ? nft_chain_delete(fd, box_chain_family(c), table, chain) : -ENOMEM;
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

bool ifname_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n >= IFNAMSIZ || streq(s, ".") || streq(s, ".."))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || s[i] == '/' || s[i] == ':')
                        return false;
        return true;
}

bool zone_name_is_valid(const char *zone) {
        if (isempty(zone) || strlen(zone) > IFNAMSIZ - 1 - 3)
                return false;
        for (const char *p = zone; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                            *p == '-' || *p == '_'))
                        return false;
        return true;
}

bool nft_table_name_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n >= NFT_TABLE_NAME_MAX)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                            (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

int bridge_is_empty(const char *name) {
        _cleanup_free_ char *path = strjoin("/sys/class/net/", name, "/brif");
        DIR *d;
        int r = 1;

        if (!path)
                return -ENOMEM;
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? -ENOENT : -errno;
        FOREACH_DIRENT(de, d) {
                r = 0;
                break;
        }
        closedir(d);
        return r;
}

char *network_lock_path(const char *state_dir) {
        return strjoin(state_dir, "/network/lock");
}

int network_lock_take(const char *path, int *ret_fd) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;
        int fd;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = 0;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int network_cleanup_run(const NetworkCleanup *nc, const char *machine, const char *lock_path,
                        bool rebooting) {
        int r = 0, k;

        if (!isempty(nc->nft_table)) {
                _cleanup_close_ int fd = -EBADF;
                k = nl_open(NETLINK_NETFILTER, &fd);
                if (k >= 0 && rebooting) {
                        /* The forwards stay for the next boot (machined may own them, and the
                         * box keeps its addresses); only the hook on the old link goes. */
                        _cleanup_free_ char *chain = box_chain_name(machine, BOX_CHAIN_LOOPBACK6);
                        k = chain ? nft_chain_delete(fd, NFPROTO_NETDEV, nc->nft_table, chain) : -ENOMEM;
                } else if (k >= 0)
                        k = box_chains_delete(fd, nc->nft_table, machine);
                if (k < 0)
                        r = k;
        }

        if (!isempty(nc->link) || !isempty(nc->zone_bridge)) {
                _cleanup_close_ int fd = -EBADF, lock = -EBADF;
                k = nl_open(NETLINK_ROUTE, &fd);
                if (k < 0)
                        return r ?: k;
                /* The veth usually went with the container's network namespace already. */
                if (!isempty(nc->link)) {
                        k = rtnl_link_delete(fd, nc->link);
                        if (k < 0 && r == 0)
                                r = k;
                }
                if (!isempty(nc->zone_bridge) && !rebooting) {
                        if (lock_path)
                                (void) network_lock_take(lock_path, &lock);
                        if (bridge_is_empty(nc->zone_bridge) > 0) {
                                k = rtnl_link_delete(fd, nc->zone_bridge);
                                if (k < 0 && r == 0)
                                        r = k;
                        }
                }
        }
        return r;
}
