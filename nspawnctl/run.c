/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini.h"
#include "log.h"
#include "names.h"
#include "run-network.h"
#include "run-settings.h"
#include "runtime.h"
#include "settings-load.h"
#include "settings.h"
#include "state-dir.h"
#include "supervise.h"
#include "util/escape.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

/* How a settings file found for the machine counts, as systemd-nspawn's --settings=. */
typedef enum SettingsMode {
        SETTINGS_MODE_YES,      /* read; the command line wins; privileged keys only if trusted */
        SETTINGS_MODE_NO,       /* not read */
        SETTINGS_MODE_TRUSTED,  /* read; also the file next to the tree is trusted */
        SETTINGS_MODE_OVERRIDE, /* read, trusted, and it wins over the command line */
        _SETTINGS_MODE_MAX,
        _SETTINGS_MODE_INVALID = -EINVAL,
} SettingsMode;

static const char *const settings_mode_table[_SETTINGS_MODE_MAX] = {
        [SETTINGS_MODE_YES] = "yes",
        [SETTINGS_MODE_NO] = "no",
        [SETTINGS_MODE_TRUSTED] = "trusted",
        [SETTINGS_MODE_OVERRIDE] = "override",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP(settings_mode, SettingsMode, _SETTINGS_MODE_MAX);

/* The command line, parsed once: what a settings file could also say goes into a Settings of
 * its own (merged with the file's later), the rest is run's own. */
typedef struct RunArgs {
        Settings *settings;
        char *directory;
        char *machine;
        SettingsMode settings_mode;
} RunArgs;

static void run_args_done(RunArgs *a) {
        settings_free(a->settings);
        free(a->directory);
        free(a->machine);
}

static void help(void) {
        printf("nspawnctl run [OPTIONS...] -D DIR [--] [COMMAND [ARG...]]\n\n"
               "Run a command or boot an OS tree in a container, without machined.\n\n"
               "  -h --help                 Show this help\n"
               "  -D --directory=DIR        Root directory of the container (required)\n"
               "  -M --machine=NAME         Machine and host name (default: the directory's name)\n"
               "  -b --boot                 Boot the tree's init (systemd) as PID 1\n"
               "  -a --as-pid2              Run COMMAND as PID 2 under a minimal init\n"
               "     --bind=SRC[:DST[:OPTS]] Bind mount a host path (OPTS: rbind|norbind and\n"
               "                            idmap|noidmap|rootidmap|owneridmap, comma-separated)\n"
               "     --bind-ro=SRC[:DST[:OPTS]] Bind mount a host path read-only\n"
               "     --tmpfs=DST[:OPTIONS]  Mount a tmpfs on DST\n"
               "     --read-only            Mount the tree read-only\n"
               "  -x --ephemeral            Run in a throwaway overlay; the tree stays unchanged\n"
               "  -E --setenv=NAME=VALUE    Set an environment variable for PID 1\n"
               "     --chdir=PATH           Working directory inside the container\n"
               "  -u --user=USER            Run COMMAND as USER (from the tree's /etc/passwd)\n"
               "     --private-network      Own network namespace with only lo\n"
               RUN_NETWORK_HELP
               "     --private-users=MODE   User namespace: no (default), pick, yes, identity or\n"
               "                            UID[:COUNT]; the tree is ID-mapped, never chowned\n"
               "     --settings=MODE        Read NAME.nspawn: yes, no, trusted, override (default yes)\n"
               "     --console=MODE         interactive, read-only, passive or pipe\n"
               "  -P --pipe                 Same as --console=pipe\n"
               "     --restart-on-reboot    Boot again when the container reboots\n"
               "  -q --quiet                Do not print status messages\n"
               "     --register=BOOL        Publish the machine for machined (default: no)\n"
               "     --state-dir=DIR        Where machine records live (default: " DEFAULT_STATE_DIR ")\n"
               "     --kill-timeout=SEC     Wait this long after asking the container to stop\n"
               "     --property=NAME=VALUE  Resource limit: MemoryMax, MemoryHigh, MemorySwapMax,\n"
               "                            CPUWeight, CPUQuota, TasksMax (default 16384), IOWeight\n"
               "     --cgroup-layout=MODE   auto (by the tree's systemd), unified, hybrid or legacy\n"
               RUN_SETTINGS_HELP
               "     --report-fd=FD         Write STARTED to FD once the container runs (for tools)\n"
               "\nSettings: NAME.nspawn in /etc/nspawnctl, /etc/systemd/nspawn, the state directory,\n"
               "/run/systemd/nspawn, or next to DIR (there without privileged keys); the command\n"
               "line wins over it.\n"
               "The exit status is COMMAND's; with --boot 0 after poweroff, 133 after reboot.\n"
               "Default console: interactive when stdin is a terminal; otherwise pipe for a\n"
               "command and read-only for --boot.\n");
}

enum {
        ARG_BIND = 0x100,
        ARG_BIND_RO,
        ARG_TMPFS,
        ARG_READ_ONLY,
        ARG_CHDIR,
        ARG_PRIVATE_NETWORK,
        ARG_CONSOLE,
        ARG_RESTART_ON_REBOOT,
        ARG_REGISTER,
        ARG_STATE_DIR,
        ARG_KILL_TIMEOUT,
        ARG_NOTIFY_READY,
        ARG_SETTINGS,
        ARG_PRIVATE_USERS,
        ARG_PROPERTY,
        ARG_CGROUP_LAYOUT,
        ARG_REPORT_FD,
};

static int add_bind(Settings *s, const char *spec, bool ro) {
        BindMount *n = reallocarray(s->binds, s->n_binds + 1, sizeof(BindMount));
        int r;

        if (!n)
                return log_oom();
        s->binds = n;
        r = bind_mount_parse(spec, ro, &s->binds[s->n_binds]);
        if (r < 0)
                return log_error_errno(r, "Invalid bind mount specification '%s': expected SRC[:DST[:OPTIONS]] with absolute paths, OPTIONS rbind|norbind and idmap|noidmap|rootidmap|owneridmap.", spec);
        s->n_binds++;
        return 0;
}

/* Machine names derived from a directory: "foo_bar" is not a valid host name, so say
 * what to do rather than guess one. */
static int default_machine_name(const char *dir, bool ephemeral, char **ret) {
        const char *base = strrchr(dir, '/');
        base = base && base[1] ? base + 1 : dir;
        char suffix[33] = "";

        if (ephemeral) {
                /* Two ephemeral runs of one tree may run at once, each with its own name. */
                char id[33];
                if (id128_random_hex(id) < 0)
                        return -EIO;
                snprintf(suffix, sizeof suffix, "-%.8s", id);
        }
        _cleanup_free_ char *n = strjoin(base, suffix);
        if (!n)
                return log_oom();
        if (!machine_name_is_valid(n))
                return log_error_errno(-EINVAL, "Directory name '%s' is not a valid machine name; pass -M NAME.", base);
        *ret = TAKE_PTR(n);
        return 0;
}

/* --property=NAME=VALUE. Logs. */
static int add_property(Settings *s, const char *assignment) {
        int r = cgroup_limits_set_assignment(&s->limits, assignment);

        if (r == -ENOMEM)
                return log_oom();
        if (r == -ENOENT || (r == -EINVAL && !strchr(assignment, '=')))
                return log_error_errno(-EINVAL, "Unknown --property= '%s': expected NAME=VALUE with NAME one of MemoryMax, MemoryHigh, MemorySwapMax, CPUWeight, CPUQuota, TasksMax, IOWeight.",
                                       assignment);
        if (r < 0)
                return log_error_errno(r, "Invalid --property= value '%s' (sizes: N[K|M|G|T], N%% or infinity; CPUQuota: N%%; weights: 1..10000).",
                                       assignment);
        return 0;
}

/* The settings file of the machine, merged with the command line's. */
static int load_settings(RunArgs *a, const SuperviseConfig *c) {
        _cleanup_(settings_freep) Settings *file = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;
        const char *base = strrchr(a->directory, '/');
        /* The image's name, also for an ephemeral run whose machine name got a suffix. */
        const char *name = machine_name_is_valid(base + 1) ? base + 1 : a->machine;
        int r;

        if (a->settings_mode == SETTINGS_MODE_NO)
                return 0;
        r = settings_load_for_machine(name,
                                      &(const SettingsSearch) { .state_dir = c->state_dir, .image = a->directory },
                                      &file, &warnings, &e);
        /* The file may have come with the image: its text is escaped for the terminal. */
        if (r < 0) {
                _cleanup_free_ char *m = escape_terminal(error_message(&e), 1024, 0);
                return log_error_errno(r, "%s", strna(m));
        }
        if (r == 0)
                return 0;
        STRV_FOREACH(w, warnings) {
                _cleanup_free_ char *m = escape_terminal(*w, 1024, 0);
                log_warning("%s", strna(m));
        }
        if (a->settings_mode == SETTINGS_MODE_OVERRIDE) {
                settings_merge(file, a->settings);
                settings_free(a->settings);
                a->settings = TAKE_PTR(file);
        } else
                settings_merge(a->settings, file);
        return 0;
}

int verb_run(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "directory", required_argument, NULL, 'D' },
                { "machine", required_argument, NULL, 'M' },
                { "boot", no_argument, NULL, 'b' },
                { "as-pid2", no_argument, NULL, 'a' },
                { "bind", required_argument, NULL, ARG_BIND },
                { "bind-ro", required_argument, NULL, ARG_BIND_RO },
                { "tmpfs", required_argument, NULL, ARG_TMPFS },
                { "read-only", no_argument, NULL, ARG_READ_ONLY },
                { "ephemeral", no_argument, NULL, 'x' },
                { "setenv", required_argument, NULL, 'E' },
                { "chdir", required_argument, NULL, ARG_CHDIR },
                { "user", required_argument, NULL, 'u' },
                { "private-network", no_argument, NULL, ARG_PRIVATE_NETWORK },
                { "settings", required_argument, NULL, ARG_SETTINGS },
                { "console", required_argument, NULL, ARG_CONSOLE },
                { "pipe", no_argument, NULL, 'P' },
                { "restart-on-reboot", no_argument, NULL, ARG_RESTART_ON_REBOOT },
                { "quiet", no_argument, NULL, 'q' },
                { "register", required_argument, NULL, ARG_REGISTER },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "kill-timeout", required_argument, NULL, ARG_KILL_TIMEOUT },
                { "notify-ready", required_argument, NULL, ARG_NOTIFY_READY },
                { "private-users", required_argument, NULL, ARG_PRIVATE_USERS },
                { "property", required_argument, NULL, ARG_PROPERTY },
                { "cgroup-layout", required_argument, NULL, ARG_CGROUP_LAYOUT },
                { "report-fd", required_argument, NULL, ARG_REPORT_FD },
                RUN_NETWORK_OPTIONS,
                RUN_SETTINGS_OPTIONS,
                {}
        };
        _cleanup_(run_args_done) RunArgs a = {};
        _cleanup_(runtime_ids_done) RuntimeIds ids = {};
        _cleanup_(error_done) Error e = ERROR_NULL;
        SuperviseConfig c = {
                .state_dir = DEFAULT_STATE_DIR,
                .kill_timeout_usec = 10 * 1000000ULL,
                .ready_timeout_usec = 30 * 1000000ULL,
                .spawn.console = _CONSOLE_MODE_INVALID,
                .report_fd = -EBADF,
        };
        RunNetworkArgs net = {};
        Settings *s;
        int opt, r;

        if (settings_new(&a.settings) < 0)
                return log_oom(), EXIT_FAIL;
        s = a.settings;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "+hD:M:baxE:u:Pq" RUN_NETWORK_SHORT_OPTIONS, options,
                                  NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'D': {
                        char buf[PATH_MAX];
                        if (isempty(optarg))
                                return log_error("--directory= needs a path."), EXIT_USAGE;
                        if (!realpath(optarg, buf))
                                return log_error_errno(-errno, "Directory %s: %m.", optarg), EXIT_USAGE;
                        free(a.directory);
                        a.directory = strdup(buf);
                        if (!a.directory)
                                return log_oom(), EXIT_FAIL;
                        break;
                }
                case 'M':
                        if (!machine_name_is_valid(optarg))
                                return log_error("Invalid machine name '%s': use letters, digits and '-', in labels joined by single dots, at most 64 bytes.", optarg),
                                       EXIT_USAGE;
                        free(a.machine);
                        a.machine = strdup(optarg);
                        if (!a.machine)
                                return log_oom(), EXIT_FAIL;
                        break;
                case 'b':
                        s->boot = true;
                        break;
                case 'a':
                        s->process_two = true;
                        break;
                case ARG_BIND:
                case ARG_BIND_RO:
                        if (add_bind(s, optarg, opt == ARG_BIND_RO) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_TMPFS:
                        if (!tmpfs_spec_is_valid(optarg))
                                return log_error("Invalid --tmpfs= '%s': expected an absolute, normalized path, optionally :OPTIONS.", optarg),
                                       EXIT_USAGE;
                        if (strv_extend(&s->tmpfs, optarg) < 0)
                                return log_oom(), EXIT_FAIL;
                        break;
                case ARG_READ_ONLY:
                        s->read_only = true;
                        break;
                case 'x':
                        s->ephemeral = true;
                        break;
                case 'E':
                        if (!env_assignment_is_valid(optarg))
                                return log_error("Invalid environment assignment '%s': expected NAME=VALUE.", optarg), EXIT_USAGE;
                        if (strv_env_set(&s->environment, optarg) < 0)
                                return log_oom(), EXIT_FAIL;
                        break;
                case ARG_CHDIR:
                        if (!path_is_safe_absolute(optarg))
                                return log_error("Invalid --chdir= path '%s': must be absolute.", optarg), EXIT_USAGE;
                        if (ini_set_string(&s->working_directory, optarg) < 0)
                                return log_oom(), EXIT_FAIL;
                        break;
                case 'u':
                        if (!user_name_is_valid(optarg))
                                return log_error("Invalid user name '%s'.", optarg), EXIT_USAGE;
                        if (ini_set_string(&s->user, optarg) < 0)
                                return log_oom(), EXIT_FAIL;
                        break;
                case ARG_PRIVATE_NETWORK:
                        s->private_network = true;
                        break;
                case ARG_SETTINGS:
                        r = parse_boolean(optarg);
                        a.settings_mode = r > 0 ? SETTINGS_MODE_YES : r == 0 ? SETTINGS_MODE_NO : settings_mode_from_string(optarg);
                        if (a.settings_mode < 0)
                                return log_error("Invalid --settings= mode '%s': use yes, no, trusted or override.", optarg),
                                       EXIT_USAGE;
                        break;
                case ARG_CONSOLE:
                        c.spawn.console = console_mode_from_string(optarg);
                        if (c.spawn.console < 0)
                                return log_error("Invalid --console= mode '%s': use interactive, read-only, passive or pipe.", optarg),
                                       EXIT_USAGE;
                        break;
                case 'P':
                        c.spawn.console = CONSOLE_PIPE;
                        break;
                case ARG_RESTART_ON_REBOOT:
                        c.restart_on_reboot = true;
                        break;
                case 'q':
                        c.quiet = true;
                        break;
                case ARG_REGISTER:
                        r = parse_boolean(optarg);
                        if (r < 0)
                                return log_error("Invalid --register= value '%s': expected yes or no.", optarg), EXIT_USAGE;
                        c.register_machine = r;
                        break;
                case ARG_NOTIFY_READY:
                        s->notify_ready = parse_boolean(optarg);
                        if (s->notify_ready < 0)
                                return log_error("Invalid --notify-ready= value '%s': expected yes or no.", optarg), EXIT_USAGE;
                        break;
                case ARG_PRIVATE_USERS:
                        if (private_users_parse(optarg, &s->private_users) < 0)
                                return log_error("Invalid --private-users= value '%s': use no, yes, pick, identity or UID[:COUNT] (COUNT > 0, the range below 4294967295).", optarg),
                                       EXIT_USAGE;
                        break;
                case ARG_STATE_DIR:
                        if (!path_is_safe_absolute(optarg))
                                return log_error("Invalid --state-dir= path '%s': must be absolute.", optarg), EXIT_USAGE;
                        c.state_dir = optarg;
                        break;
                case ARG_KILL_TIMEOUT:
                        if (parse_sec_usec(optarg, &c.kill_timeout_usec) < 0)
                                return log_error("Invalid --kill-timeout= value '%s': expected seconds.", optarg), EXIT_USAGE;
                        break;
                case ARG_PROPERTY:
                        if (add_property(s, optarg) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_CGROUP_LAYOUT:
                        s->cgroup_layout = cgroup_layout_from_string(optarg);
                        if (s->cgroup_layout < 0)
                                return log_error("Invalid --cgroup-layout= '%s': use auto, unified, hybrid or legacy.", optarg),
                                       EXIT_USAGE;
                        break;
                case ARG_REPORT_FD: {
                        /* nspawnctl test tells a container that ran (and whose command then
                         * failed) from one that never started. Not inherited by it. */
                        int fd;
                        if (safe_atoi(optarg, &fd) < 0 || fd < 3 || fd_cloexec(fd, true) < 0)
                                return log_error("Invalid --report-fd= '%s': expected an open fd above 2.", optarg), EXIT_USAGE;
                        c.report_fd = fd;
                        break;
                }
                case '?':
                        return EXIT_USAGE;
                default:
                        r = run_network_option(&net, s, opt, optarg);
                        if (r == 0)
                                r = run_settings_option(s, opt, optarg);
                        if (r == -ENOMEM)
                                return EXIT_FAIL;
                        if (r <= 0)
                                return EXIT_USAGE;
                        break;
                }
        }
        if (run_network_check(&net) < 0)
                return EXIT_USAGE;
        if (optind < argc && !(s->parameters = strv_copy(argv + optind)))
                return log_oom(), EXIT_FAIL;

        if (!a.directory)
                return log_error("run needs -D DIR, the root directory of the container. See 'nspawnctl run --help'."), EXIT_USAGE;
        if (streq(a.directory, "/"))
                return log_error("Refusing to run the host's own root directory as a container."), EXIT_USAGE;
        if (!a.machine) {
                r = default_machine_name(a.directory, s->ephemeral > 0, &a.machine);
                if (r < 0)
                        return EXIT_USAGE;
        }
        if (geteuid() != 0)
                return log_error("run needs root: it creates namespaces, mounts and cgroups."), EXIT_PERMISSION;

        if (load_settings(&a, &c) < 0)
                return EXIT_FAIL;
        s = a.settings;
        settings_apply(s, &c);
        run_network_apply(&net, &c);
        if (c.spawn.ephemeral && c.spawn.read_only)
                return log_error("--ephemeral and --read-only do not go together: an ephemeral tree is already unchanged."), EXIT_USAGE;
        if (c.spawn.boot && c.spawn.as_pid2)
                return log_error("--boot and --as-pid2 do not go together: --boot runs the tree's own init."), EXIT_USAGE;
        if (c.spawn.boot && c.spawn.user)
                return log_error("--user does not go with --boot: the init runs as root."), EXIT_USAGE;

        if (c.spawn.console < 0) {
                if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
                        c.spawn.console = CONSOLE_INTERACTIVE;
                else
                        c.spawn.console = c.spawn.boot ? CONSOLE_READ_ONLY : CONSOLE_PIPE;
        }
        c.spawn.directory = a.directory;
        c.spawn.machine = a.machine;
        /* main()'s argv, which verb_run() sees shifted by one, for --restart-on-reboot. */
        c.original_argv = argv - 1;

        /* Only what runtime_prepare() calls -EINVAL is a usage error: a bad NSPAWNCTL_*
         * setting in the environment, part of how we were called, or network options that do
         * not go together. */
        r = runtime_prepare(&c, &ids, &e);
        if (r < 0) {
                log_error("%s", error_message(&e));
                return r == -EINVAL || r == -EBADMSG ? EXIT_USAGE : EXIT_FAIL;
        }
        r = supervise(&c, &e);
        if (r < 0) {
                log_error("%s", error_message(&e));
                return r == -EEXIST ? EXIT_EXISTS : EXIT_FAIL;
        }
        return r;
}
