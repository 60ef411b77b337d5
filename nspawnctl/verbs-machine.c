/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "in-addr.h"
#include "machine-network.h"
#include "machined-api.h"
#include "names.h"
#include "net-port.h"
#include "terminal.h"
#include "util/escape.h"
#include "usage-print.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

/* Machine verbs: thin clients of machined's D-Bus API. */

#define START_TIMEOUT_USEC (120ULL * 1000000ULL)

typedef struct MachineProps {
        char *name, *class, *service, *root, *state, *console_socket, *console_log, *cgroup;
        char **addresses;
        uint32_t leader, supervisor;
        uint64_t timestamp;
        char id[33];
        CGroupUsage usage; /* UINT64_MAX: not known */
} MachineProps;

static void machine_props_done(MachineProps *p) {
        free(p->name);
        free(p->class);
        free(p->service);
        free(p->root);
        free(p->state);
        free(p->console_socket);
        free(p->console_log);
        free(p->cgroup);
        strv_free(p->addresses);
        *p = (MachineProps) {};
}

/* Id: 16 bytes, shown as 32 hex digits (left empty when it is not 16). */
static int read_id_variant(sd_bus_message *m, void *field) {
        char *id = field;
        const uint8_t *b;
        size_t n;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "ay");
        if (r >= 0)
                r = sd_bus_message_read_array(m, 'y', (const void **) &b, &n);
        if (r >= 0 && n == 16)
                for (int i = 0; i < 16; i++)
                        snprintf(id + 2 * i, 3, "%02x", b[i]);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

#define P(name, sig, field) { name, sig, offsetof(MachineProps, field), NULL }
static const BusProperty machine_props_table[] = {
        P("Name", "s", name),
        P("Class", "s", class),
        P("Service", "s", service),
        P("RootDirectory", "s", root),
        P("State", "s", state),
        P("ConsoleSocket", "s", console_socket),
        P("ConsoleLog", "s", console_log),
        P("ControlGroup", "s", cgroup),
        P("Leader", "u", leader),
        P("Supervisor", "u", supervisor),
        P("MemoryCurrent", "t", usage.memory_current),
        P("MemoryPeak", "t", usage.memory_peak),
        P("CPUUsageNSec", "t", usage.cpu_usage_nsec),
        P("TasksCurrent", "t", usage.tasks_current),
        P("OOMKills", "t", usage.oom_kills),
        P("Timestamp", "t", timestamp),
        { "Id", "ay", offsetof(MachineProps, id), read_id_variant },
        {}
};
#undef P

/* Returns 0 or the ExitStatus of the failure (logged unless quiet). */
static int machine_props_get(sd_bus *bus, const char *path, MachineProps *p, bool quiet) {
        int r;

        p->usage = (CGroupUsage) { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
        r = bus_get_properties(bus, path, MACHINED_MACHINE_INTERFACE, quiet ? NULL : "get machine properties",
                               machine_props_table, p);
        if (r < 0 && !quiet)
                log_error_errno(r, "Failed to parse the machine's properties: %m");
        return r < 0 ? EXIT_FAIL : r;
}

/* The options of the machine verbs, parsed once and passed down. */
typedef struct MachineOptions {
        const char *state_dir;
        bool json;
} MachineOptions;

#define COMMON_OPTIONS                                                                     \
        { "help", no_argument, NULL, 'h' }, { "state-dir", required_argument, NULL, 'S' }

#define COMMON_HELP                                                                        \
        "  -h --help             Show this help\n"                                         \
        "     --state-dir=DIR    Where machined's private socket is, when there is no\n"   \
        "                        system bus (default $NSPAWNCTL_STATE_DIR or /run/nspawnctl)\n"

/* Parses --help (printing help), --state-dir and, when with_json, --json: the options of
 * every machine verb but kill. Returns 1 to go on, 0 after --help, or an exit code (negated)
 * on a usage error. */
static int parse_common_options(int argc, char *argv[], bool with_json, const char *help, MachineOptions *o) {
        static const struct option options[] = { COMMON_OPTIONS, {} };
        static const struct option options_json[] = {
                COMMON_OPTIONS,
                { "json", no_argument, NULL, 'j' },
                {}
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", with_json ? options_json : options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help, stdout);
                        return 0;
                case 'S':
                        if (bus_parse_state_dir(optarg, &o->state_dir) < 0)
                                return -EXIT_USAGE;
                        break;
                case 'j':
                        o->json = true;
                        break;
                default:
                        return -EXIT_USAGE;
                }
        return 1;
}

/* Parses the options of a verb that takes exactly one machine name. Returns 1 to go on, 0
 * after --help, or an exit code (negated) on a usage error. */
static int parse_name_verb(int argc, char *argv[], const char *usage, MachineOptions *o, const char **ret_name) {
        _cleanup_free_ char *help = strjoin("nspawnctl ", argv[0], " NAME\n\n", usage,
                                            "\n\n" COMMON_HELP);
        int r;

        if (!help)
                return log_oom(), -EXIT_FAIL;
        r = parse_common_options(argc, argv, /* with_json= */ false, help, o);
        if (r <= 0)
                return r;
        if (optind + 1 != argc) {
                log_error("%s: expected exactly one machine name. See 'nspawnctl %s --help'.",
                          argv[0], argv[0]);
                return -EXIT_USAGE;
        }
        if (!machine_name_is_valid(argv[optind]))
                return -log_invalid("machine name", argv[optind], MACHINE_NAME_HINT);
        *ret_name = argv[optind];
        return 1;
}

static int get_machine_path(sd_bus *bus, const char *name, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                              "GetMachine", 0, "look up machine", &reply, "s", name);
        if (r > 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        *ret = strdup(path);
        return *ret ? EXIT_OK : (log_oom(), EXIT_FAIL);
}

/* What machined tells about a machine may carry a guest's or a user's text: escaped for the
 * terminal, "n/a" for nothing. NULL on OOM. */
static char *escape_or_na(const char *s) {
        return escape_terminal(isempty(s) ? "n/a" : s, ESCAPE_UNLIMITED, 0);
}

static int list_print(sd_bus *bus, const MachineOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        MachineProps *props = NULL;
        size_t n = 0;
        const char *name, *class, *service, *path;
        int r;

        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                              "ListMachines", 0, "list machines", &reply, NULL);
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssso)");
        if (r < 0)
                goto parse_fail;
        while ((r = sd_bus_message_read(reply, "(ssso)", &name, &class, &service, &path)) > 0) {
                MachineProps *np = realloc(props, (n + 1) * sizeof(MachineProps));
                if (!np) {
                        r = -ENOMEM;
                        goto parse_fail;
                }
                props = np;
                props[n] = (MachineProps) {};
                /* A machine that went away since ListMachines is simply not listed. */
                if (machine_props_get(bus, path, &props[n], true) != 0) {
                        machine_props_done(&props[n]);
                        continue;
                }
                if (!props[n].name)
                        props[n].name = strdup(name);
                if (!props[n].class)
                        props[n].class = strdup(class);
                if (!props[n].service)
                        props[n].service = strdup(service);
                (void) machine_addresses_get(bus, name, &props[n].addresses);
                n++;
        }
        if (r < 0)
                goto parse_fail;

        if (o->json) {
                printf("[");
                for (size_t i = 0; i < n; i++) {
                        printf("%s{\"name\":", i ? "," : "");
                        json_print_string(props[i].name);
                        printf(",\"class\":");
                        json_print_string(props[i].class);
                        printf(",\"service\":");
                        json_print_string(props[i].service);
                        printf(",\"state\":");
                        json_print_string(props[i].state);
                        printf(",\"leader\":%u,\"supervisor\":%u,\"root\":", props[i].leader,
                               props[i].supervisor);
                        json_print_string(props[i].root);
                        printf(",\"id\":");
                        json_print_string(props[i].id);
                        printf(",\"timestamp\":%llu,\"addresses\":",
                               (unsigned long long) props[i].timestamp);
                        json_print_strv(props[i].addresses);
                        printf("}");
                }
                printf("]\n");
        } else {
                int w = 7;
                for (size_t i = 0; i < n; i++)
                        w = MAX(w, (int) strlen(strna(props[i].name)));
                int wa = 7;
                for (size_t i = 0; i < n; i++) {
                        char **a = props[i].addresses;
                        int k = (int) strlen(strv_length(a) > 0 ? a[0] : "-") + (strv_length(a) > 1 ? 3 : 0);
                        wa = MAX(wa, k);
                }
                printf("%-*s %-8s %-8s %-10s %-*s %s\n", w, "MACHINE", "STATE", "LEADER", "CLASS", wa,
                       "ADDRESS", "ROOT");
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *name_e = escape_or_na(props[i].name),
                                            *state_e = escape_or_na(props[i].state),
                                            *class_e = escape_or_na(props[i].class),
                                            *root_e = escape_or_na(props[i].root);
                        /* The first address, as machinectl does; "..." when there are more. */
                        char a[INET6_ADDRSTRLEN + 4];
                        snprintf(a, sizeof a, "%s%s",
                                 strv_length(props[i].addresses) > 0 ? props[i].addresses[0] : "-",
                                 strv_length(props[i].addresses) > 1 ? "..." : "");
                        printf("%-*s %-8s %-8u %-10s %-*s %s\n", w, strna(name_e), strna(state_e),
                               props[i].leader, strna(class_e), wa, a, strna(root_e));
                }
                printf("\n%zu machine%s listed.\n", n, n == 1 ? "" : "s");
        }
        for (size_t i = 0; i < n; i++)
                machine_props_done(&props[i]);
        free(props);
        return EXIT_OK;

parse_fail:
        for (size_t i = 0; i < n; i++)
                machine_props_done(&props[i]);
        free(props);
        log_error_errno(r, "Failed to parse the machine list: %m");
        return EXIT_FAIL;
}

int verb_list(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        MachineOptions o = {};
        int r;

        r = parse_common_options(argc, argv, /* with_json= */ true,
                                 "nspawnctl list [--json]\n\nList the running machines.\n\n"
                                 COMMON_HELP
                                 "     --json             One JSON array, for scripts\n", &o);
        if (r <= 0)
                return -r;
        if (optind != argc)
                return log_error("list takes no arguments."), EXIT_USAGE;
        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        return list_print(bus, &o);
}

/* The machine's processes as machined lists them: pid and command line, escaped already. */
typedef struct Process {
        uint32_t pid;
        char *title;
} Process;

static void processes_free(Process *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(p[i].title);
        free(p);
}

static int cmp_process(const void *a, const void *b) {
        const Process *x = a, *y = b;
        return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int processes_get(sd_bus *bus, const char *path, Process **ret, size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Process *list = NULL;
        size_t n = 0;
        const char *title;
        uint32_t pid;
        int r;

        r = bus_call_machined(bus, path, MACHINED_MACHINE_INTERFACE, "ListProcesses", 0, "list the processes", &reply,
                              NULL);
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(us)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(us)", &pid, &title)) > 0) {
                Process *np = reallocarray(list, n + 1, sizeof(Process));
                if (!np) {
                        r = -ENOMEM;
                        break;
                }
                list = np;
                list[n] = (Process) { .pid = pid, .title = strdup(title) };
                if (!list[n++].title)
                        r = -ENOMEM;
        }
        if (r < 0) {
                processes_free(list, n);
                return log_error_errno(r, "Failed to read the process list: %m"), EXIT_FAIL;
        }
        qsort(list, n, sizeof(Process), cmp_process);
        *ret = list;
        *ret_n = n;
        return 0;
}

static void format_uptime(uint64_t since_usec, char *buf, size_t size) {
        uint64_t now = now_usec(CLOCK_REALTIME), d;
        time_t t = (time_t) (since_usec / 1000000ULL);
        struct tm tm;
        char when[64] = "";

        if (since_usec == 0 || since_usec > now) {
                snprintf(buf, size, "n/a");
                return;
        }
        if (localtime_r(&t, &tm))
                strftime(when, sizeof when, "%a %Y-%m-%d %H:%M:%S %Z", &tm);
        d = (now - since_usec) / 1000000ULL;
        if (d >= 86400)
                snprintf(buf, size, "%s; %llud %lluh ago", when, (unsigned long long) d / 86400,
                         (unsigned long long) (d % 86400) / 3600);
        else if (d >= 3600)
                snprintf(buf, size, "%s; %lluh %llumin ago", when, (unsigned long long) d / 3600,
                         (unsigned long long) (d % 3600) / 60);
        else if (d >= 60)
                snprintf(buf, size, "%s; %llumin %llus ago", when, (unsigned long long) d / 60,
                         (unsigned long long) d % 60);
        else
                snprintf(buf, size, "%s; %llus ago", when, (unsigned long long) d);
}

/* GetMachine or GetImage of name: 0 with its path, EXIT_NOT_FOUND without a word (the
 * caller knows what that means), or the ExitStatus of another failure, logged. */
static int lookup_quiet(sd_bus *bus, const char *member, const char *name, char **ret_path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, MACHINED_BUS_NAME, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, member,
                               &error, &reply, "s", name);
        if (r < 0) {
                r = exit_status_from_bus_error(&error, r);
                if (r == EXIT_NOT_FOUND)
                        return r;
                log_error("Failed to look up %s: %s", name, error.message ?: strerror(-r));
                return r;
        }
        if (sd_bus_message_read(reply, "o", &path) < 0)
                return log_error("Bad reply from machined."), EXIT_FAIL;
        *ret_path = strdup(path);
        return *ret_path ? 0 : (log_oom(), EXIT_FAIL);
}

/* What status shows of a box that is not running: its image. */
typedef struct StoppedImage {
        char *path, *type, *os, *settings_file;
        char **settings;
        int read_only, autostart;
} StoppedImage;

static void stopped_image_done(StoppedImage *i) {
        free(i->path);
        free(i->type);
        free(i->os);
        free(i->settings_file);
        strv_free(i->settings);
        *i = (StoppedImage) {};
}

#define P(name, sig, field) { name, sig, offsetof(StoppedImage, field), NULL }
static const BusProperty stopped_image_table[] = {
        P("Path", "s", path),
        P("Type", "s", type),
        P("OSRelease", "s", os),
        P("SettingsFile", "s", settings_file),
        P("ReadOnly", "b", read_only),
        P("Autostart", "b", autostart),
        P("Settings", "as", settings),
        {}
};
#undef P

/* Returns 0, or the ExitStatus of the failure (logged). */
static int stopped_image_get(sd_bus *bus, const char *name, StoppedImage *i) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = lookup_quiet(bus, "GetImage", name, &path);
        if (r == EXIT_NOT_FOUND)
                return log_error("No machine or image '%s'.", name), EXIT_NOT_FOUND;
        if (r == 0)
                r = bus_get_properties(bus, path, MACHINED_IMAGE_INTERFACE, "get image properties",
                                       stopped_image_table, i);
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        return r;
}

/* status of a box that exists but does not run: "stopped", its image and its settings. */
static int status_stopped(sd_bus *bus, const char *name, const MachineOptions *o) {
        _cleanup_(stopped_image_done) StoppedImage i = {};
        int r;

        r = stopped_image_get(bus, name, &i);
        if (r > 0)
                return r;
        if (o->json) {
                printf("{\"name\":");
                json_print_string(name);
                printf(",\"state\":\"stopped\",\"image\":");
                json_print_string(i.path);
                printf(",\"type\":");
                json_print_string(i.type);
                printf(",\"read_only\":%s,\"os\":", i.read_only ? "true" : "false");
                json_print_string(i.os);
                printf(",\"autostart\":%s,\"settings_file\":", i.autostart ? "true" : "false");
                if (isempty(i.settings_file))
                        printf("null");
                else
                        json_print_string(i.settings_file);
                printf(",\"settings\":[");
                STRV_FOREACH(l, i.settings) {
                        printf("%s", l == i.settings ? "" : ",");
                        json_print_string(*l);
                }
                printf("]}\n");
                return EXIT_OK;
        }
        _cleanup_free_ char *path_e = escape_or_na(i.path), *type_e = escape_or_na(i.type),
                            *os_e = escape_or_na(i.os),
                            *file_e = escape_terminal(isempty(i.settings_file) ? "none" : i.settings_file,
                                                      ESCAPE_UNLIMITED, 0);
        printf("%s\n", name);
        printf("         State: stopped\n");
        printf("         Image: %s (%s%s)\n", strna(path_e), strna(type_e), i.read_only ? ", read-only" : "");
        printf("            OS: %s\n", strna(os_e));
        printf("     Autostart: %s\n", i.autostart ? "yes" : "no");
        printf("      Settings: %s\n", strna(file_e));
        STRV_FOREACH(l, i.settings) {
                _cleanup_free_ char *e = escape_terminal(*l, 1024, 0);
                printf("                %s\n", strna(e));
        }
        return EXIT_OK;
}

int verb_status(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(machine_props_done) MachineProps p = {};
        _cleanup_free_ char *path = NULL;
        Process *procs = NULL;
        size_t n = 0;
        char uptime[128];
        MachineOptions o = {};
        const char *name;
        int r;

        r = parse_common_options(argc, argv, /* with_json= */ true,
                                 "nspawnctl status NAME [--json]\n\nShow a machine: state, "
                                 "leader, root, uptime, console and processes; of a box that is\n"
                                 "not running its image, \"stopped\", and its settings.\n\n" COMMON_HELP
                                 "     --json             One JSON object, for scripts\n", &o);
        if (r <= 0)
                return -r;
        if (optind + 1 != argc)
                return log_error("status: expected exactly one machine name."), EXIT_USAGE;
        name = argv[optind];
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT);

        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        r = lookup_quiet(bus, "GetMachine", name, &path);
        if (r == EXIT_NOT_FOUND) /* not running: the image, if there is one */
                return status_stopped(bus, name, &o);
        if (r == 0)
                r = machine_props_get(bus, path, &p, false);
        if (r == 0)
                r = processes_get(bus, path, &procs, &n);
        if (r > 0)
                return r;

        _cleanup_strv_free_ char **addresses = NULL, **forwards = NULL;
        (void) machine_addresses_get(bus, name, &addresses);
        (void) machine_forwards_get(bus, name, NULL, &forwards);

        if (o.json) {
                printf("{\"name\":");
                json_print_string(p.name);
                printf(",\"state\":");
                json_print_string(p.state);
                printf(",\"leader\":%u,\"supervisor\":%u,\"root\":", p.leader, p.supervisor);
                json_print_string(p.root);
                printf(",\"id\":");
                json_print_string(p.id);
                printf(",\"timestamp\":%llu,\"console_socket\":",
                       (unsigned long long) p.timestamp);
                json_print_string(p.console_socket);
                printf(",\"console_log\":");
                json_print_string(p.console_log);
                printf(",\"cgroup\":");
                json_print_string(p.cgroup);
                printf(",\"addresses\":");
                json_print_strv(addresses);
                printf(",\"ports\":");
                json_print_forwards(forwards);
                printf(",\"processes\":[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%u", i ? "," : "", procs[i].pid);
                printf("]");
                usage_print_json(&p.usage);
                printf("}\n");
                processes_free(procs, n);
                return EXIT_OK;
        }

        format_uptime(p.timestamp, uptime, sizeof uptime);
        _cleanup_free_ char *name_e = escape_or_na(p.name), *state_e = escape_or_na(p.state),
                            *root_e = escape_or_na(p.root), *id_e = escape_or_na(p.id),
                            *console_e = escape_or_na(p.console_socket),
                            *log_e = escape_or_na(p.console_log), *cgroup_e = escape_or_na(p.cgroup);
        printf("%s\n", strna(name_e));
        printf("         State: %s\n", strna(state_e));
        printf("        Leader: %u\n", p.leader);
        printf("    Supervisor: %u\n", p.supervisor);
        printf("          Root: %s\n", strna(root_e));
        printf("            Id: %s\n", strna(id_e));
        printf("         Since: %s\n", uptime);
        printf("       Console: %s\n", strna(console_e));
        printf("   Console log: %s\n", strna(log_e));
        STRV_FOREACH(a, addresses)
                printf("%s%s\n", a == addresses ? "       Address: " : "                ", *a);
        STRV_FOREACH(f, forwards) {
                PortForward pf;
                if (port_forward_parse(*f, &pf) >= 0)
                        printf("%s%s %u -> %u\n", f == forwards ? "      Forwards: " : "                ",
                               port_protocol_to_string(pf.protocol), pf.host_port, pf.container_port);
        }
        printf("        CGroup: %s\n", strna(cgroup_e));
        usage_print_table(&p.usage);
        for (size_t i = 0; i < n; i++)
                printf("%s%u %s\n", i + 1 < n ? "                ├─" : "                └─", procs[i].pid, procs[i].title);
        processes_free(procs, n);
        return EXIT_OK;
}

static int simple_call(int argc, char *argv[], const char *usage, const char *member,
                       const char *what) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        MachineOptions o = {};
        const char *name;
        int r;

        r = parse_name_verb(argc, argv, usage, &o, &name);
        if (r <= 0)
                return -r;
        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        return bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, member, 0, what, NULL, "s",
                                 name);
}

/* start [--no-wait] and poweroff [--wait] [--timeout=SEC]: a machine verb with a flag and a
 * time. Returns 1 to go on, 0 after --help, or a negated exit status. */
static int parse_wait_options(int argc, char *argv[], const char *help, MachineOptions *o, bool *wait,
                              uint64_t *timeout_usec, const char **ret_name) {
        enum { ARG_NO_WAIT = 0x100, ARG_WAIT, ARG_TIMEOUT };
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "no-wait", no_argument, NULL, ARG_NO_WAIT },
                { "wait", no_argument, NULL, ARG_WAIT },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                {}
        };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(help, stdout);
                        return 0;
                case 'S':
                        if (bus_parse_state_dir(optarg, &o->state_dir) < 0)
                                return -EXIT_USAGE;
                        break;
                case ARG_NO_WAIT:
                case ARG_WAIT:
                        *wait = c == ARG_WAIT;
                        break;
                case ARG_TIMEOUT:
                        if (parse_sec_usec(optarg, timeout_usec) < 0 || *timeout_usec == 0)
                                return -log_invalid("--timeout", optarg, ": expected a positive number of seconds.");
                        *wait = true;
                        break;
                default:
                        return -EXIT_USAGE;
                }
        if (optind + 1 != argc) {
                log_error("%s: expected exactly one machine name. See 'nspawnctl %s --help'.", argv[0], argv[0]);
                return -EXIT_USAGE;
        }
        if (!machine_name_is_valid(argv[optind]))
                return -log_invalid("machine name", argv[optind], MACHINE_NAME_HINT);
        *ret_name = argv[optind];
        return 1;
}

/* The settings' warnings of a start (unknown keys, keys ignored in an untrusted file), one
 * line each on stderr: the file may come with the image, so escaped. */
static void print_start_warnings(sd_bus_message *reply) {
        _cleanup_strv_free_ char **warnings = NULL;
        const char *path;

        if (sd_bus_message_read(reply, "o", &path) < 0 || sd_bus_message_read_strv(reply, &warnings) < 0)
                return;
        STRV_FOREACH(w, warnings) {
                _cleanup_free_ char *e = escape_terminal(*w, 1024, 0);
                log_warning("Warning: %s", e ?: "(out of memory)");
        }
}

int verb_start(int argc, char *argv[]) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        MachineOptions o = {};
        uint64_t timeout = 0;
        bool wait = true;
        const char *name;
        int r;

        r = parse_wait_options(argc, argv,
                               "nspawnctl start NAME [--no-wait]\n\n"
                               "Boot the image NAME from the pool as a machine. Returns once its init is\n"
                               "up (systemd's READY=1, or any other init running), or fails with the reason\n"
                               "(see 'nspawnctl log NAME').\n\n" COMMON_HELP
                               "     --no-wait          Return once the machine runs, not once it is ready\n",
                               &o, &wait, &timeout, &name);
        if (r <= 0)
                return -r;
        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        /* StartMachineEx: also what the machine's settings were warned about, for the user. */
        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "StartMachineEx",
                              START_TIMEOUT_USEC, "start machine", &reply, "st", name,
                              wait ? UINT64_C(0) : START_MACHINE_NO_WAIT);
        if (r > 0)
                return r;
        print_start_warnings(reply);
        return EXIT_OK;
}

#define POWEROFF_TIMEOUT_USEC (90ULL * 1000000ULL)

/* Polls until machined no longer knows the machine, or the deadline passes. */
static int wait_for_machine_gone(sd_bus *bus, const char *name, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;

        for (;;) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                int r;

                r = sd_bus_call_method(bus, MACHINED_BUS_NAME, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                                       "GetMachine", &error, &m, "s", name);
                if (r < 0 && sd_bus_error_has_name(&error, BUS_ERROR_NO_SUCH_MACHINE))
                        return 0;
                if (r < 0)
                        return log_error_errno(r, "Failed to follow machine %s: %s", name,
                                               error.message ?: strerror(-r));
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return -ETIMEDOUT;
                usleep(100 * 1000);
        }
}

int verb_poweroff(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        MachineOptions o = {};
        uint64_t timeout = POWEROFF_TIMEOUT_USEC;
        bool wait = false;
        const char *name;
        int r;

        r = parse_wait_options(argc, argv,
                               "nspawnctl poweroff NAME [--wait] [--timeout=SEC]\n\n"
                               "Ask the machine's init to power off, the way it understands (systemd:\n"
                               "SIGRTMIN+4, busybox and openrc: SIGUSR2, sysvinit and others: its own\n"
                               "/sbin/poweroff). Returns at once, or with --wait once it is gone; after\n"
                               "--timeout (default 90 s, implies --wait) it is terminated and the exit\n"
                               "status is 8.\n\n" COMMON_HELP
                               "     --wait             Wait until the machine is gone\n"
                               "     --timeout=SEC      Terminate it when it is not gone after SEC seconds\n",
                               &o, &wait, &timeout, &name);
        if (r <= 0)
                return -r;
        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "PowerOffMachine", 0,
                              "power off machine", NULL, "s", name);
        if (r > 0)
                return r;
        if (!wait)
                return EXIT_OK;
        r = wait_for_machine_gone(bus, name, timeout);
        if (r != -ETIMEDOUT)
                return r < 0 ? EXIT_FAIL : EXIT_OK;
        log_error("Machine %s did not power off within %llu s, terminating it.", name,
                  (unsigned long long) (timeout / 1000000ULL));
        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "TerminateMachine", 0,
                              "terminate machine", NULL, "s", name);
        if (r > 0)
                return r;
        (void) wait_for_machine_gone(bus, name, 10 * 1000000ULL);
        return EXIT_TIMEOUT;
}

int verb_reboot(int argc, char *argv[]) {
        return simple_call(argc, argv,
                           "Ask the machine's init to reboot, the way it understands (systemd and openrc:\n"
                           "SIGINT, busybox: SIGTERM, others: their /sbin/reboot); it boots again under\n"
                           "the same supervisor.",
                           "RebootMachine", "reboot machine");
}

int verb_terminate(int argc, char *argv[]) {
        return simple_call(argc, argv,
                           "Kill the machine's init at once (SIGKILL); the container ends.",
                           "TerminateMachine", "terminate machine");
}

int verb_kill(int argc, char *argv[]) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "signal", required_argument, NULL, 's' },
                { "kill-whom", required_argument, NULL, 'w' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        MachineOptions o = {};
        const char *whom = "all", *name;
        int sig = SIGTERM, c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hs:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("nspawnctl kill NAME [--signal=SIG] [--kill-whom=leader|all]\n\n"
                               "Send a signal to a machine's processes.\n\n" COMMON_HELP
                               "  -s --signal=SIG        Signal name or number (default TERM)\n"
                               "     --kill-whom=WHO     leader (the init) or all (default)\n");
                        return EXIT_OK;
                case 'S':
                        if (bus_parse_state_dir(optarg, &o.state_dir) < 0)
                                return EXIT_USAGE;
                        break;
                case 's':
                        sig = signal_from_string(optarg);
                        if (sig <= 0)
                                return log_invalid("signal", optarg, ".");
                        break;
                case 'w':
                        if (!streq(optarg, "leader") && !streq(optarg, "all"))
                                return log_invalid("--kill-whom", optarg,
                                                   ": expected leader or all.");
                        whom = optarg;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return log_error("kill: expected exactly one machine name."), EXIT_USAGE;
        name = argv[optind];
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT);
        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        return bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "KillMachine", 0,
                                 "kill machine", NULL, "ssi", name, whom, sig);
}

/* enable/disable: machined records it (SetImageAutostart) where the host's boot looks for it. */
static int enable_disable(int argc, char *argv[], bool enable) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        MachineOptions o = {};
        const char *name;
        int r;

        r = parse_name_verb(argc, argv,
                            enable ? "Start the machine NAME at host boot (the image must exist)."
                                   : "Do not start the machine NAME at host boot.",
                            &o, &name);
        if (r <= 0)
                return -r;
        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        return bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "SetImageAutostart", 0,
                                 enable ? "enable the machine" : "disable the machine", NULL, "sb", name, enable);
}

int verb_enable(int argc, char *argv[]) {
        return enable_disable(argc, argv, true);
}

int verb_disable(int argc, char *argv[]) {
        return enable_disable(argc, argv, false);
}

/* console: the supervisor's console socket, a raw terminal, ^] three times to leave. */

static int console_forward(int sock, int sfd, const char *name) {
        EscapeState escape = {};
        char buf[4096];

        for (;;) {
                struct pollfd p[3] = {
                        { .fd = STDIN_FILENO, .events = POLLIN },
                        { .fd = sock, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                };
                ssize_t k;

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[2].revents)
                        return 0; /* SIGTERM/SIGHUP: leave, restoring the terminal */
                if (p[1].revents) {
                        k = read(sock, buf, sizeof buf);
                        if (k <= 0) {
                                fprintf(stderr, "\r\nConsole of machine %s closed.\r\n", name);
                                return 0;
                        }
                        if (loop_write(STDOUT_FILENO, buf, k) < 0)
                                return 0;
                }
                if (p[0].revents) {
                        k = read(STDIN_FILENO, buf, sizeof buf);
                        if (k <= 0)
                                return 0;
                        if (escape_pressed(&escape, buf, k)) {
                                fprintf(stderr, "\r\nConnection to machine %s terminated.\r\n",
                                        name);
                                return 0;
                        }
                        if (loop_write(sock, buf, k) < 0) {
                                fprintf(stderr, "\r\nConsole of machine %s closed.\r\n", name);
                                return 0;
                        }
                }
        }
}

int verb_console(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(machine_props_done) MachineProps p = {};
        _cleanup_(tty_guard_restore) TtyGuard tty = { .fd = STDIN_FILENO };
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int sock = -EBADF, sfd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        MachineOptions o = {};
        const char *name;
        int r;

        r = parse_name_verb(argc, argv,
                            "Attach to the console of machine NAME. Press ^] three times "
                            "within a second to leave.", &o, &name);
        if (r <= 0)
                return -r;
        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        r = get_machine_path(bus, name, &path);
        if (r == 0)
                r = machine_props_get(bus, path, &p, false);
        if (r > 0)
                return r;
        if (isempty(p.console_socket))
                return log_error("Machine %s has no console socket.", name), EXIT_STATE;
        if (strlen(p.console_socket) >= sizeof sa.sun_path)
                return log_error("Console socket path too long."), EXIT_FAIL;
        strcpy(sa.sun_path, p.console_socket);

        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return log_error_errno(errno, "Failed to create socket: %m"), EXIT_FAIL;
        if (connect(sock, (struct sockaddr *) &sa, sizeof sa) < 0)
                return log_error_errno(errno, "Failed to connect to the console of %s: %m",
                                       name), errno == EACCES ? EXIT_PERMISSION : EXIT_FAIL;

        sfd = terminal_signalfd(/* with_winch= */ false);
        if (sfd < 0)
                return log_error_errno(sfd, "Failed to create signalfd: %m"), EXIT_FAIL;
        (void) signal(SIGPIPE, SIG_IGN);

        r = tty_guard_make_raw(&tty);
        if (r < 0)
                return log_error_errno(r, "Failed to make the terminal raw: %m"), EXIT_FAIL;
        fprintf(stderr, "Connected to machine %s. Press ^] three times within 1s to exit.\r\n",
                name);
        r = console_forward(sock, sfd, name);
        tty_guard_restore(&tty);
        if (r < 0)
                return log_error_errno(r, "Console forwarding failed: %m"), EXIT_FAIL;
        return EXIT_OK;
}

/* log: what the machine printed on its console and what its supervisor said, also after it
 * ended (a failed start); machined escapes the guest's text. */
int verb_log(int argc, char *argv[]) {
        enum { ARG_LINES = 0x100 };
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "lines", required_argument, NULL, 'n' },
                { "json", no_argument, NULL, 'j' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **console = NULL, **supervisor = NULL;
        MachineOptions o = {};
        unsigned lines = 50;
        const char *name;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hn:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("nspawnctl log NAME [-n LINES] [--json]\n\n"
                               "Show the end of a machine's console and of its supervisor's messages, also\n"
                               "after the machine ended (they are kept for a day).\n\n" COMMON_HELP
                               "  -n --lines=N           How many lines of each (default 50)\n"
                               "     --json             One JSON object, for scripts\n");
                        return EXIT_OK;
                case 'S':
                        if (bus_parse_state_dir(optarg, &o.state_dir) < 0)
                                return EXIT_USAGE;
                        break;
                case 'n': {
                        int v;
                        if (safe_atoi(optarg, &v) < 0 || v <= 0 || v > 10000)
                                return log_invalid("--lines", optarg, ": expected 1 to 10000.");
                        lines = (unsigned) v;
                        break;
                }
                case 'j':
                        o.json = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return log_error("log: expected exactly one machine name."), EXIT_USAGE;
        name = argv[optind];
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT);
        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "GetMachineLog", 0,
                              "read the machine's log", &reply, "su", name, (uint32_t) lines);
        if (r > 0)
                return r;
        if ((r = sd_bus_message_read_strv(reply, &console)) < 0 || (r = sd_bus_message_read_strv(reply, &supervisor)) < 0)
                return log_error_errno(r, "Failed to read the log: %m"), EXIT_FAIL;
        if (o.json) {
                printf("{\"console\":[");
                STRV_FOREACH(l, console) {
                        printf("%s", l == console ? "" : ",");
                        json_print_string(*l);
                }
                printf("],\"supervisor\":[");
                STRV_FOREACH(l, supervisor) {
                        printf("%s", l == supervisor ? "" : ",");
                        json_print_string(*l);
                }
                printf("]}\n");
                return EXIT_OK;
        }
        STRV_FOREACH(l, console)
                printf("%s\n", *l);
        STRV_FOREACH(l, supervisor)
                printf("supervisor: %s\n", *l);
        return EXIT_OK;
}
