/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* StartMachine: machined starts nspawnctl-supervisor with a SupervisorStart (the machine's
 * name and image, nothing else: the supervisor loads the settings itself) and follows the
 * start on a socket: first the supervisor's pidfd (from the short-lived process that
 * detaches it), then the supervisor's SupervisorReports. StartMachine replies once the
 * machine is ready (its init said READY=1, or runs without a notify socket), or with the
 * reason it is not; StartMachineWithFlags(NO_WAIT) once it runs. The supervisor is not
 * machined's child and never depends on machined again. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bus-path.h"
#include "image.h"
#include "log.h"
#include "machined-api.h"
#include "machined-network.h"
#include "machined.h"
#include "names.h"
#include "state-dir.h"
#include "supervisor-contract.h"
#include "util/process.h"
#include "util/strv.h"
#include "util/util.h"

/* How long a start may take before StartMachine gives up and stops the supervisor. A booted
 * machine counts as ready 30 s after it runs at the latest (the supervisor's ready timeout). */
#define START_TIMEOUT_USEC (90ULL * 1000000ULL)
/* How much of the end of the console a failure message quotes. */
#define FAILURE_LINES 3
/* The report fd's number in the supervisor. */
#define REPORT_FD 3
/* How many of the settings' warnings StartMachineEx returns at most. */
#define START_WARNINGS_MAX 64

struct StartRequest {
        Manager *manager;
        char *name;
        sd_bus_message *message;
        char *stderr_path;
        int fd;    /* our end of the socket to the supervisor */
        int pidfd; /* the supervisor, once known */
        /* The image's lock (image_lock()), held until machined knows the machine: remove,
         * rename, restore and clone of the image are refused meanwhile, and after it they
         * see the machine running. */
        int pool_fd, lock_fd;
        uint64_t flags;
        bool started, ready;
        char **warnings; /* the settings' warnings, for StartMachineEx's reply */
        size_t n_warnings;
        sd_event_source *io_source;
        sd_event_source *timer_source;
        LIST_FIELDS(StartRequest);
};

/* The image lock taken by a start, released (lock file removed) on every early return. */
typedef struct StartLock {
        int pool_fd;
        const char *name;
        int fd;
} StartLock;

static void start_lock_done(StartLock *l) {
        if (l->fd >= 0)
                image_lock_release(l->pool_fd, l->name, &l->fd);
}

static StartRequest *start_request_free(StartRequest *req) {
        if (!req)
                return NULL;
        if (req->manager)
                LIST_REMOVE(req->manager->starts, req);
        sd_event_source_disable_unref(req->io_source);
        sd_event_source_disable_unref(req->timer_source);
        safe_close(req->fd);
        safe_close(req->pidfd);
        image_lock_release(req->pool_fd, req->name, &req->lock_fd);
        safe_close(req->pool_fd);
        sd_bus_message_unref(req->message);
        free(req->stderr_path);
        free(req->name);
        strv_free(req->warnings);
        free(req);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(StartRequest *, start_request_free);

void start_requests_free(Manager *m) {
        while (m->starts)
                start_request_free(m->starts);
}

void start_requests_forget_locks(Manager *m) {
        LIST_FOREACH(req, m->starts)
                req->lock_fd = safe_close(req->lock_fd);
}

static StartRequest *find_start_request(Manager *m, const char *name) {
        LIST_FOREACH(r, m->starts)
                if (streq(r->name, name))
                        return r;
        return NULL;
}

/* StartMachineEx: the machine's path and what its settings were warned about (unknown keys,
 * keys ignored in an untrusted file), so that `nspawnctl start` can tell the user. */
static int reply_with_warnings(StartRequest *req, const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(req->message, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "o", path);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, req->warnings ?: (char *[]) { NULL });
        if (r < 0)
                return sd_bus_reply_method_errnof(req->message, r, "Failed to reply: %m");
        return sd_bus_send(NULL, reply, NULL);
}

/* Replies once the start is as far as the caller asked for and machined knows the machine. */
static void start_request_try_complete(StartRequest *req) {
        Machine *machine;

        if (!(req->ready || (req->started && (req->flags & START_MACHINE_NO_WAIT))))
                return;
        machine = manager_find_machine(req->manager, req->name);
        if (!machine)
                return;
        /* Known now: whoever looks at the image next sees the machine running. */
        image_lock_release(req->pool_fd, req->name, &req->lock_fd);
        _cleanup_free_ char *path = NULL;
        if (machine_bus_path_full(bus_message_is_machine1(req->message), machine->rec.name, &path) < 0)
                (void) sd_bus_reply_method_errnof(req->message, -ENOMEM, "Out of memory.");
        else if (sd_bus_message_is_method_call(req->message, NULL, "StartMachineEx"))
                (void) reply_with_warnings(req, path);
        else
                (void) sd_bus_reply_method_return(req->message, "o", path);
        start_request_free(req);
}

bool manager_is_starting(Manager *m, const char *name) {
        return find_start_request(m, name) != NULL;
}

void manager_start_requests_complete(Manager *m, Machine *machine) {
        StartRequest *req = find_start_request(m, machine->rec.name);
        if (req)
                start_request_try_complete(req);
}

/* The supervisor's last words, for an error message when it left without a report. */
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

static void reply_failure(StartRequest *req, const SupervisorReport *report) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        static const char *const error_names[_SUPERVISOR_FAILURE_MAX] = {
                [SUPERVISOR_FAILURE_GENERIC] = BUS_ERROR_START_FAILED,
                [SUPERVISOR_FAILURE_NO_IMAGE] = BUS_ERROR_NO_SUCH_IMAGE,
                [SUPERVISOR_FAILURE_NO_INIT] = BUS_ERROR_IMAGE_HAS_NO_INIT,
                [SUPERVISOR_FAILURE_BAD_SETTINGS] = BUS_ERROR_BAD_SETTINGS,
                [SUPERVISOR_FAILURE_NAME_TAKEN] = BUS_ERROR_MACHINE_EXISTS,
        };

        log_warning("Machine %s failed to start: %s", req->name, report->message);
        /* The image is free again before the caller hears of the failure: a remove or a
         * second start right after the reply must not find it locked (or its lock file). */
        image_lock_release(req->pool_fd, req->name, &req->lock_fd);
        /* The caller is told at once; the supervisor's cleanup may still be on its way. What
         * the caller could look at next must be gone already: its console socket. (Not when
         * the name is another machine's.) */
        if (report->failure != SUPERVISOR_FAILURE_NAME_TAKEN) {
                _cleanup_free_ char *sock =
                        machine_state_path(req->manager->state_dir, req->name, MACHINE_CONSOLE);
                if (sock)
                        (void) unlink(sock);
        }
        /* Its reservation and forwards on the managed network, unless it still runs. */
        manager_network_machine_gone(req->manager, req->name);
        if (report->failure == SUPERVISOR_FAILURE_GENERIC)
                sd_bus_error_setf(&error, BUS_ERROR_START_FAILED, "Machine '%s' failed to start: %s (full output in %s).",
                                  req->name, report->message, req->stderr_path);
        else
                sd_bus_error_setf(&error, error_names[report->failure], "%s", report->message);
        (void) bus_reply_method_error(req->message, &error);
}

static int on_start_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(start_request_freep) StartRequest *req = userdata;
        char buf[SUPERVISOR_REPORT_MESSAGE_MAX + 64];
        SupervisorReport report;
        ssize_t n;
        int pidfd = -EBADF, r;

        r = receive_one_fd(fd, buf, sizeof buf - 1, &n, &pidfd);
        if (r == -EAGAIN || r == -EINTR) {
                TAKE_PTR(req);
                return 0;
        }
        if (r >= 0 && n > 0 && pidfd >= 0) {
                /* From the process that detached the supervisor: the supervisor itself. */
                safe_close(req->pidfd);
                req->pidfd = pidfd;
                TAKE_PTR(req);
                return 0;
        }
        safe_close(pidfd);
        if (r >= 0 && n > 0) {
                buf[n] = 0;
                if (supervisor_report_parse(buf, &report) < 0)
                        report = (SupervisorReport) { .type = SUPERVISOR_REPORT_FAILED };
                if (report.type == SUPERVISOR_REPORT_WARNING) {
                        log_warning("Machine %s: %s", req->name, report.message);
                        /* Kept for the caller, a bounded number of them: the file is the
                         * admin's, but its lines are not counted anywhere else. */
                        if (req->n_warnings < START_WARNINGS_MAX &&
                                    strv_extend(&req->warnings, report.message) >= 0)
                                req->n_warnings++;
                        TAKE_PTR(req);
                        return 0;
                }
                if (report.type == SUPERVISOR_REPORT_STARTED || report.type == SUPERVISOR_REPORT_READY) {
                        Manager *m = req->manager;
                        char name[MACHINE_NAME_MAX + 1];

                        /* Its record is written by now: take it in at once rather than wait
                         * for inotify; that may complete (and free) this request. */
                        req->started = true;
                        req->ready = req->ready || report.type == SUPERVISOR_REPORT_READY;
                        snprintf(name, sizeof name, "%s", req->name);
                        TAKE_PTR(req);
                        manager_process_record(m, name);
                        /* (Not req again: that one is freed on return.) */
                        StartRequest *still = find_start_request(m, name);
                        if (still)
                                start_request_try_complete(still);
                        return 0;
                }
                if (report.type == SUPERVISOR_REPORT_EXITED) {
                        _cleanup_free_ char *tail = machine_log_summary(req->manager, req->name, FAILURE_LINES);
                        int status = report.status;
                        report = (SupervisorReport) { .type = SUPERVISOR_REPORT_FAILED,
                                                      .failure = SUPERVISOR_FAILURE_GENERIC };
                        snprintf(report.message, sizeof report.message, "it ended before it was ready, with status %d%s%s",
                                 status, tail ? "; its console ends: " : "", strempty(tail));
                        reply_failure(req, &report);
                        return 0;
                }
                if (report.message[0] == 0)
                        snprintf(report.message, sizeof report.message, "the supervisor sent a malformed report");
                reply_failure(req, &report);
                return 0;
        }
        /* EOF after STARTED: the supervisor closed the socket without saying READY (its
         * machine rebooted while starting): it runs, and that is what we can tell. */
        if (req->started) {
                Manager *m = req->manager;
                char name[MACHINE_NAME_MAX + 1];

                req->io_source = sd_event_source_disable_unref(req->io_source);
                req->ready = true;
                snprintf(name, sizeof name, "%s", req->name);
                TAKE_PTR(req);
                StartRequest *still = find_start_request(m, name);
                if (still)
                        start_request_try_complete(still);
                return 0;
        }
        _cleanup_free_ char *why = last_line_of(req->stderr_path);
        report = (SupervisorReport) { .type = SUPERVISOR_REPORT_FAILED, .failure = SUPERVISOR_FAILURE_GENERIC };
        snprintf(report.message, sizeof report.message, "the supervisor exited without a report%s%s",
                 why ? ": " : "", strempty(why));
        reply_failure(req, &report);
        return 0;
}

static int on_start_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(start_request_freep) StartRequest *req = userdata;

        /* A start that did not make it in time is a failed start: the machine must not come
         * up after we said so. Its cleanup guard removes what the supervisor made. */
        if (req->pidfd >= 0)
                (void) pidfd_send_signal_safe(req->pidfd, SIGKILL);
        log_warning("Machine %s did not start within %llu s, stopped it.", req->name,
                    START_TIMEOUT_USEC / 1000000ULL);
        manager_network_machine_gone(req->manager, req->name);
        (void) sd_bus_reply_method_errorf(req->message, BUS_ERROR_START_TIMEOUT,
                                          "Machine '%s' did not start within %llu s and was stopped (see %s).",
                                          req->name, START_TIMEOUT_USEC / 1000000ULL, req->stderr_path);
        return 0;
}

/* In the detached process: start the supervisor, tell machined its pidfd, leave. */
_noreturn_ static void start_detached(int sock, char **argv, const char *stderr_path) {
        int err_fd, pidfd, r;
        pid_t pid;

        r = safe_fork("nspawnctl-supervisor", (const int[]) { sock }, 1, 0, &pid);
        if (r < 0)
                _exit(EXIT_FAILURE);
        if (r == 0) {
                err_fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
                if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                if (fd_move_to(sock, REPORT_FD) < 0)
                        _exit(EXIT_FAILURE);
                execv(argv[0], argv);
                dprintf(STDERR_FILENO, "Failed to execute %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        pidfd = pidfd_open_safe(pid);
        if (pidfd >= 0)
                (void) send_one_fd(sock, pidfd, "P", 1);
        _exit(EXIT_SUCCESS);
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

static int manager_start_machine(Manager *m, sd_bus_message *message, const char *name, uint64_t flags,
                                 sd_bus_error *error) {
        _cleanup_(start_request_freep) StartRequest *req = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *image = NULL, *dns_stub = NULL;
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pool_fd = -EBADF, root_fd = -EBADF;
        int lock_fd = -EBADF, r;

        if (!machine_name_is_valid(name) || !image_name_is_valid(name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME,
                                         "Invalid machine name: a host name of at most 64 bytes made of [A-Za-z0-9-] labels joined by dots.");
        if (flags & ~_START_MACHINE_FLAGS_ALL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64 ".", flags);
        if (manager_find_machine(m, name) || find_start_request(m, name))
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_STOPPED, "Machine '%s' is already running.", name);

        pool_fd = open(m->pool, O_DIRECTORY | O_CLOEXEC | O_PATH);
        if (pool_fd < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot open the pool %s: %m", m->pool);
        /* The image's lock, as every image operation takes it: a start never races a remove,
         * rename, restore or clone of its image. */
        r = image_lock(pool_fd, name, &lock_fd);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, BUS_ERROR_IMAGE_BUSY,
                                         "Image '%s' is busy: another operation on it is under way.", name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Cannot lock image %s: %m", name);
        _cleanup_(start_lock_done) StartLock held = { pool_fd, name, TAKE_FD(lock_fd) };
        /* No symlink at the top: the image is what lies in the pool, not what it points to. */
        root_fd = openat(pool_fd, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_PATH);
        if (root_fd < 0) {
                r = -errno;
                if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                        return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "No image '%s' in %s.", name, m->pool);
                return sd_bus_error_set_errnof(error, -r, "Cannot open image %s: %m", name);
        }
        image = strjoin(m->pool, "/", name);
        if (!image)
                return -ENOMEM;
        SupervisorStart start = {
                .machine = name,
                .image = image,
                .state_dir = m->state_dir,
                .config_dir = m->config_dir,
                .report_fd = REPORT_FD,
        };
        /* The managed network: its addresses reserved and its forwards set up before the
         * supervisor runs, which learns of it in the SupervisorStart. */
        r = manager_network_start(m, name, image, &start, &dns_stub, error);
        if (r < 0)
                return r;
        _cleanup_(network_undo) NetworkUndo undo = { m, r > 0 ? name : NULL };
        r = supervisor_start_to_argv(&start, m->supervisor, &argv);
        if (r < 0)
                return r;

        /* Everything that can fail is done before the fork: after it, a supervisor runs. */
        req = calloc(1, sizeof(StartRequest));
        if (!req)
                return -ENOMEM;
        req->fd = req->pidfd = req->pool_fd = req->lock_fd = -EBADF;
        req->flags = flags;
        req->name = strdup(name);
        req->stderr_path = strjoin(m->logs_dir, "/", name, ".stderr");
        if (!req->name || !req->stderr_path)
                return -ENOMEM;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) < 0)
                return -errno;
        req->fd = pair[0];
        r = sd_event_add_io(m->event, &req->io_source, req->fd, EPOLLIN, on_start_io, req);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(m->event, &req->timer_source, CLOCK_MONOTONIC, START_TIMEOUT_USEC, 0,
                                       on_start_timeout, req);
        if (r < 0)
                return r;
        if (fd_nonblock(pair[1], false) < 0)
                return -errno;

        r = safe_fork("nspawnctl-start", (const int[]) { pair[1] }, 1,
                      FORK_RESET_SIGNALS | FORK_CLOSE_ALL_FDS | FORK_NEW_SESSION | FORK_NULL_STDIO, NULL);
        if (r < 0)
                return r;
        if (r == 0)
                start_detached(pair[1], argv, req->stderr_path);
        TAKE_FD(pair[0]);
        req->pool_fd = TAKE_FD(pool_fd);
        req->lock_fd = TAKE_FD(held.fd);

        log_info("Starting machine %s from %s.", name, image);
        req->message = sd_bus_message_ref(message);
        req->manager = m;
        LIST_PREPEND(m->starts, req);
        TAKE_PTR(req);
        undo.name = NULL; /* the supervisor's now, or its failure's */
        return 1;
}

int bus_method_start_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        uint64_t flags = 0;
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r >= 0 && sd_bus_message_has_signature(message, "st"))
                r = sd_bus_message_read(message, "t", &flags);
        if (r < 0)
                return r;
        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        return manager_start_machine(userdata, message, name, flags, error);
}

/* Ours only: machine1 has no StartMachine at all, and StartMachine(WithFlags) keep their
 * signature; this one also returns the settings' warnings. */
static const sd_bus_vtable start_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("StartMachineEx", SD_BUS_ARGS("s", name, "t", flags),
                                SD_BUS_RESULT("o", machine, "as", warnings), bus_method_start_machine, 0),
        SD_BUS_VTABLE_END,
};

int manager_add_start_bus_objects(Manager *m, sd_bus *bus) {
        return sd_bus_add_object_vtable(bus, NULL, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                                        start_vtable, m);
}
