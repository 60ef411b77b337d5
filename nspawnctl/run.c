/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "machine-record.h"
#include "names.h"
#include "run-network.h"
#include "settings.h"
#include "supervise.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

typedef struct RunArgs {
        char *directory;
        char *machine;
        char **setenv;
        char **tmpfs;
        BindMount *binds;
        size_t n_binds;
        bool console_set;
} RunArgs;

static void run_args_done(RunArgs *a) {
        free(a->directory);
        free(a->machine);
        strv_free(a->setenv);
        strv_free(a->tmpfs);
        bind_mounts_free(a->binds, a->n_binds);
}

static void help(void) {
        printf("nspawnctl run [OPTIONS...] -D DIR [--] [COMMAND [ARG...]]\n\n"
               "Run a command or boot an OS tree in a container, without machined.\n\n"
               "  -h --help                 Show this help\n"
               "  -D --directory=DIR        Root directory of the container (required)\n"
               "  -M --machine=NAME         Machine and host name (default: the directory's name)\n"
               "  -b --boot                 Boot the tree's init (systemd) as PID 1\n"
               "  -a --as-pid2              Run COMMAND as PID 2 under a minimal init\n"
               "     --bind=SRC[:DST[:OPT]] Bind mount a host path (OPT: rbind|norbind)\n"
               "     --bind-ro=SRC[:DST]    Bind mount a host path read-only\n"
               "     --tmpfs=DST[:OPTIONS]  Mount a tmpfs on DST\n"
               "     --read-only            Mount the tree read-only\n"
               "  -x --ephemeral            Run in a throwaway overlay; the tree stays unchanged\n"
               "  -E --setenv=NAME=VALUE    Set an environment variable for PID 1\n"
               "     --chdir=PATH           Working directory inside the container\n"
               "  -u --user=USER            Run COMMAND as USER (from the tree's /etc/passwd)\n"
               "     --private-network      Own network namespace with only lo\n"
               RUN_NETWORK_HELP
               "     --console=MODE         interactive, read-only, passive or pipe\n"
               "  -P --pipe                 Same as --console=pipe\n"
               "     --restart-on-reboot    Boot again when the container reboots\n"
               "  -q --quiet                Do not print status messages\n"
               "     --register=BOOL        Publish the machine for machined (default: no)\n"
               "     --state-dir=DIR        Where machine records live (default: " DEFAULT_STATE_DIR ")\n"
               "     --kill-timeout=SEC     Wait this long after asking the container to stop\n"
               "\nThe exit status is COMMAND's; with --boot 0 after poweroff, 133 after reboot.\n"
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
};

static int add_bind(RunArgs *a, const char *spec, bool ro) {
        BindMount *n = realloc(a->binds, sizeof(BindMount) * (a->n_binds + 1));
        int r;

        if (!n)
                return log_oom();
        a->binds = n;
        r = bind_mount_parse(spec, ro, &a->binds[a->n_binds]);
        if (r < 0)
                return log_error_errno(r, "Invalid bind mount specification '%s': expected SRC[:DST[:rbind|norbind]] with absolute paths.", spec);
        a->n_binds++;
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

static void format_uuid(const char *hex, char out[37]) {
        snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* The cgroup layout the container gets: the host's, or NSPAWNCTL_CGROUP_MODE (like
 * SYSTEMD_NSPAWN_UNIFIED_HIERARCHY) where the host allows it. Logs. */
static int container_cgroup_mode(CGroupMode *ret) {
        const char *mode = getenv("NSPAWNCTL_CGROUP_MODE");
        int r;

        r = cgroup_detect_mode(ret);
        if (r < 0)
                return log_error_errno(r, "Failed to find out how cgroups are mounted on this host: %m");
        if (isempty(mode))
                return 0;
        CGroupMode m = cgroup_mode_from_string(mode);
        if (m < 0)
                return log_error_errno(-EINVAL, "Invalid NSPAWNCTL_CGROUP_MODE=%s: use unified, hybrid or legacy.", mode);
        if (cgroup_mode_supported(m) < 0)
                return log_error_errno(-EOPNOTSUPP, "NSPAWNCTL_CGROUP_MODE=%s is not possible on this host.", mode);
        *ret = m;
        return 0;
}

/* The small static supervisor to hand over to: next to us (build tree), or installed. */
static char *find_supervise_binary(void) {
        char self[PATH_MAX], *slash;
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

        if (n > 0) {
                self[n] = 0;
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = 0;
                        char *p = strjoin(self, "/nspawnctl-supervise");
                        if (p && access(p, X_OK) >= 0)
                                return p;
                        free(p);
                }
        }
        if (access(LIBEXECDIR "/nspawnctl-supervise", X_OK) >= 0)
                return strdup(LIBEXECDIR "/nspawnctl-supervise");
        return NULL;
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
                { "console", required_argument, NULL, ARG_CONSOLE },
                { "pipe", no_argument, NULL, 'P' },
                { "restart-on-reboot", no_argument, NULL, ARG_RESTART_ON_REBOOT },
                { "quiet", no_argument, NULL, 'q' },
                { "register", required_argument, NULL, ARG_REGISTER },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "kill-timeout", required_argument, NULL, ARG_KILL_TIMEOUT },
                { "notify-ready", required_argument, NULL, ARG_NOTIFY_READY },
                RUN_NETWORK_OPTIONS,
                {}
        };
        _cleanup_(run_args_done) RunArgs a = {};
        _cleanup_(run_network_done) RunNetwork net;
        SuperviseConfig c = {
                .state_dir = DEFAULT_STATE_DIR,
                .kill_timeout_usec = 10 * 1000000ULL,
                .ready_timeout_usec = 30 * 1000000ULL,
                .spawn.console = _CONSOLE_MODE_INVALID,
        };
        char machine_id[33], uuid[37];
        int notify = -1, opt, r;

        run_network_init(&net);
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
                        break;
                case 'b':
                        c.spawn.boot = true;
                        break;
                case 'a':
                        c.spawn.as_pid2 = true;
                        break;
                case ARG_BIND:
                case ARG_BIND_RO:
                        if (add_bind(&a, optarg, opt == ARG_BIND_RO) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_TMPFS:
                        if (!tmpfs_spec_is_valid(optarg))
                                return log_error("Invalid --tmpfs= '%s': expected an absolute, normalized path, optionally :OPTIONS.", optarg),
                                       EXIT_USAGE;
                        if (strv_extend(&a.tmpfs, optarg) < 0)
                                return log_oom(), EXIT_FAIL;
                        break;
                case ARG_READ_ONLY:
                        c.spawn.read_only = true;
                        break;
                case 'x':
                        c.spawn.ephemeral = true;
                        break;
                case 'E':
                        if (!env_assignment_is_valid(optarg))
                                return log_error("Invalid environment assignment '%s': expected NAME=VALUE.", optarg), EXIT_USAGE;
                        if (strv_env_set(&a.setenv, optarg) < 0)
                                return log_oom(), EXIT_FAIL;
                        break;
                case ARG_CHDIR:
                        if (!path_is_safe_absolute(optarg))
                                return log_error("Invalid --chdir= path '%s': must be absolute.", optarg), EXIT_USAGE;
                        c.spawn.working_directory = optarg;
                        break;
                case 'u':
                        if (!user_name_is_valid(optarg))
                                return log_error("Invalid user name '%s'.", optarg), EXIT_USAGE;
                        c.spawn.user = optarg;
                        break;
                case ARG_PRIVATE_NETWORK:
                        net.private_network = true;
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
                        notify = parse_boolean(optarg);
                        if (notify < 0)
                                return log_error("Invalid --notify-ready= value '%s': expected yes or no.", optarg), EXIT_USAGE;
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
                case '?':
                        return EXIT_USAGE;
                default:
                        r = run_network_option(&net, opt, optarg);
                        if (r <= 0)
                                return EXIT_USAGE;
                        break;
                }
        }

        if (!a.directory)
                return log_error("run needs -D DIR, the root directory of the container. See 'nspawnctl run --help'."), EXIT_USAGE;
        if (streq(a.directory, "/"))
                return log_error("Refusing to run the host's own root directory as a container."), EXIT_USAGE;
        if (c.spawn.ephemeral && c.spawn.read_only)
                return log_error("--ephemeral and --read-only do not go together: an ephemeral tree is already unchanged."), EXIT_USAGE;
        if (c.spawn.boot && c.spawn.as_pid2)
                return log_error("--boot and --as-pid2 do not go together: --boot runs the tree's own init."), EXIT_USAGE;
        if (c.spawn.boot && c.spawn.user)
                return log_error("--user does not go with --boot: the init runs as root."), EXIT_USAGE;
        if (!a.machine) {
                r = default_machine_name(a.directory, c.spawn.ephemeral, &a.machine);
                if (r < 0)
                        return EXIT_USAGE;
        }
        if (!a.machine)
                return log_oom(), EXIT_FAIL;

        if (c.spawn.console < 0) {
                if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
                        c.spawn.console = CONSOLE_INTERACTIVE;
                else
                        c.spawn.console = c.spawn.boot ? CONSOLE_READ_ONLY : CONSOLE_PIPE;
        }
        if (geteuid() != 0)
                return log_error("run needs root: it creates namespaces, mounts and cgroups."), EXIT_PERMISSION;

        if (id128_random_hex(machine_id) < 0)
                return log_error("Failed to generate a machine id."), EXIT_FAIL;
        format_uuid(machine_id, uuid);

        c.spawn.directory = a.directory;
        c.spawn.machine = a.machine;
        c.spawn.uuid = uuid;
        c.spawn.machine_id = machine_id;
        c.spawn.argv = argv + optind;
        c.spawn.environment = a.setenv;
        c.spawn.binds = a.binds;
        c.spawn.n_binds = a.n_binds;
        c.spawn.tmpfs = a.tmpfs;
        c.spawn.notify = notify >= 0 ? notify : c.spawn.boot;
        r = run_network_finish(&net, &c);
        if (r < 0)
                return r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;

        _cleanup_free_ char *error = NULL;
        r = spawn_check(&c.spawn, &error);
        if (r < 0) {
                log_error("%s", error ?: "Invalid container tree.");
                return EXIT_FAIL;
        }

        r = container_cgroup_mode(&c.spawn.cgroup_mode);
        if (r < 0)
                return r == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
        _cleanup_free_ char *cg = NULL;
        if (cgroup_path_for_container(a.machine, &cg) < 0)
                return log_oom(), EXIT_FAIL;
        c.spawn.cgroup_path = cg;

        _cleanup_free_ char *sup = find_supervise_binary();
        c.supervise_binary = sup;
        /* main()'s argv, which verb_run() sees shifted by one, for --restart-on-reboot. */
        c.original_argv = argv - 1;

        r = supervise(&c);
        if (r == -EEXIST)
                return EXIT_EXISTS;
        if (r < 0)
                return EXIT_FAIL;
        return r;
}
