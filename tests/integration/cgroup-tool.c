/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A thin command line over the core cgroup limit and usage API, for the integration tests
 * of containers started with `nspawnctl run` (no machined): the usage of a running one and
 * a limit changed while it runs.
 *   cgroup-tool usage MACHINE                 one NAME=VALUE line per figure
 *   cgroup-tool set MACHINE NAME=VALUE...     as SetLimit would
 *   cgroup-tool delegate MACHINE UID          as the runtime does with a user namespace
 * Exit status: 0 ok, 1 failure, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cgroup-limits.h"
#include "cgroup.h"
#include "log.h"
#include "util/util.h"

static void print_u64(const char *name, uint64_t v) {
        if (v == UINT64_MAX)
                printf("%s=n/a\n", name);
        else
                printf("%s=%llu\n", name, (unsigned long long) v);
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (argc < 3 || cgroup_path_for_container(argv[2], &path) < 0)
                return fprintf(stderr, "usage: cgroup-tool usage|set MACHINE [NAME=VALUE...]\n"), 2;

        if (streq(argv[1], "usage") && argc == 3) {
                CGroupUsage u;
                r = cgroup_usage_read(path, &u);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the usage of %s: %m", argv[2]), 1;
                print_u64("memory_current", u.memory_current);
                print_u64("memory_peak", u.memory_peak);
                print_u64("cpu_usage_nsec", u.cpu_usage_nsec);
                print_u64("tasks_current", u.tasks_current);
                print_u64("oom_kills", u.oom_kills);
                return 0;
        }
        if (streq(argv[1], "set") && argc > 3) {
                CGroupLimits l = {};
                CGroupLimitType failed = _CGROUP_LIMIT_TYPE_INVALID;
                const char *reason = NULL;
                for (int i = 3; i < argc; i++)
                        if (cgroup_limits_set_assignment(&l, argv[i]) < 0)
                                return log_error("Invalid limit '%s'.", argv[i]), 2;
                r = cgroup_limits_apply(NULL, path, &l, &failed, &reason);
                if (r < 0 && reason)
                        return log_error("Cannot apply %s=: %s.", cgroup_limit_type_to_string(failed), reason), 1;
                if (r < 0)
                        return log_error_errno(r, "Failed to apply %s=: %m", strna(cgroup_limit_type_to_string(failed))), 1;
                return 0;
        }
        if (streq(argv[1], "delegate") && argc == 4) {
                unsigned uid;
                if (sscanf(argv[3], "%u", &uid) != 1)
                        return 2;
                r = cgroup_delegate_payload(NULL, path, (uid_t) uid, (gid_t) uid);
                if (r < 0)
                        return log_error_errno(r, "Failed to delegate the cgroup of %s: %m", argv[2]), 1;
                return 0;
        }
        fprintf(stderr, "usage: cgroup-tool usage|set MACHINE [NAME=VALUE...]\n");
        return 2;
}
