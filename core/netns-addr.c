/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns-addr.h"
#include "util/process.h"
#include "util/util.h"

/* The most addresses reported: a guest could add thousands. */
#define NETNS_ADDRESSES_MAX 256U
#define NETLINK_BUFFER (32U * 1024U)

static int netlink_open(void) {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        return fd < 0 ? -errno : fd;
}

static int netlink_send(int fd, struct nlmsghdr *h) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        return 0;
}

static int append_addr(NetnsAddress **list, size_t *n, const NetnsAddress *a) {
        NetnsAddress *l;

        if (*n >= NETNS_ADDRESSES_MAX)
                return 0;
        l = reallocarray(*list, *n + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l[(*n)++] = *a;
        *list = l;
        return 0;
}

int netns_parse_addr_dump(const void *buf, size_t len, NetnsAddress **list, size_t *n) {
        int r;

        for (const struct nlmsghdr *h = buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                const struct ifaddrmsg *ifa;
                const struct rtattr *rta;
                NetnsAddress a = {};
                uint32_t flags;
                size_t alen;
                int rlen;
                bool have = false;

                if (h->nlmsg_type == NLMSG_DONE)
                        return 1;
                if (h->nlmsg_type == NLMSG_ERROR) {
                        const struct nlmsgerr *e = NLMSG_DATA(h);
                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                                return -EBADMSG;
                        return e->error < 0 ? e->error : -EBADMSG;
                }
                if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof *ifa))
                        continue;
                ifa = NLMSG_DATA(h);
                if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
                        continue;
                if (ifa->ifa_scope == RT_SCOPE_HOST || ifa->ifa_scope == RT_SCOPE_NOWHERE)
                        continue;
                alen = ifa->ifa_family == AF_INET ? 4 : 16;
                flags = ifa->ifa_flags;
                a.family = ifa->ifa_family;
                a.ifindex = ifa->ifa_index;
                rlen = (int) IFA_PAYLOAD(h);
                for (rta = IFA_RTA(ifa); RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
                        /* IFA_LOCAL is the address of the link itself; IFA_ADDRESS the peer's on
                         * point-to-point links, and the same otherwise. */
                        if ((rta->rta_type == IFA_LOCAL || (rta->rta_type == IFA_ADDRESS && !have)) &&
                            RTA_PAYLOAD(rta) == alen) {
                                memcpy(a.bytes, RTA_DATA(rta), alen);
                                have = true;
                        } else if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) == sizeof(uint32_t))
                                memcpy(&flags, RTA_DATA(rta), sizeof flags);
                }
                if (!have || (flags & IFA_F_DEPRECATED))
                        continue;
                r = append_addr(list, n, &a);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int dump_addresses(NetnsAddress **ret, size_t *ret_n) {
        struct {
                struct nlmsghdr h;
                struct ifaddrmsg m;
        } req = {
                .h = { .nlmsg_len = sizeof req,
                       .nlmsg_type = RTM_GETADDR,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                       .nlmsg_seq = 1 },
                .m = { .ifa_family = AF_UNSPEC },
        };
        _cleanup_free_ NetnsAddress *list = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n = 0;
        int r;

        fd = netlink_open();
        if (fd < 0)
                return fd;
        r = netlink_send(fd, &req.h);
        if (r < 0)
                return r;
        buf = malloc(NETLINK_BUFFER);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = recv(fd, buf, NETLINK_BUFFER, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EBADMSG;
                r = netns_parse_addr_dump(buf, (size_t) k, &list, &n);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

int netns_list_addresses(int netns_fd, NetnsAddress **ret) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        _cleanup_free_ NetnsAddress *list = NULL;
        size_t n = 0;
        pid_t pid;
        int r, error = 0;

        assert(ret);
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        r = safe_fork("nspawnctl-netns", NULL, 0, FORK_DEATHSIG, &pid);
        if (r < 0)
                return r;
        if (r == 0) {
                _cleanup_free_ NetnsAddress *l = NULL;
                size_t k = 0;

                p[0] = safe_close(p[0]);
                if (setns(netns_fd, CLONE_NEWNET) < 0)
                        r = -errno;
                else
                        r = dump_addresses(&l, &k);
                /* First the errno (0), then the addresses. */
                (void) loop_write(p[1], &r, sizeof r);
                if (r >= 0 && k > 0)
                        (void) loop_write(p[1], l, k * sizeof *l);
                _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        p[1] = safe_close(p[1]);

        /* A netlink dump answers at once; the wait is bounded in case the child hangs. */
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        if (poll(&pfd, 1, 5000) <= 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return -ETIMEDOUT;
        }
        if (loop_read(p[0], &error, sizeof error) != (ssize_t) sizeof error)
                error = -EIO;
        while (error >= 0) {
                NetnsAddress a;
                ssize_t k = loop_read(p[0], &a, sizeof a);
                if (k == 0)
                        break;
                if (k != (ssize_t) sizeof a) {
                        error = -EIO;
                        break;
                }
                r = append_addr(&list, &n, &a);
                if (r < 0)
                        error = r;
        }
        (void) waitpid(pid, NULL, 0); /* ECHILD where the kernel reaps children */
        if (error < 0)
                return error;
        *ret = TAKE_PTR(list);
        return (int) n;
}

/* The id the caller's namespace has for netns_fd, or -ENOENT if it has none (then no link
 * of ours can point into it). */
static int netns_get_nsid(int fd_nl, int netns_fd, int32_t *ret) {
        struct {
                struct nlmsghdr h;
                struct rtgenmsg g;
                char pad[3];
                struct rtattr a;
                uint32_t fd;
        } req = {
                .h = { .nlmsg_len = sizeof req,
                       .nlmsg_type = RTM_GETNSID,
                       .nlmsg_flags = NLM_F_REQUEST,
                       .nlmsg_seq = 1 },
                .g = { .rtgen_family = AF_UNSPEC },
                .a = { .rta_len = RTA_LENGTH(sizeof(uint32_t)), .rta_type = NETNSA_FD },
                .fd = (uint32_t) netns_fd,
        };
        char buf[1024];
        ssize_t k;
        int r;

        r = netlink_send(fd_nl, &req.h);
        if (r < 0)
                return r;
        k = recv(fd_nl, buf, sizeof buf, 0);
        if (k < 0)
                return -errno;
        for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) k); h = NLMSG_NEXT(h, k)) {
                if (h->nlmsg_type == NLMSG_ERROR) {
                        struct nlmsgerr *e = NLMSG_DATA(h);
                        return e->error < 0 ? e->error : -EBADMSG;
                }
                if (h->nlmsg_type != RTM_NEWNSID)
                        continue;
                struct rtgenmsg *g = NLMSG_DATA(h);
                int len = (int) (h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof *g)));
                for (struct rtattr *a = (struct rtattr *) ((char *) g + NLMSG_ALIGN(sizeof *g));
                     RTA_OK(a, len); a = RTA_NEXT(a, len))
                        if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) == sizeof(int32_t)) {
                                memcpy(ret, RTA_DATA(a), sizeof *ret);
                                return *ret < 0 ? -ENOENT : 0;
                        }
        }
        return -ENOENT;
}

int netns_host_peer_ifindices(int netns_fd, int **ret) {
        struct {
                struct nlmsghdr h;
                struct ifinfomsg m;
        } req = {
                .h = { .nlmsg_len = sizeof req,
                       .nlmsg_type = RTM_GETLINK,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                       .nlmsg_seq = 2 },
                .m = { .ifi_family = AF_UNSPEC },
        };
        _cleanup_free_ int *list = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat a, b;
        int32_t nsid = -1;
        size_t n = 0;
        int r;

        assert(ret);
        *ret = NULL;
        if (fstat(netns_fd, &a) < 0)
                return -errno;
        if (stat("/proc/self/ns/net", &b) < 0)
                return -errno;
        if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                return 0; /* the host's own namespace: no links into it */

        fd = netlink_open();
        if (fd < 0)
                return fd;
        r = netns_get_nsid(fd, netns_fd, &nsid);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = netlink_send(fd, &req.h);
        if (r < 0)
                return r;
        buf = malloc(NETLINK_BUFFER);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = recv(fd, buf, NETLINK_BUFFER, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) k);
                     h = NLMSG_NEXT(h, k)) {
                        if (h->nlmsg_type == NLMSG_DONE) {
                                *ret = TAKE_PTR(list);
                                return (int) n;
                        }
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                struct nlmsgerr *e = NLMSG_DATA(h);
                                return e->error < 0 ? e->error : -EBADMSG;
                        }
                        if (h->nlmsg_type != RTM_NEWLINK ||
                            h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
                                continue;
                        struct ifinfomsg *ifi = NLMSG_DATA(h);
                        int len = (int) IFLA_PAYLOAD(h);
                        for (struct rtattr *at = IFLA_RTA(ifi); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
                                int32_t id;
                                if (at->rta_type != IFLA_LINK_NETNSID || RTA_PAYLOAD(at) != sizeof id)
                                        continue;
                                memcpy(&id, RTA_DATA(at), sizeof id);
                                if (id != nsid || n >= NETNS_ADDRESSES_MAX)
                                        continue;
                                int *l = reallocarray(list, n + 1, sizeof *l);
                                if (!l)
                                        return -ENOMEM;
                                l[n++] = ifi->ifi_index;
                                list = l;
                        }
                }
        }
}
