/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-limits.h"
#include "cgroup.h"
#include "util/strv.h"
#include "util/util.h"

static const char *const cgroup_limit_type_table[_CGROUP_LIMIT_TYPE_MAX] = {
        [CGROUP_LIMIT_MEMORY_MAX] = "MemoryMax",
        [CGROUP_LIMIT_MEMORY_HIGH] = "MemoryHigh",
        [CGROUP_LIMIT_MEMORY_SWAP_MAX] = "MemorySwapMax",
        [CGROUP_LIMIT_CPU_WEIGHT] = "CPUWeight",
        [CGROUP_LIMIT_CPU_QUOTA] = "CPUQuota",
        [CGROUP_LIMIT_TASKS_MAX] = "TasksMax",
        [CGROUP_LIMIT_IO_WEIGHT] = "IOWeight",
};

const char *cgroup_limit_type_to_string(CGroupLimitType t) {
        return t >= 0 && t < _CGROUP_LIMIT_TYPE_MAX ? cgroup_limit_type_table[t] : NULL;
}

CGroupLimitType cgroup_limit_type_from_string(const char *s) {
        for (int i = 0; s && i < _CGROUP_LIMIT_TYPE_MAX; i++)
                if (streq(s, cgroup_limit_type_table[i]))
                        return i;
        return _CGROUP_LIMIT_TYPE_INVALID;
}

/* --- parsing ---------------------------------------------------------------------- */

/* "12", "1.5": an unsigned decimal with at most max_decimals decimals, as value * 10^scale
 * where scale is the number of decimals seen. Sets *ret_end to what follows. */
static int parse_decimal(const char *s, unsigned max_decimals, uint64_t *ret_int, uint64_t *ret_frac,
                         unsigned *ret_decimals, const char **ret_end) {
        uint64_t v = 0, frac = 0;
        unsigned decimals = 0;
        const char *p = s;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++) {
                        if (++decimals > max_decimals)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t) (*p - '0');
                }
        }
        *ret_int = v;
        *ret_frac = frac;
        *ret_decimals = decimals;
        *ret_end = p;
        return 0;
}

static uint64_t pow10u(unsigned n) {
        uint64_t r = 1;
        while (n-- > 0)
                r *= 10;
        return r;
}

/* (int + frac / 10^decimals) * mult / div, refusing overflow. */
static int scale(uint64_t i, uint64_t frac, unsigned decimals, uint64_t mult, uint64_t div, uint64_t *ret) {
        __uint128_t v = (__uint128_t) i * pow10u(decimals) + frac;
        v = v * mult / pow10u(decimals) / div;
        if (v >= UINT64_MAX)
                return -ERANGE;
        *ret = (uint64_t) v;
        return 0;
}

static uint64_t physical_memory(void) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size : 0;
}

/* The kernel's task limit, which TasksMax= percentages are relative to (as systemd). */
static uint64_t system_tasks_max(void) {
        uint64_t best = UINT64_MAX;
        FOREACH_STRING(f, "/proc/sys/kernel/pid_max", "/proc/sys/kernel/threads-max") {
                _cleanup_free_ char *s = NULL;
                uint64_t v;
                if (read_one_line(f, &s) >= 0 && safe_atou64(strstrip(s), &v) >= 0 && v < best)
                        best = v;
        }
        return best == UINT64_MAX ? 4194304 : best;
}

/* "N%" or "N.NN%" (0 < N <= max_percent) of base. */
static int parse_percent_of(const char *value, uint64_t base, uint64_t max_percent, uint64_t *ret) {
        uint64_t i, frac, v;
        unsigned decimals;
        const char *end;
        int r;

        r = parse_decimal(value, 2, &i, &frac, &decimals, &end);
        if (r < 0)
                return r;
        if (!streq(end, "%"))
                return -EINVAL;
        if ((i == 0 && frac == 0) || i > max_percent || (i == max_percent && frac > 0))
                return -ERANGE;
        r = scale(i, frac, decimals, base, 100, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int parse_size(const char *value, uint64_t *ret) {
        static const struct {
                char suffix;
                uint64_t factor;
        } suffixes[] = {
                { 'B', 1ULL },       { 'K', 1ULL << 10 }, { 'M', 1ULL << 20 },
                { 'G', 1ULL << 30 }, { 'T', 1ULL << 40 },
        };
        uint64_t i, frac, factor = 1;
        unsigned decimals;
        const char *end;
        int r;

        r = parse_decimal(value, 9, &i, &frac, &decimals, &end);
        if (r < 0)
                return r;
        if (*end) {
                size_t k;
                for (k = 0; k < ELEMENTSOF(suffixes) && suffixes[k].suffix != *end; k++)
                        ;
                if (k == ELEMENTSOF(suffixes) || end[1])
                        return -EINVAL;
                factor = suffixes[k].factor;
        }
        if (decimals > 0 && factor == 1)
                return -EINVAL; /* a fraction of a byte */
        return scale(i, frac, decimals, factor, 1, ret);
}

static int parse_integer_in(const char *value, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v;

        if (!value || *value < '0' || *value > '9' || safe_atou64(value, &v) < 0)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int cgroup_limit_parse(CGroupLimitType t, const char *value, uint64_t *ret) {
        uint64_t v = 0;
        int r;

        if (isempty(value) || !ret)
                return -EINVAL;
        switch (t) {
        case CGROUP_LIMIT_MEMORY_MAX:
        case CGROUP_LIMIT_MEMORY_HIGH:
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
                if (streq(value, "infinity"))
                        v = CGROUP_LIMIT_INFINITY;
                else if (endswith(value, "%")) {
                        uint64_t mem = physical_memory();
                        if (mem == 0)
                                return -EOPNOTSUPP;
                        r = parse_percent_of(value, mem, 100, &v);
                        if (r < 0)
                                return r;
                } else {
                        r = parse_size(value, &v);
                        if (r < 0)
                                return r;
                }
                /* No memory at all would leave the container no way to even start; no
                 * swap is a meaningful limit. */
                if (v == 0 && t != CGROUP_LIMIT_MEMORY_SWAP_MAX)
                        return -ERANGE;
                break;
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_IO_WEIGHT:
                r = parse_integer_in(value, CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX, &v);
                if (r < 0)
                        return r;
                break;
        case CGROUP_LIMIT_CPU_QUOTA:
                if (streq(value, "infinity")) {
                        v = CGROUP_LIMIT_INFINITY;
                        break;
                }
                /* usec of CPU time per second: 1% is 10000. */
                r = parse_percent_of(value, 1000000, 100000, &v);
                if (r < 0)
                        return r;
                /* The smallest quota the kernel takes is 1 ms per 100 ms period. */
                if (v < 10000)
                        return -ERANGE;
                break;
        case CGROUP_LIMIT_TASKS_MAX:
                if (streq(value, "infinity"))
                        v = CGROUP_LIMIT_INFINITY;
                else if (endswith(value, "%")) {
                        r = parse_percent_of(value, system_tasks_max(), 100, &v);
                        if (r < 0)
                                return r;
                        if (v == 0)
                                return -ERANGE;
                } else {
                        r = parse_integer_in(value, 1, UINT64_MAX - 1, &v);
                        if (r < 0)
                                return r;
                }
                break;
        default:
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

int cgroup_limits_set_assignment(CGroupLimits *l, const char *assignment) {
        const char *eq = assignment ? strchr(assignment, '=') : NULL;
        _cleanup_free_ char *name = NULL;
        CGroupLimitType t;
        uint64_t v;
        int r;

        if (!eq)
                return -EINVAL;
        name = strndup(assignment, eq - assignment);
        if (!name)
                return -ENOMEM;
        t = cgroup_limit_type_from_string(name);
        if (t < 0)
                return -ENOENT;
        if (isempty(eq + 1)) {
                l->set[t] = false;
                l->value[t] = 0;
                return 0;
        }
        r = cgroup_limit_parse(t, eq + 1, &v);
        if (r < 0)
                return r;
        l->value[t] = v;
        l->set[t] = true;
        return 0;
}

int cgroup_limit_format(CGroupLimitType t, uint64_t value, char *buf, size_t size) {
        int n;

        if (t < 0 || t >= _CGROUP_LIMIT_TYPE_MAX)
                return -EINVAL;
        if (value == CGROUP_LIMIT_INFINITY)
                n = snprintf(buf, size, "infinity");
        else if (t == CGROUP_LIMIT_CPU_QUOTA) {
                if (value % 10000 == 0)
                        n = snprintf(buf, size, "%llu%%", (unsigned long long) (value / 10000));
                else
                        n = snprintf(buf, size, "%llu.%02llu%%", (unsigned long long) (value / 10000),
                                     (unsigned long long) (value % 10000 / 100));
        } else
                n = snprintf(buf, size, "%llu", (unsigned long long) value);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

int cgroup_limits_to_strv(const CGroupLimits *l, char ***ret) {
        _cleanup_strv_free_ char **list = calloc(1, sizeof(char *));
        int r;

        if (!list)
                return -ENOMEM;
        for (int t = 0; t < _CGROUP_LIMIT_TYPE_MAX; t++) {
                char v[32];
                if (!l->set[t])
                        continue;
                r = cgroup_limit_format(t, l->value[t], v, sizeof v);
                if (r < 0)
                        return r;
                r = strv_consume(&list, strjoin(cgroup_limit_type_to_string(t), "=", v));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(list);
        return 0;
}

void cgroup_limits_merge(CGroupLimits *a, const CGroupLimits *b) {
        for (int t = 0; t < _CGROUP_LIMIT_TYPE_MAX; t++)
                if (b->set[t]) {
                        a->set[t] = true;
                        a->value[t] = b->value[t];
                }
}

uint64_t cgroup_limit_default(CGroupLimitType t) {
        switch (t) {
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_IO_WEIGHT:
                return CGROUP_WEIGHT_DEFAULT;
        case CGROUP_LIMIT_TASKS_MAX:
                return CGROUP_TASKS_MAX_DEFAULT;
        default:
                return CGROUP_LIMIT_INFINITY;
        }
}

void cgroup_limits_fill_defaults(CGroupLimits *l) {
        if (!l->set[CGROUP_LIMIT_TASKS_MAX]) {
                l->set[CGROUP_LIMIT_TASKS_MAX] = true;
                l->value[CGROUP_LIMIT_TASKS_MAX] = CGROUP_TASKS_MAX_DEFAULT;
        }
}

/* --- where each limit goes -------------------------------------------------------- */

/* The v1 controller and the cgroup2 controller of a limit. */
static void limit_controllers(CGroupLimitType t, const char **ret_v1, const char **ret_v2) {
        switch (t) {
        case CGROUP_LIMIT_MEMORY_MAX:
        case CGROUP_LIMIT_MEMORY_HIGH:
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
                *ret_v1 = *ret_v2 = "memory";
                break;
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_CPU_QUOTA:
                *ret_v1 = *ret_v2 = "cpu";
                break;
        case CGROUP_LIMIT_TASKS_MAX:
                *ret_v1 = *ret_v2 = "pids";
                break;
        case CGROUP_LIMIT_IO_WEIGHT:
                *ret_v1 = "blkio";
                *ret_v2 = "io";
                break;
        default:
                *ret_v1 = *ret_v2 = NULL;
        }
}

/* The hierarchy a controller is used through: cgroup2 where the host gives it to cgroup2,
 * else its v1 hierarchy. */
static const CGroupHierarchy *hierarchy_for(const CGroupHierarchies *hs, CGroupLimitType t) {
        const CGroupHierarchy *u = cgroup_hierarchies_unified(hs);
        const char *v1, *v2;

        limit_controllers(t, &v1, &v2);
        if (!v1)
                return NULL;
        if (u && cgroup_controllers_have(u->controllers, v2))
                return u;
        return cgroup_hierarchies_find_v1(hs, v1);
}

static const char *missing_controller_reason(CGroupLimitType t) {
        switch (t) {
        case CGROUP_LIMIT_MEMORY_MAX:
        case CGROUP_LIMIT_MEMORY_HIGH:
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
                return "the host has no memory controller (neither cgroup2 nor v1)";
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_CPU_QUOTA:
                return "the host has no cpu controller (neither cgroup2 nor v1)";
        case CGROUP_LIMIT_TASKS_MAX:
                return "the host has no pids controller (neither cgroup2 nor v1)";
        case CGROUP_LIMIT_IO_WEIGHT:
                return "the host has neither the cgroup2 io nor the v1 blkio controller";
        default:
                return "unknown limit";
        }
}

int cgroup_limits_check(const CGroupHierarchies *given, const CGroupLimits *l, CGroupLimitType *ret_failed,
                        const char **ret_reason) {
        CGroupHierarchies buf;
        const CGroupHierarchies *hs;
        int r;

        r = cgroup_hierarchies_get(given, &buf, &hs);
        if (r < 0)
                return r;
        for (int t = 0; t < _CGROUP_LIMIT_TYPE_MAX; t++) {
                const CGroupHierarchy *h;
                if (!l->set[t])
                        continue;
                h = hierarchy_for(hs, t);
                if (!h) {
                        if (ret_failed)
                                *ret_failed = t;
                        if (ret_reason)
                                *ret_reason = missing_controller_reason(t);
                        return -EOPNOTSUPP;
                }
                if (t == CGROUP_LIMIT_MEMORY_SWAP_MAX && !h->unified && l->value[t] != CGROUP_LIMIT_INFINITY &&
                    (!l->set[CGROUP_LIMIT_MEMORY_MAX] ||
                     l->value[CGROUP_LIMIT_MEMORY_MAX] == CGROUP_LIMIT_INFINITY)) {
                        if (ret_failed)
                                *ret_failed = t;
                        if (ret_reason)
                                *ret_reason = "on cgroup v1 memory and swap are limited together: "
                                              "it needs MemoryMax= too";
                        return -EINVAL;
                }
        }
        return 0;
}

/* --- writing ---------------------------------------------------------------------- */

typedef struct LimitWriter {
        const CGroupHierarchy *h;
        const char *path;
} LimitWriter;

/* A missing file means the host cannot do it: -EOPNOTSUPP, never a silent skip. */
static int write_attr(const CGroupHierarchy *h, const char *path, const char *attr, const char *value) {
        _cleanup_free_ char *p = strjoin(h->mount_point, path, "/", attr);
        int r;

        if (!p)
                return -ENOMEM;
        r = write_string_file(p, value);
        return r == -ENOENT ? -EOPNOTSUPP : r;
}

static bool has_attr(const CGroupHierarchy *h, const char *path, const char *attr) {
        _cleanup_free_ char *p = strjoin(h->mount_point, path, "/", attr);
        return p && access(p, F_OK) >= 0;
}

static void format_u64(char *buf, size_t size, uint64_t v, const char *infinity) {
        if (v == CGROUP_LIMIT_INFINITY)
                snprintf(buf, size, "%s", infinity);
        else
                snprintf(buf, size, "%llu", (unsigned long long) v);
}

/* systemd's mapping of a weight (1..10000, default 100) onto cpu.shares (default 1024). */
static uint64_t weight_to_shares(uint64_t w) {
        return MIN(MAX(w * 1024 / CGROUP_WEIGHT_DEFAULT, 2ULL), 262144ULL);
}

/* Onto blkio.weight (10..1000, default 500). */
static uint64_t weight_to_blkio(uint64_t w) {
        return MIN(MAX(w * 500 / CGROUP_WEIGHT_DEFAULT, 10ULL), 1000ULL);
}

/* Onto BFQ's weight (1..1000, default 100): linear on each side of the defaults. */
static uint64_t weight_to_bfq(uint64_t w) {
        if (w <= CGROUP_WEIGHT_DEFAULT)
                return 100 - (CGROUP_WEIGHT_DEFAULT - w) * 99 / (CGROUP_WEIGHT_DEFAULT - CGROUP_WEIGHT_MIN);
        return 100 + (w - CGROUP_WEIGHT_DEFAULT) * 900 / (CGROUP_WEIGHT_MAX - CGROUP_WEIGHT_DEFAULT);
}

#define CPU_PERIOD_USEC 100000ULL

/* v1 memory: MemoryHigh= becomes the soft limit (an approximation: reclaim starts there
 * only under global memory pressure, nothing throttles), MemorySwapMax= the memory+swap
 * limit minus MemoryMax=. */
static int apply_memory_v1(const CGroupHierarchy *h, const char *path, const CGroupLimits *l,
                           CGroupLimitType *ret_failed, const char **ret_reason) {
        char limit[32], memsw[32] = "";
        bool memsw_first = false;
        int r;

        if (l->set[CGROUP_LIMIT_MEMORY_HIGH]) {
                *ret_failed = CGROUP_LIMIT_MEMORY_HIGH;
                format_u64(limit, sizeof limit, l->value[CGROUP_LIMIT_MEMORY_HIGH], "-1");
                r = write_attr(h, path, "memory.soft_limit_in_bytes", limit);
                if (r < 0)
                        return r;
        }
        if (l->set[CGROUP_LIMIT_MEMORY_SWAP_MAX]) {
                uint64_t mem = l->set[CGROUP_LIMIT_MEMORY_MAX] ? l->value[CGROUP_LIMIT_MEMORY_MAX]
                                                               : CGROUP_LIMIT_INFINITY;
                uint64_t swap = l->value[CGROUP_LIMIT_MEMORY_SWAP_MAX];

                *ret_failed = CGROUP_LIMIT_MEMORY_SWAP_MAX;
                if (!has_attr(h, path, "memory.memsw.limit_in_bytes")) {
                        *ret_reason = "the host has no swap accounting (memory.memsw.limit_in_bytes; "
                                      "boot with swapaccount=1)";
                        return -EOPNOTSUPP;
                }
                format_u64(memsw, sizeof memsw,
                           mem == CGROUP_LIMIT_INFINITY || swap == CGROUP_LIMIT_INFINITY || mem + swap < mem
                                   ? CGROUP_LIMIT_INFINITY
                                   : mem + swap,
                           "-1");
        }
        if (l->set[CGROUP_LIMIT_MEMORY_MAX]) {
                /* memory+swap may never be below memory alone: which one goes first
                 * depends on whether the limits grow or shrink. */
                *ret_failed = CGROUP_LIMIT_MEMORY_MAX;
                format_u64(limit, sizeof limit, l->value[CGROUP_LIMIT_MEMORY_MAX], "-1");
                r = write_attr(h, path, "memory.limit_in_bytes", limit);
                if (r == -EINVAL && *memsw)
                        memsw_first = true;
                else if (r < 0)
                        return r;
        }
        if (*memsw) {
                *ret_failed = CGROUP_LIMIT_MEMORY_SWAP_MAX;
                r = write_attr(h, path, "memory.memsw.limit_in_bytes", memsw);
                if (r < 0)
                        return r;
        }
        if (memsw_first) {
                *ret_failed = CGROUP_LIMIT_MEMORY_MAX;
                r = write_attr(h, path, "memory.limit_in_bytes", limit);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_one(const CGroupHierarchy *h, const char *path, CGroupLimitType t, uint64_t v,
                     const char **ret_reason) {
        char buf[64];
        int r;

        switch (t) {
        case CGROUP_LIMIT_MEMORY_MAX:
                format_u64(buf, sizeof buf, v, "max");
                return write_attr(h, path, "memory.max", buf);
        case CGROUP_LIMIT_MEMORY_HIGH:
                format_u64(buf, sizeof buf, v, "max");
                return write_attr(h, path, "memory.high", buf);
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
                format_u64(buf, sizeof buf, v, "max");
                r = write_attr(h, path, "memory.swap.max", buf);
                if (r == -EOPNOTSUPP)
                        *ret_reason = "the host has no swap accounting (memory.swap.max)";
                return r;
        case CGROUP_LIMIT_CPU_WEIGHT:
                if (h->unified) {
                        format_u64(buf, sizeof buf, v, "100");
                        return write_attr(h, path, "cpu.weight", buf);
                }
                format_u64(buf, sizeof buf, weight_to_shares(v), "1024");
                return write_attr(h, path, "cpu.shares", buf);
        case CGROUP_LIMIT_CPU_QUOTA:
                if (h->unified) {
                        if (v == CGROUP_LIMIT_INFINITY)
                                snprintf(buf, sizeof buf, "max %llu", CPU_PERIOD_USEC);
                        else
                                snprintf(buf, sizeof buf, "%llu %llu",
                                         (unsigned long long) (v * CPU_PERIOD_USEC / 1000000),
                                         CPU_PERIOD_USEC);
                        return write_attr(h, path, "cpu.max", buf);
                }
                snprintf(buf, sizeof buf, "%llu", CPU_PERIOD_USEC);
                r = write_attr(h, path, "cpu.cfs_period_us", buf);
                if (r < 0)
                        return r;
                if (v == CGROUP_LIMIT_INFINITY)
                        snprintf(buf, sizeof buf, "-1");
                else
                        snprintf(buf, sizeof buf, "%llu",
                                 (unsigned long long) (v * CPU_PERIOD_USEC / 1000000));
                r = write_attr(h, path, "cpu.cfs_quota_us", buf);
                if (r == -EOPNOTSUPP)
                        *ret_reason = "the host's kernel has no CPU bandwidth control (cpu.cfs_quota_us)";
                return r;
        case CGROUP_LIMIT_TASKS_MAX:
                format_u64(buf, sizeof buf, v, "max");
                return write_attr(h, path, "pids.max", buf);
        case CGROUP_LIMIT_IO_WEIGHT:
                if (h->unified && has_attr(h, path, "io.weight")) {
                        snprintf(buf, sizeof buf, "default %llu", (unsigned long long) v);
                        return write_attr(h, path, "io.weight", buf);
                }
                if (!h->unified && has_attr(h, path, "blkio.weight")) {
                        format_u64(buf, sizeof buf, weight_to_blkio(v), "500");
                        return write_attr(h, path, "blkio.weight", buf);
                }
                format_u64(buf, sizeof buf, weight_to_bfq(v), "100");
                r = write_attr(h, path, h->unified ? "io.bfq.weight" : "blkio.bfq.weight", buf);
                if (r == -EOPNOTSUPP)
                        *ret_reason = "the host has no IO weight "
                                      "(io.weight, blkio.weight or the BFQ scheduler's)";
                return r;
        default:
                return -EINVAL;
        }
}

int cgroup_limits_apply(const CGroupHierarchies *given, const char *path, const CGroupLimits *l,
                        CGroupLimitType *ret_failed, const char **ret_reason) {
        CGroupLimitType failed_dummy;
        const char *reason_dummy;
        CGroupHierarchies buf;
        const CGroupHierarchies *hs;
        const CGroupHierarchy *mem;
        int r;

        if (!ret_failed)
                ret_failed = &failed_dummy;
        if (!ret_reason)
                ret_reason = &reason_dummy;
        *ret_reason = NULL;

        r = cgroup_hierarchies_get(given, &buf, &hs);
        if (r < 0)
                return r;
        r = cgroup_limits_check(hs, l, ret_failed, ret_reason);
        if (r < 0)
                return r;
        /* A container that is gone has no cgroup: say so, not that a file is missing. */
        if (hs->n > 0) {
                _cleanup_free_ char *dir = strjoin(hs->h[0].mount_point, path);
                if (!dir)
                        return -ENOMEM;
                if (access(dir, F_OK) < 0)
                        return -errno;
        }

        mem = hierarchy_for(hs, CGROUP_LIMIT_MEMORY_MAX);
        if (mem && !mem->unified) {
                r = apply_memory_v1(mem, path, l, ret_failed, ret_reason);
                if (r < 0) {
                        if (r == -EOPNOTSUPP && !*ret_reason)
                                *ret_reason = "the host's memory controller lacks the file";
                        return r;
                }
        }
        for (int t = 0; t < _CGROUP_LIMIT_TYPE_MAX; t++) {
                const CGroupHierarchy *h;
                if (!l->set[t])
                        continue;
                h = hierarchy_for(hs, t);
                if (!h->unified && (t == CGROUP_LIMIT_MEMORY_MAX || t == CGROUP_LIMIT_MEMORY_HIGH ||
                                    t == CGROUP_LIMIT_MEMORY_SWAP_MAX))
                        continue; /* done above, together */
                r = apply_one(h, path, t, l->value[t], ret_reason);
                if (r < 0) {
                        *ret_failed = t;
                        if (r == -EOPNOTSUPP && !*ret_reason)
                                *ret_reason = h->unified
                                                      ? "the controller is not delegated to the container's cgroup"
                                                      : "the host's controller lacks the file";
                        return r;
                }
        }
        return 0;
}

/* --- usage ------------------------------------------------------------------------ */

static int read_u64_attr(const CGroupHierarchy *h, const char *path, const char *attr, uint64_t *ret) {
        _cleanup_free_ char *p = strjoin(h->mount_point, path, "/", attr), *s = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_one_line(p, &s);
        if (r < 0)
                return r;
        return safe_atou64(strstrip(s), ret);
}

/* "KEY VALUE" lines (memory.events, cpu.stat, memory.oom_control). */
static int read_keyed_attr(const char *file, const char *key, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        size_t n = strlen(key);
        int r;

        r = read_full_file(file, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strneq(line, key, n) && line[n] == ' ')
                        return safe_atou64(strstrip(line + n + 1), ret);
        }
        return -ENOENT;
}

/* On v1 an OOM kill is counted only in the victim's own memory cgroup: sum the subtree. */
static void sum_oom_kills_v1(const char *dir, unsigned depth, uint64_t *sum) {
        _cleanup_free_ char *f = strjoin(dir, "/memory.oom_control");
        DIR *d;
        struct dirent *de;
        uint64_t v;

        if (f && read_keyed_attr(f, "oom_kill", &v) >= 0)
                *sum += v;
        if (depth > 16 || !(d = opendir(dir)))
                return;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || dot_or_dot_dot(de->d_name))
                        continue;
                _cleanup_free_ char *sub = strjoin(dir, "/", de->d_name);
                if (sub)
                        sum_oom_kills_v1(sub, depth + 1, sum);
        }
        closedir(d);
}

int cgroup_usage_read(const char *path, CGroupUsage *ret) {
        CGroupUsage u = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
        CGroupHierarchies hs;
        const CGroupHierarchy *h, *unified;
        int r;

        r = cgroup_hierarchies_load(&hs);
        if (r < 0)
                return r;
        unified = cgroup_hierarchies_unified(&hs);

        h = hierarchy_for(&hs, CGROUP_LIMIT_MEMORY_MAX);
        if (h && h->unified) {
                _cleanup_free_ char *events = strjoin(h->mount_point, path, "/memory.events");
                (void) read_u64_attr(h, path, "memory.current", &u.memory_current);
                (void) read_u64_attr(h, path, "memory.peak", &u.memory_peak);
                if (events)
                        (void) read_keyed_attr(events, "oom_kill", &u.oom_kills);
        } else if (h) {
                _cleanup_free_ char *dir = strjoin(h->mount_point, path);
                uint64_t sum = 0;
                (void) read_u64_attr(h, path, "memory.usage_in_bytes", &u.memory_current);
                (void) read_u64_attr(h, path, "memory.max_usage_in_bytes", &u.memory_peak);
                if (dir && access(dir, F_OK) >= 0) {
                        sum_oom_kills_v1(dir, 0, &sum);
                        u.oom_kills = sum;
                }
        }

        h = cgroup_hierarchies_find_v1(&hs, "cpuacct");
        if (h)
                (void) read_u64_attr(h, path, "cpuacct.usage", &u.cpu_usage_nsec);
        else if (unified) {
                /* cgroup2 keeps usage_usec with or without the cpu controller. */
                _cleanup_free_ char *stat = strjoin(unified->mount_point, path, "/cpu.stat");
                uint64_t usec;
                if (stat && read_keyed_attr(stat, "usage_usec", &usec) >= 0)
                        u.cpu_usage_nsec = usec * 1000;
        }

        h = hierarchy_for(&hs, CGROUP_LIMIT_TASKS_MAX);
        if (h)
                (void) read_u64_attr(h, path, "pids.current", &u.tasks_current);

        /* A cgroup that does not exist (any more) has no usage to show. */
        if (u.memory_current == UINT64_MAX && u.cpu_usage_nsec == UINT64_MAX &&
            u.tasks_current == UINT64_MAX)
                return -ENOENT;
        *ret = u;
        return 0;
}
