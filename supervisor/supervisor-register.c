/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "log.h"
#include "machine1-owner.h"
#include "machined-api.h"
#include "netns-addr.h"
#include "supervisor-register.h"
#include "util/util.h"

/* The start waits for this at most: a hung systemd-machined must not hold a box back. */
#define REGISTER_TIMEOUT_USEC (5ULL * 1000000ULL)

static int call_register(sd_bus *bus, const SuperviseConfig *c, pid_t leader, const int *ifindices, size_t n,
                         sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_id128_t id = SD_ID128_NULL;
        int r;

        if (!isempty(c->spawn.machine_id))
                (void) sd_id128_from_string(c->spawn.machine_id, &id);
        r = sd_bus_message_new_method_call(bus, &m, MACHINE1_BUS_NAME, MACHINE1_OBJECT_PATH,
                                           MACHINE1_MANAGER_INTERFACE, "RegisterMachineWithNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", c->spawn.machine);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', id.bytes, sd_id128_is_null(id) ? 0 : 16);
        if (r >= 0)
                r = sd_bus_message_append(m, "ssus", MACHINE1_SERVICE_NSPAWNCTL, "container",
                                          (uint32_t) leader, strempty(c->spawn.directory));
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'i', ifindices, n * sizeof(int));
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, REGISTER_TIMEOUT_USEC, error, &reply);
}

/* A box of ours that rebooted under the same supervisor left its entry behind (machined
 * only unregisters when the supervisor ends): drop it if it is ours. */
static int drop_stale(sd_bus *bus, const char *name) {
        _cleanup_free_ char *service = NULL;
        int r;

        r = machine1_machine_service(bus, name, NULL, &service);
        if (r < 0)
                return r;
        if (!streq(service, MACHINE1_SERVICE_NSPAWNCTL))
                return -EEXIST; /* someone else's machine of that name */
        return sd_bus_call_method(bus, MACHINE1_BUS_NAME, MACHINE1_OBJECT_PATH, MACHINE1_MANAGER_INTERFACE,
                                  "UnregisterMachine", NULL, NULL, "s", name);
}

void supervisor_register_machine1(const SuperviseConfig *c, pid_t leader) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ int *ifindices = NULL;
        _cleanup_close_ int netns = -EBADF;
        Machine1Owner owner;
        char path[64];
        int r, n = 0;

        /* No system bus is the normal case on hosts without systemd: nothing to say. */
        if (sd_bus_open_system(&bus) < 0)
                return;
        (void) sd_bus_set_method_call_timeout(bus, REGISTER_TIMEOUT_USEC);
        r = machine1_owner(bus, &owner);
        if (r < 0 || owner != MACHINE1_OWNER_OTHER)
                return;

        /* The host's ends of the box's links, as systemd-nspawn passes them. */
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) leader);
        netns = open(path, O_RDONLY | O_CLOEXEC);
        if (netns >= 0) {
                n = netns_host_peer_ifindices(netns, &ifindices);
                if (n < 0)
                        n = 0;
        }

        r = call_register(bus, c, leader, ifindices, (size_t) n, &error);
        if (r < 0 && sd_bus_error_has_name(&error, BUS_ERROR_MACHINE1_MACHINE_EXISTS) &&
            drop_stale(bus, c->spawn.machine) >= 0) {
                sd_bus_error_free(&error);
                r = call_register(bus, c, leader, ifindices, (size_t) n, &error);
        }
        if (r < 0) {
                log_warning("Could not register machine %s with systemd-machined: %s", c->spawn.machine,
                            error.message ?: strerror(-r));
                return;
        }
        log_debug("Registered machine %s with systemd-machined.", c->spawn.machine);
}
