/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "cgroup-limits.h"
#include "usage-print.h"
#include "util/util.h"

static void format_bytes(uint64_t b, char *buf, size_t size) {
        static const char units[] = "BKMGT";
        double d = (double) b;
        size_t u = 0;

        while (d >= 1024 && u < sizeof units - 2) {
                d /= 1024;
                u++;
        }
        snprintf(buf, size, u == 0 ? "%.0f%c" : "%.1f%c", d, units[u]);
}

void usage_print_table(const CGroupUsage *usage) {
        CGroupUsage u = *usage;
        char a[32], b[32];

        if (u.memory_current != UINT64_MAX) {
                format_bytes(u.memory_current, a, sizeof a);
                if (u.memory_peak != UINT64_MAX) {
                        format_bytes(u.memory_peak, b, sizeof b);
                        printf("        Memory: %s (peak %s)\n", a, b);
                } else
                        printf("        Memory: %s\n", a);
        }
        if (u.cpu_usage_nsec != UINT64_MAX)
                printf("           CPU: %llu.%03llus\n",
                       (unsigned long long) (u.cpu_usage_nsec / 1000000000ULL),
                       (unsigned long long) (u.cpu_usage_nsec / 1000000ULL % 1000ULL));
        if (u.tasks_current != UINT64_MAX)
                printf("         Tasks: %llu\n", (unsigned long long) u.tasks_current);
        if (u.oom_kills != UINT64_MAX)
                printf("     OOM kills: %llu\n", (unsigned long long) u.oom_kills);
}

static void json_u64(const char *name, uint64_t v) {
        if (v == UINT64_MAX)
                printf(",\"%s\":null", name);
        else
                printf(",\"%s\":%llu", name, (unsigned long long) v);
}

void usage_print_json(const CGroupUsage *usage) {
        CGroupUsage u = *usage;

        json_u64("memory_current", u.memory_current);
        json_u64("memory_peak", u.memory_peak);
        json_u64("cpu_usage_nsec", u.cpu_usage_nsec);
        json_u64("tasks_current", u.tasks_current);
        json_u64("oom_kills", u.oom_kills);
}
