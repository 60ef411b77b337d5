/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.freedesktop.machine1, served by machined with the same objects as its own API.
 *
 * Every vtable machined serves is registered a second time under machine1's paths and
 * interfaces (manager_add_vtable()). The second copy's methods go through one trampoline,
 * which calls the real handler and renames the errors machine1 knows (NoSuchMachine...) to
 * machine1's names; replies sent later (workers, sessions, starts) are renamed by
 * bus_reply_method_error(). Handlers that return object paths ask bus_message_is_machine1()
 * which paths to give. The ".host" pseudo-machine exists only under machine1: our own API has
 * never listed it, and nspawnctl must not start showing it. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-path.h"
#include "log.h"
#include "machine1-owner.h"
#include "machined-api.h"
#include "machined.h"
#include "util/process.h"
#include "util/util.h"

typedef struct Machine1Handler {
        BusObjectKind kind;
        const char *member;
        sd_bus_message_handler_t handler;
} Machine1Handler;

typedef struct Machine1Vtable {
        const sd_bus_vtable *orig;
        sd_bus_vtable *copy;
} Machine1Vtable;

struct Machine1State {
        Machine1Vtable *vtables;
        size_t n_vtables;
        Machine1Handler *handlers;
        size_t n_handlers;
};

void manager_machine1_free(Manager *m) {
        Machine1State *s = m->machine1;

        if (s) {
                for (size_t i = 0; i < s->n_vtables; i++)
                        free(s->vtables[i].copy);
                free(s->vtables);
                free(s->handlers);
                free(s);
                m->machine1 = NULL;
        }
        if (m->host) {
                machine_record_done(&m->host->rec);
                free(m->host->path);
                m->host = mfree(m->host);
        }
}

bool bus_message_is_machine1(sd_bus_message *message) {
        return message && bus_path_is_machine1(sd_bus_message_get_path(message));
}

static void error_to_machine1(sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        const char *name;

        if (!sd_bus_error_is_set(error))
                return;
        name = bus_error_name_to_machine1(error->name);
        if (!name)
                return;
        (void) sd_bus_error_set(&e, name, error->message);
        sd_bus_error_free(error);
        (void) sd_bus_error_move(error, &e);
}

int bus_reply_method_error(sd_bus_message *call, const sd_bus_error *error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

        if (!bus_message_is_machine1(call))
                return sd_bus_reply_method_error(call, error);
        (void) sd_bus_error_copy(&e, error);
        error_to_machine1(&e);
        return sd_bus_reply_method_error(call, &e);
}

static BusObjectKind kind_of_path(const char *path) {
        if (!path || streq(path, MACHINE1_OBJECT_PATH))
                return BUS_OBJECT_MANAGER;
        if (startswith(path, MACHINE1_MACHINE_PATH_PREFIX "/"))
                return BUS_OBJECT_MACHINE;
        return BUS_OBJECT_IMAGE;
}

static int machine1_trampoline(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        BusObjectKind kind = kind_of_path(sd_bus_message_get_path(message));
        const char *member = sd_bus_message_get_member(message);
        /* Manager and image objects are served with the manager as userdata, machines with
         * the machine. */
        Manager *m = kind == BUS_OBJECT_MACHINE ? ((Machine *) userdata)->manager : userdata;
        Machine1State *s = m->machine1;
        int r;

        for (size_t i = 0; i < s->n_handlers; i++) {
                if (s->handlers[i].kind != kind || !streq(s->handlers[i].member, member))
                        continue;
                r = s->handlers[i].handler(message, userdata, error);
                error_to_machine1(error);
                return r;
        }
        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_METHOD, "Unknown method %s.", strna(member));
}

/* The machine1 twin of vtable: the same entries, methods through the trampoline. */
static int machine1_vtable(Manager *m, const sd_bus_vtable *vtable, BusObjectKind kind,
                           const sd_bus_vtable **ret) {
        Machine1State *s = m->machine1;
        Machine1Vtable *vt;
        sd_bus_vtable *copy;
        size_t n = 0, methods = 0;

        for (size_t i = 0; i < s->n_vtables; i++)
                if (s->vtables[i].orig == vtable) {
                        *ret = s->vtables[i].copy;
                        return 0;
                }
        while (vtable[n].type != _SD_BUS_VTABLE_END)
                if (vtable[n++].type == _SD_BUS_VTABLE_METHOD)
                        methods++;
        n++; /* the end marker */

        copy = malloc(n * sizeof *copy);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, vtable, n * sizeof *copy);
        vt = reallocarray(s->vtables, s->n_vtables + 1, sizeof *vt);
        if (!vt) {
                free(copy);
                return -ENOMEM;
        }
        s->vtables = vt;
        s->vtables[s->n_vtables++] = (Machine1Vtable){ .orig = vtable, .copy = copy };

        Machine1Handler *h = reallocarray(s->handlers, s->n_handlers + methods, sizeof *h);
        if (!h)
                return -ENOMEM;
        s->handlers = h;
        for (size_t i = 0; i < n; i++) {
                if (copy[i].type != _SD_BUS_VTABLE_METHOD || !copy[i].x.method.handler)
                        continue;
                s->handlers[s->n_handlers++] = (Machine1Handler){
                        .kind = kind,
                        .member = copy[i].x.method.member,
                        .handler = copy[i].x.method.handler,
                };
                copy[i].x.method.handler = machine1_trampoline;
        }
        *ret = copy;
        return 0;
}

int manager_add_vtable(Manager *m, sd_bus *bus, bool machine1, BusObjectKind kind,
                       const sd_bus_vtable *vtable, sd_bus_object_find_t find, void *userdata) {
        static const char *const names[2][3][2] = {
                { { MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE },
                  { MACHINED_MACHINE_PATH_PREFIX, MACHINED_MACHINE_INTERFACE },
                  { MACHINED_IMAGE_PATH_PREFIX, MACHINED_IMAGE_INTERFACE } },
                { { MACHINE1_OBJECT_PATH, MACHINE1_MANAGER_INTERFACE },
                  { MACHINE1_MACHINE_PATH_PREFIX, MACHINE1_MACHINE_INTERFACE },
                  { MACHINE1_IMAGE_PATH_PREFIX, MACHINE1_IMAGE_INTERFACE } },
        };
        const char *path = names[machine1][kind][0], *interface = names[machine1][kind][1];
        int r;

        if (machine1) {
                r = machine1_vtable(m, vtable, kind, &vtable);
                if (r < 0)
                        return r;
        }
        if (kind == BUS_OBJECT_MANAGER)
                return sd_bus_add_object_vtable(bus, NULL, path, interface, vtable, userdata);
        return sd_bus_add_fallback_vtable(bus, NULL, path, interface, vtable, find, userdata);
}

const char *bus_object_prefix(bool machine1, BusObjectKind kind) {
        switch (kind) {
        case BUS_OBJECT_MANAGER:
                return machine1 ? MACHINE1_OBJECT_PATH : MACHINED_OBJECT_PATH;
        case BUS_OBJECT_MACHINE:
                return machine1 ? MACHINE1_MACHINE_PATH_PREFIX : MACHINED_MACHINE_PATH_PREFIX;
        case BUS_OBJECT_IMAGE:
                return machine1 ? MACHINE1_IMAGE_PATH_PREFIX : MACHINED_IMAGE_PATH_PREFIX;
        }
        return NULL;
}

/* The host as machine1 shows it: a running "machine" of class host whose leader is PID 1. */
static int host_machine_new(Manager *m, Machine **ret) {
        _cleanup_free_ char *id = NULL;
        _cleanup_free_ Machine *h = calloc(1, sizeof(Machine));
        uint64_t start = 0;
        int r;

        if (!h)
                return -ENOMEM;
        /* Never in m->machines: nothing lists, drops or frees it but machine1's code. */
        h->manager = m;
        h->pidfd = -EBADF;
        h->rec = (MachineRecord){
                .name = strdup(".host"),
                .class = strdup("host"),
                .service = strdup(""),
                .root = strdup("/"),
                .state = MACHINE_RUNNING,
                .leader = 1,
        };
        if (!h->rec.name || !h->rec.class || !h->rec.service || !h->rec.root) {
                machine_record_done(&h->rec);
                return -ENOMEM;
        }
        if (proc_start_time(1, &start) >= 0)
                h->rec.leader_start = start;
        if (read_one_line("/etc/machine-id", &id) >= 0 && strlen(id) == 32)
                memcpy(h->rec.id, id, 33);
        r = machine_bus_path_full(true, ".host", &h->path);
        if (r < 0) {
                machine_record_done(&h->rec);
                return r;
        }
        *ret = TAKE_PTR(h);
        return 0;
}

int manager_machine1_init(Manager *m) {
        int r;

        if (m->machine1_mode == MACHINE1_NO)
                return 0;
        m->machine1 = calloc(1, sizeof(Machine1State));
        if (!m->machine1)
                return -ENOMEM;
        r = host_machine_new(m, &m->host);
        if (r < 0)
                return r;
        return 0;
}

bool machine_is_host(const Machine *machine) {
        return machine && machine->manager && machine->manager->host == machine;
}

int manager_machine1_request_name(Manager *m, sd_bus *bus) {
        Machine1Owner owner;
        int r;

        if (m->machine1_mode == MACHINE1_NO)
                return 0;
        if (m->machine1_mode == MACHINE1_AUTO) {
                r = machine1_owner(bus, &owner);
                if (r < 0)
                        return log_warning_errno(r, "Cannot tell whether %s is served: %m; not serving it.",
                                                 MACHINE1_BUS_NAME);
                if (owner == MACHINE1_OWNER_OTHER) {
                        log_info("%s is served by another service (systemd-machined); not serving it.",
                                 MACHINE1_BUS_NAME);
                        return 0;
                }
        }
        /* "yes" waits in the queue behind whoever has it; "auto" only takes a free name. */
        r = sd_bus_request_name(bus, MACHINE1_BUS_NAME,
                                m->machine1_mode == MACHINE1_YES ? SD_BUS_NAME_QUEUE : 0);
        if (r == -EEXIST || r == -EALREADY) {
                log_info("%s was taken meanwhile; not serving it.", MACHINE1_BUS_NAME);
                return 0;
        }
        if (r < 0)
                return log_warning_errno(r, "Failed to take %s: %m", MACHINE1_BUS_NAME);
        if (r == 0)
                log_notice("%s is owned by another connection; queued for it.", MACHINE1_BUS_NAME);
        else
                log_info("Serving %s too.", MACHINE1_BUS_NAME);
        return 0;
}

int manager_emit_machine1_signal(Manager *m, sd_bus *bus, const char *member, Machine *machine) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!m->machine1)
                return 0;
        r = machine_bus_path_full(true, machine->rec.name, &path);
        if (r < 0)
                return r;
        return sd_bus_emit_signal(bus, MACHINE1_OBJECT_PATH, MACHINE1_MANAGER_INTERFACE, member, "so",
                                  machine->rec.name, path);
}

int manager_emit_machine1_changed(Manager *m, sd_bus *bus, Machine *machine) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!m->machine1)
                return 0;
        r = machine_bus_path_full(true, machine->rec.name, &path);
        if (r < 0)
                return r;
        return sd_bus_emit_properties_changed(bus, path, MACHINE1_MACHINE_INTERFACE, "State", "Leader",
                                              NULL);
}
