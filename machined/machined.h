/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "machine-record.h"
#include "machine1-mode.h"
#include "macro.h"
#include "settings.h"

typedef struct Manager Manager;
typedef struct Machine Machine;
typedef struct StartRequest StartRequest;
typedef struct PrivateConnection PrivateConnection;
typedef struct MachinedNetwork MachinedNetwork;
typedef struct Machine1State Machine1State;

/* The three kinds of objects machined serves, under its own names and machine1's. */
typedef enum BusObjectKind {
        BUS_OBJECT_MANAGER,
        BUS_OBJECT_MACHINE,
        BUS_OBJECT_IMAGE,
} BusObjectKind;

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

        MachinedNetwork *network; /* machined-network.c */
        /* ListImages: the usage of images that did not change comes from this cache; the
         * others are walked by one worker at a time, and every ListImages that arrives
         * meanwhile is answered when it is done (machined-image.c). */
        struct ImageUsageCache *usage_cache;
        bool usage_walking;
        sd_bus_message **usage_waiting;
        size_t n_usage_waiting;

        /* org.freedesktop.machine1 (machined-machine1.c): NULL with --machine1=no. */
        Machine1Mode machine1_mode;
        Machine1State *machine1;
        Machine *host; /* ".host", under machine1 only */
};

/* machined-machine.c */
int machine_new(Manager *m, MachineRecord *rec, int pidfd, Machine **ret);
Machine *machine_free(Machine *machine);
Machine *manager_find_machine(Manager *m, const char *name);
/* The machine called name (".host" included), or a bus error telling why there is none. */
int manager_find_machine_or_error(Manager *m, const char *name, Machine **ret, sd_bus_error *error);
Machine *manager_find_machine_by_path(Manager *m, const char *path);
int machine_send_signal(Machine *machine, const char *whom, int sig);
int bus_machine_kill(Machine *machine, sd_bus_message *message, const char *whom, int sig,
                     sd_bus_error *error);
int machine_add_bus_objects(Manager *m, sd_bus *bus, bool machine1);
/* The find callback of every Machine vtable: the machine (or ".host") behind a path. */
int bus_machine_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                            sd_bus_error *error);
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
/* 0, or the InvalidName error (one text for every method) when name is no machine name. */
int bus_check_machine_name(const char *name, sd_bus_error *error);

/* machined-start.c */
/* StartMachineEx (name, flags) -> (machine, warnings), on our interface only. */
int manager_add_start_bus_objects(Manager *m, sd_bus *bus);
/* The method of StartMachine (s), StartMachineWithFlags and StartMachineEx (st). */
int bus_method_start_machine(sd_bus_message *message, void *userdata, sd_bus_error *error);
void manager_start_requests_complete(Manager *m, Machine *machine);
bool manager_is_starting(Manager *m, const char *name);
void start_requests_free(Manager *m);
/* In a forked worker: closes its copies of the image locks of starts under way, so that
 * they end with machined's own. */
void start_requests_forget_locks(Manager *m);

/* machined-image.c */
int manager_add_image_bus_objects(Manager *m, sd_bus *bus, bool machine1);
/* The image methods that the image objects of machine1 call with their own name. */
int bus_image_clone(sd_bus_message *message, Manager *m, const char *name, const char *new_name, bool read_only,
                    sd_bus_error *error);
int bus_image_remove(sd_bus_message *message, Manager *m, const char *name, sd_bus_error *error);
int bus_image_rename(sd_bus_message *message, Manager *m, const char *name, const char *new_name,
                     sd_bus_error *error);
int bus_image_mark_read_only(sd_bus_message *message, Manager *m, const char *name, bool read_only,
                             sd_bus_error *error);
void manager_free_image_state(Manager *m);

/* machined-login.c */
int manager_add_login_bus_objects(Manager *m, sd_bus *bus, bool machine1);
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
/* OpenMachineLogin / OpenMachineShell for the machine name, the shell's arguments (user,
 * path, args, environment) still to be read from message: for machine1's Machine objects. */
int bus_machine_open_login(sd_bus_message *message, Manager *m, const char *name, sd_bus_error *error);
int bus_machine_open_shell(sd_bus_message *message, Manager *m, const char *name, sd_bus_error *error);

/* machined-machine1.c */
int manager_machine1_init(Manager *m);
void manager_machine1_free(Manager *m);
int manager_machine1_request_name(Manager *m, sd_bus *bus);
/* Registers vtable for objects of kind under our names, or with machine1 under machine1's
 * (then through the error-renaming trampoline). */
int manager_add_vtable(Manager *m, sd_bus *bus, bool machine1, BusObjectKind kind, const sd_bus_vtable *vtable,
                       sd_bus_object_find_t find, void *userdata);
const char *bus_object_prefix(bool machine1, BusObjectKind kind);
/* Whether the call came in under machine1's paths (so paths and errors go out in its names). */
bool bus_message_is_machine1(sd_bus_message *message);
/* sd_bus_reply_method_error() with machine1's error names for a machine1 call. */
int bus_reply_method_error(sd_bus_message *call, const sd_bus_error *error);
bool machine_is_host(const Machine *machine);
int manager_emit_machine1_signal(Manager *m, sd_bus *bus, const char *member, Machine *machine);
int manager_emit_machine1_changed(Manager *m, sd_bus *bus, Machine *machine);

/* machined-machine-info.c: machine1's methods about a running machine (os-release,
 * addresses, UID shift, PTY) and the Unit and NetworkInterfaces properties */
int manager_add_machine_info_bus_objects(Manager *m, sd_bus *bus, bool machine1);
/* The machine name (first argument) of a Manager method, checked, found and running. */
int bus_find_running_machine(Manager *m, sd_bus_message *message, const char *name, bool need_root,
                             Machine **ret, sd_bus_error *error);

/* KEY, VALUE, ... (env_text_parse()) as the a{ss} of machine1's os-release methods. */
int bus_message_append_pairs(sd_bus_message *m, char **pairs);

/* machined-copy.c, machined-bind.c */
/* A method that runs in a forked worker and replies when it is done: returns 0 in the worker
 * (which then calls machine_operation_exit() with its result on *ret_fd), 1 in machined, or
 * a negative errno before anything was forked. */
typedef struct MachineOperation MachineOperation;
int machine_operation_fork(Manager *m, sd_bus_message *message, const char *name, int *ret_fd);
_noreturn_ void machine_operation_exit(int fd, int r, const char *message);
/* The same with a reply of its own: the worker sends payload after its result, and reply
 * reads it from fd (to its end) and replies to message. */
typedef int (*MachineOperationReply)(sd_bus_message *message, int fd);
int machine_operation_fork_full(Manager *m, sd_bus_message *message, const char *name, MachineOperationReply reply,
                                int *ret_fd);
_noreturn_ void machine_operation_exit_full(int fd, int r, const char *message, const void *payload, size_t size);
int manager_add_copy_bus_objects(Manager *m, sd_bus *bus, bool machine1);
int manager_add_bind_bus_objects(Manager *m, sd_bus *bus, bool machine1);

/* machined-image-info.c: image files, limits, CleanPool and the image object methods */
int manager_add_image_info_bus_objects(Manager *m, sd_bus *bus, bool machine1);
/* Once a pool limit is set, a new image joins the pool's quota group (in image workers). */
void manager_pool_quota_adopt(Manager *m, const char *name);

/* machined-register.c: our boxes in a real systemd-machined */
void manager_unregister_machine1(Manager *m, Machine *machine);

/* machined-private.c */
int manager_listen_private(Manager *m);
void manager_close_private(Manager *m);

DEFINE_TRIVIAL_CLEANUP_FUNC(Machine *, machine_free);
