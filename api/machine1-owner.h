/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Who answers for org.freedesktop.machine1 on a bus: nobody, our own machined (which serves
 * it where nobody else does), or someone else - systemd-machined, running or activatable.
 * machined asks before taking the name (--machine1=auto), the supervisor before registering
 * a box with it: registering with ourselves would only make a loop. */
typedef enum Machine1Owner {
        MACHINE1_OWNER_NONE,
        MACHINE1_OWNER_NSPAWNCTL,
        MACHINE1_OWNER_OTHER,
} Machine1Owner;

int machine1_owner(sd_bus *bus, Machine1Owner *ret);

/* The machine called name in org.freedesktop.machine1: its object path and its Service (who
 * registered it; ours say MACHINE1_SERVICE_NSPAWNCTL), so that nobody touches an entry of
 * someone else's. A negative errno also when there is no such machine. */
int machine1_machine_service(sd_bus *bus, const char *name, char **ret_path, char **ret_service);
