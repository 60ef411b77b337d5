/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CopyToMachine / CopyFromMachine (and the WithFlags forms), on the Manager and on machine1's
 * Machine objects: files between the host and a running machine, inside the machine's own
 * mount namespace - through its init's root (/proc/LEADER/root), so its binds and tmpfs are
 * seen as the guest sees them - with every path of the machine's side resolved inside that
 * root (core/copy.c, COPY_CROSS_MOUNTS). The copy runs in a forked worker; the method replies
 * when it is done (machine_operation_*, which BindMountMachine uses too). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy.h"
#include "log.h"
#include "machine-ns.h"
#include "machined-api.h"
#include "machined.h"
#include "util/process.h"
#include "util/util.h"

/* machine1's CopyTo/FromMachineWithFlags flag: replace what is at the destination. */
#define MACHINE1_COPY_REPLACE (UINT64_C(1) << 0)

typedef struct OperationReport {
        int error; /* positive errno, 0 for success */
        char message[400];
} OperationReport;

struct MachineOperation {
        Manager *manager;
        sd_bus_message *message;
        sd_event_source *source;
        MachineOperationReply reply;
        int fd;
        pid_t pid;
};

static MachineOperation *machine_operation_free(MachineOperation *o) {
        if (!o)
                return NULL;
        sd_event_source_disable_unref(o->source);
        sd_bus_message_unref(o->message);
        safe_close(o->fd);
        free(o);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(MachineOperation *, machine_operation_free);

static int on_operation_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(machine_operation_freep) MachineOperation *o = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        OperationReport rep = {};
        ssize_t n;

        n = loop_read(fd, &rep, sizeof rep);
        (void) waitpid(o->pid, NULL, WNOHANG); /* the kernel reaps machined's children */
        if (n == (ssize_t) sizeof rep && rep.error == 0) {
                if (!o->reply)
                        (void) sd_bus_reply_method_return(o->message, NULL);
                else if (o->reply(o->message, fd) < 0)
                        (void) sd_bus_reply_method_errorf(o->message, SD_BUS_ERROR_FAILED,
                                                          "The worker's result was garbled.");
                return 0;
        }
        if (n != (ssize_t) sizeof rep || rep.error < 0)
                rep = (OperationReport){ .error = EIO, .message = "The worker died." };
        rep.message[sizeof rep.message - 1] = 0;
        (void) sd_bus_error_set_errnof(&error, -rep.error, "%s", rep.message);
        (void) bus_reply_method_error(o->message, &error);
        return 0;
}

int machine_operation_fork(Manager *m, sd_bus_message *message, const char *name, int *ret_fd) {
        return machine_operation_fork_full(m, message, name, NULL, ret_fd);
}

int machine_operation_fork_full(Manager *m, sd_bus_message *message, const char *name,
                                MachineOperationReply reply, int *ret_fd) {
        _cleanup_(machine_operation_freep) MachineOperation *o = NULL;
        _cleanup_close_ int child_fd = -EBADF;
        int p[2], r;

        o = calloc(1, sizeof *o);
        if (!o)
                return -ENOMEM;
        o->fd = -EBADF;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        o->fd = p[0];
        child_fd = p[1];
        r = sd_event_add_io(m->event, &o->source, o->fd, EPOLLIN, on_operation_done, o);
        if (r < 0)
                return r;
        r = safe_fork(name, NULL, 0, FORK_DEATHSIG, &o->pid);
        if (r < 0)
                return r;
        if (r == 0) {
                (void) signal(SIGCHLD, SIG_DFL);
                (void) signal(SIGPIPE, SIG_DFL);
                *ret_fd = TAKE_FD(child_fd);
                return 0;
        }
        o->manager = m;
        o->reply = reply;
        o->message = sd_bus_message_ref(message);
        TAKE_PTR(o); /* freed by on_operation_done() */
        return 1;
}

void machine_operation_exit_full(int fd, int r, const char *message, const void *payload, size_t size) {
        OperationReport rep = { .error = r < 0 ? -r : 0 };

        if (r < 0)
                snprintf(rep.message, sizeof rep.message, "%s", message ?: strerror(-r));
        (void) loop_write(fd, &rep, sizeof rep);
        if (r >= 0 && size > 0)
                (void) loop_write(fd, payload, size);
        _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}

void machine_operation_exit(int fd, int r, const char *message) {
        machine_operation_exit_full(fd, r, message, NULL, 0);
}

static int check_path(const char *path, const char *what, sd_bus_error *error) {
        if (isempty(path) || path[0] != '/' || !utf8_is_valid(path) || strlen(path) >= 4096)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "The %s path must be absolute.",
                                         what);
        return 0;
}

static int copy_machine(sd_bus_message *message, Manager *m, const char *name, const char *src,
                        const char *dst, uint64_t flags, bool to, sd_bus_error *error) {
        _cleanup_close_ int root = -EBADF;
        Machine *machine;
        uint32_t shift = 0;
        char msg[400];
        int fd, r;

        r = bus_find_running_machine(m, message, name, true, &machine, error);
        if (r < 0)
                return r;
        if ((r = check_path(src, "source", error)) < 0 || (r = check_path(dst, "destination", error)) < 0)
                return r;
        if (machine_is_host(machine))
                return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED,
                                         "Copying to or from the host is cp's job.");
        if (flags & MACHINE1_COPY_REPLACE)
                return sd_bus_error_setf(
                        error, BUS_ERROR_NOT_SUPPORTED,
                        "Replacing files at the destination is not supported: remove them first.");
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Unknown copy flags 0x%" PRIx64 ".", flags);
        /* Files copied in keep their owners: with a user namespace they would have to be
         * shifted, which is not done yet, so such machines are refused rather than given
         * files that belong to nobody inside. */
        r = machine_uid_shift((pid_t) machine->rec.leader, machine->rec.leader_start, &shift);
        if (r >= 0 && shift != 0)
                return sd_bus_error_setf(
                        error, BUS_ERROR_NOT_SUPPORTED,
                        "Copying into or out of a machine with a user namespace is not supported yet.");
        r = machine_open_root((pid_t) machine->rec.leader, machine->rec.leader_start, &root);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING,
                                         "Machine '%s' is not running.", name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to open the root of machine '%s': %m",
                                               name);

        r = machine_operation_fork(m, message, "nspawnctl-copy", &fd);
        if (r != 0)
                return r;
        _cleanup_(copy_refusal_done) CopyRefusal refusal = {};
        r = to ? copy_to_tree(root, src, dst, COPY_CROSS_MOUNTS, &refusal)
               : copy_from_tree(root, src, dst, COPY_CROSS_MOUNTS, &refusal);
        if (r == -EBADFD && refusal.what)
                snprintf(msg, sizeof msg, "Refusing to copy %s: it is %s; only regular files, directories and symlinks are copied.",
                         refusal.path, refusal.what);
        else if (r < 0)
                snprintf(msg, sizeof msg, "Failed to copy %s %s%s to %s%s: %s", to ? "to" : "from",
                         to ? "" : "machine:", src, to ? "machine:" : "", dst, strerror(-r));
        machine_operation_exit(fd, r, msg);
        return 0;
}

static int method_copy(sd_bus_message *message, Manager *m, bool to, bool with_flags, sd_bus_error *error) {
        const char *name, *src, *dst;
        uint64_t flags = 0;
        int r;

        r = sd_bus_message_read(message, "sss", &name, &src, &dst);
        if (r >= 0 && with_flags)
                r = sd_bus_message_read(message, "t", &flags);
        if (r < 0)
                return r;
        return copy_machine(message, m, name, src, dst, flags, to, error);
}

static int method_copy_to_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_copy(message, userdata, true, false, error);
}

static int method_copy_from_machine(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_copy(message, userdata, false, false, error);
}

static int method_copy_to_machine_with_flags(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_copy(message, userdata, true, true, error);
}

static int method_copy_from_machine_with_flags(sd_bus_message *message, void *userdata,
                                               sd_bus_error *error) {
        return method_copy(message, userdata, false, true, error);
}

static int object_copy(sd_bus_message *message, Machine *machine, bool to, bool with_flags,
                       sd_bus_error *error) {
        const char *src, *dst;
        uint64_t flags = 0;
        int r;

        r = sd_bus_message_read(message, "ss", &src, &dst);
        if (r >= 0 && with_flags)
                r = sd_bus_message_read(message, "t", &flags);
        if (r < 0)
                return r;
        return copy_machine(message, machine->manager, machine->rec.name, src, dst, flags, to, error);
}

static int method_copy_to(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_copy(message, userdata, true, false, error);
}

static int method_copy_from(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_copy(message, userdata, false, false, error);
}

static int method_copy_to_with_flags(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_copy(message, userdata, true, true, error);
}

static int method_copy_from_with_flags(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_copy(message, userdata, false, true, error);
}

static const sd_bus_vtable manager_copy_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CopyFromMachine", SD_BUS_ARGS("s", name, "s", source, "s", destination),
                                SD_BUS_NO_RESULT, method_copy_from_machine, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyToMachine", SD_BUS_ARGS("s", name, "s", source, "s", destination),
                                SD_BUS_NO_RESULT, method_copy_to_machine, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyFromMachineWithFlags",
                                SD_BUS_ARGS("s", name, "s", source, "s", destination, "t", flags),
                                SD_BUS_NO_RESULT, method_copy_from_machine_with_flags, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyToMachineWithFlags",
                                SD_BUS_ARGS("s", name, "s", source, "s", destination, "t", flags),
                                SD_BUS_NO_RESULT, method_copy_to_machine_with_flags, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable machine_copy_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("CopyFrom", SD_BUS_ARGS("s", source, "s", destination), SD_BUS_NO_RESULT,
                                method_copy_from, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyTo", SD_BUS_ARGS("s", source, "s", destination), SD_BUS_NO_RESULT,
                                method_copy_to, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyFromWithFlags", SD_BUS_ARGS("s", source, "s", destination, "t", flags),
                                SD_BUS_NO_RESULT, method_copy_from_with_flags, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyToWithFlags", SD_BUS_ARGS("s", source, "s", destination, "t", flags),
                                SD_BUS_NO_RESULT, method_copy_to_with_flags, 0),
        SD_BUS_VTABLE_END,
};

int manager_add_copy_bus_objects(Manager *m, sd_bus *bus, bool machine1) {
        int r;

        r = manager_add_vtable(m, bus, machine1, BUS_OBJECT_MANAGER, manager_copy_vtable, NULL, m);
        if (r < 0)
                return r;
        return manager_add_vtable(m, bus, machine1, BUS_OBJECT_MACHINE, machine_copy_vtable,
                                  bus_machine_object_find, m);
}
