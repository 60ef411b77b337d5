/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "machine-exec.h"
#include "machined-api.h"
#include "machined.h"
#include "names.h"
#include "state-dir.h"
#include "util/strv.h"
#include "util/util.h"

/* Login, shell and command in a running machine (core/machine-exec.c does the work). The
 * methods reply once the payload was exec'd or failed, so that "unknown user" or "command
 * not found" come back as errors; the wait is on the event loop, never blocking machined.
 * machined keeps nothing once it replied: the helper process reports the end of the payload
 * through the status pipe straight to the client. */

#define EXEC_START_TIMEOUT_USEC (30ULL * 1000000ULL)

typedef enum ExecReply {
        REPLY_PTY,             /* (h pty_master, s pty_path) as machine1 */
        REPLY_PTY_WITH_STATUS, /* (h pty_master, s pty_path, h status) */
        REPLY_STATUS,          /* (h status) */
        REPLY_NONE,            /* () once the command runs: PowerOff and Reboot */
} ExecReply;

typedef struct ExecRequest {
        Manager *manager;
        sd_bus_message *message;
        ExecReply reply;
        MachineExec exec;
        sd_event_source *io_source;
        sd_event_source *timer_source;
} ExecRequest;

static ExecRequest *exec_request_free(ExecRequest *req) {
        if (!req)
                return NULL;
        sd_event_source_disable_unref(req->io_source);
        sd_event_source_disable_unref(req->timer_source);
        sd_bus_message_unref(req->message);
        machine_exec_done(&req->exec);
        free(req);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ExecRequest *, exec_request_free);

static const char *failure_error_name(MachineExecFailure f) {
        switch (f) {
        case MACHINE_EXEC_NO_SUCH_USER:
                return BUS_ERROR_NO_SUCH_USER;
        case MACHINE_EXEC_NO_SUCH_DIRECTORY:
                return BUS_ERROR_NO_SUCH_DIRECTORY;
        case MACHINE_EXEC_COMMAND_NOT_FOUND:
                return BUS_ERROR_COMMAND_NOT_FOUND;
        case MACHINE_EXEC_CANNOT_EXECUTE:
                return BUS_ERROR_CANNOT_EXECUTE;
        case MACHINE_EXEC_GONE:
                return BUS_ERROR_MACHINE_NOT_RUNNING;
        default:
                return SD_BUS_ERROR_FAILED;
        }
}

static int exec_request_reply(ExecRequest *req) {
        switch (req->reply) {
        case REPLY_PTY:
                return sd_bus_reply_method_return(req->message, "hs", req->exec.pty_master,
                                                  req->exec.pty_path);
        case REPLY_PTY_WITH_STATUS:
                return sd_bus_reply_method_return(req->message, "hsh", req->exec.pty_master,
                                                  req->exec.pty_path, req->exec.status_fd);
        case REPLY_STATUS:
                return sd_bus_reply_method_return(req->message, "h", req->exec.status_fd);
        case REPLY_NONE:
                return sd_bus_reply_method_return(req->message, NULL);
        }
        return -EINVAL;
}

static int on_exec_report(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(exec_request_freep) ExecRequest *req = userdata;
        _cleanup_(error_done) Error msg = ERROR_NULL;
        MachineExecFailure failure = MACHINE_EXEC_FAILED;
        int r;

        r = machine_exec_process(&req->exec, &failure, &msg);
        if (r == 0) {
                TAKE_PTR(req); /* not yet */
                return 0;
        }
        if (r < 0) {
                log_debug("Session start failed: %s", strna(msg.message));
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                (void) sd_bus_error_setf(&e, failure_error_name(failure), "%s",
                                         msg.message ?: "Failed to start the session.");
                (void) bus_reply_method_error(req->message, &e);
                return 0;
        }
        r = exec_request_reply(req);
        if (r < 0) {
                /* The client went away: its session must not run on unattended. */
                log_debug_errno(r, "Failed to reply with the session: %m");
                machine_exec_kill(&req->exec);
        }
        return 0;
}

static int on_exec_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(exec_request_freep) ExecRequest *req = userdata;

        /* A guest can make the payload block (a FIFO where a file should be...). */
        machine_exec_kill(&req->exec);
        (void) sd_bus_reply_method_errorf(req->message, SD_BUS_ERROR_TIMEOUT,
                                          "The session did not start within %llu s.",
                                          EXEC_START_TIMEOUT_USEC / 1000000ULL);
        return 0;
}

/* The checks every method shares: root, a machine that is up, sane arguments. */
static int find_running_machine(Manager *m, sd_bus_message *message, const char *name,
                                Machine **ret, sd_bus_error *error) {
        Machine *machine;
        int r;

        if ((r = bus_check_root(message, error)) < 0 || (r = bus_check_machine_name(name, error)) < 0)
                return r;
        machine = manager_find_machine(m, name);
        if (!machine) {
                /* An image of that name: a stopped machine rather than an unknown one. */
                _cleanup_free_ char *p = strjoin(m->pool, "/", name);
                if (p && access(p, F_OK) == 0)
                        return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING,
                                                 "Machine '%s' is not running.", name);
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_MACHINE,
                                         "No machine '%s' known.", name);
        }
        if (machine->rec.leader == 0 || machine->rec.state == MACHINE_CLOSING)
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING,
                                         "Machine '%s' is not running (%s).", name,
                                         machine->rec.leader == 0 ? "no init yet" : "shutting down");
        *ret = machine;
        return 0;
}

/* Starts the session p in the running machine name once the call's arguments are read. */
static int exec_request_start(Manager *m, sd_bus_message *message, const char *name,
                              MachineExecParams *p, ExecReply reply, sd_bus_error *error) {
        _cleanup_(exec_request_freep) ExecRequest *req = NULL;
        _cleanup_(error_done) Error msg = ERROR_NULL;
        _cleanup_free_ char *seccomp_dir = state_seccomp_dir(m->state_dir);
        Machine *machine = NULL;
        int r;

        r = find_running_machine(m, message, name, &machine, error);
        if (r < 0)
                return r;
        p->machine = machine->rec.name;
        p->leader = (pid_t) machine->rec.leader;
        p->leader_start = machine->rec.leader_start;
        p->cgroup = machine->rec.cgroup;
        p->syscall_deny = machine->rec.syscall_deny;
        p->suppress_sync = machine->rec.suppress_sync;
        p->seccomp_cache_dir = seccomp_dir; /* without memory for the name: built */
        /* A shutdown command must outlive the reply: nobody reads its status. */
        p->hangup_without_reader = reply != REPLY_PTY && reply != REPLY_NONE;

        req = calloc(1, sizeof(ExecRequest));
        if (!req)
                return -ENOMEM;
        req->manager = m;
        req->reply = reply;
        req->exec = MACHINE_EXEC_NULL;

        r = machine_exec_start(p, &req->exec, &msg);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING, "%s",
                                         msg.message ?: "Machine is not running.");
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s",
                                         msg.message ?: "Failed to start the session.");
        r = sd_event_add_io(m->event, &req->io_source, req->exec.report_fd, EPOLLIN,
                            on_exec_report, req);
        if (r < 0)
                goto kill;
        r = sd_event_add_time_relative(m->event, &req->timer_source, CLOCK_MONOTONIC,
                                       EXEC_START_TIMEOUT_USEC, 0, on_exec_timeout, req);
        if (r < 0)
                goto kill;
        req->message = sd_bus_message_ref(message);
        TAKE_PTR(req);
        return 1;

kill:
        machine_exec_kill(&req->exec);
        return r;
}

int manager_run_in_machine_as_root(Manager *m, sd_bus_message *message, const char *name, const char *path,
                                   sd_bus_error *error) {
        _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        MachineExecParams p = {
                .kind = MACHINE_EXEC_SHELL,
                .path = path,
                .stdio = { null, null, null },
        };

        if (null < 0)
                return -errno;
        /* The helper holds its own copies of the stdio fds once started. */
        return exec_request_start(m, message, name, &p, REPLY_NONE, error);
}

static int read_strv(sd_bus_message *message, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *s;
        int r;

        r = sd_bus_message_enter_container(message, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(message, "s", &s)) > 0)
                if (strv_extend(&l, s) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(message);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_directory(sd_bus_message *message, MachineExecParams *p, sd_bus_error *error) {
        int r = sd_bus_message_read(message, "s", &p->directory);
        if (r < 0)
                return r;
        if (!isempty(p->directory) && (p->directory[0] != '/' || strlen(p->directory) > 4096))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The working directory must be an absolute path.");
        return 0;
}

/* Reads (s user, s path, as args, as environment), and with_directory (s directory), and
 * checks them. */
static int read_shell_args(sd_bus_message *message, MachineExecParams *p, char ***args,
                           char ***env, bool with_directory, sd_bus_error *error) {
        int r;

        r = sd_bus_message_read(message, "ss", &p->user, &p->path);
        if (r < 0)
                return r;
        r = read_strv(message, args);
        if (r < 0)
                return r;
        r = read_strv(message, env);
        if (r < 0)
                return r;
        if (!isempty(p->user) && !user_name_is_valid(p->user))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid user name.");
        if (isempty(p->path) && strv_length(*args) > 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Arguments need a path to execute.");
        if (strlen(p->path) > 4096)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Path too long.");
        STRV_FOREACH(e, *env)
                if (!env_assignment_is_valid(*e) || !utf8_is_valid(*e))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid environment assignment '%s'.", *e);
        p->argv = *args;
        p->environment = *env;
        return with_directory ? read_directory(message, p, error) : 0;
}

static int method_open_machine_login(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        return bus_machine_open_login(message, userdata, name, error);
}

int bus_machine_open_login(sd_bus_message *message, Manager *m, const char *name, sd_bus_error *error) {
        MachineExecParams p = { .kind = MACHINE_EXEC_LOGIN, .pty = true };
        return exec_request_start(m, message, name, &p, REPLY_PTY, error);
}

static int open_shell_for(sd_bus_message *message, Manager *m, const char *name, ExecReply reply,
                          sd_bus_error *error) {
        _cleanup_strv_free_ char **args = NULL, **env = NULL;
        MachineExecParams p = { .kind = MACHINE_EXEC_SHELL, .pty = true };
        int r;

        r = read_shell_args(message, &p, &args, &env, reply == REPLY_PTY_WITH_STATUS, error);
        if (r < 0)
                return r;
        return exec_request_start(m, message, name, &p, reply, error);
}

int bus_machine_open_shell(sd_bus_message *message, Manager *m, const char *name, sd_bus_error *error) {
        return open_shell_for(message, m, name, REPLY_PTY, error);
}

static int open_shell(sd_bus_message *message, Manager *m, ExecReply reply, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        return open_shell_for(message, m, name, reply, error);
}

static int method_open_machine_shell(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return open_shell(message, userdata, REPLY_PTY, error);
}

static int method_open_machine_shell_with_status(sd_bus_message *message, void *userdata,
                                                 sd_bus_error *error) {
        return open_shell(message, userdata, REPLY_PTY_WITH_STATUS, error);
}

static int method_run_in_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **args = NULL, **env = NULL;
        MachineExecParams p = { .kind = MACHINE_EXEC_SHELL, .pty = false };
        Manager *m = userdata;
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = read_shell_args(message, &p, &args, &env, /* with_directory= */ true, error);
        if (r < 0)
                return r;
        /* The fds stay owned by the message; the helper inherits them and the payload
         * dup2()s them to 0, 1, 2. */
        r = sd_bus_message_read(message, "hhh", &p.stdio[0], &p.stdio[1], &p.stdio[2]);
        if (r < 0)
                return r;
        return exec_request_start(m, message, name, &p, REPLY_STATUS, error);
}

static const sd_bus_vtable login_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("OpenMachineLogin", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("h", pty_master, "s", pty_path),
                                method_open_machine_login, 0),
        SD_BUS_METHOD_WITH_ARGS("OpenMachineShell",
                                SD_BUS_ARGS("s", name, "s", user, "s", path, "as", args,
                                            "as", environment),
                                SD_BUS_RESULT("h", pty_master, "s", pty_path),
                                method_open_machine_shell, 0),
        SD_BUS_METHOD_WITH_ARGS("OpenMachineShellWithStatus",
                                SD_BUS_ARGS("s", name, "s", user, "s", path, "as", args,
                                            "as", environment, "s", directory),
                                SD_BUS_RESULT("h", pty_master, "s", pty_path, "h", status),
                                method_open_machine_shell_with_status, 0),
        SD_BUS_METHOD_WITH_ARGS("RunInMachine",
                                SD_BUS_ARGS("s", name, "s", user, "s", path, "as", args,
                                            "as", environment, "s", directory, "h", stdin,
                                            "h", stdout, "h", stderr),
                                SD_BUS_RESULT("h", status), method_run_in_machine, 0),
        SD_BUS_VTABLE_END,
};

int manager_add_login_bus_objects(Manager *m, sd_bus *bus, bool machine1) {
        /* A second vtable for the Manager interface: sd-bus merges them. */
        return manager_add_vtable(m, bus, machine1, BUS_OBJECT_MANAGER, login_vtable, NULL, m);
}
