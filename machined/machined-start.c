/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "machined-errors.h"
#include "machined-network.h"
#include "machined.h"
#include "names.h"
#include "run-argv.h"
#include "settings.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

/* How long a supervisor may take to write its record before StartMachine gives up waiting
 * (the supervisor keeps going; the machine shows up when it registers). */
#define START_TIMEOUT_USEC (60ULL * 1000000ULL)

struct StartRequest {
        Manager *manager;
        char *name;
        sd_bus_message *message;
        char *stderr_path;
        int fd; /* our end of the socketpair to the watcher process */
        sd_event_source *io_source;
        sd_event_source *timer_source;
        StartRequest *prev, *next;
};

static StartRequest *start_request_free(StartRequest *req) {
        if (!req)
                return NULL;
        if (req->manager) {
                if (req->prev)
                        req->prev->next = req->next;
                else if (req->manager->starts == req)
                        req->manager->starts = req->next;
                if (req->next)
                        req->next->prev = req->prev;
        }
        sd_event_source_disable_unref(req->io_source);
        sd_event_source_disable_unref(req->timer_source);
        /* Closing our end tells the watcher to leave the supervisor alone and exit. */
        safe_close(req->fd);
        sd_bus_message_unref(req->message);
        free(req->stderr_path);
        free(req->name);
        free(req);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(StartRequest *, start_request_free);

void start_requests_free(Manager *m) {
        while (m->starts)
                start_request_free(m->starts);
}

static StartRequest *find_start_request(Manager *m, const char *name) {
        for (StartRequest *r = m->starts; r; r = r->next)
                if (streq(r->name, name))
                        return r;
        return NULL;
}

void manager_start_requests_complete(Manager *m, Machine *machine) {
        StartRequest *req = find_start_request(m, machine->rec.name);
        if (!req)
                return;
        (void) sd_bus_reply_method_return(req->message, "o", machine->path);
        start_request_free(req);
}

/* The supervisor's last words, for the error message: it prints one line before it fails. */
static char *last_line_of(const char *path) {
        _cleanup_free_ char *buf = NULL;
        char *end, *start;
        size_t n;

        if (read_full_file(path, &buf, &n) < 0)
                return NULL;
        end = buf + n;
        while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
                end--;
        *end = 0;
        start = strrchr(buf, '\n');
        start = start ? start + 1 : buf;
        if (strlen(start) > 400)
                start[400] = 0;
        return isempty(start) ? NULL : strdup(start);
}

static int on_watcher_report(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(start_request_freep) StartRequest *req = userdata;
        _cleanup_free_ char *why = NULL;
        int status = -1;
        ssize_t n;

        n = recv(fd, &status, sizeof status, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                TAKE_PTR(req);
                return 0;
        }
        why = last_line_of(req->stderr_path);
        if (n != sizeof status)
                log_warning("Lost track of the supervisor of machine %s before it registered.",
                            req->name);
        else
                log_warning("Supervisor of machine %s exited with status %d before it "
                            "registered%s%s", req->name, status, why ? ": " : ".", why ?: "");

        if (n == sizeof status && status == EXIT_EXISTS)
                sd_bus_error_setf(&error, BUS_ERROR_MACHINE_EXISTS,
                                  "Machine '%s' is already running%s%s", req->name,
                                  why ? ": " : ".", why ?: "");
        else if (n == sizeof status)
                sd_bus_error_setf(&error, BUS_ERROR_START_FAILED,
                                  "Machine '%s' failed to start: the supervisor exited with "
                                  "status %d%s%s (full output in %s).",
                                  req->name, status, why ? ": " : "", why ?: "",
                                  req->stderr_path);
        else
                sd_bus_error_setf(&error, BUS_ERROR_START_FAILED,
                                  "Machine '%s' failed to start: lost track of its supervisor.",
                                  req->name);
        (void) sd_bus_reply_method_error(req->message, &error);
        manager_network_machine_gone(req->manager, req->name);
        return 0;
}

static int on_start_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(start_request_freep) StartRequest *req = userdata;

        log_warning("Supervisor of machine %s did not register in time.", req->name);
        (void) sd_bus_reply_method_errorf(req->message, BUS_ERROR_START_TIMEOUT,
                                          "Machine '%s' did not register within %llu s; it "
                                          "may still come up (see %s).",
                                          req->name, START_TIMEOUT_USEC / 1000000ULL,
                                          req->stderr_path);
        return 0;
}

/* In the supervisor, after the second fork: nothing of machined may leak into it. */
_noreturn_ static void supervisor_exec(char **argv, const char *stderr_path) {
        int null_fd, err_fd;

        for (int sig = 1; sig < _NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        err_fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                      0600);
        if (null_fd < 0)
                _exit(EXIT_FAIL);
        if (err_fd < 0)
                err_fd = null_fd;
        if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
            dup2(err_fd, STDERR_FILENO) < 0)
                _exit(EXIT_FAIL);
        if (close_all_fds_except(NULL, 0) < 0)
                _exit(EXIT_FAIL);
        execv(argv[0], argv);
        dprintf(STDERR_FILENO, "Failed to execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

/* The first child: a new session, the supervisor as its child, and then it only waits to
 * learn whether the supervisor dies before machined saw its record, to pass on the exit
 * status (the supervisor is not machined's child, so machined cannot wait for it). When
 * machined closes the socket the watcher exits and the supervisor is re-parented to init:
 * it never depends on machined again. */
_noreturn_ static void watcher_run(int sock, char **argv, const char *stderr_path) {
        struct pollfd p[2];
        siginfo_t si = {};
        sigset_t ss;
        int pidfd, status;
        pid_t pid;

        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);
        (void) signal(SIGCHLD, SIG_DFL);
        if (setsid() < 0)
                _exit(EXIT_FAIL);
        if (close_all_fds_except(&sock, 1) < 0)
                _exit(EXIT_FAIL);

        pid = fork();
        if (pid < 0)
                _exit(EXIT_FAIL);
        if (pid == 0) {
                (void) close(sock);
                supervisor_exec(argv, stderr_path);
        }

        pidfd = pidfd_open_safe(pid);
        if (pidfd < 0)
                _exit(EXIT_FAIL);
        p[0] = (struct pollfd) { .fd = pidfd, .events = POLLIN };
        p[1] = (struct pollfd) { .fd = sock, .events = POLLIN };
        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(EXIT_FAIL);
                }
                if (p[1].revents)
                        _exit(EXIT_OK);
                if (p[0].revents)
                        break;
        }
        if (waitid(P_PID, pid, &si, WEXITED) < 0)
                _exit(EXIT_FAIL);
        status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        (void) send(sock, &status, sizeof status, MSG_NOSIGNAL);
        _exit(EXIT_OK);
}

int manager_settings_find(Manager *m, const char *name, char **ret_path, SettingsTrust *ret_trust) {
        const char *dirs[] = { m->settings_dirs[0], m->settings_dirs[1], m->pool };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = strjoin(dirs[i], "/", name, ".nspawn");
                struct stat st;
                if (!p)
                        return -ENOMEM;
                /* In the pool not even a symlink: it could lead the parser to any file. A
                 * fifo or device would block machined: regular files only, everywhere. */
                if ((i < 2 ? stat(p, &st) : lstat(p, &st)) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (!S_ISREG(st.st_mode))
                        return -EBADFD;
                /* Privileged settings only from the admin's directories (SECURITY.md). */
                *ret_trust = i < 2 ? SETTINGS_TRUSTED : SETTINGS_UNTRUSTED;
                *ret_path = TAKE_PTR(p);
                return 1;
        }
        return 0;
}

/* Undoes the network of a start that fails after it was set up. */
typedef struct NetworkUndo {
        Manager *manager;
        const char *name;
} NetworkUndo;

static void network_undo(NetworkUndo *u) {
        if (u->name)
                manager_network_machine_gone(u->manager, u->name);
}

int manager_start_machine(Manager *m, sd_bus_message *message, const char *name,
                          sd_bus_error *error) {
        _cleanup_(start_request_freep) StartRequest *req = NULL;
        _cleanup_(settings_freep) Settings *settings = NULL;
        _cleanup_strv_free_ char **argv = NULL, **warnings = NULL;
        _cleanup_free_ char *root = NULL, *settings_path = NULL, *settings_error = NULL;
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pool_fd = -EBADF, root_fd = -EBADF;
        SettingsTrust trust = SETTINGS_UNTRUSTED;
        const char *init = NULL, *argv_error = NULL;
        pid_t pid;
        int r;

        if (!machine_name_is_valid(name) || !image_name_is_valid(name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME,
                                         "Invalid machine name: a host name of at most 64 "
                                         "bytes made of [A-Za-z0-9-] labels joined by dots.");
        if (manager_find_machine(m, name) || find_start_request(m, name))
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_EXISTS,
                                         "Machine '%s' is already running.", name);

        pool_fd = open(m->pool, O_DIRECTORY | O_CLOEXEC | O_PATH);
        if (pool_fd < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot open the pool %s: %m",
                                               m->pool);
        /* No symlink at the top: the image is what lies in the pool, not what it points to. */
        root_fd = openat(pool_fd, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_PATH);
        if (root_fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
                        return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE,
                                                 "No image '%s' in %s.", name, m->pool);
                return sd_bus_error_set_errnof(error, errno, "Cannot open image %s: %m", name);
        }
        root = strjoin(m->pool, "/", name);
        if (!root)
                return -ENOMEM;

        r = manager_settings_find(m, name, &settings_path, &trust);
        if (r == -EBADFD)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS,
                                         "The settings file %s.nspawn of '%s' is not a regular "
                                         "file.", name, name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot look for settings of %s: %m",
                                               name);
        if (r > 0) {
                r = settings_load(settings_path, trust, &settings, &settings_error, &warnings);
                if (r == -EBADMSG || (r < 0 && settings_error))
                        return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS, "%s",
                                                 settings_error ?: settings_path);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Cannot read %s: %m",
                                                       settings_path);
                STRV_FOREACH(w, warnings)
                        log_warning("%s", *w);
        }

        if (!settings || settings->boot != 0) {
                r = image_find_init(root_fd, &init);
                if (r == -ENOENT || r == -EACCES)
                        return sd_bus_error_setf(error, BUS_ERROR_IMAGE_HAS_NO_INIT,
                                                 "Image '%s' has no init to boot (looked for "
                                                 "/sbin/init and /usr/lib/systemd/systemd).",
                                                 name);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Cannot look for the init of "
                                                       "%s: %m", name);
        }

        r = run_argv_build(m->runtime, root, name, m->state_dir, settings, &argv, &argv_error);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS, "%s: %s",
                                         strna(settings_path), argv_error);
        if (r < 0)
                return r;

        r = manager_network_start_args(m, name, settings, &argv, error);
        if (r < 0)
                return r;
        _cleanup_(network_undo) NetworkUndo undo = { m, name };

        req = calloc(1, sizeof(StartRequest));
        if (!req)
                return -ENOMEM;
        req->fd = -EBADF;
        req->name = strdup(name);
        req->stderr_path = strjoin(m->logs_dir, "/", name, ".stderr");
        if (!req->name || !req->stderr_path)
                return -ENOMEM;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                safe_close(pair[0]);
                watcher_run(pair[1], argv, req->stderr_path);
        }
        pair[1] = safe_close(pair[1]);
        req->fd = TAKE_FD(pair[0]);

        log_info("Starting machine %s from %s (init %s), supervisor started via watcher %d.",
                 name, root, strna(init), (int) pid);

        r = sd_event_add_io(m->event, &req->io_source, req->fd, EPOLLIN, on_watcher_report, req);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(m->event, &req->timer_source, CLOCK_MONOTONIC,
                                       START_TIMEOUT_USEC, 0, on_start_timeout, req);
        if (r < 0)
                return r;
        req->message = sd_bus_message_ref(message);
        req->manager = m;
        req->next = m->starts;
        if (m->starts)
                m->starts->prev = req;
        m->starts = TAKE_PTR(req);
        undo.name = NULL;
        return 1;
}
