/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine-record.h"
#include "names.h"
#include "state-dir.h"
#include "util/strv.h"
#include "util/util.h"

#define RECORD_MAX (64 * 1024)

static const char *const machine_state_table[_MACHINE_STATE_MAX] = {
        [MACHINE_OPENING] = "opening",
        [MACHINE_RUNNING] = "running",
        [MACHINE_CLOSING] = "closing",
};

DEFINE_STRING_TABLE_LOOKUP(machine_state, MachineState, _MACHINE_STATE_MAX);

static const char *const machine_init_table[_MACHINE_INIT_MAX] = {
        [MACHINE_INIT_NONE] = "none",
        [MACHINE_INIT_SYSTEMD] = "systemd",
        [MACHINE_INIT_SYSVINIT] = "sysvinit",
        [MACHINE_INIT_BUSYBOX] = "busybox",
        [MACHINE_INIT_OPENRC] = "openrc",
        [MACHINE_INIT_OTHER] = "other",
};

DEFINE_STRING_TABLE_LOOKUP(machine_init, MachineInit, _MACHINE_INIT_MAX);

void machine_record_done(MachineRecord *r) {
        if (!r)
                return;
        free(r->name);
        free(r->class);
        free(r->service);
        free(r->root);
        free(r->console_socket);
        free(r->console_log);
        free(r->cgroup);
        free(r->syscall_deny);
        *r = (MachineRecord) {};
}

/* ---- writing ---- */

/* Text that a record can carry: valid UTF-8 without control characters. Names are checked
 * long before; a path with a newline is refused here rather than written ambiguously. */
static bool value_is_sane(const char *v) {
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return false;
        return utf8_is_valid(v);
}

/* System call names and @groups, one space between: nothing else may be in SYSCALL_DENY=. */
static bool syscall_words_are_sane(const char *v) {
        return v[strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_@- ")] == 0;
}

/* Plain unless the value would not read back as itself: then in double quotes, with '"' and
 * '\\' escaped. */
static void put_string(FILE *f, const char *key, const char *v) {
        size_t n = v ? strlen(v) : 0;

        fprintf(f, "%s=", key);
        if (n > 0 && (v[0] == '"' || v[0] == ' ' || v[n - 1] == ' ' || v[0] == '#' || strchr(v, '\\'))) {
                fputc('"', f);
                for (const char *p = v; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                fputc('\\', f);
                        fputc(*p, f);
                }
                fputc('"', f);
        } else if (v)
                fputs(v, f);
        fputc('\n', f);
}

int machine_record_format(const MachineRecord *r, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!machine_name_is_valid(r->name) || r->supervisor == 0 || !machine_state_to_string(r->state) ||
            !machine_init_to_string(r->init))
                return -EINVAL;
        FOREACH_STRING(v, r->class ?: "", r->service ?: "", r->root ?: "", r->cgroup ?: "", r->console_socket ?: "",
                       r->console_log ?: "")
                if (!value_is_sane(v))
                        return -EINVAL;
        if (r->syscall_deny && !syscall_words_are_sane(r->syscall_deny))
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        put_string(f, "NAME", r->name);
        put_string(f, "ID", r->id);
        put_string(f, "CLASS", r->class);
        put_string(f, "SERVICE", r->service);
        put_string(f, "ROOT", r->root);
        put_string(f, "STATE", machine_state_to_string(r->state));
        put_string(f, "INIT", machine_init_to_string(r->init));
        fprintf(f, "SUPERVISOR=%u\nSUPERVISOR_START=%llu\nLEADER=%u\nLEADER_START=%llu\n"
                   "TIMESTAMP=%llu\nTIMESTAMP_MONOTONIC=%llu\nUID_SHIFT=%u\nUID_RANGE=%u\n",
                r->supervisor, (unsigned long long) r->supervisor_start, r->leader,
                (unsigned long long) r->leader_start, (unsigned long long) r->timestamp,
                (unsigned long long) r->timestamp_monotonic, r->uid_shift, r->uid_range);
        if (r->kill_signal > 0)
                fprintf(f, "KILL_SIGNAL=%u\n", r->kill_signal);
        if (!isempty(r->syscall_deny))
                put_string(f, "SYSCALL_DENY", r->syscall_deny);
        if (r->suppress_sync)
                fputs("SUPPRESS_SYNC=yes\n", f);
        put_string(f, "CGROUP", r->cgroup);
        put_string(f, "CONSOLE_SOCKET", r->console_socket);
        put_string(f, "CONSOLE_LOG", r->console_log);
        return memstream_finish(&f, &buf, ret);
}

int machine_record_save(const char *state_dir, const MachineRecord *r) {
        _cleanup_free_ char *text = NULL, *path = NULL, *tmp = NULL;
        int k;

        k = machine_record_format(r, &text);
        if (k < 0)
                return k;
        path = machine_state_path(state_dir, r->name, MACHINE_RECORD);
        tmp = strjoin(state_dir, "/machines/.#", r->name, ".tmp");
        if (!path || !tmp)
                return -ENOMEM;
        return write_string_file_atomic(path, tmp, text);
}

/* ---- reading ---- */

/* Values are plain, or in double quotes with '"' and '\\' escaped by a backslash. */
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
                if (v[i] == '\\' && ++i >= n - 1) {
                        free(s);
                        return -EBADMSG;
                }
                *d++ = v[i];
        }
        *d = 0;
        *ret = s;
        return 0;
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

static int parse_u32(const char *v, uint32_t *ret) {
        uint64_t u;
        int r = safe_atou64(v, &u);
        if (r < 0)
                return r;
        if (u > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) u;
        return 0;
}

/* Optional fields: an empty value (or what printf made of a NULL string) means unset. A
 * path must be absolute. */
static int set_string(char **field, const char *v, bool path) {
        _cleanup_free_ char *s = NULL;
        int r = unquote(v, &s);
        if (r < 0)
                return r;
        if (isempty(s) || streq(s, "(null)")) {
                *field = mfree(*field);
                return 0;
        }
        if (path && s[0] != '/')
                return -EBADMSG;
        free(*field);
        *field = TAKE_PTR(s);
        return 0;
}

static int set_id(char id[33], const char *v) {
        _cleanup_free_ char *s = NULL;
        int r = unquote(v, &s);
        if (r < 0)
                return r;
        if (isempty(s)) {
                id[0] = 0;
                return 0;
        }
        if (strlen(s) != 32 || strspn(s, "0123456789abcdef") != 32)
                return -EBADMSG;
        memcpy(id, s, 33);
        return 0;
}

int machine_record_parse(const char *text, MachineRecord *ret) {
        _cleanup_(machine_record_done) MachineRecord rec = { .state = MACHINE_OPENING };
        _cleanup_free_ char *copy = strdup(text);
        bool have_supervisor_start = false;
        char *saveptr = NULL;
        int r = 0;

        assert(ret);
        if (!copy)
                return -ENOMEM;

        for (char *line = strtok_r(copy, "\n", &saveptr); line; line = strtok_r(NULL, "\n", &saveptr)) {
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
                else if (streq(key, "ID"))
                        r = set_id(rec.id, v);
                else if (streq(key, "CLASS"))
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
                } else if (streq(key, "INIT")) {
                        rec.init = machine_init_from_string(v);
                        if (rec.init < 0)
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
                else if (streq(key, "UID_SHIFT"))
                        r = parse_u32(v, &rec.uid_shift);
                else if (streq(key, "UID_RANGE"))
                        r = parse_u32(v, &rec.uid_range);
                else if (streq(key, "SYSCALL_DENY"))
                        r = syscall_words_are_sane(v) ? set_string(&rec.syscall_deny, v, false) : -EBADMSG;
                else if (streq(key, "SUPPRESS_SYNC")) {
                        r = parse_boolean(v);
                        rec.suppress_sync = r > 0;
                } else if (streq(key, "KILL_SIGNAL")) {
                        r = parse_u32(v, &rec.kill_signal);
                        if (r >= 0 && (rec.kill_signal == 0 || rec.kill_signal > 64))
                                r = -EBADMSG;
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return -EBADMSG;
        }

        if (!rec.name || !machine_name_is_valid(rec.name) || rec.supervisor == 0 || !have_supervisor_start)
                return -EBADMSG;
        if (rec.cgroup && strstr(rec.cgroup, "/.."))
                return -EBADMSG;

        *ret = rec;
        rec = (MachineRecord) {};
        return 0;
}

int machine_record_load(int dirfd, const char *filename, MachineRecord *ret) {
        _cleanup_(machine_record_done) MachineRecord rec = {};
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        ssize_t n;
        int r;

        /* O_NONBLOCK: a FIFO planted under a record's name must not hang machined. */
        fd = openat(dirfd, filename, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022))
                return -EPERM;
        if (st.st_size > RECORD_MAX)
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

        r = machine_record_parse(buf, &rec);
        if (r < 0)
                return r;
        if (!streq(rec.name, filename))
                return -EBADMSG;

        *ret = rec;
        rec = (MachineRecord) {};
        return 0;
}

bool machine_record_filename_is_valid(const char *filename) {
        return machine_name_is_valid(filename);
}
