/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "machine1-owner.h"
#include "machined-api.h"
#include "macro.h"

static int name_owner(sd_bus *bus, const char *name, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *owner;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "GetNameOwner", &error, &reply, "s", name);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                        *ret = NULL;
                        return 0;
                }
                return r;
        }
        r = sd_bus_message_read(reply, "s", &owner);
        if (r < 0)
                return r;
        *ret = strdup(owner);
        return *ret ? 1 : -ENOMEM;
}

static int name_activatable(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *s;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "ListActivatableNames", NULL, &reply, NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "s", &s)) > 0)
                if (strcmp(s, name) == 0)
                        return 1;
        return r;
}

int machine1_owner(sd_bus *bus, Machine1Owner *ret) {
        _cleanup_free_ char *machine1 = NULL, *ours = NULL;
        int r;

        r = name_owner(bus, MACHINE1_BUS_NAME, &machine1);
        if (r < 0)
                return r;
        if (!machine1) {
                r = name_activatable(bus, MACHINE1_BUS_NAME);
                if (r < 0)
                        return r;
                *ret = r > 0 ? MACHINE1_OWNER_OTHER : MACHINE1_OWNER_NONE;
                return 0;
        }
        r = name_owner(bus, MACHINED_BUS_NAME, &ours);
        if (r < 0)
                return r;
        *ret = ours && strcmp(ours, machine1) == 0 ? MACHINE1_OWNER_NSPAWNCTL : MACHINE1_OWNER_OTHER;
        return 0;
}

int machine1_machine_service(sd_bus *bus, const char *name, char **ret_path, char **ret_service) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        const char *p;
        int r;

        r = sd_bus_call_method(bus, MACHINE1_BUS_NAME, MACHINE1_OBJECT_PATH, MACHINE1_MANAGER_INTERFACE,
                               "GetMachine", NULL, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return r;
        path = strdup(p);
        if (!path)
                return -ENOMEM;
        r = sd_bus_get_property_string(bus, MACHINE1_BUS_NAME, path, MACHINE1_MACHINE_INTERFACE, "Service",
                                       NULL, ret_service);
        if (r < 0)
                return r;
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return 0;
}
