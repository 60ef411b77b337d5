/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dnsmasq.h"
#include "exec-util.h"
#include "net-veth.h"
#include "util/process.h"
#include "util/strv.h"
#include "util/util.h"

/* How long leases last; boxes renew at half of it. */
#define LEASE_TIME "1h"

int dnsmasq_config_text(const DnsmasqConfig *c, char **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        union in_addr_union first4, last4, first6, last6;
        char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
        uint64_t hosts4;
        size_t size = 0;
        int r;

        if (!c->dir || !c->bridge || !c->domain || c->subnet4.family != AF_INET ||
                c->subnet6.family != AF_INET6 || c->subnet4.prefixlen > 30 || c->subnet6.prefixlen != 64)
                return -EINVAL;
        /* Everything but the network address, the bridge's .1 and the broadcast address. */
        hosts4 = (1ULL << (32 - c->subnet4.prefixlen)) - 1;
        if ((r = in_addr_prefix_nth(&c->subnet4, 2, &first4)) < 0 ||
                (r = in_addr_prefix_nth(&c->subnet4, hosts4 - 1, &last4)) < 0 ||
                (r = in_addr_prefix_nth(&c->subnet6, 2, &first6)) < 0 ||
                (r = in_addr_prefix_nth(&c->subnet6, 0xfffe, &last6)) < 0)
                return r;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "# Written by nspawnctl for the managed network on %s; regenerated on every start.\n",
                c->bridge);
        /* Only the bridge: never the host's other interfaces, never lo (the host may run
         * its own resolver on 127.0.0.1:53), and bound to the addresses themselves. */
        fprintf(f, "interface=%s\nexcept-interface=lo\nbind-dynamic\n", c->bridge);
        fprintf(f, "pid-file=%s/dnsmasq.pid\nlog-facility=%s/dnsmasq.log\n", c->dir, c->dir);
        if (c->user)
                fprintf(f, "user=%s\n", c->user);
        fprintf(f, "no-hosts\nhostsdir=%s/hosts\ndhcp-hostsdir=%s/dhcp-hosts\n", c->dir, c->dir);
        fprintf(f, "dhcp-leasefile=%s/leases\ndhcp-authoritative\n", c->dir);
        /* A box's name is the one it was started as: the name a client asks for is never
         * put in DNS, or a box could take over another's (or any) name. */
        fprintf(f, "dhcp-ignore-names\n");
        /* Names of boxes: NAME and NAME.DOMAIN, never forwarded upstream. */
        fprintf(f, "domain=%s\nlocal=/%s/\nexpand-hosts\ndomain-needed\n", c->domain, c->domain);
        if (strv_length(c->servers) > 0) {
                fprintf(f, "no-resolv\n");
                STRV_FOREACH(s, c->servers)
                fprintf(f, "server=%s\n", *s);
        } else
                fprintf(f, "resolv-file=/etc/resolv.conf\n");
        fprintf(f, "dhcp-range=%s,%s,%s\n", in_addr_to_string(AF_INET, &first4, a),
                in_addr_to_string(AF_INET, &last4, b), LEASE_TIME);
        fprintf(f, "dhcp-option=option:router,%s\n", in_addr_to_string(AF_INET, &c->gateway4, g));
        fprintf(f, "dhcp-option=option:dns-server,%s\n", g);
        fprintf(f, "dhcp-option=option:domain-search,%s\n", c->domain);
        /* Stateful DHCPv6 (the M flag), so every box has the address reserved for it. */
        fprintf(f, "enable-ra\ndhcp-range=%s,%s,64,%s\n", in_addr_to_string(AF_INET6, &first6, a),
                in_addr_to_string(AF_INET6, &last6, b), LEASE_TIME);
        fprintf(f, "dhcp-option=option6:dns-server,[%s]\n", in_addr_to_string(AF_INET6, &c->gateway6, g));
        fprintf(f, "dhcp-option=option6:domain-search,%s\n", c->domain);
        return memstream_finish(&f, &buf, ret);
}

int dnsmasq_host_entries(const char *name, const EtherAddr *mac, const union in_addr_union *a4,
        const union in_addr_union *a6, char **ret_dhcp_host, char **ret_hosts) {
        char m[ETHER_ADDR_STRLEN], s4[INET6_ADDRSTRLEN], s6[INET6_ADDRSTRLEN];
        _cleanup_free_ char *d = NULL, *h = NULL;

        ether_addr_to_string(mac, m);
        in_addr_to_string(AF_INET, a4, s4);
        in_addr_to_string(AF_INET6, a6, s6);
        if (asprintf(&d, "%s,%s,[%s],%s\n", m, s4, s6, name) < 0)
                return -ENOMEM;
        if (asprintf(&h, "%s %s\n%s %s\n", s4, name, s6, name) < 0)
                return -ENOMEM;
        *ret_dhcp_host = TAKE_PTR(d);
        *ret_hosts = TAKE_PTR(h);
        return 0;
}

int dnsmasq_dhcp_host_parse(
        const char *line, EtherAddr *ret_mac, union in_addr_union *ret_a4, union in_addr_union *ret_a6) {
        char mac[32], a4[INET6_ADDRSTRLEN], a6[INET6_ADDRSTRLEN + 2];
        const char *p = line, *q;
        size_t n;

        /* MAC,IPV4,[IPV6],NAME */
        q = strchr(p, ',');
        if (!q || (n = (size_t) (q - p)) >= sizeof mac)
                return -EINVAL;
        memcpy(mac, p, n);
        mac[n] = 0;
        p = q + 1;
        q = strchr(p, ',');
        if (!q || (n = (size_t) (q - p)) >= sizeof a4)
                return -EINVAL;
        memcpy(a4, p, n);
        a4[n] = 0;
        p = q + 1;
        if (*p != '[' || !(q = strchr(p, ']')) || (n = (size_t) (q - p - 1)) >= sizeof a6)
                return -EINVAL;
        memcpy(a6, p + 1, n);
        a6[n] = 0;
        if (ether_addr_from_string(mac, ret_mac) < 0 || in_addr_from_string(AF_INET, a4, NULL, ret_a4) < 0 ||
                in_addr_from_string(AF_INET6, a6, NULL, ret_a6) < 0)
                return -EINVAL;
        return 0;
}

/* The next space-separated field of a lease line. */
static bool next_field(const char **p, char *buf, size_t size) {
        const char *s = *p + strspn(*p, " \t");
        size_t n = strcspn(s, " \t\n");

        if (n == 0 || n >= size)
                return false;
        memcpy(buf, s, n);
        buf[n] = 0;
        *p = s + n;
        return true;
}

int dnsmasq_leases_parse(const char *text, DnsmasqLease **ret, size_t *ret_n, char **ret_server_duid) {
        _cleanup_free_ DnsmasqLease *l = NULL;
        _cleanup_free_ char *duid = NULL;
        bool v6 = false;
        size_t n = 0;

        /* IPv4: "EXPIRY MAC ADDRESS HOSTNAME CLIENT-ID"; then "duid SERVER-DUID" and IPv6:
         * "EXPIRY IAID ADDRESS HOSTNAME CLIENT-DUID". */
        for (const char *line = text; line && *line;) {
                const char *end = strchrnul(line, '\n'), *p = line;
                char f[5][256];
                DnsmasqLease x = {};
                bool ok = true;

                for (int i = 0; i < 5 && ok; i++)
                        ok = next_field(&p, f[i], sizeof f[i]) && p <= end;
                if (!ok && strneq(line, "duid ", 5)) {
                        p = line + 5;
                        if (next_field(&p, f[0], sizeof f[0])) {
                                free(duid);
                                duid = strdup(f[0]);
                                if (!duid)
                                        return -ENOMEM;
                        }
                        v6 = true;
                } else if (ok) {
                        uint64_t iaid;
                        if (!v6 && ether_addr_from_string(f[1], &x.mac) >= 0 &&
                                in_addr_from_string(AF_INET, f[2], NULL, &x.addr) >= 0)
                                x.family = AF_INET;
                        else if (v6 && safe_atou64(f[1], &iaid) >= 0 && iaid <= UINT32_MAX &&
                                 in_addr_from_string(AF_INET6, f[2], NULL, &x.addr) >= 0) {
                                x.family = AF_INET6;
                                x.iaid = (uint32_t) iaid;
                        }
                        if (x.family != 0) {
                                DnsmasqLease *k = reallocarray(l, n + 1, sizeof *l);
                                if (!k)
                                        return -ENOMEM;
                                l = k;
                                snprintf(x.hostname, sizeof x.hostname, "%s", f[3]);
                                snprintf(x.client_id, sizeof x.client_id, "%s", f[4]);
                                l[n++] = x;
                        }
                }
                line = *end ? end + 1 : end;
        }
        *ret = TAKE_PTR(l);
        *ret_n = n;
        if (ret_server_duid)
                *ret_server_duid = TAKE_PTR(duid);
        return 0;
}

static int find_in_path(const char *name, char **ret) {
        const char *path = getenv("PATH");

        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (const char *p = path; *p;) {
                size_t l = strcspn(p, ":");
                _cleanup_free_ char *dir = strndup(p, l);
                _cleanup_free_ char *c = NULL;
                if (!dir)
                        return -ENOMEM;
                if (dir[0] == '/') {
                        c = strjoin(dir, "/", name);
                        if (!c)
                                return -ENOMEM;
                        if (access(c, X_OK) == 0) {
                                *ret = TAKE_PTR(c);
                                return 0;
                        }
                }
                p += l;
                if (*p == ':')
                        p++;
        }
        return -ENOENT;
}

int dnsmasq_find(char **ret) {
        return find_in_path("dnsmasq", ret);
}

int dnsmasq_release_lease(const char *bridge, const DnsmasqLease *l, const char *server_duid) {
        _cleanup_free_ char *binary = NULL;
        char a[INET6_ADDRSTRLEN], m[ETHER_ADDR_STRLEN], iaid[16];
        const int fds[3] = {EXEC_FD_NULL, EXEC_FD_NULL, EXEC_FD_NULL};
        int r;

        in_addr_to_string(l->family, &l->addr, a);
        if (l->family == AF_INET) {
                r = find_in_path("dhcp_release", &binary);
                if (r < 0)
                        return r;
                ether_addr_to_string(&l->mac, m);
                char *argv[] = {binary, (char *) bridge, a, m, NULL, NULL};
                if (!streq(l->client_id, "*"))
                        argv[4] = (char *) l->client_id;
                return exec_run(argv, NULL, fds, NULL);
        }
        if (!server_duid || streq(l->client_id, "*"))
                return -EINVAL;
        r = find_in_path("dhcp_release6", &binary);
        if (r < 0)
                return r;
        snprintf(iaid, sizeof iaid, "%u", l->iaid);
        char *argv[] = {binary, (char *)"--iface", (char *) bridge, (char *)"--ip", a, (char *)"--client-id",
                (char *) l->client_id, (char *)"--server-id", (char *) server_duid, (char *)"--iaid", iaid,
                NULL};
        return exec_run(argv, NULL, fds, NULL);
}

/* What the launch helper reports. */
typedef struct LaunchReport {
        int error;  /* errno of a failed exec, 0 */
        int status; /* exit status of the launcher */
        char message[400];
} LaunchReport;

/* The helper: its own SIGCHLD disposition (machined ignores SIGCHLD, which would hide the
 * launcher's exit status), dnsmasq as its child with stderr on a pipe. dnsmasq exits 0 only
 * once the daemon it forked is serving, or prints why not. */
static _noreturn_ void launch_helper(int sock, const char *binary, const char *conf) {
        _cleanup_close_pair_ int p[2] = {-EBADF, -EBADF};
        LaunchReport rep = {};
        char *argv[] = {(char *)"dnsmasq", NULL, NULL};
        char arg[4200];
        pid_t pid;
        ssize_t n;

        (void) signal(SIGCHLD, SIG_DFL);
        snprintf(arg, sizeof arg, "--conf-file=%s", conf);
        argv[1] = arg;
        if (pipe2(p, O_CLOEXEC) < 0) {
                rep.error = errno;
                goto out;
        }
        const int fds[3] = {EXEC_FD_NULL, EXEC_FD_NULL, p[1]};
        argv[0] = (char *) binary;
        rep.error = -exec_spawn(argv, NULL, fds, &pid);
        p[1] = safe_close(p[1]);
        if (rep.error != 0)
                goto out;
        (void) exec_wait(pid, &rep.status);
        (void) fd_nonblock(p[0], true);
        n = read(p[0], rep.message, sizeof rep.message - 1);
        rep.message[n > 0 ? n : 0] = 0;
out:
        (void) send(sock, &rep, sizeof rep, MSG_NOSIGNAL);
        _exit(EXIT_SUCCESS);
}

int dnsmasq_read_pid(const char *dir, pid_t *ret_pid, uint64_t *ret_start_time) {
        _cleanup_free_ char *path = strjoin(dir, "/dnsmasq.pid"), *line = NULL, *comm_path = NULL,
                            *comm = NULL;
        int pid, r;

        if (!path)
                return -ENOMEM;
        r = read_one_line(path, &line);
        if (r < 0)
                return r;
        if (safe_atoi(strstrip(line), &pid) < 0 || pid <= 1)
                return -EBADMSG;
        if (asprintf(&comm_path, "/proc/%d/comm", pid) < 0)
                return -ENOMEM;
        r = read_one_line(comm_path, &comm);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (!streq(strstrip(comm), "dnsmasq"))
                return -ESRCH;
        r = proc_start_time(pid, ret_start_time);
        if (r < 0)
                return r;
        *ret_pid = pid;
        return 0;
}

int dnsmasq_start(
        const char *binary, const char *dir, pid_t *ret_pid, uint64_t *ret_start_time, Error *e) {
        _cleanup_close_pair_ int sv[2] = {-EBADF, -EBADF};
        _cleanup_free_ char *conf = strjoin(dir, "/dnsmasq.conf");
        LaunchReport rep = {};
        pid_t helper;
        ssize_t n;
        int r;

        if (!conf)
                return -ENOMEM;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        /* Nothing of ours (bus connections, sockets, the console) may reach dnsmasq, which
         * outlives us; the launcher is not killed with us, or neither would be dnsmasq. */
        r = safe_fork("nspawnctl-dnsmasq", (const int[]) { sv[1] }, 1,
                      FORK_RESET_SIGNALS | FORK_CLOSE_ALL_FDS | FORK_NEW_SESSION | FORK_NULL_STDIO, &helper);
        if (r < 0)
                return r;
        if (r == 0)
                launch_helper(sv[1], binary, conf);
        sv[1] = safe_close(sv[1]);
        n = recv(sv[0], &rep, sizeof rep, 0);
        (void) waitpid(helper, NULL, 0);
        if (n != sizeof rep)
                return -EIO;
        if (rep.error != 0)
                return error_set(e, -rep.error, "%m");
        if (rep.status != 0) {
                char *nl;
                rep.message[sizeof rep.message - 1] = 0;
                if ((nl = strchr(rep.message, '\n')))
                        *nl = 0;
                return error_set(e, -EPROTO, "%s", rep.message[0] ? rep.message : "dnsmasq failed to start");
        }
        r = dnsmasq_read_pid(dir, ret_pid, ret_start_time);
        if (r < 0)
                return error_set(e, r, "dnsmasq started but its pid file is unusable");
        return r;
}

bool dnsmasq_is_running(pid_t pid, uint64_t start_time) {
        uint64_t t;
        return pid > 1 && proc_start_time(pid, &t) >= 0 && t == start_time;
}

int dnsmasq_stop(pid_t pid, uint64_t start_time) {
        _cleanup_close_ int fd = -EBADF;
        struct pollfd p;

        if (!dnsmasq_is_running(pid, start_time))
                return 0;
        fd = pidfd_open_safe(pid);
        if (fd < 0)
                return fd == -ESRCH ? 0 : fd;
        /* The pidfd refers to this process for good: no pid reuse between check and kill. */
        if (!dnsmasq_is_running(pid, start_time))
                return 0;
        if (syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) < 0)
                return errno == ESRCH ? 0 : -errno;
        p = (struct pollfd){.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) == 1)
                return 0;
        (void) syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
        (void) poll(&p, 1, 5000);
        return 0;
}
