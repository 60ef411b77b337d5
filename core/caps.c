/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(cap_t, cap_free, cap_freep);

#define BIT(c) (UINT64_C(1) << (c))

uint64_t caps_container_keep(bool private_network) {
        uint64_t keep = BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH) |
                        BIT(CAP_FOWNER) | BIT(CAP_FSETID) | BIT(CAP_IPC_OWNER) | BIT(CAP_KILL) |
                        BIT(CAP_LEASE) | BIT(CAP_LINUX_IMMUTABLE) | BIT(CAP_NET_BIND_SERVICE) |
                        BIT(CAP_NET_BROADCAST) | BIT(CAP_NET_RAW) | BIT(CAP_SETFCAP) |
                        BIT(CAP_SETGID) | BIT(CAP_SETPCAP) | BIT(CAP_SETUID) | BIT(CAP_SYS_ADMIN) |
                        BIT(CAP_SYS_BOOT) | BIT(CAP_SYS_CHROOT) | BIT(CAP_SYS_NICE) |
                        BIT(CAP_SYS_RESOURCE) | BIT(CAP_AUDIT_WRITE);
        if (private_network)
                keep |= BIT(CAP_NET_ADMIN);
        return keep;
}

int caps_drop_bounding(uint64_t keep) {
        _cleanup_(cap_freep) cap_t caps = NULL;
        cap_value_t last = CAP_LAST_CAP;

        /* The running kernel may know more capabilities than our headers. */
        while (prctl(PR_CAPBSET_READ, last + 1) >= 0)
                last++;

        for (cap_value_t c = 0; c <= last; c++) {
                if (c < 64 && (keep & BIT(c)))
                        continue;
                if (cap_drop_bound(c) < 0 && errno != EINVAL)
                        return -errno;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;

        /* Permitted and effective keep what the bounding set keeps, so the init and its
         * children see a consistent set; inheritable is cleared. */
        caps = cap_get_proc();
        if (!caps)
                return -errno;
        for (cap_value_t c = 0; c <= last && c < 64 && c < (cap_value_t) cap_max_bits(); c++) {
                cap_value_t v[1] = { c };
                /* Only ever clear: a capability the caller does not have (some hosts
                 * withhold CAP_SYS_RESOURCE) cannot be raised and is simply absent. */
                if (keep & BIT(c)) {
                        if (cap_set_flag(caps, CAP_INHERITABLE, 1, v, CAP_CLEAR) < 0)
                                return -errno;
                        continue;
                }
                if (cap_set_flag(caps, CAP_EFFECTIVE, 1, v, CAP_CLEAR) < 0 ||
                    cap_set_flag(caps, CAP_PERMITTED, 1, v, CAP_CLEAR) < 0 ||
                    cap_set_flag(caps, CAP_INHERITABLE, 1, v, CAP_CLEAR) < 0)
                        return -errno;
        }
        if (cap_set_proc(caps) < 0)
                return -errno;
        return 0;
}

int caps_raise_ambient(uint64_t ambient) {
        _cleanup_(cap_freep) cap_t caps = NULL;

        /* A capability may enter the ambient set only from permitted and inheritable both:
         * the ones asked for become inheritable (and effective, for a caller that changed
         * its user with PR_SET_KEEPCAPS), everything else stays as it is. */
        caps = cap_get_proc();
        if (!caps)
                return -errno;
        for (cap_value_t c = 0; c < 64 && c <= CAP_LAST_CAP; c++) {
                cap_value_t v[1] = { c };
                if (!(ambient & BIT(c)))
                        continue;
                if (cap_set_flag(caps, CAP_INHERITABLE, 1, v, CAP_SET) < 0 ||
                    cap_set_flag(caps, CAP_EFFECTIVE, 1, v, CAP_SET) < 0)
                        return -errno;
        }
        if (cap_set_proc(caps) < 0)
                return -errno;
        for (int c = 0; c < 64; c++)
                if ((ambient & BIT(c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        return -errno;
        return 0;
}
