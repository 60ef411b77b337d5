/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "log.h"
#include "machined-network.h"
#include "machined.h"
#include "util/util.h"

/* machined keeps no state of its own: everything it knows about a machine is in the record
 * its supervisor writes to STATEDIR/machines/NAME. A record counts only while its
 * supervisor lives (pidfd + start time); that is what lets a restarted machined adopt the
 * machines that kept running and ignore the records of ones that died meanwhile. */

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(DIR *, closedir, closedirp_);

void manager_drop_machine(Manager *m, Machine *machine, const char *why) {
        _cleanup_free_ char *name = strdup(machine->rec.name);

        log_info("Machine %s is gone (%s).", machine->rec.name, why);
        manager_emit_signal(m, "MachineRemoved", machine);
        machine_free(machine);
        if (name)
                manager_network_machine_gone(m, name);
}

static int on_supervisor_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Machine *machine = userdata;
        manager_drop_machine(machine->manager, machine, "supervisor exited");
        return 0;
}

static bool record_changed(const MachineInfo *a, const MachineInfo *b) {
        return a->state != b->state || a->leader != b->leader ||
               a->leader_start != b->leader_start || !streq(strna(a->cgroup), strna(b->cgroup)) ||
               !streq(strna(a->console_socket), strna(b->console_socket)) ||
               !streq(strna(a->console_log), strna(b->console_log));
}

static void machine_update(Manager *m, Machine *machine, MachineInfo *rec) {
        bool changed = record_changed(&machine->rec, rec);
        /* Only the fields a running supervisor may change; the identity stays. */
        machine->rec.state = rec->state;
        machine->rec.leader = rec->leader;
        machine->rec.leader_start = rec->leader_start;
        free(machine->rec.cgroup);
        machine->rec.cgroup = TAKE_PTR(rec->cgroup);
        free(machine->rec.console_socket);
        machine->rec.console_socket = TAKE_PTR(rec->console_socket);
        free(machine->rec.console_log);
        machine->rec.console_log = TAKE_PTR(rec->console_log);
        if (changed) {
                log_debug("Machine %s is now %s.", machine->rec.name,
                          machine_state_to_string(machine->rec.state));
                manager_emit_properties_changed(m, machine);
        }
}

void manager_process_record(Manager *m, const char *name) {
        _cleanup_(machine_info_done) MachineInfo rec = {};
        _cleanup_close_ int pidfd = -EBADF;
        Machine *machine;
        int r;

        if (!machine_info_filename_is_record(name))
                return;
        machine = manager_find_machine(m, name);

        r = machine_info_load(m->machines_dir_fd, name, &rec);
        if (r == -ENOENT) {
                if (machine)
                        manager_drop_machine(m, machine, "record removed");
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "Ignoring record %s/%s: %m", m->machines_dir, name);
                return;
        }

        if (machine) {
                if (machine->rec.supervisor == rec.supervisor &&
                    machine->rec.supervisor_start == rec.supervisor_start) {
                        machine_update(m, machine, &rec);
                        return;
                }
                /* A new supervisor registered the name before we saw the old one exit. */
                manager_drop_machine(m, machine, "replaced by a new supervisor");
        }

        pidfd = pidfd_open_verified(rec.supervisor, rec.supervisor_start);
        if (pidfd < 0) {
                log_debug_errno(pidfd, "Ignoring stale record %s (supervisor %u gone): %m", name,
                                rec.supervisor);
                return;
        }

        r = machine_new(m, &rec, pidfd, &machine);
        if (r < 0) {
                log_error_errno(r, "Failed to track machine %s: %m", name);
                return;
        }
        TAKE_FD(pidfd);
        r = sd_event_add_io(m->event, &machine->pidfd_source, machine->pidfd, EPOLLIN,
                            on_supervisor_exit, machine);
        if (r < 0) {
                log_error_errno(r, "Failed to watch supervisor of machine %s: %m", name);
                machine_free(machine);
                return;
        }
        log_info("Machine %s (supervisor %u) is %s.", machine->rec.name, machine->rec.supervisor,
                 machine_state_to_string(machine->rec.state));
        manager_emit_signal(m, "MachineNew", machine);
        manager_start_requests_complete(m, machine);
}

int manager_load_records(Manager *m) {
        _cleanup_(closedirp_) DIR *d = NULL;
        struct dirent *de;

        d = opendir(m->machines_dir);
        if (!d)
                return -errno;
        while ((de = readdir(d)))
                manager_process_record(m, de->d_name);

        /* Machines whose record vanished while the inotify queue overflowed. */
        for (Machine *i = m->machines, *next; i; i = next) {
                next = i->next;
                if (faccessat(dirfd(d), i->rec.name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
                    errno == ENOENT)
                        manager_drop_machine(m, i, "record removed");
        }
        return 0;
}

static int on_records_changed(sd_event_source *s, const struct inotify_event *event,
                              void *userdata) {
        Manager *m = userdata;

        if (event->mask & IN_Q_OVERFLOW) {
                log_warning("Missed changes in %s, rescanning.", m->machines_dir);
                (void) manager_load_records(m);
                return 0;
        }
        if (event->len == 0)
                return 0;
        /* A record is replaced by rename (IN_MOVED_TO); a hand-written one may be closed
         * after writing; removal is IN_DELETE or a rename away. All go through the same
         * "read it again" path, which copes with the file being gone. */
        manager_process_record(m, event->name);
        return 0;
}

int manager_watch_records(Manager *m) {
        return sd_event_add_inotify(m->event, &m->inotify_source, m->machines_dir,
                                    IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE |
                                            IN_ONLYDIR,
                                    on_records_changed, m);
}
