/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "settings-exec.h"
#include "settings.h"
#include "util/strv.h"
#include "util/util.h"

/* ---- capabilities ---- */

static const char *const capability_names[CAPABILITY_LAST + 1] = {
        [CAP_CHOWN] = "CAP_CHOWN",
        [CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
        [CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
        [CAP_FOWNER] = "CAP_FOWNER",
        [CAP_FSETID] = "CAP_FSETID",
        [CAP_KILL] = "CAP_KILL",
        [CAP_SETGID] = "CAP_SETGID",
        [CAP_SETUID] = "CAP_SETUID",
        [CAP_SETPCAP] = "CAP_SETPCAP",
        [CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
        [CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
        [CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
        [CAP_NET_ADMIN] = "CAP_NET_ADMIN",
        [CAP_NET_RAW] = "CAP_NET_RAW",
        [CAP_IPC_LOCK] = "CAP_IPC_LOCK",
        [CAP_IPC_OWNER] = "CAP_IPC_OWNER",
        [CAP_SYS_MODULE] = "CAP_SYS_MODULE",
        [CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
        [CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
        [CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
        [CAP_SYS_PACCT] = "CAP_SYS_PACCT",
        [CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
        [CAP_SYS_BOOT] = "CAP_SYS_BOOT",
        [CAP_SYS_NICE] = "CAP_SYS_NICE",
        [CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
        [CAP_SYS_TIME] = "CAP_SYS_TIME",
        [CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
        [CAP_MKNOD] = "CAP_MKNOD",
        [CAP_LEASE] = "CAP_LEASE",
        [CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
        [CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
        [CAP_SETFCAP] = "CAP_SETFCAP",
        [CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
        [CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
        [CAP_SYSLOG] = "CAP_SYSLOG",
        [CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
        [CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
        [CAP_AUDIT_READ] = "CAP_AUDIT_READ",
        [CAP_PERFMON] = "CAP_PERFMON",
        [CAP_BPF] = "CAP_BPF",
        [CAP_CHECKPOINT_RESTORE] = "CAP_CHECKPOINT_RESTORE",
};

const char *capability_to_name(int cap) {
        return cap >= 0 && cap <= CAPABILITY_LAST ? capability_names[cap] : NULL;
}

int capability_from_name(const char *s) {
        int n;

        if (isempty(s))
                return -EINVAL;
        for (int i = 0; i <= CAPABILITY_LAST; i++)
                if (strcasecmp(s, capability_names[i]) == 0 || strcasecmp(s, capability_names[i] + 4) == 0)
                        return i;
        if (safe_atoi(s, &n) >= 0 && n >= 0 && n < 64)
                return n;
        return -EINVAL;
}

int capability_list_parse(const char *s, bool allow_all, uint64_t *ret, char **ret_bad) {
        uint64_t mask = 0;

        for (const char *p = s;;) {
                p += strspn(p, " \t,");
                if (*p == 0)
                        break;
                size_t n = strcspn(p, " \t,");
                _cleanup_free_ char *word = strndup(p, n);
                int c;

                if (!word)
                        return -ENOMEM;
                if (allow_all && strcasecmp(word, "all") == 0)
                        mask = CAPABILITY_ALL;
                else if ((c = capability_from_name(word)) >= 0)
                        mask |= UINT64_C(1) << c;
                else {
                        if (ret_bad)
                                *ret_bad = TAKE_PTR(word);
                        return -EINVAL;
                }
                p += n;
        }
        *ret = mask;
        return 0;
}

/* ---- resource limits ---- */

static const char *const rlimit_names[RLIM_NLIMITS] = {
        [RLIMIT_CPU] = "CPU",         [RLIMIT_FSIZE] = "FSIZE",           [RLIMIT_DATA] = "DATA",
        [RLIMIT_STACK] = "STACK",     [RLIMIT_CORE] = "CORE",             [RLIMIT_RSS] = "RSS",
        [RLIMIT_NOFILE] = "NOFILE",   [RLIMIT_AS] = "AS",                 [RLIMIT_NPROC] = "NPROC",
        [RLIMIT_MEMLOCK] = "MEMLOCK", [RLIMIT_LOCKS] = "LOCKS",           [RLIMIT_SIGPENDING] = "SIGPENDING",
        [RLIMIT_MSGQUEUE] = "MSGQUEUE", [RLIMIT_NICE] = "NICE",           [RLIMIT_RTPRIO] = "RTPRIO",
        [RLIMIT_RTTIME] = "RTTIME",
};

static const char *const rlimit_keys[RLIM_NLIMITS] = {
        [RLIMIT_CPU] = "LimitCPU",         [RLIMIT_FSIZE] = "LimitFSIZE",   [RLIMIT_DATA] = "LimitDATA",
        [RLIMIT_STACK] = "LimitSTACK",     [RLIMIT_CORE] = "LimitCORE",     [RLIMIT_RSS] = "LimitRSS",
        [RLIMIT_NOFILE] = "LimitNOFILE",   [RLIMIT_AS] = "LimitAS",         [RLIMIT_NPROC] = "LimitNPROC",
        [RLIMIT_MEMLOCK] = "LimitMEMLOCK", [RLIMIT_LOCKS] = "LimitLOCKS",
        [RLIMIT_SIGPENDING] = "LimitSIGPENDING", [RLIMIT_MSGQUEUE] = "LimitMSGQUEUE",
        [RLIMIT_NICE] = "LimitNICE",       [RLIMIT_RTPRIO] = "LimitRTPRIO", [RLIMIT_RTTIME] = "LimitRTTIME",
};

int rlimit_from_key(const char *key) {
        for (int i = 0; i < RLIM_NLIMITS; i++)
                if (streq(rlimit_keys[i], key))
                        return i;
        return -EINVAL;
}

const char *rlimit_to_key(int resource) {
        return resource >= 0 && resource < RLIM_NLIMITS ? rlimit_keys[resource] : NULL;
}

int rlimit_from_any_name(const char *name) {
        if (isempty(name))
                return -EINVAL;
        if (startswith(name, "RLIMIT_"))
                name += STRLEN("RLIMIT_");
        else if (startswith(name, "Limit"))
                name += STRLEN("Limit");
        for (int i = 0; i < RLIM_NLIMITS; i++)
                if (streq(rlimit_names[i], name))
                        return i;
        return -EINVAL;
}

/* A decimal number with an optional suffix from the table; the table's factors multiply. */
typedef struct Unit {
        const char *suffix;
        uint64_t factor;
} Unit;

static int parse_with_units(const char *s, const Unit *units, size_t n_units, uint64_t *ret) {
        uint64_t v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno > 0)
                return -EINVAL;
        if (*end == 0) {
                *ret = v;
                return 0;
        }
        for (size_t i = 0; i < n_units; i++)
                if (streq(end, units[i].suffix)) {
                        if (units[i].factor != 0 && v > UINT64_MAX / units[i].factor)
                                return -ERANGE;
                        *ret = v * units[i].factor;
                        return 0;
                }
        return -EINVAL;
}

static const Unit size_units[] = {
        { "K", UINT64_C(1) << 10 }, { "M", UINT64_C(1) << 20 }, { "G", UINT64_C(1) << 30 },
        { "T", UINT64_C(1) << 40 }, { "P", UINT64_C(1) << 50 }, { "E", UINT64_C(1) << 60 },
};
static const Unit sec_units[] = {
        { "s", 1 }, { "sec", 1 }, { "min", 60 }, { "h", 3600 }, { "d", 86400 }, { "w", 604800 },
};
static const Unit usec_units[] = {
        { "us", 1 },      { "usec", 1 },      { "ms", 1000 },        { "msec", 1000 },
        { "s", 1000000 }, { "sec", 1000000 }, { "min", 60000000 },   { "h", UINT64_C(3600000000) },
};

static int rlimit_one_parse(int resource, const char *s, rlim_t *ret) {
        uint64_t v;
        int r;

        if (streq(s, "infinity")) {
                *ret = RLIM_INFINITY;
                return 0;
        }
        switch (resource) {
        case RLIMIT_FSIZE:
        case RLIMIT_DATA:
        case RLIMIT_STACK:
        case RLIMIT_CORE:
        case RLIMIT_RSS:
        case RLIMIT_AS:
        case RLIMIT_MEMLOCK:
        case RLIMIT_MSGQUEUE:
                r = parse_with_units(s, size_units, ELEMENTSOF(size_units), &v);
                break;
        case RLIMIT_CPU:
                r = parse_with_units(s, sec_units, ELEMENTSOF(sec_units), &v);
                break;
        case RLIMIT_RTTIME:
                r = parse_with_units(s, usec_units, ELEMENTSOF(usec_units), &v);
                break;
        case RLIMIT_NICE: {
                int n;
                /* A signed value is a nice level, -20 (best) .. 19; the limit is 20 - level. */
                if (s[0] == '+' || s[0] == '-') {
                        if (safe_atoi(s, &n) < 0)
                                return -EINVAL;
                        if (n < -20 || n > 19)
                                return -ERANGE;
                        *ret = (rlim_t) (20 - n);
                        return 0;
                }
                r = parse_with_units(s, NULL, 0, &v);
                if (r >= 0 && v > 40)
                        return -ERANGE;
                break;
        }
        default:
                r = parse_with_units(s, NULL, 0, &v);
        }
        if (r < 0)
                return r;
        if (v >= (uint64_t) RLIM_INFINITY)
                return -ERANGE;
        *ret = (rlim_t) v;
        return 0;
}

int rlimit_value_parse(int resource, const char *s, struct rlimit *ret) {
        _cleanup_free_ char *soft = NULL;
        const char *colon;
        struct rlimit rl;
        int r;

        if (resource < 0 || resource >= RLIM_NLIMITS || isempty(s))
                return -EINVAL;
        colon = strchr(s, ':');
        soft = colon ? strndup(s, colon - s) : strdup(s);
        if (!soft)
                return -ENOMEM;
        r = rlimit_one_parse(resource, soft, &rl.rlim_cur);
        if (r < 0)
                return r;
        if (colon) {
                r = rlimit_one_parse(resource, colon + 1, &rl.rlim_max);
                if (r < 0)
                        return r;
        } else
                rl.rlim_max = rl.rlim_cur;
        if (rl.rlim_cur > rl.rlim_max)
                return -ERANGE;
        *ret = rl;
        return 0;
}

/* ---- CPU sets, OOM, ids, signals ---- */

int cpu_set_parse(const char *s, CPUSet *ret) {
        CPUSet set = { .set = true };
        bool any = false;

        CPU_ZERO(&set.mask);
        for (const char *p = s;;) {
                unsigned long a, b;
                char *end;

                p += strspn(p, " \t,");
                if (*p == 0)
                        break;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                errno = 0;
                a = strtoul(p, &end, 10);
                if (errno > 0)
                        return -ERANGE;
                b = a;
                if (*end == '-') {
                        p = end + 1;
                        if (!isdigit((unsigned char) *p))
                                return -EINVAL;
                        b = strtoul(p, &end, 10);
                        if (errno > 0)
                                return -ERANGE;
                        if (b < a)
                                return -EINVAL;
                }
                if (*end != 0 && !strchr(" \t,", *end))
                        return -EINVAL;
                if (b >= CPU_SETSIZE)
                        return -ERANGE;
                for (unsigned long i = a; i <= b; i++)
                        CPU_SET(i, &set.mask);
                any = true;
                p = end;
        }
        if (!any)
                return -EINVAL;
        *ret = set;
        return 0;
}

int oom_score_adjust_parse(const char *s, int *ret) {
        int v;

        if (safe_atoi(s, &v) < 0)
                return -EINVAL;
        if (v < -1000 || v > 1000)
                return -ERANGE;
        *ret = v;
        return 0;
}

int machine_id_parse(const char *s, char ret[static 33]) {
        char id[33];
        size_t n = 0;
        bool zero = true;

        if (!s)
                return -EINVAL;
        for (size_t i = 0; s[i]; i++) {
                /* Dashes only where the UUID form has them. */
                if (s[i] == '-' && strlen(s) == 36 && (i == 8 || i == 13 || i == 18 || i == 23))
                        continue;
                if (!isxdigit((unsigned char) s[i]) || n >= 32)
                        return -EINVAL;
                id[n++] = (char) tolower((unsigned char) s[i]);
                zero = zero && s[i] == '0';
        }
        if (n != 32 || zero)
                return -EINVAL;
        id[32] = 0;
        memcpy(ret, id, sizeof id);
        return 0;
}

int kill_signal_parse(const char *s, int *ret) {
        int sig = signal_from_string(s);

        if (sig <= 0)
                return -EINVAL;
        *ret = sig;
        return 0;
}

/* ---- personality, volatile, timezone, journal ---- */

static const char *const personality_table[_PERSONALITY_MAX] = {
        [PERSONALITY_X86] = "x86",
        [PERSONALITY_X86_64] = "x86-64",
};

DEFINE_STRING_TABLE_LOOKUP(personality, Personality, _PERSONALITY_MAX);

bool personality_is_supported(Personality p) {
#if defined(__x86_64__)
        return p == PERSONALITY_X86 || p == PERSONALITY_X86_64;
#elif defined(__i386__)
        return p == PERSONALITY_X86;
#else
        return false;
#endif
}

static const char *const volatile_mode_table[_VOLATILE_MODE_MAX] = {
        [VOLATILE_NO] = "no",
        [VOLATILE_YES] = "yes",
        [VOLATILE_STATE] = "state",
        [VOLATILE_OVERLAY] = "overlay",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(volatile_mode, VolatileMode, _VOLATILE_MODE_MAX);

VolatileMode volatile_mode_from_string(const char *s) {
        int b;

        if (isempty(s))
                return _VOLATILE_MODE_INVALID;
        b = parse_boolean(s);
        if (b >= 0)
                return b ? VOLATILE_YES : VOLATILE_NO;
        return (VolatileMode) string_table_lookup(volatile_mode_table, _VOLATILE_MODE_MAX, s);
}

static const char *const timezone_mode_table[_TIMEZONE_MODE_MAX] = {
        [TIMEZONE_OFF] = "off",       [TIMEZONE_COPY] = "copy",     [TIMEZONE_BIND] = "bind",
        [TIMEZONE_SYMLINK] = "symlink", [TIMEZONE_DELETE] = "delete", [TIMEZONE_AUTO] = "auto",
};

DEFINE_STRING_TABLE_LOOKUP(timezone_mode, TimezoneMode, _TIMEZONE_MODE_MAX);

static const char *const link_journal_table[_LINK_JOURNAL_MAX] = {
        [LINK_JOURNAL_NO] = "no",
        [LINK_JOURNAL_AUTO] = "auto",
};

DEFINE_STRING_TABLE_LOOKUP(link_journal, LinkJournal, _LINK_JOURNAL_MAX);

bool link_journal_is_refused(const char *s) {
        return s && (streq(s, "host") || streq(s, "try-host") || streq(s, "guest") || streq(s, "try-guest"));
}

/* ---- overlays ---- */

void overlay_mount_done(OverlayMount *o) {
        if (!o)
                return;
        o->lower = strv_free(o->lower);
        o->upper = mfree(o->upper);
        o->destination = mfree(o->destination);
}

void overlay_mounts_free(OverlayMount *o, size_t n) {
        for (size_t i = 0; i < n; i++)
                overlay_mount_done(o + i);
        free(o);
}

const char *overlay_layer_path(const char *layer, bool *ret_in_tree) {
        bool in_tree = layer[0] == '+';

        if (ret_in_tree)
                *ret_in_tree = in_tree;
        return in_tree ? layer + 1 : layer;
}

/* Splits on ':' that is not escaped; "\:" and "\\" stand for themselves. */
static int split_colons(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *word = malloc(strlen(s) + 1);
        size_t n = 0;
        int r;

        if (!word)
                return -ENOMEM;
        for (const char *p = s;; p++) {
                if (*p == '\\') {
                        if (p[1] != ':' && p[1] != '\\')
                                return -EINVAL;
                        word[n++] = *++p;
                        continue;
                }
                if (*p == ':' || *p == 0) {
                        word[n] = 0;
                        r = strv_extend(&l, word);
                        if (r < 0)
                                return r;
                        n = 0;
                        if (*p == 0)
                                break;
                        continue;
                }
                word[n++] = *p;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static bool layer_is_valid(const char *layer) {
        return path_is_safe_absolute(overlay_layer_path(layer, NULL));
}

int overlay_mount_parse(const char *spec, bool read_only, OverlayMount *ret) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_(overlay_mount_done) OverlayMount o = { .read_only = read_only };
        size_t n, n_layers;
        int r;

        if (isempty(spec))
                return -EINVAL;
        r = split_colons(spec, &parts);
        if (r < 0)
                return r;
        n = strv_length(parts);
        if (n < 2)
                return -EINVAL;
        /* Two paths: the second is both the top layer and where it appears. */
        n_layers = n == 2 ? 2 : n - 1;
        /* "+" says where a layer is; the destination is in the container anyway. */
        if (n > 2 && parts[n - 1][0] == '+')
                return -EINVAL;
        o.destination = strdup(overlay_layer_path(parts[n - 1], NULL));
        if (!o.destination)
                return -ENOMEM;
        if (!path_is_safe_absolute(o.destination))
                return -EINVAL;
        if (!read_only) {
                const char *top = parts[n_layers - 1];
                if (!isempty(top) && !layer_is_valid(top))
                        return -EINVAL;
                o.upper = strdup(top);
                if (!o.upper)
                        return -ENOMEM;
                n_layers--;
        }
        for (size_t i = 0; i < n_layers; i++) {
                if (!layer_is_valid(parts[i]))
                        return -EINVAL;
                r = strv_extend(&o.lower, parts[i]);
                if (r < 0)
                        return r;
        }
        /* An empty top layer is an empty upper directory: it needs something below it. */
        if (strv_length(o.lower) == 0)
                return -EINVAL;
        *ret = o;
        o = (OverlayMount) {};
        return 0;
}
