/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

/* Resource limits of a container, by systemd's property names (systemd.resource-control(5)),
 * parsed once into numbers and applied to the container's cgroup through cgroup2 or the v1
 * controllers, whichever the host has. */
typedef enum CGroupLimitType {
        CGROUP_LIMIT_MEMORY_MAX,      /* bytes */
        CGROUP_LIMIT_MEMORY_HIGH,     /* bytes */
        CGROUP_LIMIT_MEMORY_SWAP_MAX, /* bytes */
        CGROUP_LIMIT_CPU_WEIGHT,      /* 1..10000 */
        CGROUP_LIMIT_CPU_QUOTA,       /* CPU time per second of wall clock, in usec (50% = 500000) */
        CGROUP_LIMIT_TASKS_MAX,       /* number of tasks */
        CGROUP_LIMIT_IO_WEIGHT,       /* 1..10000 */
        _CGROUP_LIMIT_TYPE_MAX,
        _CGROUP_LIMIT_TYPE_INVALID = -EINVAL,
} CGroupLimitType;

/* "no limit" (infinity) for the sizes, the quota and TasksMax. */
#define CGROUP_LIMIT_INFINITY UINT64_MAX
/* systemd-nspawn's default for TasksMax=. */
#define CGROUP_TASKS_MAX_DEFAULT 16384
#define CGROUP_WEIGHT_MIN 1
#define CGROUP_WEIGHT_DEFAULT 100
#define CGROUP_WEIGHT_MAX 10000

typedef struct CGroupLimits {
        uint64_t value[_CGROUP_LIMIT_TYPE_MAX];
        bool set[_CGROUP_LIMIT_TYPE_MAX];
} CGroupLimits;

const char *cgroup_limit_type_to_string(CGroupLimitType t);
CGroupLimitType cgroup_limit_type_from_string(const char *s);

/* Parses VALUE for limit t: sizes in bytes with an optional K, M, G or T suffix (base
 * 1024, a decimal fraction allowed: "1.5G"), a percentage of physical memory ("25%") or
 * "infinity"; CPUQuota= a percentage of one CPU, above 100% for more than one ("50%",
 * "150%"); weights 1..10000; TasksMax= a number, a percentage of the kernel's task limit
 * or "infinity". -EINVAL (or -ERANGE when out of bounds) on anything else. */
int cgroup_limit_parse(CGroupLimitType t, const char *value, uint64_t *ret);
/* "NAME=VALUE" into l (an empty VALUE unsets NAME). -ENOENT for an unknown NAME, -EINVAL
 * or -ERANGE for a bad value. */
int cgroup_limits_set_assignment(CGroupLimits *l, const char *assignment);
/* The value as cgroup_limit_parse() reads it back ("67108864", "50%", "infinity"). */
int cgroup_limit_format(CGroupLimitType t, uint64_t value, char *buf, size_t size);
/* Every set limit as "NAME=VALUE" (a NULL-terminated, malloc'ed list, in table order). */
int cgroup_limits_to_strv(const CGroupLimits *l, char ***ret);
/* Limits set in b override those of a. */
void cgroup_limits_merge(CGroupLimits *a, const CGroupLimits *b);
/* What a limit is when nothing sets it: infinity, weight 100, TasksMax 16384. */
uint64_t cgroup_limit_default(CGroupLimitType t);
/* TasksMax=16384 unless set. */
void cgroup_limits_fill_defaults(CGroupLimits *l);

/* Checks every set limit against the host's controllers before anything is created: on
 * -EOPNOTSUPP *ret_failed is one that cannot be applied and *ret_reason (a phrase) why.
 * MemorySwapMax= needs MemoryMax= on cgroup v1, where memory and swap are limited
 * together. What only a cgroup's files tell (swap accounting, IO weights) is found out by
 * cgroup_limits_apply(). */
int cgroup_limits_check(const CGroupHierarchies *hs, const CGroupLimits *l, CGroupLimitType *ret_failed,
                        const char **ret_reason);
/* Writes the set limits into the container's cgroup path ("/nspawnctl/NAME") - at start
 * before its init runs, or while it runs. On failure *ret_failed names the limit, and on
 * -EOPNOTSUPP (the host lacks the file, e.g. swap accounting) *ret_reason says what is
 * missing; -ENOENT when the cgroup does not exist. Both may be NULL. */
int cgroup_limits_apply(const CGroupHierarchies *hs, const char *path, const CGroupLimits *l,
                        CGroupLimitType *ret_failed, const char **ret_reason);

/* What a container's cgroup has used. UINT64_MAX where the host cannot tell. */
typedef struct CGroupUsage {
        uint64_t memory_current; /* bytes */
        uint64_t memory_peak;    /* bytes, since the cgroup was made */
        uint64_t cpu_usage_nsec;
        uint64_t tasks_current;
        uint64_t oom_kills;      /* processes the OOM killer ended in the container */
} CGroupUsage;

int cgroup_usage_read(const char *path, CGroupUsage *ret);
