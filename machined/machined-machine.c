/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "machined-errors.h"
#include "machined-network.h"
#include "machined.h"
#include "names.h"
#include "util/strv.h"
#include "util/util.h"

int machine_new(Manager *m, MachineInfo *rec, int pidfd, Machine **ret) {
        _cleanup_free_ Machine *machine = NULL;
        _cleanup_free_ char *label = NULL;
        int r;

        assert(m);
        assert(rec);
        assert(ret);

        r = bus_label_escape(rec->name, &label);
        if (r < 0)
                return r;
        machine = calloc(1, sizeof(Machine));
        if (!machine)
                return -ENOMEM;
        machine->path = strjoin(MACHINED_MACHINE_PATH_PREFIX "/", label);
        if (!machine->path)
                return -ENOMEM;

        machine->manager = m;
        machine->rec = *rec;
        *rec = (MachineInfo) {};
        machine->pidfd = pidfd;

        machine->next = m->machines;
        if (m->machines)
                m->machines->prev = machine;
        m->machines = machine;
        m->n_machines++;

        *ret = TAKE_PTR(machine);
        return 0;
}

Machine *machine_free(Machine *machine) {
        if (!machine)
                return NULL;
        if (machine->manager) {
                Manager *m = machine->manager;
                if (machine->prev)
                        machine->prev->next = machine->next;
                else if (m->machines == machine)
                        m->machines = machine->next;
                if (machine->next)
                        machine->next->prev = machine->prev;
                m->n_machines--;
        }
        sd_event_source_disable_unref(machine->pidfd_source);
        safe_close(machine->pidfd);
        machine_info_done(&machine->rec);
        free(machine->path);
        free(machine);
        return NULL;
}

Machine *manager_find_machine(Manager *m, const char *name) {
        for (Machine *i = m->machines; i; i = i->next)
                if (streq(i->rec.name, name))
                        return i;
        return NULL;
}

Machine *manager_find_machine_by_path(Manager *m, const char *path) {
        for (Machine *i = m->machines; i; i = i->next)
                if (streq(i->path, path))
                        return i;
        return NULL;
}

static int pidfd_send_signal_safe(int pidfd, int sig) {
        return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int machine_send_signal(Machine *machine, const char *whom, int sig) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n = 0;
        int r;

        assert(machine);

        if (isempty(whom) || streq(whom, "all")) {
                if (machine->rec.cgroup) {
                        r = cgroup_list_pids(machine->rec.cgroup, &pids, &n);
                        if (r < 0)
                                return r;
                }
                /* Without a cgroup (or before the init is in it) the leader is all we know. */
                if (n == 0)
                        return machine_send_signal(machine, "leader", sig);
                for (size_t i = 0; i < n; i++)
                        if (kill(pids[i], sig) < 0 && errno != ESRCH)
                                r = -errno;
                return r < 0 ? r : 0;
        }
        if (!streq(whom, "leader"))
                return -EINVAL;

        /* The pid comes from a file, so only signal it if it is still the process that
         * started when the record says; a recycled pid must never get our SIGKILL. */
        if (machine->rec.leader == 0)
                return -ESRCH;
        fd = pidfd_open_verified(machine->rec.leader, machine->rec.leader_start);
        if (fd < 0)
                return fd;
        return pidfd_send_signal_safe(fd, sig);
}

static int reply_signal_error(int r, Machine *machine, sd_bus_error *error) {
        if (r == -ESRCH)
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING,
                                         "Machine '%s' has no running init process.",
                                         machine->rec.name);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid kill target, expected 'leader' or 'all'.");
        return sd_bus_error_set_errnof(error, r, "Failed to signal machine '%s': %m",
                                       machine->rec.name);
}

int bus_machine_kill(Machine *machine, sd_bus_message *message, const char *whom, int sig,
                     sd_bus_error *error) {
        int r;

        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        if (sig <= 0 || sig > SIGRTMAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid signal number %d.", sig);
        if (!isempty(whom) && !streq(whom, "leader") && !streq(whom, "all"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid kill target '%s', expected 'leader' or 'all'.",
                                         whom);
        r = machine_send_signal(machine, whom, sig);
        if (r < 0)
                return reply_signal_error(r, machine, error);
        log_info("Sent signal %d to %s of machine %s.", sig, isempty(whom) ? "all" : whom,
                 machine->rec.name);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_terminate(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return bus_machine_kill(userdata, message, "leader", SIGKILL, error);
}

static int method_kill(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *whom;
        int32_t sig;
        int r;

        r = sd_bus_message_read(message, "si", &whom, &sig);
        if (r < 0)
                return r;
        return bus_machine_kill(userdata, message, whom, sig, error);
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        Machine *machine = userdata;
        return sd_bus_message_append(reply, "s", machine_state_to_string(machine->rec.state));
}

static int property_get_id(sd_bus *bus, const char *path, const char *interface,
                           const char *property, sd_bus_message *reply, void *userdata,
                           sd_bus_error *error) {
        Machine *machine = userdata;
        return sd_bus_message_append_array(reply, 'y', machine->rec.id.bytes, 16);
}

const sd_bus_vtable machine_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Machine, rec.name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Id", "ay", property_get_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Class", "s", NULL, offsetof(Machine, rec.class), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Service", "s", NULL, offsetof(Machine, rec.service), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RootDirectory", "s", NULL, offsetof(Machine, rec.root), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Leader", "u", NULL, offsetof(Machine, rec.leader), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Supervisor", "u", NULL, offsetof(Machine, rec.supervisor), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Timestamp", "t", NULL, offsetof(Machine, rec.timestamp), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("TimestampMonotonic", "t", NULL, offsetof(Machine, rec.timestamp_monotonic), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("ConsoleSocket", "s", NULL, offsetof(Machine, rec.console_socket), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ConsoleLog", "s", NULL, offsetof(Machine, rec.console_log), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ControlGroup", "s", NULL, offsetof(Machine, rec.cgroup), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Terminate", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_terminate, 0),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("s", whom, "i", signal), SD_BUS_NO_RESULT,
                                method_kill, 0),
        SD_BUS_METHOD_WITH_ARGS("GetAddresses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(iay)", addresses),
                                method_machine_get_addresses, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int machine_object_find(sd_bus *bus, const char *path, const char *interface,
                               void *userdata, void **found, sd_bus_error *error) {
        Machine *machine = manager_find_machine_by_path(userdata, path);
        if (!machine)
                return 0;
        *found = machine;
        return 1;
}

static int machine_node_enumerator(sd_bus *bus, const char *path, void *userdata,
                                   char ***nodes, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        Manager *m = userdata;
        int r;

        if (!l)
                return -ENOMEM;
        for (Machine *i = m->machines; i; i = i->next) {
                r = strv_extend(&l, i->path);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

int machine_add_bus_objects(Manager *m, sd_bus *bus) {
        int r;

        r = sd_bus_add_fallback_vtable(bus, NULL, MACHINED_MACHINE_PATH_PREFIX,
                                       MACHINED_MACHINE_INTERFACE, machine_vtable,
                                       machine_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(bus, NULL, MACHINED_MACHINE_PATH_PREFIX,
                                          machine_node_enumerator, m);
}
