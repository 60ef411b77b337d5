/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "in-addr.h"
#include "log.h"
#include "machine-network.h"
#include "machined-api.h"
#include "names.h"
#include "net-port.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

int machine_addresses_get(sd_bus *bus, const char *name, char ***ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        int r;

        if (!l)
                return log_oom(), EXIT_FAIL;
        /* A machine that is not running (yet) simply has no addresses: no error is logged. */
        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "GetMachineAddresses",
                0, NULL, &reply, "s", name);
        if (r == 0) {
                r = sd_bus_message_enter_container(reply, 'a', "(iay)");
                while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "iay")) > 0) {
                        union in_addr_union a = {};
                        char buf[INET6_ADDRSTRLEN];
                        const void *p;
                        int32_t family;
                        size_t n;

                        r = sd_bus_message_read(reply, "i", &family);
                        if (r >= 0)
                                r = sd_bus_message_read_array(reply, 'y', &p, &n);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        if (r < 0)
                                break;
                        if ((family != AF_INET && family != AF_INET6) || n != in_addr_size(family))
                                continue;
                        memcpy(a.bytes, p, n);
                        if (strv_extend(&l, in_addr_to_string(family, &a, buf)) < 0)
                                return log_oom(), EXIT_FAIL;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to parse the machine's addresses: %m"), EXIT_FAIL;
        }
        *ret = TAKE_PTR(l);
        return EXIT_OK;
}

int machine_forwards_get(sd_bus *bus, const char *name, const char *what, char ***ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        const char *proto;
        uint16_t host, container;
        int r;

        if (!l)
                return log_oom(), EXIT_FAIL;
        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                "ListMachinePortForwards", 0, what, &reply, "s", name);
        if (r > 0 && what)
                return r;
        if (r == 0) {
                r = sd_bus_message_enter_container(reply, 'a', "(sqq)");
                while (r >= 0 && (r = sd_bus_message_read(reply, "(sqq)", &proto, &host, &container)) > 0) {
                        char *s;
                        if (asprintf(&s, "%s:%u:%u", proto, host, container) < 0 || strv_consume(&l, s) < 0)
                                return log_oom(), EXIT_FAIL;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to parse the port forwards: %m"), EXIT_FAIL;
        }
        *ret = TAKE_PTR(l);
        return EXIT_OK;
}

void json_print_strv(char **l) {
        printf("[");
        STRV_FOREACH(s, l) {
                if (s != l)
                        printf(",");
                json_print_string(*s);
        }
        printf("]");
}

void json_print_forwards(char **l) {
        bool first = true;

        printf("[");
        STRV_FOREACH(s, l) {
                PortForward f;
                if (port_forward_parse(*s, &f) < 0)
                        continue;
                printf("%s{\"protocol\":\"%s\",\"host\":%u,\"container\":%u}", first ? "" : ",",
                        port_protocol_to_string(f.protocol), f.host_port, f.container_port);
                first = false;
        }
        printf("]");
}

static void help(void) {
        printf("nspawnctl port NAME add [tcp:|udp:]HOST[:CONTAINER]\n"
               "nspawnctl port NAME remove [tcp:|udp:]HOST\n"
               "nspawnctl port NAME list [--json]\n\n"
               "Forward a host port to a machine, stop forwarding it, or list the forwards. The\n"
               "change applies at once to a running machine on the managed network and is kept\n"
               "in the machine's settings (Port=). A forwarded port answers on the host's\n"
               "addresses, 127.0.0.1 and ::1, and to other machines.\n\n"
               "  -h --help             Show this help\n"
               "     --state-dir=DIR    Where machined's private socket is, when there is no\n"
               "                        system bus (default $NSPAWNCTL_STATE_DIR or /run/nspawnctl)\n"
               "     --json             For list: one JSON array, for scripts\n");
}

int verb_port(int argc, char *argv[]) {
        static const struct option options[] = {{"help", no_argument, NULL, 'h'},
                {"state-dir", required_argument, NULL, 'S'}, {"json", no_argument, NULL, 'j'}, {}};
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_strv_free_ char **l = NULL;
        const char *state_dir = NULL, *name, *action;
        bool json = false;
        PortForward p;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'S':
                        if (bus_parse_state_dir(optarg, &state_dir) < 0)
                                return EXIT_USAGE;
                        break;
                case 'j':
                        json = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (argc - optind < 2)
                return log_error(
                               "port: expected NAME and add, remove or list. See 'nspawnctl port --help'."),
                       EXIT_USAGE;
        name = argv[optind];
        action = argv[optind + 1];
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT);
        if (streq(action, "list")) {
                if (argc - optind != 2)
                        return log_error("port list takes no more arguments."), EXIT_USAGE;
        } else if (streq(action, "add") || streq(action, "remove")) {
                if (argc - optind != 3)
                        return log_error("port %s: expected one [tcp:|udp:]HOST[:CONTAINER].", action),
                               EXIT_USAGE;
                if (port_forward_parse(argv[optind + 2], &p) < 0)
                        return log_invalid("port forward", argv[optind + 2],
                                       ": expected [tcp:|udp:]HOST[:CONTAINER] with ports 1-65535."),
                               EXIT_USAGE;
        } else
                return log_invalid("port action", action, ": use add, remove or list."), EXIT_USAGE;

        r = bus_connect_machined(bus_state_dir(state_dir), &bus);
        if (r > 0)
                return r;

        if (streq(action, "list")) {
                r = machine_forwards_get(bus, name, "list the port forwards", &l);
                if (r > 0)
                        return r;
                if (json) {
                        json_print_forwards(l);
                        printf("\n");
                        return EXIT_OK;
                }
                printf("%-6s %-6s %s\n", "PROTO", "HOST", "CONTAINER");
                STRV_FOREACH(s, l) {
                        PortForward f;
                        if (port_forward_parse(*s, &f) >= 0)
                                printf("%-6s %-6u %u\n", port_protocol_to_string(f.protocol), f.host_port,
                                        f.container_port);
                }
                return EXIT_OK;
        }

        char spec[PORT_FORWARD_STRLEN];
        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                streq(action, "add") ? "AddMachinePortForward" : "RemoveMachinePortForward", 0,
                streq(action, "add") ? "add the port forward" : "remove the port forward", NULL, "ss", name,
                port_forward_to_string(&p, spec));
        return r;
}
