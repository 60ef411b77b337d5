/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "machine-exec.h"
#include "machined-api.h"
#include "names.h"
#include "pty.h"
#include "terminal.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

/* login, shell, exec: sessions in a running machine through machined
 * (machined/machined-login.c). A pty only when we sit on a terminal; otherwise the command
 * gets separate stdin, stdout and stderr, so pipes stay byte-exact. Either way nspawnctl
 * exits with the command's status, read from the status pipe machined hands over. */

/* Longer than machined's own limit for a session start (30 s), so that its error, naming
 * the cause, arrives rather than a bare D-Bus timeout. */
#define CALL_TIMEOUT_USEC (45ULL * 1000000ULL)

static const char *arg_state_dir;
static char **arg_setenv;
static const char *arg_chdir;
static int arg_pty = -1; /* -1: when stdin and stdout are terminals */

/* Messages from machined quote what the caller passed (a command, a directory): control
 * characters are shown as \xNN, never sent to the terminal. */
static char *escape_controls(const char *s) {
        char *r = malloc(strlen(s) * 4 + 1), *t = r;
        if (!r)
                return NULL;
        for (const unsigned char *f = (const unsigned char *) s; *f; f++)
                if (*f < 0x20 || *f == 0x7f)
                        t += sprintf(t, "\\x%02x", *f);
                else
                        *t++ = (char) *f;
        *t = 0;
        return r;
}

static void log_bus_message(const sd_bus_error *error) {
        _cleanup_free_ char *m = escape_controls(error->message ?: error->name);
        log_error("%s", m ?: error->name);
}

/* A failed call: one line, and the exit code a shell would give for the same failure. */
static int session_error(const sd_bus_error *error, int r, const char *what) {
        if (sd_bus_error_has_name(error, BUS_ERROR_COMMAND_NOT_FOUND)) {
                log_bus_message(error);
                return 127;
        }
        if (sd_bus_error_has_name(error, BUS_ERROR_CANNOT_EXECUTE)) {
                log_bus_message(error);
                return 126;
        }
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
                /* The dbus-daemon's own message quotes its whole policy match. */
                log_error("Permission denied: only root may open a login or shell in a machine.");
        else if (sd_bus_error_is_set(error))
                log_bus_message(error);
        else
                log_error_errno(r, "Failed to %s: %m", what);
        if (sd_bus_error_has_name(error, BUS_ERROR_NO_SUCH_USER) ||
            sd_bus_error_has_name(error, BUS_ERROR_NO_SUCH_DIRECTORY))
                return EXIT_FAIL;
        return exit_status_from_bus_error(error, r);
}

static int new_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, MACHINED_BUS_NAME, MACHINED_OBJECT_PATH,
                                              MACHINED_MANAGER_INTERFACE, member);
}

/* Reads the one status line; returns the shell-style exit status. */
static int read_status(int fd) {
        char buf[64];
        size_t n = 0;
        int status;

        (void) fd_nonblock(fd, false);
        while (n < sizeof buf - 1) {
                ssize_t k = read(fd, buf + n, sizeof buf - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += k;
                if (memchr(buf, '\n', n))
                        break;
        }
        buf[n] = 0;
        if (machine_exec_parse_status(buf, &status) < 0) {
                log_error("The session ended without reporting a status.");
                return EXIT_FAIL;
        }
        return status;
}

static void drain(int from, int to) {
        char buf[4096];
        ssize_t k;

        (void) fd_nonblock(from, true);
        while ((k = read(from, buf, sizeof buf)) > 0)
                if (loop_write(to, buf, k) < 0)
                        break;
}

/* Between our terminal (or stdin/stdout) and the pty master. Returns the exit status: the
 * command's when status_fd says it, else 0. */
static int pty_forward(int master, int status_fd, const char *name) {
        _cleanup_(tty_guard_restore) TtyGuard tty = { .fd = STDIN_FILENO };
        _cleanup_close_ int sfd = -EBADF;
        EscapeState escape = {};
        bool stdin_open = true;
        int winsize_fd = isatty(STDIN_FILENO) ? STDIN_FILENO : isatty(STDOUT_FILENO) ? STDOUT_FILENO : -1;
        char buf[8192];
        int r;

        sfd = terminal_signalfd(/* with_winch= */ true);
        if (sfd < 0)
                return log_error_errno(sfd, "Failed to create signalfd: %m"), EXIT_FAIL;
        (void) signal(SIGPIPE, SIG_IGN);
        if (winsize_fd >= 0)
                (void) tty_copy_winsize(winsize_fd, master);
        r = tty_guard_make_raw(&tty);
        if (r < 0)
                return log_error_errno(r, "Failed to make the terminal raw: %m"), EXIT_FAIL;

        for (;;) {
                struct pollfd p[4] = {
                        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = master, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = status_fd, .events = POLLIN },
                };
                ssize_t k;

                if (poll(p, ELEMENTSOF(p), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "poll: %m"), EXIT_FAIL;
                }
                if (p[2].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == sizeof si) {
                                if (si.ssi_signo == SIGWINCH) {
                                        if (winsize_fd >= 0)
                                                (void) tty_copy_winsize(winsize_fd, master);
                                        continue;
                                }
                                tty_guard_restore(&tty);
                                fprintf(stderr, "\nSession in machine %s left (signal %s).\n", name,
                                        strna(signal_to_string((int) si.ssi_signo)));
                                return 128 + (int) si.ssi_signo;
                        }
                }
                if (p[1].revents) {
                        k = read(master, buf, sizeof buf);
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0) {
                                /* EIO: every holder of the terminal is gone. */
                                tty_guard_restore(&tty);
                                return status_fd >= 0 ? read_status(status_fd) : EXIT_OK;
                        }
                        if (loop_write(STDOUT_FILENO, buf, k) < 0)
                                return EXIT_FAIL;
                }
                if (p[3].revents) {
                        /* The command ended while something in the background still holds the
                         * terminal: what it printed is in the pty, take it and go. */
                        drain(master, STDOUT_FILENO);
                        tty_guard_restore(&tty);
                        return read_status(status_fd);
                }
                if (p[0].revents) {
                        k = read(STDIN_FILENO, buf, sizeof buf);
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0) {
                                stdin_open = false;
                                continue;
                        }
                        if (escape_pressed(&escape, buf, k)) {
                                tty_guard_restore(&tty);
                                fprintf(stderr, "\nConnection to machine %s terminated.\n", name);
                                return EXIT_OK;
                        }
                        if (loop_write(master, buf, k) < 0) {
                                tty_guard_restore(&tty);
                                return status_fd >= 0 ? read_status(status_fd) : EXIT_OK;
                        }
                }
        }
}

typedef struct Relay {
        int from, to; /* ours: the end we read or write, and the fd it goes to */
        bool open;
} Relay;

/* Without a pty, stdio goes to the command as it is, except a terminal: the host's
 * terminal is never handed into a machine (TIOCSTI and friends); it gets a pipe that we
 * relay. */
static int pipe_session(sd_bus *bus, sd_bus_message *m, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int status_fd = -EBADF, devnull = -EBADF;
        int give[3], keep[3] = { -EBADF, -EBADF, -EBADF }, theirs[3] = { -EBADF, -EBADF, -EBADF };
        Relay relays[3] = {};
        int r, fd, status = -1;

        for (int i = 0; i < 3; i++) {
                give[i] = i;
                if (fcntl(i, F_GETFD) < 0) {
                        if (devnull < 0)
                                devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                        if (devnull < 0)
                                return log_error_errno(errno, "Failed to open /dev/null: %m"), EXIT_FAIL;
                        give[i] = devnull;
                        continue;
                }
                if (!isatty(i))
                        continue;
                int pp[2];
                if (pipe2(pp, O_CLOEXEC) < 0)
                        return log_error_errno(errno, "pipe: %m"), EXIT_FAIL;
                if (i == 0) {
                        theirs[i] = pp[0];
                        keep[i] = pp[1];
                        relays[i] = (Relay) { .from = STDIN_FILENO, .to = pp[1], .open = true };
                } else {
                        theirs[i] = pp[1];
                        keep[i] = pp[0];
                        relays[i] = (Relay) { .from = pp[0], .to = i, .open = true };
                }
                give[i] = theirs[i];
        }

        r = sd_bus_message_append(m, "hhh", give[0], give[1], give[2]);
        if (r < 0)
                return log_error_errno(r, "Failed to build the call: %m"), EXIT_FAIL;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        for (int i = 0; i < 3; i++)
                theirs[i] = safe_close(theirs[i]);
        if (r < 0) {
                for (int i = 0; i < 3; i++)
                        safe_close(keep[i]);
                return session_error(&error, r, "run the command");
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        status_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (status_fd < 0)
                return log_error_errno(errno, "dup: %m"), EXIT_FAIL;
        reply = sd_bus_message_unref(reply);
        /* Nothing more to say to machined: the session is ours now. */
        (void) sd_bus_flush(bus);

        (void) signal(SIGPIPE, SIG_IGN);
        bool any = relays[0].open || relays[1].open || relays[2].open;
        if (!any) {
                for (int i = 0; i < 3; i++)
                        safe_close(keep[i]);
                return read_status(status_fd);
        }

        /* After the command ended, output still in flight is taken until EOF, or until
         * nothing came for a moment (a background process may hold the pipe). */
        for (;;) {
                struct pollfd p[4];
                char buf[16384];
                bool outputs = false;

                for (int i = 0; i < 3; i++) {
                        p[i] = (struct pollfd) { .fd = relays[i].open ? relays[i].from : -1,
                                                 .events = POLLIN };
                        if (i > 0 && relays[i].open)
                                outputs = true;
                }
                p[3] = (struct pollfd) { .fd = status < 0 ? status_fd : -1, .events = POLLIN };
                if (status >= 0 && !outputs)
                        break;
                r = poll(p, 4, status >= 0 ? 200 : -1);
                if (r < 0 && errno != EINTR)
                        return log_error_errno(errno, "poll: %m"), EXIT_FAIL;
                if (r == 0)
                        break; /* ended, and the outputs are quiet */
                if (p[3].revents) {
                        status = read_status(status_fd);
                        /* Input for a command that is gone goes nowhere. */
                        if (relays[0].open) {
                                relays[0].open = false;
                                keep[0] = safe_close(keep[0]);
                        }
                }
                for (int i = 0; i < 3; i++) {
                        if (!relays[i].open || !p[i].revents)
                                continue;
                        ssize_t k = read(relays[i].from, buf, sizeof buf);
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0 || loop_write(relays[i].to, buf, k) < 0) {
                                relays[i].open = false;
                                keep[i] = safe_close(keep[i]);
                        }
                }
        }
        for (int i = 0; i < 3; i++)
                safe_close(keep[i]);
        (void) name;
        return status;
}

static int help_shell(const char *verb) {
        printf("nspawnctl %s [OPTIONS...] [USER@]NAME [--] [COMMAND [ARG...]]\n\n"
               "Start a login shell (or COMMAND) as USER (default root) in the running machine\n"
               "NAME. With a terminal on stdin and stdout it gets a pty from the machine's\n"
               "devpts; otherwise it gets nspawnctl's own stdin, stdout and stderr, so pipes\n"
               "and redirections are byte-exact. The exit status is the command's (128+N when\n"
               "it was killed by signal N); 127 when COMMAND is not found in the machine.\n\n"
               "  -h --help              Show this help\n"
               "  -E --setenv=VAR=VALUE  Set an environment variable for the command\n"
               "     --chdir=DIR         Start in DIR (absolute, in the machine; default: the\n"
               "                         user's home)\n"
               "     --pty               Always use a pty\n"
               "     --pipe              Never use a pty\n"
               "     --state-dir=DIR     Where machined's private socket is, when there is no\n"
               "                         system bus (default $NSPAWNCTL_STATE_DIR or /run/nspawnctl)\n",
               verb);
        return EXIT_OK;
}

static int append_strv(sd_bus_message *m, char **l) {
        int r = sd_bus_message_open_container(m, 'a', "s");
        if (r < 0)
                return r;
        STRV_FOREACH(s, l) {
                r = sd_bus_message_append(m, "s", *s);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int verb_shell(int argc, char *argv[]) {
        enum { ARG_CHDIR = 0x100, ARG_PTY, ARG_PIPE, ARG_STATE_DIR };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "setenv", required_argument, NULL, 'E' },
                { "chdir", required_argument, NULL, ARG_CHDIR },
                { "pty", no_argument, NULL, ARG_PTY },
                { "pipe", no_argument, NULL, ARG_PIPE },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *user = NULL;
        _cleanup_close_ int master = -EBADF, status_fd = -EBADF;
        const char *name, *at, *path = "", *term;
        char **cmd;
        bool pty;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+hE:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        return help_shell(argv[0]);
                case 'E':
                        if (!env_assignment_is_valid(optarg) || !utf8_is_valid(optarg) ||
                            strlen(optarg) > 32768) {
                                _cleanup_free_ char *e = cescape_for_message(optarg);
                                return log_error("Invalid environment assignment '%s': use VAR=VALUE.",
                                                 strna(e)), EXIT_USAGE;
                        }
                        if (strv_extend(&arg_setenv, optarg) < 0)
                                return log_oom(), EXIT_FAIL;
                        break;
                case ARG_CHDIR:
                        if (isempty(optarg) || optarg[0] != '/' || strlen(optarg) > 4096)
                                return log_error("--chdir= needs an absolute directory."), EXIT_USAGE;
                        arg_chdir = optarg;
                        break;
                case ARG_PTY:
                        arg_pty = 1;
                        break;
                case ARG_PIPE:
                        arg_pty = 0;
                        break;
                case ARG_STATE_DIR:
                        if (bus_parse_state_dir(optarg, &arg_state_dir) < 0)
                                return EXIT_USAGE;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind >= argc)
                return log_error("%s: expected a machine name. See 'nspawnctl %s --help'.", argv[0],
                                 argv[0]), EXIT_USAGE;
        name = argv[optind++];
        at = strchr(name, '@');
        if (at) {
                user = strndup(name, at - name);
                if (!user)
                        return log_oom(), EXIT_FAIL;
                if (!user_name_is_valid(user)) {
                        _cleanup_free_ char *e = cescape_for_message(name);
                        return log_error("Invalid user name in '%s'.", strna(e)), EXIT_USAGE;
                }
                name = at + 1;
        }
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT);
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        cmd = argv + optind;
        if (*cmd)
                path = cmd[0];
        if (*cmd && isempty(path))
                return log_error("Empty command."), EXIT_USAGE;

        pty = arg_pty >= 0 ? arg_pty : isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        term = getenv("TERM");
        if (pty && !isempty(term) && strv_consume(&env, strjoin("TERM=", term)) < 0)
                return log_oom(), EXIT_FAIL;
        if (strv_extend_strv(&env, arg_setenv) < 0)
                return log_oom(), EXIT_FAIL;

        if (bus_connect_machined(bus_state_dir(arg_state_dir), &bus) < 0)
                return bus_last_exit_code();
        r = new_call(bus, pty ? "OpenMachineShellWithStatus" : "RunInMachine", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sss", name, user ?: "", path);
        if (r >= 0)
                r = append_strv(m, cmd);
        if (r >= 0)
                r = append_strv(m, env);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", arg_chdir ?: "");
        if (r < 0)
                return log_error_errno(r, "Failed to build the call: %m"), EXIT_FAIL;
        if (!pty)
                return pipe_session(bus, m, name);

        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0)
                return session_error(&error, r, "open a shell");
        int fd1, fd2;
        const char *pty_path;
        r = sd_bus_message_read(reply, "hsh", &fd1, &pty_path, &fd2);
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        master = fcntl(fd1, F_DUPFD_CLOEXEC, 3);
        status_fd = fcntl(fd2, F_DUPFD_CLOEXEC, 3);
        if (master < 0 || status_fd < 0)
                return log_error_errno(errno, "dup: %m"), EXIT_FAIL;
        reply = sd_bus_message_unref(reply);
        bus = sd_bus_flush_close_unref(bus);
        return pty_forward(master, status_fd, name);
}

int verb_login(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "state-dir", required_argument, NULL, 'S' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_close_ int master = -EBADF;
        const char *name, *pty_path;
        int c, r, fd;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("nspawnctl login [--state-dir=DIR] NAME\n\n"
                               "A login prompt (the machine's own agetty/login) on a new pty of the\n"
                               "running machine NAME. Press ^] three times within a second to leave.\n\n"
                               "  -h --help              Show this help\n"
                               "     --state-dir=DIR     Where machined's private socket is, when there\n"
                               "                         is no system bus (default $NSPAWNCTL_STATE_DIR\n"
                               "                         or /run/nspawnctl)\n");
                        return EXIT_OK;
                case 'S':
                        if (bus_parse_state_dir(optarg, &arg_state_dir) < 0)
                                return EXIT_USAGE;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (optind + 1 != argc)
                return log_error("login: expected exactly one machine name. "
                                 "See 'nspawnctl login --help'."), EXIT_USAGE;
        name = argv[optind];
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT);

        if (bus_connect_machined(bus_state_dir(arg_state_dir), &bus) < 0)
                return bus_last_exit_code();
        r = new_call(bus, "OpenMachineLogin", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r < 0)
                return log_error_errno(r, "Failed to build the call: %m"), EXIT_FAIL;
        r = sd_bus_call(bus, m, CALL_TIMEOUT_USEC, &error, &reply);
        if (r < 0)
                return session_error(&error, r, "open a login");
        r = sd_bus_message_read(reply, "hs", &fd, &pty_path);
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        master = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (master < 0)
                return log_error_errno(errno, "dup: %m"), EXIT_FAIL;
        reply = sd_bus_message_unref(reply);
        bus = sd_bus_flush_close_unref(bus);
        if (isatty(STDERR_FILENO))
                fprintf(stderr, "Connected to machine %s. Press ^] three times within 1s to exit "
                                "session.\n", name);
        return pty_forward(master, -EBADF, name);
}
