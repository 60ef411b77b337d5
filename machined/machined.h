/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "machine-record.h"
#include "macro.h"
#include "settings.h"

typedef struct Manager Manager;
typedef struct Machine Machine;
typedef struct StartRequest StartRequest;
typedef struct PrivateConnection PrivateConnection;

struct Machine {
        Manager *manager;
        /* Properties are read in place by SD_BUS_PROPERTY(…, offsetof(Machine, rec.…)). */
        MachineRecord rec;
        char *path;
        /* pidfd of the supervisor: it polls readable when the supervisor exits, whoever its
         * parent is, so machines started by an earlier machined are watched too. */
        int pidfd;
        sd_event_source *pidfd_source;
        /* A signal asked for before the init could take it (systemd, while still starting,
         * ignores signals it has no handler for yet): sent once the machine is running. */
        int pending_signal;
        LIST_FIELDS(Machine);
};

struct PrivateConnection {
        Manager *manager;
        sd_bus *bus;
        sd_event_source *defer_free;
        LIST_FIELDS(PrivateConnection);
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
        char *supervisor;  /* the nspawnctl-supervisor binary machines are started with */
        char *config_dir;  /* trusted settings: /etc/nspawnctl */

        sd_event_source *inotify_source;
        Machine *machines;
        size_t n_machines;
        StartRequest *starts;

        int private_fd;
        sd_event_source *private_source;
        PrivateConnection *connections;

        /* ListImages: the usage of images that did not change comes from this cache; the
         * others are walked by one worker at a time, and every ListImages that arrives
         * meanwhile is answered when it is done (machined-image.c). */
        struct ImageUsageCache *usage_cache;
        bool usage_walking;
        sd_bus_message **usage_waiting;
        size_t n_usage_waiting;
};

/* machined-machine.c */
int machine_new(Manager *m, MachineRecord *rec, int pidfd, Machine **ret);
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
/* Removes the logs of machines that are gone, once old or too many. */
void manager_prune_logs(Manager *m);

/* machined-manager.c */
/* Serves the whole API on bus (the system bus or one private connection), with filter
 * seeing every message first, and attaches bus to the event loop. */
int manager_attach_bus(Manager *m, sd_bus *bus, sd_bus_message_handler_t filter, void *userdata);
int manager_emit_signal(Manager *m, const char *member, Machine *machine);
void manager_emit_properties_changed(Manager *m, Machine *machine);
int bus_check_root(sd_bus_message *message, sd_bus_error *error);

/* machined-start.c */
int manager_start_machine(Manager *m, sd_bus_message *message, const char *name, uint64_t flags,
                          sd_bus_error *error);
void manager_start_requests_complete(Manager *m, Machine *machine);
bool manager_is_starting(Manager *m, const char *name);
void start_requests_free(Manager *m);
/* In a forked worker: closes its copies of the image locks of starts under way, so that
 * they end with machined's own. */
void start_requests_forget_locks(Manager *m);

/* machined-image.c */
int manager_add_image_bus_objects(Manager *m, sd_bus *bus);
void manager_free_image_state(Manager *m);

/* machined-login.c */
int manager_add_login_bus_objects(Manager *m, sd_bus *bus);
/* Runs path (absolute, no arguments) as root in the running machine name, stdio on /dev/null;
 * replies to message once it runs. */
int manager_run_in_machine_as_root(Manager *m, sd_bus_message *message, const char *name, const char *path,
                                   sd_bus_error *error);

/* machined-log.c */
typedef enum MachineLog {
        MACHINE_LOG_CONSOLE,
        MACHINE_LOG_SUPERVISOR,
} MachineLog;
/* The last n_lines of a machine's log, each escaped for a terminal. No log: an empty list. */
int machine_log_tail(Manager *m, const char *name, MachineLog which, unsigned n_lines, char ***ret);
/* The last n_lines of its console, joined by " | ", for an error message; NULL if none. */
char *machine_log_summary(Manager *m, const char *name, unsigned n_lines);
int manager_add_log_bus_objects(Manager *m, sd_bus *bus);

/* machined-limits.c */
int manager_add_limits_bus_objects(Manager *m, sd_bus *bus);

/* machined-private.c */
int manager_listen_private(Manager *m);
void manager_close_private(Manager *m);

DEFINE_TRIVIAL_CLEANUP_FUNC(Machine *, machine_free);
