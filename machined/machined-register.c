/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Our boxes in a real systemd-machined (org.freedesktop.machine1 owned by someone else): the
 * supervisor registers each box when it starts (supervisor/supervisor-register.c); machined
 * unregisters it when it sees the box's supervisor go, because systemd-machined 252 only
 * notices the end of a machine through systemd's unit of it, and our boxes live in cgroups of
 * their own. Nothing here may fail anything: a host without systemd-machined is the normal
 * case. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-path.h"
#include "log.h"
#include "machine1-owner.h"
#include "machined-api.h"
#include "machined.h"
#include "util/util.h"

/* Only the entry we made: same service and same leader (a box of systemd-nspawn's may have
 * the name). */
static int registered_by_us(sd_bus *bus, const Machine *machine) {
        _cleanup_free_ char *path = NULL, *service = NULL;
        uint32_t leader = 0;
        int r;

        r = machine1_machine_service(bus, machine->rec.name, &path, &service);
        if (r < 0)
                return 0;
        r = sd_bus_get_property_trivial(bus, MACHINE1_BUS_NAME, path, MACHINE1_MACHINE_INTERFACE, "Leader",
                                        NULL, 'u', &leader);
        if (r < 0)
                return 0;
        return streq(service, MACHINE1_SERVICE_NSPAWNCTL) && leader == machine->rec.leader;
}

void manager_unregister_machine1(Manager *m, Machine *machine) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Machine1Owner owner;
        int r;

        if (!m->bus || machine->rec.leader == 0)
                return;
        if (machine1_owner(m->bus, &owner) < 0 || owner != MACHINE1_OWNER_OTHER)
                return;
        if (registered_by_us(m->bus, machine) <= 0)
                return;
        r = sd_bus_call_method(m->bus, MACHINE1_BUS_NAME, MACHINE1_OBJECT_PATH, MACHINE1_MANAGER_INTERFACE,
                               "UnregisterMachine", &error, NULL, "s", machine->rec.name);
        if (r < 0)
                log_warning("Failed to unregister machine %s from systemd-machined: %s", machine->rec.name,
                            error.message ?: strerror(-r));
        else
                log_info("Unregistered machine %s from systemd-machined.", machine->rec.name);
}
