/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "config.h"
#include "ini.h"
#include "log.h"
#include "machined-api.h"
#include "machined-network.h"
#include "machined.h"
#include "pool.h"
#include "runtime.h"
#include "util/strv.h"
#include "util/util.h"

static void help(void) {
        printf("machined [OPTIONS...]\n\n"
               "Starts, tracks and stops nspawnctl machines; serves %s on the system bus\n"
               "and on STATEDIR/private.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --pool=DIR          Where images live (default /var/lib/machines)\n"
               "     --state-dir=DIR     Runtime state (default /run/nspawnctl)\n"
               "     --config-dir=DIR    Trusted settings (default /etc/nspawnctl)\n"
               "     --supervisor=PATH   The nspawnctl-supervisor binary machines run under\n"
               "                         (default: the build tree's when run from it, else\n"
               "                         %s/nspawnctl-supervisor)\n"
               "     --no-bus            Serve only the private socket\n"
               "     --machine1=auto|yes|no\n"
               "                         Also serve org.freedesktop.machine1 (auto: where\n"
               "                         no systemd-machined does; default: Machine1= in\n"
               "                         CONFIG_DIR/machined.conf, else auto)\n"
               MACHINED_NETWORK_HELP
               "  -v --verbose           Log debug messages\n",
               MACHINED_BUS_NAME, LIBEXECDIR);
}

static Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        start_requests_free(m);
        manager_network_free(m);
        manager_free_image_state(m);
        manager_machine1_free(m);
        while (m->machines)
                machine_free(m->machines);
        manager_close_private(m);
        sd_bus_flush_close_unref(m->bus);
        sd_event_source_disable_unref(m->bus_retry_source);
        sd_event_source_disable_unref(m->inotify_source);
        sd_event_unref(m->event);
        safe_close(m->machines_dir_fd);
        free(m->pool);
        free(m->state_dir);
        free(m->machines_dir);
        free(m->logs_dir);
        free(m->supervisor);
        free(m->config_dir);
        free(m);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

static int absolute_path(const char *opt, const char *p, char **ret) {
        char buf[PATH_MAX];
        if (isempty(p) || strlen(p) >= PATH_MAX)
                return log_error_errno(-EINVAL, "Invalid value for %s.", opt);
        if (!realpath(p, buf)) {
                /* The state directory may not exist yet; accept an absolute path as given. */
                if (errno != ENOENT || p[0] != '/')
                        return log_error_errno(errno, "Invalid value for %s '%s': %m", opt, p);
                snprintf(buf, sizeof buf, "%s", p);
        }
        free(*ret);
        *ret = strdup(buf);
        return *ret ? 0 : log_oom();
}

static int config_assignment(IniParser *p, const char *section, const char *key, const char *value,
                             void *userdata) {
        Machine1Mode *mode = userdata;

        if (!streq(key, "Machine1"))
                return INI_UNKNOWN_KEY;
        *mode = machine1_mode_from_string(value);
        if (*mode < 0)
                return ini_syntax_error(p, "Invalid Machine1=%s (auto, yes or no).", value);
        return 0;
}

/* CONFIG_DIR/machined.conf, [Machined]: the settings of machined itself (optional). */
static int machined_config_load(const char *config_dir, Machine1Mode *ret_machine1) {
        static const char *const sections[] = { "Machined", NULL };
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        Machine1Mode mode = MACHINE1_AUTO;
        int r;

        path = strjoin(config_dir, "/machined.conf");
        if (!path)
                return log_oom();
        r = ini_open(path, &f);
        if (r == -ENOENT) {
                *ret_machine1 = mode;
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to open %s: %m", path);
        r = ini_parse(f, path, sections, config_assignment, &mode, &e, &warnings);
        if (r < 0 && error_is_set(&e))
                return log_error_errno(r, "%s", error_message(&e));
        if (r < 0)
                return log_error_errno(r, "Failed to parse machined.conf: %m");
        STRV_FOREACH(w, warnings)
                log_warning("%s", *w);
        *ret_machine1 = mode;
        return 0;
}

static int parse_argv(int argc, char *argv[], Manager *m, bool *no_bus) {
        enum { ARG_VERSION = 0x100, ARG_POOL, ARG_STATE_DIR, ARG_CONFIG_DIR, ARG_SUPERVISOR, ARG_NO_BUS, ARG_MACHINE1 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "pool", required_argument, NULL, ARG_POOL },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "supervisor", required_argument, NULL, ARG_SUPERVISOR },
                { "no-bus", no_argument, NULL, ARG_NO_BUS },
                { "machine1", required_argument, NULL, ARG_MACHINE1 },
                { "verbose", no_argument, NULL, 'v' },
                MACHINED_NETWORK_OPTIONS,
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("machined %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_POOL:
                        if ((r = absolute_path("--pool", optarg, &m->pool)) < 0)
                                return r;
                        break;
                case ARG_STATE_DIR:
                        if ((r = absolute_path("--state-dir", optarg, &m->state_dir)) < 0)
                                return r;
                        break;
                case ARG_CONFIG_DIR:
                        if ((r = absolute_path("--config-dir", optarg, &m->config_dir)) < 0)
                                return r;
                        break;
                case ARG_SUPERVISOR:
                        if ((r = absolute_path("--supervisor", optarg, &m->supervisor)) < 0)
                                return r;
                        break;
                case ARG_NO_BUS:
                        *no_bus = true;
                        break;
                case ARG_MACHINE1:
                        m->machine1_mode = machine1_mode_from_string(optarg);
                        if (m->machine1_mode < 0)
                                return log_error_errno(-EINVAL, "Invalid value for --machine1: '%s' (auto, yes or no).",
                                                       optarg);
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        r = manager_network_option(m, c, optarg);
                        if (r <= 0)
                                return -EINVAL;
                        break;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "machined takes no arguments.");

        if (!m->pool && !(m->pool = strdup("/var/lib/machines")))
                return log_oom();
        if (!m->state_dir && !(m->state_dir = strdup("/run/nspawnctl")))
                return log_oom();
        if (!m->config_dir && !(m->config_dir = strdup("/etc/nspawnctl")))
                return log_oom();
        if (m->machine1_mode == _MACHINE1_MODE_INVALID) {
                r = machined_config_load(m->config_dir, &m->machine1_mode);
                if (r < 0)
                        return r;
        }
        if (!m->supervisor && !(m->supervisor = runtime_find_binary("nspawnctl-supervisor")))
                return log_error_errno(-ENOENT, "No nspawnctl-supervisor in %s: is nspawnctl installed?", LIBEXECDIR);
        if (access(m->supervisor, X_OK) < 0)
                return log_error_errno(errno, "Supervisor %s is not executable: %m", m->supervisor);
        return 1;
}

static int mkdir_p_mode(const char *p, mode_t mode) {
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* How often to look for a system bus while there is none: the dbus-daemon may start after
 * machined (init scripts) or be restarted. */
#define BUS_RETRY_USEC (2ULL * 1000000ULL)

static int connect_system_bus(Manager *m);

static int on_bus_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        m->bus_retry_source = sd_event_source_unref(m->bus_retry_source);
        r = connect_system_bus(m);
        if (r >= 0) {
                log_info("Connected to the system bus as %s.", MACHINED_BUS_NAME);
                return 0;
        }
        log_debug_errno(r, "Still no system bus: %m");
        return sd_event_add_time_relative(m->event, &m->bus_retry_source, CLOCK_MONOTONIC,
                                          BUS_RETRY_USEC, 0, on_bus_retry, m);
}

static void schedule_bus_retry(Manager *m) {
        if (m->bus_retry_source)
                return;
        (void) sd_event_add_time_relative(m->event, &m->bus_retry_source, CLOCK_MONOTONIC,
                                          BUS_RETRY_USEC, 0, on_bus_retry, m);
}

static int on_system_bus_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        if (!sd_bus_message_is_signal(message, "org.freedesktop.DBus.Local", "Disconnected"))
                return 0;
        /* Machines must not depend on the dbus-daemon: keep serving the private socket, and
         * come back when a dbus-daemon does. */
        log_warning("Lost the system bus; still serving %s/private.", m->state_dir);
        m->bus = sd_bus_flush_close_unref(m->bus);
        schedule_bus_retry(m);
        return 0;
}

static int connect_system_bus(Manager *m) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        /* Exiting when the dbus-daemon goes away would orphan nothing, but would take the
         * private socket with it. */
        r = sd_bus_set_exit_on_disconnect(bus, false);
        if (r < 0)
                return r;
        r = manager_attach_bus(m, bus, on_system_bus_message, m);
        if (r < 0)
                return r;
        /* Queue for the name rather than fail: after a kill -9 the dbus-daemon may not have
         * noticed yet that the previous machined is gone. A second live machined on the same
         * state dir has been refused already (its private socket answers). */
        r = sd_bus_request_name(bus, MACHINED_BUS_NAME, SD_BUS_NAME_QUEUE);
        if (r < 0)
                return r;
        if (r == 0)
                log_notice("%s is still owned by another connection; queued for it.",
                           MACHINED_BUS_NAME);
        /* After our own name: the owner check compares the two. */
        (void) manager_machine1_request_name(m, bus);
        m->bus = TAKE_PTR(bus);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        bool no_bus = false;
        sigset_t ss;
        int r;

        log_set_prefix("machined");
        umask(0022);

        m = calloc(1, sizeof(Manager));
        if (!m)
                return log_oom(), EXIT_FAILURE;
        m->private_fd = m->machines_dir_fd = -EBADF;
        m->machine1_mode = _MACHINE1_MODE_INVALID;

        r = parse_argv(argc, argv, m, &no_bus);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        m->machines_dir = strjoin(m->state_dir, "/machines");
        m->logs_dir = strjoin(m->state_dir, "/logs");
        if (!m->machines_dir || !m->logs_dir)
                return log_oom(), EXIT_FAILURE;
        if ((r = mkdir_p_mode(m->state_dir, 0755)) < 0 ||
            (r = mkdir_p_mode(m->machines_dir, 0755)) < 0 ||
            (r = mkdir_p_mode(m->logs_dir, 0700)) < 0)
                return log_error_errno(r, "Failed to create %s: %m", m->state_dir), EXIT_FAILURE;
        m->machines_dir_fd = open(m->machines_dir, O_DIRECTORY | O_CLOEXEC | O_PATH);
        if (m->machines_dir_fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", m->machines_dir),
                       EXIT_FAILURE;

        /* Before SIGCHLD is ignored below: mkfs.btrfs is waited for. A pool that cannot be
         * made btrfs still serves its images, by copy. */
        r = pool_setup(m->pool, 0);
        if (r < 0)
                log_warning_errno(r, "Failed to set up the image pool %s, images are copied "
                                  "instead of snapshotted: %m", m->pool);

        /* The watcher process of a start is never waited for: let the kernel reap it. It
         * resets this before it forks the supervisor. */
        struct sigaction sa = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
        (void) sigaction(SIGCHLD, &sa, NULL);
        (void) signal(SIGPIPE, SIG_IGN);
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &ss, NULL);

        r = manager_machine1_init(m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up machine1: %m"), EXIT_FAILURE;

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m"), EXIT_FAILURE;
        (void) sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);

        /* Watch first, then scan, so that no record written in between is missed. Machines
         * found here are adopted silently: nobody is connected yet to hear MachineNew. */
        r = manager_watch_records(m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch %s: %m", m->machines_dir), EXIT_FAILURE;
        r = manager_load_records(m);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", m->machines_dir), EXIT_FAILURE;

        manager_prune_logs(m);
        /* After the records: the machines that run are known, the reservations of others go. */
        (void) manager_network_init(m);

        r = manager_listen_private(m);
        if (r == -EADDRINUSE)
                return log_error_errno(r, "%s/private is in use: is machined running already?",
                                       m->state_dir), EXIT_FAILURE;
        if (r < 0)
                return log_error_errno(r, "Failed to listen on %s/private: %m", m->state_dir),
                       EXIT_FAILURE;
        if (!no_bus) {
                r = connect_system_bus(m);
                if (r == -EEXIST || r == -EALREADY)
                        return log_error_errno(r, "%s is already taken: is machined running?",
                                               MACHINED_BUS_NAME), EXIT_FAILURE;
                if (r < 0) {
                        log_full_errno(LOG_NOTICE, r, "No system bus (%m); serving %s/private "
                                       "until there is one.", m->state_dir);
                        schedule_bus_retry(m);
                }
        }

        log_info("Serving %zu machine(s) from pool %s, state in %s, supervisor %s.", m->n_machines,
                 m->pool, m->state_dir, m->supervisor);
        (void) sd_notify(false, "READY=1\nSTATUS=Processing requests...");

        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_FAILURE;
        return EXIT_SUCCESS;
}
