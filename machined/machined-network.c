/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "machine-record.h"
#include "machined-api.h"
#include "machined-network.h"
#include "machined.h"
#include "managed-net.h"
#include "names.h"
#include "net-veth.h"
#include "nft.h"
#include "settings-load.h"
#include "settings-ports.h"
#include "util/process.h"
#include "util/strv.h"
#include "util/util.h"

/* dnsmasq may die; it is started again, but not in a loop. */
#define DNSMASQ_RESTART_BURST 5
#define DNSMASQ_RESTART_WINDOW_USEC (60ULL * 1000000ULL)

struct MachinedNetwork {
        bool disabled;
        char *bridge, *table, *domain;
        char **dns;
        bool have4, have6;
        InAddrPrefix subnet4, subnet6;
        ManagedNet *net;
        sd_event_source *dnsmasq_source;
        int dnsmasq_pidfd;
        uint64_t restart_window;
        unsigned restarts;
};

static MachinedNetwork *network_get(Manager *m) {
        if (!m->network) {
                m->network = calloc(1, sizeof(MachinedNetwork));
                if (m->network)
                        m->network->dnsmasq_pidfd = -EBADF;
        }
        return m->network;
}

static void unwatch_dnsmasq(MachinedNetwork *n) {
        n->dnsmasq_source = sd_event_source_disable_unref(n->dnsmasq_source);
        n->dnsmasq_pidfd = safe_close(n->dnsmasq_pidfd);
}

void manager_network_free(Manager *m) {
        MachinedNetwork *n = m->network;

        if (!n)
                return;
        unwatch_dnsmasq(n);
        managed_net_free(n->net);
        free(n->bridge);
        free(n->table);
        free(n->domain);
        strv_free(n->dns);
        free(n);
        m->network = NULL;
}

int manager_network_option(Manager *m, int opt, const char *arg) {
        MachinedNetwork *n;
        int r;

        if (opt < ARG_NETWORK || opt > ARG_NETWORK_DOMAIN)
                return 0;
        n = network_get(m);
        if (!n)
                return log_oom();
        switch (opt) {
        case ARG_NETWORK:
                r = parse_boolean(arg);
                if (r < 0)
                        return log_error_errno(-EINVAL, "Invalid --network= '%s': expected yes or no.", arg);
                n->disabled = !r;
                return 1;
        case ARG_NETWORK_BRIDGE:
                if (!ifname_is_valid(arg))
                        return log_error_errno(
                                -EINVAL, "Invalid --network-bridge= '%s': not an interface name.", arg);
                return free(n->bridge), (n->bridge = strdup(arg)) ? 1 : log_oom();
        case ARG_NETWORK_TABLE:
                if (!nft_table_name_is_valid(arg))
                        return log_error_errno(-EINVAL, "Invalid --network-table= '%s'.", arg);
                return free(n->table), (n->table = strdup(arg)) ? 1 : log_oom();
        case ARG_NETWORK_IPV4:
                if (in_addr_prefix_from_string(arg, &n->subnet4) < 0 || n->subnet4.family != AF_INET ||
                        n->subnet4.prefixlen < 16 || n->subnet4.prefixlen > 30)
                        return log_error_errno(-EINVAL,
                                "Invalid --network-ipv4= '%s': an IPv4 prefix of length 16 to 30.", arg);
                n->have4 = true;
                return 1;
        case ARG_NETWORK_IPV6:
                if (in_addr_prefix_from_string(arg, &n->subnet6) < 0 || n->subnet6.family != AF_INET6 ||
                        n->subnet6.prefixlen != 64)
                        return log_error_errno(-EINVAL, "Invalid --network-ipv6= '%s': an IPv6 /64.", arg);
                n->have6 = true;
                return 1;
        case ARG_NETWORK_DNS:
                if (in_addr_from_string(AF_UNSPEC, arg, NULL, NULL) < 0)
                        return log_error_errno(
                                -EINVAL, "Invalid --network-dns= '%s': an IPv4 or IPv6 address.", arg);
                return strv_extend(&n->dns, arg) < 0 ? log_oom() : 1;
        case ARG_NETWORK_DOMAIN:
                if (!machine_name_is_valid(arg))
                        return log_error_errno(-EINVAL, "Invalid --network-domain= '%s'.", arg);
                return free(n->domain), (n->domain = strdup(arg)) ? 1 : log_oom();
        }
        return 0;
}

static int on_dnsmasq_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static int watch_dnsmasq(Manager *m) {
        MachinedNetwork *n = m->network;
        int r;

        unwatch_dnsmasq(n);
        n->dnsmasq_pidfd = pidfd_open_verified(n->net->dnsmasq_pid, n->net->dnsmasq_start);
        if (n->dnsmasq_pidfd < 0)
                return n->dnsmasq_pidfd;
        r = sd_event_add_io(m->event, &n->dnsmasq_source, n->dnsmasq_pidfd, EPOLLIN, on_dnsmasq_exit, m);
        if (r < 0)
                n->dnsmasq_pidfd = safe_close(n->dnsmasq_pidfd);
        return r;
}

static int on_dnsmasq_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        MachinedNetwork *n = m->network;
        _cleanup_(error_done) Error error = ERROR_NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        unwatch_dnsmasq(n);
        if (now - n->restart_window > DNSMASQ_RESTART_WINDOW_USEC) {
                n->restart_window = now;
                n->restarts = 0;
        }
        if (++n->restarts > DNSMASQ_RESTART_BURST) {
                log_error("dnsmasq of the managed network keeps exiting; not starting it again (see "
                          "%s/network/dnsmasq/dnsmasq.log).",
                        m->state_dir);
                return 0;
        }
        log_warning("dnsmasq of the managed network (pid %d) exited; starting it again.",
                (int) n->net->dnsmasq_pid);
        r = managed_net_restart_dnsmasq(n->net, &error);
        if (r < 0) {
                log_error_errno(r, "%s", error.message ?: "Failed to start dnsmasq again.");
                return 0;
        }
        (void) watch_dnsmasq(m);
        return 0;
}

static int ensure_up(Manager *m, Error *e) {
        MachinedNetwork *n = network_get(m);
        int r;

        if (!n)
                return -ENOMEM;
        if (!n->net) {
                ManagedNetConfig c = {
                        .state_dir = m->state_dir,
                        .bridge = n->bridge,
                        .table = n->table,
                        .domain = n->domain,
                        .dns_servers = n->dns,
                        .have_subnet4 = n->have4,
                        .have_subnet6 = n->have6,
                        .subnet4 = n->subnet4,
                        .subnet6 = n->subnet6,
                };
                r = managed_net_new(&c, &n->net);
                if (r < 0)
                        return r;
        }
        if (n->net->up && n->dnsmasq_source)
                return 0;
        r = managed_net_up(n->net, e);
        if (r < 0)
                return r;
        r = watch_dnsmasq(m);
        if (r < 0)
                log_warning_errno(r, "Cannot watch dnsmasq (pid %d): %m", (int) n->net->dnsmasq_pid);
        log_info("Managed network on %s is up (dnsmasq pid %d).", n->net->bridge, (int) n->net->dnsmasq_pid);
        return 0;
}

int manager_network_init(Manager *m) {
        MachinedNetwork *n = network_get(m);
        _cleanup_free_ char *state = NULL;
        _cleanup_(error_done) Error error = ERROR_NULL;
        _cleanup_strv_free_ char **boxes = NULL;
        int r;

        if (!n)
                return -ENOMEM;
        if (n->disabled)
                return 0;
        state = strjoin(m->state_dir, "/network/managed.state");
        if (!state)
                return -ENOMEM;
        /* Only what an earlier machined set up is adopted now; a first network waits for the
         * first machine that needs it. */
        if (access(state, F_OK) < 0)
                return 0;
        r = ensure_up(m, &error);
        if (r < 0)
                return log_warning_errno(r, "Cannot adopt the managed network: %s",
                                         error.message ?: strerror(-r));
        /* Reservations of machines that ended while no machined was watching. */
        if (managed_net_box_list(n->net, &boxes) >= 0)
                STRV_FOREACH(b, boxes)
        if (!manager_find_machine(m, *b)) {
                log_info("Removing the network of machine %s, which is gone.", *b);
                (void) managed_net_box_remove(n->net, *b);
        }
        return 0;
}

static const char *table_of(Manager *m) {
        return m->network && m->network->table ? m->network->table : DEFAULT_NFT_TABLE;
}

/* The settings the supervisor will find for the machine (core/settings-load.h). */
static int load_settings(Manager *m, const char *name, const char *image, Settings **ret,
                         sd_bus_error *error) {
        _cleanup_(error_done) Error e = ERROR_NULL;
        int r;

        r = settings_load_for_machine(name,
                                      &(const SettingsSearch) {
                                              .config_dir = m->config_dir,
                                              .state_dir = m->state_dir,
                                              .image = image,
                                      },
                                      ret, NULL, &e);
        if (r == -EBADMSG)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS, "%s", error_message(&e));
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "%s", error_message(&e));
        return 0;
}

int manager_network_start(Manager *m, const char *name, const char *image, SupervisorStart *start,
                          char **ret_dns_stub, sd_bus_error *error) {
        MachinedNetwork *n = network_get(m);
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_free_ char *stub = NULL;
        _cleanup_(error_done) Error err = ERROR_NULL;
        ManagedBox box;
        int r;

        if (!n)
                return -ENOMEM;
        r = load_settings(m, name, image, &s, error);
        if (r < 0)
                return r;
        bool host = s && s->private_network == 0;
        bool own = s && (s->virtual_ethernet > 0 || s->bridge || s->zone);
        bool lo_only = s && s->private_network > 0 && !own;
        size_t n_ports = s ? s->n_ports : 0;

        if (n_ports > 0 && (host || lo_only))
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS,
                                         "Port= of machine '%s' needs a network of its own: the managed "
                                         "network (no Private=), VirtualEthernet=, Bridge= or Zone=.",
                                         name);
        if (host || lo_only)
                return 0;
        /* The runtime's own kinds: the supervisor sets them and their forwards up itself, in
         * our table. */
        start->network_table = table_of(m);
        if (own || n->disabled)
                return 0;

        r = ensure_up(m, &err);
        if (r >= 0)
                r = managed_net_box_add(n->net, name, &box, &err);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_NETWORK_FAILED, "Cannot start machine '%s': %s",
                                         name, err.message ?: strerror(-r));
        /* The forwards first: a host port that is taken refuses the start. */
        r = managed_net_forwards_set(n->net, &box, s ? s->ports : NULL, n_ports, &err);
        if (r >= 0 && !(stub = managed_net_resolv_conf_path(n->net)))
                r = -ENOMEM;
        if (r < 0) {
                (void) managed_net_box_remove(n->net, name);
                return sd_bus_error_setf(error,
                                         r == -EADDRINUSE ? BUS_ERROR_PORT_IN_USE : BUS_ERROR_NETWORK_FAILED,
                                         "Cannot start machine '%s': %s", name, err.message ?: strerror(-r));
        }
        start->network_table = n->net->table;
        start->network_bridge = n->net->bridge;
        start->network_dns_stub = stub;
        /* The ::1 return path only for a box with forwards (a later `port add` makes it for a
         * running box). */
        if (n_ports > 0)
                start->network_loopback6 = n->net->loopback6.in6;
        *ret_dns_stub = TAKE_PTR(stub);
        return 1;
}

void manager_network_machine_gone(Manager *m, const char *name) {
        MachinedNetwork *n = m->network;
        _cleanup_(machine_record_done) MachineRecord rec = {};
        _cleanup_close_ int fd = -EBADF;

        if (!n || !n->net)
                return;
        /* A new supervisor may have the name already (a reboot, a quick start again). */
        if (manager_find_machine(m, name))
                return;
        if (machine_record_load(m->machines_dir_fd, name, &rec) >= 0 &&
                (fd = pidfd_open_verified(rec.supervisor, rec.supervisor_start)) >= 0)
                return;
        (void) managed_net_box_remove(n->net, name);
}

/* ---- port forwards -------------------------------------------------------------------- */

/* The box's trusted settings file (created in the config directory when there is none), and
 * the forwards it has. A settings file in the pool is untrusted: its Port= would be ignored,
 * and a new trusted file would hide all of it, so that case is refused. */
static int ports_load(Manager *m, const char *name, char **ret_path, PortForward **ret, size_t *ret_n,
        sd_bus_error *error) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_free_ char *path = NULL, *image = strjoin(m->pool, "/", name);
        _cleanup_(error_done) Error e = ERROR_NULL;
        SettingsTrust trust;
        int r;

        if (!image)
                return -ENOMEM;
        /* The same search the supervisor does when the machine starts. */
        r = settings_find(name,
                          &(const SettingsSearch) {
                                  .config_dir = m->config_dir,
                                  .state_dir = m->state_dir,
                                  .image = image,
                          },
                          &path, &trust);
        if (r == -EBADFD)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS,
                        "The settings file %s.nspawn is not a regular file.", name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot look for the settings of %s: %m", name);
        if (r > 0 && trust != SETTINGS_TRUSTED)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS,
                        "The settings of '%s' are in the pool (%s), where Port= is not honoured; "
                        "put them in %s/%s.nspawn first.",
                        name, path, m->config_dir, name);
        if (r == 0) {
                free(path);
                path = strjoin(m->config_dir, "/", name, ".nspawn");
                if (!path)
                        return -ENOMEM;
                *ret = NULL;
                *ret_n = 0;
                *ret_path = TAKE_PTR(path);
                return 0;
        }
        r = settings_load(path, SETTINGS_TRUSTED, &s, &e, NULL);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS, "%s",
                                         error_is_set(&e) ? error_message(&e) : path);
        *ret = TAKE_PTR(s->ports);
        *ret_n = s->n_ports;
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int ports_save(Manager *m, const char *path, const PortForward *p, size_t n, sd_bus_error *error) {
        int r;

        if (mkdir(m->config_dir, 0755) < 0 && errno != EEXIST)
                return sd_bus_error_set_errnof(error, errno, "Cannot create %s: %m", m->config_dir);
        r = settings_file_set_ports(path, p, n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to write %s: %m", path);
        return 0;
}

/* Applies the forwards to a running machine on the managed network; 0 when the machine is
 * not running, -EOPNOTSUPP when it runs elsewhere (its own supervisor owns its forwards). */
static int ports_apply(Manager *m, const char *name, const PortForward *p, size_t n, sd_bus_error *error) {
        MachinedNetwork *net = m->network;
        _cleanup_(error_done) Error err = ERROR_NULL;
        ManagedBox box;
        int r;

        if (!manager_find_machine(m, name))
                return 0;
        if (!net || !net->net || !net->net->up || managed_net_box_get(net->net, name, &box) < 0)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS,
                        "Machine '%s' is not on the managed network: its forwards change when it starts "
                        "again.",
                        name);
        r = managed_net_forwards_set(net->net, &box, p, n, &err);
        if (r < 0)
                return sd_bus_error_setf(error,
                        r == -EADDRINUSE ? BUS_ERROR_PORT_IN_USE : BUS_ERROR_NETWORK_FAILED, "%s",
                        err.message ?: strerror(-r));
        return 1;
}

static int read_spec(
        sd_bus_message *message, Manager *m, const char **ret_name, PortForward *ret, sd_bus_error *error) {
        const char *name, *spec;
        int r;

        r = sd_bus_message_read(message, "ss", &name, &spec);
        if (r < 0)
                return r;
        if ((r = bus_check_root(message, error)) < 0 || (r = bus_check_machine_name(name, error)) < 0)
                return r;
        if (port_forward_parse(spec, ret) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                        "Invalid port forward: expected [tcp:|udp:]HOST[:CONTAINER] with ports 1-65535.");
        *ret_name = name;
        return 0;
}

static int method_add_machine_port_forward(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ PortForward *ports = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_(error_done) Error err = ERROR_NULL;
        const char *name;
        PortForward p;
        size_t n = 0;
        int r, applied;

        r = read_spec(message, m, &name, &p, error);
        if (r < 0)
                return r;
        r = ports_load(m, name, &path, &ports, &n, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (port_forward_conflicts(&ports[i], &p))
                        return sd_bus_error_setf(error, BUS_ERROR_PORT_IN_USE,
                                "Machine '%s' forwards host port %s/%u already.", name,
                                port_protocol_to_string(p.protocol), p.host_port);
        r = port_forwards_add(&ports, &n, &p);
        if (r < 0)
                return r;
        applied = ports_apply(m, name, ports, n, error);
        if (applied < 0)
                return applied;
        if (applied == 0 && m->network && m->network->net) {
                /* Not running: still refuse a port the host or another box holds now. */
                r = managed_net_forward_check(m->network->net, name, &p, &err);
                if (r < 0)
                        return sd_bus_error_setf(error,
                                r == -EADDRINUSE ? BUS_ERROR_PORT_IN_USE : BUS_ERROR_NETWORK_FAILED, "%s",
                                err.message ?: strerror(-r));
        }
        r = ports_save(m, path, ports, n, error);
        if (r < 0) {
                if (applied > 0)
                        (void) ports_apply(m, name, ports, n - 1, NULL);
                return r;
        }
        log_info("Machine %s: host port %s/%u forwarded to %u.", name, port_protocol_to_string(p.protocol),
                p.host_port, p.container_port);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_remove_machine_port_forward(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ PortForward *ports = NULL;
        _cleanup_free_ char *path = NULL;
        const char *name;
        PortForward p, removed;
        size_t n = 0, k = 0;
        bool found = false;
        int r, applied;

        r = read_spec(message, m, &name, &p, error);
        if (r < 0)
                return r;
        r = ports_load(m, name, &path, &ports, &n, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (port_forward_conflicts(&ports[i], &p)) {
                        removed = ports[i];
                        found = true;
                        continue;
                }
                ports[k++] = ports[i];
        }
        if (!found)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_PORT_FORWARD,
                        "Machine '%s' forwards no host port %s/%u.", name,
                        port_protocol_to_string(p.protocol), p.host_port);
        applied = ports_apply(m, name, ports, k, error);
        if (applied < 0)
                return applied;
        r = ports_save(m, path, ports, k, error);
        if (r < 0) {
                if (applied > 0) {
                        ports[k] = removed;
                        (void) ports_apply(m, name, ports, k + 1, NULL);
                }
                return r;
        }
        log_info("Machine %s: host port %s/%u no longer forwarded.", name,
                port_protocol_to_string(p.protocol), p.host_port);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_list_machine_port_forwards(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ PortForward *ports = NULL;
        _cleanup_free_ NftForward *live = NULL;
        _cleanup_free_ char *path = NULL;
        Manager *m = userdata;
        const char *name;
        size_t n = 0, n_live = 0;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = bus_check_machine_name(name, error);
        if (r < 0)
                return r;
        /* A running machine: what the kernel has. Otherwise: what its settings say. */
        if (manager_find_machine(m, name) && nft_list_forwards(table_of(m), name, &live, &n_live) >= 0 &&
            n_live > 0) {
                ports = calloc(n_live, sizeof(PortForward));
                if (!ports)
                        return -ENOMEM;
                for (size_t i = 0; i < n_live; i++)
                        ports[n++] = live[i].port;
        } else {
                r = ports_load(m, name, &path, &ports, &n, error);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(sqq)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_append(reply, "(sqq)", port_protocol_to_string(ports[i].protocol),
                        ports[i].host_port, ports[i].container_port);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable network_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("AddMachinePortForward", SD_BUS_ARGS("s", name, "s", forward),
                                SD_BUS_NO_RESULT, method_add_machine_port_forward, 0),
        SD_BUS_METHOD_WITH_ARGS("RemoveMachinePortForward", SD_BUS_ARGS("s", name, "s", forward),
                                SD_BUS_NO_RESULT, method_remove_machine_port_forward, 0),
        SD_BUS_METHOD_WITH_ARGS("ListMachinePortForwards", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a(sqq)", forwards), method_list_machine_port_forwards,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int manager_add_network_bus_objects(Manager *m, sd_bus *bus) {
        return manager_add_vtable(m, bus, false, BUS_OBJECT_MANAGER, network_vtable, NULL, m);
}
