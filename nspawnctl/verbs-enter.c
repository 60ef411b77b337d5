/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl enter NAME [-- COMMAND...]: a command in a running machine without machined.
 * The machine's record in the state directory (written by its supervisor, see
 * core/machine-record.h) names its leader and cgroup; core/machine-exec.c joins them as
 * `nspawnctl shell` does through machined. No pty: stdin, stdout and stderr are handed to
 * the command as they are, so pipes are byte-exact (autopkgtest-virt-nspawnctl runs every
 * testbed command this way). The exit status is the command's. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "machine-exec.h"
#include "machine-record.h"
#include "names.h"
#include "state-dir.h"
#include "util/strv.h"
#include "util/escape.h"
#include "util/util.h"
#include "verbs.h"

static void help(void) {
        printf("nspawnctl enter [OPTIONS...] NAME [--] [COMMAND [ARG...]]\n\n"
               "Run a command (default: root's login shell) in a running machine, without machined:\n"
               "the machine is found by its record in the state directory. No pty is allocated;\n"
               "stdin, stdout and stderr are the command's. The exit status is the command's.\n\n"
               "  -h --help            Show this help\n"
               "  -u --user=USER       Run as USER (default root)\n"
               "     --chdir=PATH      Working directory (default: the user's home)\n"
               "     --state-dir=DIR   Where machine records live (default: /run/nspawnctl)\n"
               "\nExit status: the command's; 127 not found, 126 not executable; 3 no such machine or\n"
               "user; 5 the machine is not up yet; 2 usage; 1 other failures.\n");
}

enum {
        ARG_STATE_DIR = 0x100,
        ARG_CHDIR,
};

int verb_enter(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "user", required_argument, NULL, 'u' },
                { "chdir", required_argument, NULL, ARG_CHDIR },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                {}
        };
        _cleanup_(machine_record_done) MachineRecord rec = {};
        _cleanup_(machine_exec_done) MachineExec ex = MACHINE_EXEC_NULL;
        _cleanup_free_ char *dir = NULL, *esc = NULL, *seccomp_dir = NULL;
        _cleanup_(error_done) Error msg = ERROR_NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        const char *state_dir = NULL, *user = NULL, *chdir_path = NULL, *name;
        MachineExecFailure failure = MACHINE_EXEC_FAILED;
        char line[64] = "";
        size_t len = 0;
        int opt, r, status;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "+hu:", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'u':
                        if (!user_name_is_valid(optarg))
                                return log_invalid("user name", optarg, "."), EXIT_USAGE;
                        user = optarg;
                        break;
                case ARG_CHDIR:
                        if (isempty(optarg) || optarg[0] != '/' || strlen(optarg) >= 4096)
                                return log_error("--chdir= needs an absolute path."), EXIT_USAGE;
                        chdir_path = optarg;
                        break;
                case ARG_STATE_DIR:
                        if (bus_parse_state_dir(optarg, &state_dir) < 0)
                                return EXIT_USAGE;
                        break;
                case '?':
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc)
                return log_error("enter needs a machine NAME. See 'nspawnctl enter --help'."), EXIT_USAGE;
        name = argv[optind++];
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT), EXIT_USAGE;
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        if (optind < argc && isempty(argv[optind]))
                return log_error("The command is empty."), EXIT_USAGE;
        if (geteuid() != 0)
                return log_error("enter needs root: it joins a machine's namespaces."), EXIT_PERMISSION;

        state_dir = bus_state_dir(state_dir);
        dir = strjoin(state_dir, "/machines");
        seccomp_dir = state_seccomp_dir(state_dir);
        if (!dir || !seccomp_dir)
                return log_oom(), EXIT_FAIL;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = dir_fd < 0 ? -errno : machine_record_load(dir_fd, name, &rec);
        if (r == -ENOENT)
                return log_error("Machine %s is not running (no record in %s).", name, dir), EXIT_NOT_FOUND;
        if (r < 0)
                return log_error_errno(r, "Failed to read the record of machine %s: %m", name), EXIT_FAIL;
        if (rec.leader == 0 || rec.state != MACHINE_RUNNING)
                return log_error("Machine %s is %s, not running yet.", name,
                                 machine_state_to_string(rec.state) ?: "starting"),
                       EXIT_STATE;

        r = machine_exec_start(&(const MachineExecParams) {
                                       .machine = name,
                                       .leader = (pid_t) rec.leader,
                                       .leader_start = rec.leader_start,
                                       .cgroup = rec.cgroup,
                                       .syscall_deny = rec.syscall_deny,
                                       .suppress_sync = rec.suppress_sync,
                                       .seccomp_cache_dir = seccomp_dir,
                                       .kind = MACHINE_EXEC_SHELL,
                                       .user = user,
                                       .path = optind < argc ? argv[optind] : NULL,
                                       .argv = optind < argc ? argv + optind : NULL,
                                       .directory = chdir_path,
                                       .stdio = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO },
                                       /* If we die, the command gets SIGHUP, as from a terminal. */
                                       .hangup_without_reader = true,
                               },
                               &ex, &msg);
        if (r == -ESRCH)
                return log_error("Machine %s is not running: %s", name, strna(msg.message)), EXIT_STATE;
        if (r < 0)
                return log_error("Failed to start the command in %s: %s", name, msg.message ?: strerror(-r)), EXIT_FAIL;

        for (;;) {
                struct pollfd p = { .fd = ex.report_fd, .events = POLLIN };
                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        break;
                error_done(&msg);
                r = machine_exec_process(&ex, &failure, &msg);
                if (r != 0)
                        break;
        }
        if (r < 0) {
                esc = msg.message ? escape_terminal(msg.message, 400, ESCAPE_BACKSLASH) : NULL;
                log_error("%s", esc ?: "Failed to start the command.");
                (void) waitpid(ex.helper, NULL, 0);
                switch (failure) {
                case MACHINE_EXEC_COMMAND_NOT_FOUND:
                        return 127;
                case MACHINE_EXEC_CANNOT_EXECUTE:
                        return 126;
                case MACHINE_EXEC_NO_SUCH_USER:
                case MACHINE_EXEC_NO_SUCH_DIRECTORY:
                        return EXIT_NOT_FOUND;
                case MACHINE_EXEC_GONE:
                        return EXIT_STATE;
                default:
                        return EXIT_FAIL;
                }
        }
        /* The command's end: the helper writes one status line when it has reaped it. */
        for (;;) {
                ssize_t n = read(ex.status_fd, line + len, sizeof line - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += n;
                if (len >= sizeof line - 1)
                        break;
        }
        line[len] = 0;
        (void) waitpid(ex.helper, NULL, 0);
        if (machine_exec_parse_status(line, &status) < 0)
                return log_error("The command in %s ended without an exit status (the machine went away?).", name),
                       EXIT_FAIL;
        return status;
}
