/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The resource usage of a machine's cgroup (core/cgroup-limits.h), read from the host's
 * cgroup file systems, as `status` shows it. Nothing is printed when the cgroup cannot be
 * read (a machine without one, or gone). */
void usage_print_table(const char *cgroup);
/* The same as JSON members: ,"memory_current":N,"memory_peak":N,"cpu_usage_nsec":N,
 * "tasks_current":N,"oom_kills":N (null where the host cannot tell). */
void usage_print_json(const char *cgroup);
