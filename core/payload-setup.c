/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "macro.h"
#include "payload-setup.h"
#include "util/util.h"

static int write_oom_score_adjust(int proc_fd, int value) {
        _cleanup_close_ int fd = -EBADF;
        char buf[16];

        fd = proc_fd >= 0 ? openat(proc_fd, "oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOCTTY)
                          : open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        snprintf(buf, sizeof buf, "%d\n", value);
        return loop_write(fd, buf, strlen(buf));
}

int payload_apply_resources(pid_t pid, int proc_fd, const SpawnConfig *c, const char **ret_what) {
        int r;

        for (int i = 0; c->rlimits && i < RLIM_NLIMITS; i++) {
                if (!c->rlimits->set[i])
                        continue;
                if (prlimit(pid, i, &c->rlimits->value[i], NULL) < 0) {
                        *ret_what = rlimit_to_key(i);
                        return -errno;
                }
        }
        if (c->oom_score_adjust_set) {
                r = write_oom_score_adjust(proc_fd, c->oom_score_adjust);
                if (r < 0) {
                        *ret_what = "OOMScoreAdjust";
                        return r;
                }
        }
        if (c->cpu_affinity && sched_setaffinity(pid, sizeof(cpu_set_t), &c->cpu_affinity->mask) < 0) {
                *ret_what = "CPUAffinity";
                return -errno;
        }
        return 0;
}
