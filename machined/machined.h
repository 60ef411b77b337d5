/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "machine-info.h"
#include "macro.h"
#include "settings.h"

typedef struct Manager Manager;
typedef struct Machine Machine;
typedef struct StartRequest StartRequest;
typedef struct PrivateConnection PrivateConnection;
typedef struct MachinedNetwork MachinedNetwork;

struct Machine {
        Manager *manager;
        /* Properties are read in place by SD_BUS_PROPERTY(…, offsetof(Machine, rec.…)). */
        MachineInfo rec;
        char *path;
        /* pidfd of the supervisor: it polls readable when the supervisor exits, whoever its
         * parent is, so machines started by an earlier machined are watched too. */
        int pidfd;
        sd_event_source *pidfd_source;
        Machine *prev, *next;
};

struct PrivateConnection {
        Manager *manager;
        sd_bus *bus;
        sd_event_source *defer_free;
        PrivateConnection *prev, *next;
};

struct Manager {
        sd_event *event;
        sd_bus *bus; /* the system bus; NULL when there is none */
        sd_event_source *bus_retry_source; /* tries the system bus again while there is none */
        char *pool;
        char *state_dir;
        char *machines_dir;
        int machines_dir_fd;
        char *logs_dir;
        char *runtime;
        char *settings_dirs[2]; /* trusted: /etc/nspawnctl, STATEDIR */

        sd_event_source *inotify_source;
        Machine *machines;
        size_t n_machines;
        StartRequest *starts;

        int private_fd;
        sd_event_source *private_source;
        PrivateConnection *connections;

        MachinedNetwork *network; /* machined-network.c */
};

/* machined-machine.c */
int machine_new(Manager *m, MachineInfo *rec, int pidfd, Machine **ret);
Machine *machine_free(Machine *machine);
Machine *manager_find_machine(Manager *m, const char *name);
Machine *manager_find_machine_by_path(Manager *m, const char *path);
int machine_send_signal(Machine *machine, const char *whom, int sig);
int bus_machine_kill(Machine *machine, sd_bus_message *message, const char *whom, int sig,
                     sd_bus_error *error);
int machine_add_bus_objects(Manager *m, sd_bus *bus);
extern const sd_bus_vtable machine_vtable[];

/* machined-registry.c */
int manager_load_records(Manager *m);
int manager_watch_records(Manager *m);
void manager_process_record(Manager *m, const char *name);
void manager_drop_machine(Manager *m, Machine *machine, const char *why);

/* machined-manager.c */
/* Serves the whole API on bus (the system bus or one private connection), with filter
 * seeing every message first, and attaches bus to the event loop. */
int manager_attach_bus(Manager *m, sd_bus *bus, sd_bus_message_handler_t filter, void *userdata);
int manager_emit_signal(Manager *m, const char *member, Machine *machine);
void manager_emit_properties_changed(Manager *m, Machine *machine);
int bus_check_root(sd_bus_message *message, sd_bus_error *error);

/* machined-start.c */
int manager_start_machine(Manager *m, sd_bus_message *message, const char *name,
                          sd_bus_error *error);
void manager_start_requests_complete(Manager *m, Machine *machine);
void start_requests_free(Manager *m);
/* The first settings file of name: the trusted directories, then the pool. 0 when none. */
int manager_settings_find(Manager *m, const char *name, char **ret_path, SettingsTrust *ret_trust);

/* machined-image.c */
int manager_add_image_bus_objects(Manager *m, sd_bus *bus);

/* machined-login.c */
int manager_add_login_bus_objects(Manager *m, sd_bus *bus);

/* machined-private.c */
int manager_listen_private(Manager *m);
void manager_close_private(Manager *m);

DEFINE_TRIVIAL_CLEANUP_FUNC(Machine *, machine_free);
