/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "names.h"
#include "machined.h"
#include "util/process.h"
#include "util/util.h"

/* machined keeps no state of its own: everything it knows about a machine is in the record
 * its supervisor writes to STATEDIR/machines/NAME. A record counts only while its
 * supervisor lives (pidfd + start time); that is what lets a restarted machined adopt the
 * machines that kept running and ignore the records of ones that died meanwhile. */

void manager_drop_machine(Manager *m, Machine *machine, const char *why) {
        log_info("Machine %s is gone (%s).", machine->rec.name, why);
        manager_unregister_machine1(m, machine);
        manager_emit_signal(m, "MachineRemoved", machine);
        machine_free(machine);
        manager_prune_logs(m);
}

/* The logs of a machine that is gone (its console, its supervisor's stderr) stay to say why
 * it ended, but not for ever and not without bound: a day, and the newest LOGS_KEPT. */
#define LOGS_MAX_AGE_SEC (24 * 3600)
#define LOGS_KEPT 64

typedef struct LogFile {
        char *name;
        time_t mtime;
} LogFile;

static int cmp_log_newest_first(const void *a, const void *b) {
        const LogFile *x = a, *y = b;
        return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : 0;
}

void manager_prune_logs(Manager *m) {
        _cleanup_(closedirp) DIR *d = NULL;
        LogFile *files = NULL;
        size_t n = 0;
        time_t now = time(NULL);

        d = opendir(m->logs_dir);
        if (!d)
                return;
        FOREACH_DIRENT(de, d) {
                char name[MACHINE_NAME_MAX + 1];
                const char *dot = strrchr(de->d_name, '.');
                struct stat st;
                LogFile *nf;

                if (!dot || (size_t) (dot - de->d_name) > MACHINE_NAME_MAX ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                snprintf(name, sizeof name, "%.*s", (int) (dot - de->d_name), de->d_name);
                /* A running machine's, or one being started: in use. */
                if (manager_find_machine(m, name) || manager_is_starting(m, name))
                        continue;
                nf = reallocarray(files, n + 1, sizeof(LogFile));
                if (!nf)
                        break;
                files = nf;
                files[n] = (LogFile) { .name = strdup(de->d_name), .mtime = st.st_mtime };
                if (files[n].name)
                        n++;
        }
        qsort(files, n, sizeof(LogFile), cmp_log_newest_first);
        for (size_t i = 0; i < n; i++) {
                if (i >= LOGS_KEPT || now - files[i].mtime > LOGS_MAX_AGE_SEC)
                        (void) unlinkat(dirfd(d), files[i].name, 0);
                free(files[i].name);
        }
        free(files);
}

static int on_supervisor_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Machine *machine = userdata;
        manager_drop_machine(machine->manager, machine, "supervisor exited");
        return 0;
}

static bool record_changed(const MachineRecord *a, const MachineRecord *b) {
        return a->state != b->state || a->leader != b->leader ||
               a->leader_start != b->leader_start || !streq(strna(a->cgroup), strna(b->cgroup)) ||
               !streq(strna(a->console_socket), strna(b->console_socket)) ||
               !streq(strna(a->console_log), strna(b->console_log));
}

static void machine_update(Manager *m, Machine *machine, MachineRecord *rec) {
        bool changed = record_changed(&machine->rec, rec);
        bool now_running = machine->rec.state != MACHINE_RUNNING && rec->state == MACHINE_RUNNING;
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
        if (now_running && machine->pending_signal > 0) {
                int r = machine_send_signal(machine, "leader", machine->pending_signal);
                if (r < 0)
                        log_warning_errno(r, "Failed to send the deferred signal to machine %s: %m", machine->rec.name);
                machine->pending_signal = 0;
        }
}

void manager_process_record(Manager *m, const char *name) {
        _cleanup_(machine_record_done) MachineRecord rec = {};
        _cleanup_close_ int pidfd = -EBADF;
        Machine *machine;
        int r;

        if (!machine_record_filename_is_valid(name))
                return;
        machine = manager_find_machine(m, name);

        r = machine_record_load(m->machines_dir_fd, name, &rec);
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
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        d = opendir(m->machines_dir);
        if (!d)
                return -errno;
        while ((de = readdir(d)))
                manager_process_record(m, de->d_name);

        /* Machines whose record vanished while the inotify queue overflowed. */
        LIST_FOREACH_SAFE(i, next, m->machines) {
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
