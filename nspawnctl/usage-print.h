/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "cgroup-limits.h"

/* The resource usage of a machine as machined's properties tell it (MemoryCurrent, ...;
 * UINT64_MAX where the host cannot tell), as `status` shows it. */
void usage_print_table(const CGroupUsage *u);
/* The same as JSON members: ,"memory_current":N,"memory_peak":N,"cpu_usage_nsec":N,
 * "tasks_current":N,"oom_kills":N (null where the host cannot tell). */
void usage_print_json(const CGroupUsage *u);
