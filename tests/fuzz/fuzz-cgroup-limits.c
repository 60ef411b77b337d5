/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The limit parser (core/cgroup-limits.c) on any "NAME=VALUE": whatever it accepts formats
 * and parses back to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-limits.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *) data, size);
        CGroupLimits l = {};

        if (!s || cgroup_limits_set_assignment(&l, s) < 0)
                return 0;
        for (int t = 0; t < _CGROUP_LIMIT_TYPE_MAX; t++) {
                char buf[32];
                uint64_t back;
                if (!l.set[t])
                        continue;
                if (cgroup_limit_format(t, l.value[t], buf, sizeof buf) < 0 ||
                    cgroup_limit_parse(t, buf, &back) < 0)
                        abort();
                /* CPUQuota= is formatted to 1/100 of a percent, the parser's own precision. */
                if (back != l.value[t])
                        abort();
        }
        return 0;
}
