/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "bus-path.h"
#include "machined-api.h"
#include "machined.h"
#include "names.h"
#include "util/process.h"
#include "util/strv.h"
#include "util/escape.h"
#include "util/util.h"

int machine_new(Manager *m, MachineRecord *rec, int pidfd, Machine **ret) {
        _cleanup_free_ Machine *machine = NULL;
        int r;

        assert(m);
        assert(rec);
        assert(ret);

        machine = calloc(1, sizeof(Machine));
        if (!machine)
                return -ENOMEM;
        r = machine_bus_path(rec->name, &machine->path);
        if (r < 0)
                return r;

        machine->manager = m;
        machine->rec = *rec;
        *rec = (MachineRecord) {};
        machine->pidfd = pidfd;
        LIST_PREPEND(m->machines, machine);
        m->n_machines++;

        *ret = TAKE_PTR(machine);
        return 0;
}

Machine *machine_free(Machine *machine) {
        if (!machine)
                return NULL;
        if (machine->manager) {
                LIST_REMOVE(machine->manager->machines, machine);
                machine->manager->n_machines--;
        }
        sd_event_source_disable_unref(machine->pidfd_source);
        safe_close(machine->pidfd);
        machine_record_done(&machine->rec);
        free(machine->path);
        free(machine);
        return NULL;
}

Machine *manager_find_machine(Manager *m, const char *name) {
        LIST_FOREACH(i, m->machines)
                if (streq(i->rec.name, name))
                        return i;
        return NULL;
}

Machine *manager_find_machine_by_path(Manager *m, const char *path) {
        _cleanup_free_ char *name = NULL;

        /* Our paths and machine1's name the same machines. */
        if (machine_name_from_bus_path(path, &name) < 0)
                return NULL;
        if (m->host && bus_path_is_machine1(path) && streq(name, ".host"))
                return m->host;
        return manager_find_machine(m, name);
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
        if (machine_is_host(machine))
                return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED,
                                         "The host is no machine of nspawnctl's to signal.");
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

/* A process's command line as one line of text for the caller's terminal: what a guest
 * process puts in its title is hostile, so controls, C1 and invalid UTF-8 are escaped, and
 * it is cut at a sane length. */
static char *process_title(pid_t pid) {
        _cleanup_free_ char *raw = NULL;
        char path[64];
        size_t n = 0;

        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        if (read_full_file(path, &raw, &n) < 0 || n == 0) {
                raw = mfree(raw);
                snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
                if (read_one_line(path, &raw) < 0)
                        return NULL;
                n = strlen(raw);
        }
        for (size_t i = 0; i + 1 < n; i++)
                if (raw[i] == 0)
                        raw[i] = ' ';
        raw[MIN(n, (size_t) 200)] = 0;
        return escape_terminal(raw, 400, ESCAPE_BACKSLASH);
}

static int method_list_processes(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        Machine *machine = userdata;
        size_t n = 0;
        int r;

        if (machine->rec.cgroup && (r = cgroup_list_pids(machine->rec.cgroup, &pids, &n)) < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to list the processes of %s: %m", machine->rec.name);
        if (n == 0 && machine->rec.leader > 0) {
                /* Without a cgroup (or before the init is in it) the leader is all we know. */
                pids = malloc(sizeof(pid_t));
                if (!pids)
                        return -ENOMEM;
                pids[n++] = (pid_t) machine->rec.leader;
        }
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(us)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *title = process_title(pids[i]);
                if (title) /* gone meanwhile */
                        r = sd_bus_message_append(reply, "(us)", (uint32_t) pids[i], title);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
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
        sd_id128_t id = SD_ID128_NULL;

        /* The record has it as hex (or not at all); machine1 has it as 16 bytes. */
        (void) sd_id128_from_string(machine->rec.id, &id);
        return sd_bus_message_append_array(reply, 'y', id.bytes, 16);
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
        SD_BUS_PROPERTY("UIDShift", "u", NULL, offsetof(Machine, rec.uid_shift), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("UIDRange", "u", NULL, offsetof(Machine, rec.uid_range), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("Terminate", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_terminate, 0),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("s", whom, "i", signal), SD_BUS_NO_RESULT,
                                method_kill, 0),
        SD_BUS_METHOD_WITH_ARGS("ListProcesses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(us)", processes),
                                method_list_processes, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int bus_machine_object_find(sd_bus *bus, const char *path, const char *interface,
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
        bool machine1 = bus_path_is_machine1(path);

        if (machine1 && m->host && (r = strv_extend(&l, m->host->path)) < 0)
                return r;
        LIST_FOREACH(i, m->machines) {
                char *p = NULL;
                r = machine_bus_path_full(machine1, i->rec.name, &p);
                if (r >= 0)
                        r = strv_consume(&l, p);
                if (r < 0)
                        return r;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

int machine_add_bus_objects(Manager *m, sd_bus *bus, bool machine1) {
        int r;

        r = manager_add_vtable(m, bus, machine1, BUS_OBJECT_MACHINE, machine_vtable, bus_machine_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(bus, NULL, bus_object_prefix(machine1, BUS_OBJECT_MACHINE),
                                          machine_node_enumerator, m);
}
