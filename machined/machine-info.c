/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine-info.h"
#include "names.h"
#include "util/util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(DIR *, closedir, closedirp_);

static const char *const machine_state_table[_MACHINE_STATE_MAX] = {
        [MACHINE_OPENING] = "opening",
        [MACHINE_RUNNING] = "running",
        [MACHINE_CLOSING] = "closing",
};

const char *machine_state_to_string(MachineState s) {
        if (s < 0 || s >= _MACHINE_STATE_MAX)
                return NULL;
        return machine_state_table[s];
}

MachineState machine_state_from_string(const char *s) {
        if (!s)
                return _MACHINE_STATE_INVALID;
        for (int i = 0; i < _MACHINE_STATE_MAX; i++)
                if (streq(s, machine_state_table[i]))
                        return i;
        return _MACHINE_STATE_INVALID;
}

void machine_info_done(MachineInfo *r) {
        if (!r)
                return;
        free(r->name);
        free(r->class);
        free(r->service);
        free(r->root);
        free(r->console_socket);
        free(r->console_log);
        free(r->cgroup);
        *r = (MachineInfo) {};
}

static void machine_info_donep(MachineInfo *r) {
        machine_info_done(r);
}

/* Values are written plain, but accept shell-style double quotes with backslash escapes
 * too, so that a supervisor quoting paths with spaces is still understood. */
static int unquote(const char *v, char **ret) {
        size_t n = strlen(v);
        char *s, *d;

        if (n < 2 || v[0] != '"' || v[n - 1] != '"') {
                s = strdup(v);
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
        s = d = malloc(n);
        if (!s)
                return -ENOMEM;
        for (size_t i = 1; i < n - 1; i++) {
                if (v[i] == '\\') {
                        if (i + 1 >= n - 1) {
                                free(s);
                                return -EBADMSG;
                        }
                        i++;
                }
                *d++ = v[i];
        }
        *d = 0;
        *ret = s;
        return 0;
}

static bool value_is_sane(const char *v) {
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return false;
        return utf8_is_valid(v);
}

/* LEADER=0 means "not known yet" (before the container's init runs). */
static int parse_pid(const char *v, uint32_t *ret, bool zero_ok) {
        int pid;
        int r = safe_atoi(v, &pid);
        if (r < 0)
                return r;
        if (pid < 0 || (pid == 0 && !zero_ok))
                return -ERANGE;
        *ret = (uint32_t) pid;
        return 0;
}

/* Optional fields: an empty value (or what printf makes of a NULL string) means unset, so
 * a record written before everything is known is still a record. A path must be
 * absolute. */
static int set_string(char **field, const char *v, bool path) {
        _cleanup_free_ char *s = NULL;
        int r = unquote(v, &s);
        if (r < 0)
                return r;
        if (isempty(s) || streq(s, "(null)")) {
                free(*field);
                *field = NULL;
                return 0;
        }
        if (path && s[0] != '/')
                return -EBADMSG;
        free(*field);
        *field = TAKE_PTR(s);
        return 0;
}

int machine_info_parse(const char *text, MachineInfo *ret) {
        _cleanup_(machine_info_donep) MachineInfo rec = { .state = MACHINE_OPENING };
        _cleanup_free_ char *copy = strdup(text);
        bool have_supervisor_start = false;
        char *saveptr = NULL;
        int r = 0;

        assert(ret);
        if (!copy)
                return -ENOMEM;

        for (char *line = strtok_r(copy, "\n", &saveptr); line;
             line = strtok_r(NULL, "\n", &saveptr)) {
                char *eq, *key, *v;

                key = strstrip(line);
                if (key[0] == 0 || key[0] == '#')
                        continue;
                eq = strchr(key, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = 0;
                v = eq + 1;
                if (!value_is_sane(v))
                        return -EBADMSG;

                if (streq(key, "NAME"))
                        r = set_string(&rec.name, v, false);
                else if (streq(key, "ID")) {
                        _cleanup_free_ char *s = NULL;
                        r = unquote(v, &s);
                        if (r >= 0 && !isempty(s) &&
                            (strlen(s) != 32 || sd_id128_from_string(s, &rec.id) < 0))
                                r = -EBADMSG;
                } else if (streq(key, "CLASS"))
                        r = set_string(&rec.class, v, false);
                else if (streq(key, "SERVICE"))
                        r = set_string(&rec.service, v, false);
                else if (streq(key, "ROOT"))
                        r = set_string(&rec.root, v, true);
                else if (streq(key, "SUPERVISOR"))
                        r = parse_pid(v, &rec.supervisor, false);
                else if (streq(key, "SUPERVISOR_START")) {
                        r = safe_atou64(v, &rec.supervisor_start);
                        have_supervisor_start = r >= 0;
                } else if (streq(key, "LEADER"))
                        r = parse_pid(v, &rec.leader, true);
                else if (streq(key, "LEADER_START"))
                        r = safe_atou64(v, &rec.leader_start);
                else if (streq(key, "STATE")) {
                        rec.state = machine_state_from_string(v);
                        if (rec.state < 0)
                                r = -EBADMSG;
                } else if (streq(key, "TIMESTAMP"))
                        r = safe_atou64(v, &rec.timestamp);
                else if (streq(key, "TIMESTAMP_MONOTONIC"))
                        r = safe_atou64(v, &rec.timestamp_monotonic);
                else if (streq(key, "CONSOLE_SOCKET"))
                        r = set_string(&rec.console_socket, v, true);
                else if (streq(key, "CONSOLE_LOG"))
                        r = set_string(&rec.console_log, v, true);
                else if (streq(key, "CGROUP"))
                        r = set_string(&rec.cgroup, v, true);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return -EBADMSG;
        }

        if (!rec.name || !machine_name_is_valid(rec.name) || rec.supervisor == 0 ||
            !have_supervisor_start)
                return -EBADMSG;
        if (rec.cgroup && strstr(rec.cgroup, "/.."))
                return -EBADMSG;

        *ret = rec;
        rec = (MachineInfo) {};
        return 0;
}

int machine_info_load(int dirfd, const char *filename, MachineInfo *ret) {
        _cleanup_(machine_info_donep) MachineInfo rec = {};
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        ssize_t n;
        int r;

        /* O_NONBLOCK: a fifo planted under a record's name must not hang machined. */
        fd = openat(dirfd, filename, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022))
                return -EPERM;
        if (st.st_size > 64 * 1024)
                return -EFBIG;

        buf = malloc(st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        n = loop_read(fd, buf, st.st_size);
        if (n < 0)
                return (int) n;
        buf[n] = 0;
        if (strlen(buf) != (size_t) n)
                return -EBADMSG;

        r = machine_info_parse(buf, &rec);
        if (r < 0)
                return r;
        if (!streq(rec.name, filename))
                return -EBADMSG;

        *ret = rec;
        rec = (MachineInfo) {};
        return 0;
}

int pidfd_open_verified(pid_t pid, uint64_t start_time) {
        _cleanup_close_ int fd = -EBADF;
        struct pollfd p;
        uint64_t t;
        int r;

        if (pid <= 0)
                return -ESRCH;
        fd = pidfd_open_safe(pid);
        if (fd < 0)
                return fd;
        /* Reading the start time after the pidfd is open pins the answer to the process the
         * pidfd refers to: if the pid was reused before pidfd_open, the times differ. */
        r = proc_start_time(pid, &t);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        if (t != start_time)
                return -ESRCH;
        /* A zombie (exited, not yet reaped: its parent may be an init that does not reap)
         * still has its /proc entry; a pidfd polls readable once the process exited. */
        p = (struct pollfd) { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 0) < 0)
                return -errno;
        if (p.revents & POLLIN)
                return -ESRCH;
        return TAKE_FD(fd);
}

bool machine_info_filename_is_record(const char *filename) {
        /* Only records live in STATEDIR/machines; temporary files of the atomic replace are
         * not valid machine names (they start with ".#"), so the name rule filters them. */
        return machine_name_is_valid(filename);
}

static bool cgroup_line_matches(const char *line, const char *cgroup, size_t len) {
        /* "ID:CONTROLLERS:PATH" */
        const char *p = strchr(line, ':');
        if (!p)
                return false;
        p = strchr(p + 1, ':');
        if (!p)
                return false;
        p++;
        return strneq(p, cgroup, len) && (p[len] == 0 || p[len] == '/');
}

int cgroup_list_pids(const char *cgroup, pid_t **ret, size_t *ret_n) {
        _cleanup_(closedirp_) DIR *d = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, allocated = 0, len;
        struct dirent *de;

        assert(cgroup);
        len = strlen(cgroup);
        while (len > 1 && cgroup[len - 1] == '/')
                len--;
        /* The root cgroup would match every process on the host. */
        if (cgroup[0] != '/' || len <= 1)
                return -EINVAL;

        d = opendir("/proc");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[64], line[4096];
                _cleanup_fclose_ FILE *f = NULL;
                int pid;

                if (safe_atoi(de->d_name, &pid) < 0 || pid <= 0)
                        continue;
                snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
                f = fopen(path, "re");
                if (!f)
                        continue; /* exited meanwhile */
                while (fgets(line, sizeof line, f)) {
                        line[strcspn(line, "\n")] = 0;
                        if (!cgroup_line_matches(line, cgroup, len))
                                continue;
                        if (n >= allocated) {
                                allocated = MAX(allocated * 2, 16u);
                                pid_t *np = realloc(pids, allocated * sizeof(pid_t));
                                if (!np)
                                        return -ENOMEM;
                                pids = np;
                        }
                        pids[n++] = pid;
                        break;
                }
        }
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

bool cgroup_contains_pid(const char *cgroup, pid_t pid) {
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[4096];
        size_t len = strlen(cgroup);

        while (len > 1 && cgroup[len - 1] == '/')
                len--;
        if (cgroup[0] != '/' || len <= 1 || pid <= 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                if (cgroup_line_matches(line, cgroup, len))
                        return true;
        }
        return false;
}
