/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bus-path.h"
#include "cgroup.h"
#include "log.h"
#include "machined-api.h"
#include "machined-network.h"
#include "machined.h"
#include "names.h"
#include "util/util.h"

/* The D-Bus policy already keeps non-root callers away from these methods, but the private
 * socket has no policy and a policy file can be edited: check the caller's euid here too. */
int bus_check_root(sd_bus_message *message, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        if (uid != 0)
                return sd_bus_error_setf(error, BUS_ERROR_NOT_PERMITTED,
                                         "Only root may change machines (caller uid %u).",
                                         (unsigned) uid);
        return 0;
}

int bus_check_machine_name(const char *name, sd_bus_error *error) {
        if (!machine_name_is_valid(name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME,
                                         "Invalid machine name: a host name of at most 64 bytes made of "
                                         "[A-Za-z0-9-] labels joined by dots.");
        return 0;
}

int manager_find_machine_or_error(Manager *m, const char *name, Machine **ret, sd_bus_error *error) {
        Machine *machine;
        int r;

        if (m->host && streq(name, ".host")) {
                *ret = m->host;
                return 0;
        }

        r = bus_check_machine_name(name, error);
        if (r < 0)
                return r;
        machine = manager_find_machine(m, name);
        if (!machine)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_MACHINE,
                                         "No machine '%s' known.", name);
        *ret = machine;
        return 0;
}

static int method_list_machines(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        bool machine1 = bus_message_is_machine1(message);
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssso)");
        if (r < 0)
                return r;
        /* machine1 lists the host first, as ".host" (machinectl hides it without --all). */
        if (machine1 && m->host) {
                r = sd_bus_message_append(reply, "(ssso)", m->host->rec.name, m->host->rec.class, "",
                                          m->host->path);
                if (r < 0)
                        return r;
        }
        LIST_FOREACH(i, m->machines) {
                _cleanup_free_ char *path = NULL;
                r = machine_bus_path_full(machine1, i->rec.name, &path);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "(ssso)", i->rec.name, strna(i->rec.class),
                                          strna(i->rec.service), path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int reply_machine_path(sd_bus_message *message, Machine *machine) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = machine_bus_path_full(bus_message_is_machine1(message), machine->rec.name, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

static int method_get_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Machine *machine;
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = manager_find_machine_or_error(userdata, name, &machine, error);
        if (r < 0)
                return r;
        return reply_machine_path(message, machine);
}

static int method_get_machine_by_pid(sd_bus_message *message, void *userdata,
                                     sd_bus_error *error) {
        Manager *m = userdata;
        uint32_t pid;
        int r;

        r = sd_bus_message_read(message, "u", &pid);
        if (r < 0)
                return r;
        if (pid == 0) {
                _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
                pid_t p;
                r = sd_bus_query_sender_creds(message, SD_BUS_CREDS_PID, &creds);
                if (r < 0)
                        return r;
                r = sd_bus_creds_get_pid(creds, &p);
                if (r < 0)
                        return r;
                pid = (uint32_t) p;
        }
        LIST_FOREACH(i, m->machines)
                if (i->rec.leader == pid ||
                    (i->rec.cgroup && cgroup_contains_pid(i->rec.cgroup, (pid_t) pid)))
                        return reply_machine_path(message, i);
        return sd_bus_error_setf(error, BUS_ERROR_NO_MACHINE_FOR_PID,
                                 "PID %u does not belong to any known machine.", pid);
}

static int kill_by_name(sd_bus_message *message, Manager *m, const char *name, const char *whom,
                        int sig, sd_bus_error *error) {
        Machine *machine;
        int r;

        r = manager_find_machine_or_error(m, name, &machine, error);
        if (r < 0)
                return r;
        return bus_machine_kill(machine, message, whom, sig, error);
}

static int method_terminate_machine(sd_bus_message *message, void *userdata,
                                    sd_bus_error *error) {
        const char *name;
        int r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        return kill_by_name(message, userdata, name, "leader", SIGKILL, error);
}

/* How each init is asked to power off or reboot: the signal it understands, or (0) its own
 * command run inside. A command that is PID 1 (no init) gets SIGTERM and cannot reboot. */
static int shutdown_signal(MachineInit init, bool reboot) {
        switch (init) {
        case MACHINE_INIT_NONE:
                return reboot ? -1 : SIGTERM;
        case MACHINE_INIT_SYSTEMD:
                return reboot ? SIGINT : SIGRTMIN + 4;
        case MACHINE_INIT_BUSYBOX:
                return reboot ? SIGTERM : SIGUSR2;
        case MACHINE_INIT_OPENRC:
                return reboot ? SIGINT : SIGUSR2;
        default: /* sysvinit: SIGINT is ctrl-alt-del, whatever its inittab makes of it */
                return 0;
        }
}

static int shutdown_machine(sd_bus_message *message, Manager *m, bool reboot, sd_bus_error *error) {
        Machine *machine;
        const char *name;
        int sig, r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = manager_find_machine_or_error(m, name, &machine, error);
        if (r < 0)
                return r;
        /* KillSignal= of the machine's settings is how it is asked to stop (the record has it). */
        sig = !reboot && machine->rec.kill_signal > 0 ? (int) machine->rec.kill_signal
                                                      : shutdown_signal(machine->rec.init, reboot);
        if (sig < 0)
                return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED,
                                         "Machine '%s' runs a command, not an init: it cannot reboot.", name);
        if (sig > 0 && machine->rec.state == MACHINE_OPENING && machine->rec.init == MACHINE_INIT_SYSTEMD) {
                r = bus_check_root(message, error);
                if (r < 0)
                        return r;
                machine->pending_signal = sig;
                log_info("Machine %s is still starting: it is asked to %s once it runs.", name,
                         reboot ? "reboot" : "power off");
                return sd_bus_reply_method_return(message, NULL);
        }
        if (sig > 0)
                return bus_machine_kill(machine, message, "leader", sig, error);
        return manager_run_in_machine_as_root(m, message, name, reboot ? "/sbin/reboot" : "/sbin/poweroff", error);
}

static int method_poweroff_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return shutdown_machine(message, userdata, false, error);
}

static int method_reboot_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return shutdown_machine(message, userdata, true, error);
}

static int method_kill_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name, *whom;
        int32_t sig;
        int r = sd_bus_message_read(message, "ssi", &name, &whom, &sig);
        if (r < 0)
                return r;
        return kill_by_name(message, userdata, name, whom, sig, error);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("PoolPath", "s", NULL, offsetof(Manager, pool), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StateDirectory", "s", NULL, offsetof(Manager, state_dir), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("ListMachines", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(ssso)", machines), method_list_machines,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachine", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("o", machine), method_get_machine,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineByPID", SD_BUS_ARGS("u", pid),
                                SD_BUS_RESULT("o", machine), method_get_machine_by_pid,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartMachine", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("o", machine), bus_method_start_machine, 0),
        SD_BUS_METHOD_WITH_ARGS("StartMachineWithFlags", SD_BUS_ARGS("s", name, "t", flags),
                                SD_BUS_RESULT("o", machine), bus_method_start_machine, 0),
        SD_BUS_METHOD_WITH_ARGS("PowerOffMachine", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_poweroff_machine, 0),
        SD_BUS_METHOD_WITH_ARGS("RebootMachine", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_reboot_machine, 0),
        SD_BUS_METHOD_WITH_ARGS("TerminateMachine", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_terminate_machine, 0),
        SD_BUS_METHOD_WITH_ARGS("KillMachine", SD_BUS_ARGS("s", name, "s", whom, "i", signal),
                                SD_BUS_NO_RESULT, method_kill_machine, 0),
        SD_BUS_SIGNAL_WITH_ARGS("MachineNew", SD_BUS_ARGS("s", machine, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("MachineRemoved", SD_BUS_ARGS("s", machine, "o", path), 0),
        SD_BUS_VTABLE_END,
};

/* Our API, and machine1's with the same objects unless machine1 is off. */
static int add_bus_objects(Manager *m, sd_bus *bus, bool machine1) {
        int r;

        r = manager_add_vtable(m, bus, machine1, BUS_OBJECT_MANAGER, manager_vtable, NULL, m);
        if (r < 0)
                return r;
        r = manager_add_image_bus_objects(m, bus, machine1);
        if (r < 0)
                return r;
        r = manager_add_login_bus_objects(m, bus, machine1);
        if (r < 0)
                return r;
        if (!machine1) {
                /* Ours only: machine1 has no such methods. */
                r = manager_add_log_bus_objects(m, bus);
                if (r < 0)
                        return r;
                r = manager_add_limits_bus_objects(m, bus);
                if (r < 0)
                        return r;
                r = manager_add_network_bus_objects(m, bus);
                r = manager_add_start_bus_objects(m, bus);
                if (r < 0)
                        return r;
        }
        r = machine_add_bus_objects(m, bus, machine1);
        if (r < 0)
                return r;
        r = manager_add_machine_info_bus_objects(m, bus, machine1);
        if (r < 0)
                return r;
        r = manager_add_copy_bus_objects(m, bus, machine1);
        if (r < 0)
                return r;
        r = manager_add_bind_bus_objects(m, bus, machine1);
        if (r < 0)
                return r;
        return manager_add_image_info_bus_objects(m, bus, machine1);
}

int manager_attach_bus(Manager *m, sd_bus *bus, sd_bus_message_handler_t filter,
                       void *userdata) {
        int r;

        r = sd_bus_add_filter(bus, NULL, filter, userdata);
        if (r < 0)
                return r;
        r = add_bus_objects(m, bus, false);
        if (r < 0)
                return r;
        if (m->machine1) {
                r = add_bus_objects(m, bus, true);
                if (r < 0)
                        return r;
        }
        return sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
}

static void emit_on_all(Manager *m, int (*f)(sd_bus *bus, Machine *machine, const char *member),
                        Machine *machine, const char *member) {
        if (m->bus)
                (void) f(m->bus, machine, member);
        LIST_FOREACH(c, m->connections)
                (void) f(c->bus, machine, member);
}

static int emit_signal_one(sd_bus *bus, Machine *machine, const char *member) {
        (void) manager_emit_machine1_signal(machine->manager, bus, member, machine);
        return sd_bus_emit_signal(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, member,
                                  "so", machine->rec.name, machine->path);
}

int manager_emit_signal(Manager *m, const char *member, Machine *machine) {
        emit_on_all(m, emit_signal_one, machine, member);
        return 0;
}

static int emit_changed_one(sd_bus *bus, Machine *machine, const char *member) {
        (void) manager_emit_machine1_changed(machine->manager, bus, machine);
        return sd_bus_emit_properties_changed(bus, machine->path, MACHINED_MACHINE_INTERFACE,
                                              "State", "Leader", "ConsoleSocket", "ConsoleLog",
                                              "ControlGroup", NULL);
}

void manager_emit_properties_changed(Manager *m, Machine *machine) {
        emit_on_all(m, emit_changed_one, machine, NULL);
}
