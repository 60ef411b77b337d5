/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The payload's process settings that need privileges the payload may not have in its own
 * user namespace (docs/settings.md): its resource limits (Limit*=: raising a hard limit needs
 * CAP_SYS_RESOURCE in the host's user namespace), its OOM score adjustment (lowering it, the
 * same), its CPU affinity. Applied by the setup process to the waiting payload, or by PID 1
 * to itself when there is no user namespace. libc only; nothing logs. */

#include <sys/types.h>

#include "container-spawn.h"

/* Applies c's rlimits, OOMScoreAdjust= and CPUAffinity= to pid (0: the caller), whose
 * /proc/PID directory is proc_fd (-EBADF: /proc/self). On failure a negative errno and
 * *ret_what names the setting ("LimitNOFILE", "OOMScoreAdjust", "CPUAffinity"). */
int payload_apply_resources(pid_t pid, int proc_fd, const SpawnConfig *c, const char **ret_what);
