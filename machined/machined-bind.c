/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* BindMountMachine (and machine1's Machine.BindMount): a live bind mount of a host path into
 * a running machine (core/machine-ns.c: open_tree on the host, move_mount inside the
 * machine's mount namespace). The mount belongs to the machine's namespace and goes away with
 * it; nothing on the host needs cleaning up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "machine-ns.h"
#include "machined-api.h"
#include "machined.h"
#include "util/util.h"

static int check_path(const char *path, const char *what, sd_bus_error *error) {
        if (isempty(path) || path[0] != '/' || !utf8_is_valid(path) || strlen(path) >= 4096)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "The %s path must be absolute.",
                                         what);
        return 0;
}

static int bind_machine(sd_bus_message *message, Manager *m, const char *name, const char *source,
                        const char *destination, bool read_only, bool make_dir, sd_bus_error *error) {
        Machine *machine;
        char msg[400] = "";
        uint32_t shift = 0;
        int fd, r;

        r = bus_find_running_machine(m, message, name, true, &machine, error);
        if (r < 0)
                return r;
        /* machine1: an empty destination means the same path as the source. */
        if (isempty(destination))
                destination = source;
        if ((r = check_path(source, "source", error)) < 0 ||
            (r = check_path(destination, "destination", error)) < 0)
                return r;
        if (machine_is_host(machine))
                return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED,
                                         "Bind mounts on the host are mount's job.");
        /* With a user namespace the mount would have to be idmapped; not done yet. */
        r = machine_uid_shift((pid_t) machine->rec.leader, machine->rec.leader_start, &shift);
        if (r >= 0 && shift != 0)
                return sd_bus_error_setf(
                        error, BUS_ERROR_NOT_SUPPORTED,
                        "Bind mounts into a machine with a user namespace are not supported yet.");

        r = machine_operation_fork(m, message, "nspawnctl-bind", &fd);
        if (r != 0)
                return r;
        r = machine_bind_mount((pid_t) machine->rec.leader, machine->rec.leader_start, source, destination,
                               (read_only ? MACHINE_BIND_READ_ONLY : 0) |
                                       (make_dir ? MACHINE_BIND_MKDIR : 0),
                               msg, sizeof msg);
        machine_operation_exit(fd, r, msg[0] ? msg : NULL);
        return 0;
}

static int method_bind_mount_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name, *source, *destination;
        int read_only, make_dir, r;

        r = sd_bus_message_read(message, "sssbb", &name, &source, &destination, &read_only, &make_dir);
        if (r < 0)
                return r;
        return bind_machine(message, userdata, name, source, destination, read_only, make_dir, error);
}

static int method_bind_mount(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *source, *destination;
        Machine *machine = userdata;
        int read_only, make_dir, r;

        r = sd_bus_message_read(message, "ssbb", &source, &destination, &read_only, &make_dir);
        if (r < 0)
                return r;
        return bind_machine(message, machine->manager, machine->rec.name, source, destination, read_only,
                            make_dir, error);
}

static const sd_bus_vtable manager_bind_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS(
                "BindMountMachine",
                SD_BUS_ARGS("s", name, "s", source, "s", destination, "b", read_only, "b", mkdir),
                SD_BUS_NO_RESULT, method_bind_mount_machine, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable machine_bind_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("BindMount",
                                SD_BUS_ARGS("s", source, "s", destination, "b", read_only, "b", mkdir),
                                SD_BUS_NO_RESULT, method_bind_mount, 0),
        SD_BUS_VTABLE_END,
};

int manager_add_bind_bus_objects(Manager *m, sd_bus *bus, bool machine1) {
        int r;

        r = manager_add_vtable(m, bus, machine1, BUS_OBJECT_MANAGER, manager_bind_vtable, NULL, m);
        if (r < 0)
                return r;
        return manager_add_vtable(m, bus, machine1, BUS_OBJECT_MACHINE, machine_bind_vtable,
                                  bus_machine_object_find, m);
}
