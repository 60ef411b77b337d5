/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "supervisor-contract.h"
#include "util/strv.h"
#include "util/util.h"

static const char *const supervisor_failure_table[_SUPERVISOR_FAILURE_MAX] = {
        [SUPERVISOR_FAILURE_GENERIC] = "generic",
        [SUPERVISOR_FAILURE_NO_IMAGE] = "no-image",
        [SUPERVISOR_FAILURE_NO_INIT] = "no-init",
        [SUPERVISOR_FAILURE_BAD_SETTINGS] = "bad-settings",
        [SUPERVISOR_FAILURE_NAME_TAKEN] = "name-taken",
};

DEFINE_STRING_TABLE_LOOKUP(supervisor_failure, SupervisorFailure, _SUPERVISOR_FAILURE_MAX);

static const char *const supervisor_report_type_table[_SUPERVISOR_REPORT_TYPE_MAX] = {
        [SUPERVISOR_REPORT_STARTED] = "STARTED",
        [SUPERVISOR_REPORT_FAILED] = "FAILED",
        [SUPERVISOR_REPORT_WARNING] = "WARNING",
        [SUPERVISOR_REPORT_READY] = "READY",
        [SUPERVISOR_REPORT_EXITED] = "EXITED",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP(supervisor_report_type, SupervisorReportType, _SUPERVISOR_REPORT_TYPE_MAX);

/* ---- "--key=value" arguments from a table of typed fields ---- */

typedef enum FieldType {
        FIELD_STRING,
        FIELD_INT, /* also fds and pids: -1 means none */
        FIELD_U64,
        FIELD_U32,
        FIELD_BOOL,
        FIELD_CONSOLE_MODE,
        FIELD_MACHINE_STATE,
        FIELD_MACHINE_INIT,
        FIELD_IFNAME,    /* a string that must be a valid interface name */
        FIELD_NFT_TABLE, /* a string that must be a valid nft table name of ours */
        FIELD_IN6_ADDR,  /* struct in6_addr; all zero (::) is left out */
} FieldType;

typedef struct Field {
        const char *key;
        FieldType type;
        size_t offset;
        bool required;
} Field;

#define FIELD_PTR(base, f) ((char *) (base) + (f)->offset)

static int field_to_arg(const Field *f, const void *base, char ***l) {
        const void *p = FIELD_PTR(base, f);
        const char *s = NULL;
        char *arg = NULL;

        switch (f->type) {
        case FIELD_STRING:
        case FIELD_IFNAME:
        case FIELD_NFT_TABLE:
                s = *(const char *const *) p;
                if (!s)
                        return 0;
                break;
        case FIELD_IN6_ADDR: {
                static const struct in6_addr any = {};
                char buf[INET6_ADDRSTRLEN];
                if (memcmp(p, &any, sizeof any) == 0)
                        return 0;
                if (!inet_ntop(AF_INET6, p, buf, sizeof buf))
                        return -errno;
                return strv_consume(l, strjoin("--", f->key, "=", buf));
        }
        case FIELD_INT:
                if (asprintf(&arg, "--%s=%d", f->key, *(const int *) p) < 0)
                        return -ENOMEM;
                return strv_consume(l, arg);
        case FIELD_U64:
                if (asprintf(&arg, "--%s=%llu", f->key, (unsigned long long) *(const uint64_t *) p) < 0)
                        return -ENOMEM;
                return strv_consume(l, arg);
        case FIELD_U32:
                if (asprintf(&arg, "--%s=%u", f->key, *(const uint32_t *) p) < 0)
                        return -ENOMEM;
                return strv_consume(l, arg);
        case FIELD_BOOL:
                s = *(const bool *) p ? "yes" : "no";
                break;
        case FIELD_CONSOLE_MODE:
                s = console_mode_to_string(*(const ConsoleMode *) p);
                break;
        case FIELD_MACHINE_STATE:
                s = machine_state_to_string(*(const MachineState *) p);
                break;
        case FIELD_MACHINE_INIT:
                s = machine_init_to_string(*(const MachineInit *) p);
                break;
        }
        if (!s)
                return -EINVAL;
        return strv_consume(l, strjoin("--", f->key, "=", s));
}

static int field_parse(const Field *f, void *base, const char *v) {
        void *p = FIELD_PTR(base, f);
        int r;

        switch (f->type) {
        case FIELD_STRING:
                *(const char **) p = v;
                return 0;
        case FIELD_IFNAME:
                if (!ifname_is_valid(v))
                        return -EINVAL;
                *(const char **) p = v;
                return 0;
        case FIELD_NFT_TABLE:
                if (!nft_table_name_is_valid(v))
                        return -EINVAL;
                *(const char **) p = v;
                return 0;
        case FIELD_IN6_ADDR:
                return inet_pton(AF_INET6, v, p) == 1 ? 0 : -EINVAL;
        case FIELD_INT:
                return safe_atoi(v, (int *) p);
        case FIELD_U64:
                return safe_atou64(v, (uint64_t *) p);
        case FIELD_U32: {
                uint64_t u;
                r = safe_atou64(v, &u);
                if (r < 0)
                        return r;
                if (u > UINT32_MAX)
                        return -ERANGE;
                *(uint32_t *) p = (uint32_t) u;
                return 0;
        }
        case FIELD_BOOL:
                r = parse_boolean(v);
                if (r < 0)
                        return r;
                *(bool *) p = r;
                return 0;
        case FIELD_CONSOLE_MODE:
                return (*(ConsoleMode *) p = console_mode_from_string(v)) < 0 ? -EINVAL : 0;
        case FIELD_MACHINE_STATE:
                return (*(MachineState *) p = machine_state_from_string(v)) < 0 ? -EINVAL : 0;
        case FIELD_MACHINE_INIT:
                return (*(MachineInit *) p = machine_init_from_string(v)) < 0 ? -EINVAL : 0;
        }
        return -EINVAL;
}

static int fields_to_argv(const Field *fields, size_t n, const void *base, char ***l) {
        for (size_t i = 0; i < n; i++) {
                int r = field_to_arg(fields + i, base, l);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Parses argv[start..] up to "--" (whose index, or argc, goes to *ret_end). Every key must be
 * known, none may repeat, the required ones must be there. */
static int fields_from_argv(const Field *fields, size_t n, void *base, int argc, char *const *argv, int start,
                            int *ret_end) {
        uint64_t seen = 0;
        int i;

        assert(n <= 64);
        for (i = start; i < argc && !streq(argv[i], "--"); i++) {
                const char *a = argv[i], *eq;
                size_t k;

                if (!startswith(a, "--") || !(eq = strchr(a, '=')))
                        return -EINVAL;
                for (k = 0; k < n; k++)
                        if (strlen(fields[k].key) == (size_t) (eq - a - 2) && strneq(fields[k].key, a + 2, eq - a - 2))
                                break;
                if (k >= n || (seen & (UINT64_C(1) << k)))
                        return -EINVAL;
                seen |= UINT64_C(1) << k;
                if (field_parse(fields + k, base, eq + 1) < 0)
                        return -EINVAL;
        }
        for (size_t k = 0; k < n; k++)
                if (fields[k].required && !(seen & (UINT64_C(1) << k)))
                        return -EINVAL;
        if (ret_end)
                *ret_end = i;
        else if (i < argc)
                return -EINVAL;
        return 0;
}

/* ---- start ---- */

#define S(key, type, member, req) { key, type, offsetof(SupervisorStart, member), req }
static const Field start_fields[] = {
        S("machine", FIELD_STRING, machine, true),
        S("image", FIELD_STRING, image, true),
        S("state-dir", FIELD_STRING, state_dir, true),
        S("config-dir", FIELD_STRING, config_dir, false),
        S("report-fd", FIELD_INT, report_fd, false),
        S("network-table", FIELD_NFT_TABLE, network_table, false),
        S("network-bridge", FIELD_IFNAME, network_bridge, false),
        S("network-dns-stub", FIELD_STRING, network_dns_stub, false),
        S("network-loopback6", FIELD_IN6_ADDR, network_loopback6, false),
};
#undef S

int supervisor_start_to_argv(const SupervisorStart *s, const char *binary, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = strv_extend(&l, binary);
        if (r >= 0)
                r = fields_to_argv(start_fields, ELEMENTSOF(start_fields), s, &l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

int supervisor_start_from_argv(int argc, char *const *argv, SupervisorStart *ret) {
        SupervisorStart s = { .report_fd = -1 };
        int r;

        r = fields_from_argv(start_fields, ELEMENTSOF(start_fields), &s, argc, argv, 1, NULL);
        if (r < 0)
                return r;
        if (s.image[0] != '/' || s.state_dir[0] != '/' || (s.config_dir && s.config_dir[0] != '/') ||
            (s.network_dns_stub && s.network_dns_stub[0] != '/'))
                return -EINVAL;
        /* The stub and the ::1 source belong to the managed network's bridge. */
        if (!s.network_bridge && (s.network_dns_stub || !IN6_IS_ADDR_UNSPECIFIED(&s.network_loopback6)))
                return -EINVAL;
        *ret = s;
        return 0;
}

/* ---- report ---- */

int supervisor_report_format(const SupervisorReport *r, char *buf, size_t size) {
        const char *type = supervisor_report_type_to_string(r->type);
        char msg[SUPERVISOR_REPORT_MESSAGE_MAX];
        int n;

        if (!type)
                return -EINVAL;
        snprintf(msg, sizeof msg, "%s", r->message);
        for (char *p = msg; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        if (r->type == SUPERVISOR_REPORT_STARTED)
                n = snprintf(buf, size, "%s %d\n", type, (int) r->leader);
        else if (r->type == SUPERVISOR_REPORT_READY)
                n = snprintf(buf, size, "%s\n", type);
        else if (r->type == SUPERVISOR_REPORT_EXITED)
                n = snprintf(buf, size, "%s %d\n", type, r->status);
        else if (r->type == SUPERVISOR_REPORT_WARNING)
                n = snprintf(buf, size, "%s %s\n", type, msg);
        else {
                const char *failure = supervisor_failure_to_string(r->failure);
                if (!failure)
                        return -EINVAL;
                n = snprintf(buf, size, "%s %s %d %s\n", type, failure, r->error, msg);
        }
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int supervisor_report_parse(const char *text, SupervisorReport *ret) {
        SupervisorReport r = {};
        char type[16], failure[32];
        int consumed = 0, n;

        if (sscanf(text, "%15s%n", type, &consumed) != 1)
                return -EBADMSG;
        r.type = supervisor_report_type_from_string(type);
        if (r.type == SUPERVISOR_REPORT_STARTED) {
                if (sscanf(text + consumed, " %d%n", &n, &consumed) != 1 || n <= 0)
                        return -EBADMSG;
                r.leader = n;
        } else if (r.type == SUPERVISOR_REPORT_FAILED) {
                int skip = 0;
                if (sscanf(text + consumed, " %31s %d %n", failure, &r.error, &skip) != 2 || skip == 0 ||
                    r.error < 0)
                        return -EBADMSG;
                r.failure = supervisor_failure_from_string(failure);
                if (r.failure < 0)
                        return -EBADMSG;
                snprintf(r.message, sizeof r.message, "%s", text + consumed + skip);
                r.message[strcspn(r.message, "\n")] = 0;
        } else if (r.type == SUPERVISOR_REPORT_READY) {
                if (text[consumed + strspn(text + consumed, " \n")] != 0)
                        return -EBADMSG;
        } else if (r.type == SUPERVISOR_REPORT_EXITED) {
                if (sscanf(text + consumed, " %d", &r.status) != 1 || r.status < 0 || r.status > 255)
                        return -EBADMSG;
        } else if (r.type == SUPERVISOR_REPORT_WARNING) {
                const char *m = text + consumed + strspn(text + consumed, " ");
                snprintf(r.message, sizeof r.message, "%s", m);
                r.message[strcspn(r.message, "\n")] = 0;
                if (r.message[0] == 0)
                        return -EBADMSG;
        } else
                return -EBADMSG;
        *ret = r;
        return 0;
}

int supervisor_report_send(int fd, const SupervisorReport *r) {
        char buf[SUPERVISOR_REPORT_MESSAGE_MAX + 64];
        int k;

        if (fd < 0)
                return 0;
        k = supervisor_report_format(r, buf, sizeof buf);
        if (k < 0)
                return k;
        return loop_write(fd, buf, strlen(buf));
}

/* ---- handoff ---- */

#define H(key, type, member, req) { key, type, offsetof(SupervisorHandoff, member), req }
static const Field handoff_fields[] = {
        H("pid", FIELD_INT, pid, true),
        H("fd-pidfd", FIELD_INT, fds[HANDOFF_FD_PIDFD], true),
        H("fd-pty", FIELD_INT, fds[HANDOFF_FD_PTY], true),
        H("fd-notify", FIELD_INT, fds[HANDOFF_FD_NOTIFY], true),
        H("fd-listen", FIELD_INT, fds[HANDOFF_FD_LISTEN], true),
        H("fd-log", FIELD_INT, fds[HANDOFF_FD_LOG], true),
        H("fd-lock", FIELD_INT, fds[HANDOFF_FD_LOCK], true),
        H("fd-guard", FIELD_INT, fds[HANDOFF_FD_GUARD], true),
        H("fd-report", FIELD_INT, fds[HANDOFF_FD_REPORT], true),
        H("fd-uid-lock", FIELD_INT, fds[HANDOFF_FD_UID_LOCK], true),
        H("machine", FIELD_STRING, machine, true),
        H("directory", FIELD_STRING, directory, true),
        H("machine-id", FIELD_STRING, machine_id, true),
        H("state-dir", FIELD_STRING, state_dir, true),
        H("cgroup", FIELD_STRING, cgroup_path, true),
        H("console", FIELD_CONSOLE_MODE, console, true),
        H("boot", FIELD_BOOL, boot, true),
        H("quiet", FIELD_BOOL, quiet, true),
        H("register", FIELD_BOOL, register_machine, true),
        H("notify", FIELD_BOOL, notify, true),
        H("restart-on-reboot", FIELD_BOOL, restart_on_reboot, true),
        H("kill-timeout", FIELD_U64, kill_timeout_usec, true),
        H("ready-timeout", FIELD_U64, ready_timeout_usec, true),
        H("timestamp", FIELD_U64, timestamp_realtime, true),
        H("timestamp-monotonic", FIELD_U64, timestamp_monotonic, true),
        H("state", FIELD_MACHINE_STATE, state, true),
        H("init", FIELD_MACHINE_INIT, init, true),
        H("uid-shift", FIELD_U32, uid_shift, true),
        H("uid-range", FIELD_U32, uid_range, true),
        H("net-link", FIELD_IFNAME, net_link, false),
        H("net-zone-bridge", FIELD_IFNAME, net_zone_bridge, false),
        H("net-table", FIELD_NFT_TABLE, net_table, false),
        H("kill-signal", FIELD_INT, kill_signal, false),
        H("syscall-deny", FIELD_STRING, syscall_deny, false),
        H("suppress-sync", FIELD_BOOL, suppress_sync, false),
};
#undef H

int supervisor_handoff_to_argv(const SupervisorHandoff *h, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = strv_extend(&l, "nspawnctl-supervisor-light");
        if (r >= 0)
                r = strv_extend(&l, SUPERVISOR_LIGHT_HANDOFF);
        if (r >= 0)
                r = fields_to_argv(handoff_fields, ELEMENTSOF(handoff_fields), h, &l);
        if (r >= 0 && h->restart_argv)
                r = strv_extend(&l, "--") >= 0 ? strv_extend_strv(&l, (char **) h->restart_argv) : -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

int supervisor_handoff_from_argv(int argc, char *const *argv, SupervisorHandoff *ret) {
        SupervisorHandoff h = {};
        int end, r;

        if (argc < 2 || !streq(argv[1], SUPERVISOR_LIGHT_HANDOFF))
                return -EINVAL;
        r = fields_from_argv(handoff_fields, ELEMENTSOF(handoff_fields), &h, argc, argv, 2, &end);
        if (r < 0)
                return r;
        if (h.pid <= 0 || h.kill_signal < 0 || h.kill_signal > 64)
                return -EINVAL;
        if (end < argc) {
                if (end + 1 >= argc)
                        return -EINVAL;
                h.restart_argv = (char **) argv + end + 1;
        }
        *ret = h;
        return 0;
}

/* ---- guard ---- */

#define G(key, type, member, req) { key, type, offsetof(SupervisorGuard, member), req }
static const Field guard_fields[] = {
        G("machine", FIELD_STRING, machine, true),
        G("state-dir", FIELD_STRING, state_dir, true),
        G("cgroup", FIELD_STRING, cgroup_path, true),
        G("register", FIELD_BOOL, register_machine, true),
        G("uid-shift", FIELD_U32, uid_shift, true),
        G("fd-uid-lock", FIELD_INT, uid_lock_fd, true),
        G("net-link", FIELD_IFNAME, net_link, false),
        G("net-zone-bridge", FIELD_IFNAME, net_zone_bridge, false),
        G("net-table", FIELD_NFT_TABLE, net_table, false),
};
#undef G

int supervisor_guard_to_argv(const SupervisorGuard *g, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        r = strv_extend(&l, "nspawnctl-guard");
        if (r >= 0)
                r = strv_extend(&l, SUPERVISOR_LIGHT_GUARD);
        if (r >= 0)
                r = fields_to_argv(guard_fields, ELEMENTSOF(guard_fields), g, &l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

int supervisor_guard_from_argv(int argc, char *const *argv, SupervisorGuard *ret) {
        SupervisorGuard g = {};
        int r;

        if (argc < 2 || !streq(argv[1], SUPERVISOR_LIGHT_GUARD))
                return -EINVAL;
        r = fields_from_argv(guard_fields, ELEMENTSOF(guard_fields), &g, argc, argv, 2, NULL);
        if (r < 0)
                return r;
        *ret = g;
        return 0;
}

/* ---- the init stub: init-contract.c (built without libc as well) ---- */

/* ---- the network's cleanup ---- */

void supervisor_net_cleanup_get(const char *link, const char *zone_bridge, const char *table,
                                NetworkCleanup *ret) {
        /* from_argv() checked the lengths (FIELD_IFNAME, FIELD_NFT_TABLE). */
        *ret = (NetworkCleanup) {};
        snprintf(ret->link, sizeof ret->link, "%s", strempty(link));
        snprintf(ret->zone_bridge, sizeof ret->zone_bridge, "%s", strempty(zone_bridge));
        snprintf(ret->nft_table, sizeof ret->nft_table, "%s", strempty(table));
}

void supervisor_net_cleanup_set(const NetworkCleanup *nc, const char **ret_link,
                                const char **ret_zone_bridge, const char **ret_table) {
        *ret_link = nc->link[0] ? nc->link : NULL;
        *ret_zone_bridge = nc->zone_bridge[0] ? nc->zone_bridge : NULL;
        *ret_table = nc->nft_table[0] ? nc->nft_table : NULL;
}
