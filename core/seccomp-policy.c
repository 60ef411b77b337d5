/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "macro.h"
#include "seccomp-policy.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(scmp_filter_ctx, seccomp_release, seccomp_releasep);

/* Each entry names a kernel interface that is global to the host or a known escape
 * route (see docs/security.md). Calls systemd inside needs (mount, reboot inside the
 * PID namespace, unshare, setns for its own services) stay allowed; capabilities bound
 * what those can do. */
const char *const seccomp_denied_syscalls[] = {
        /* keyrings are not namespaced */
        "add_key", "request_key", "keyctl",
        /* kernel code and images */
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
        /* opening by handle bypasses mount namespaces (the "shocker" escape); making a
         * handle is harmless and systemd needs it for cgroup ids */
        "open_by_handle_at",
        /* global observation and modification */
        "bpf", "perf_event_open", "lookup_dcookie", "fanotify_init", "userfaultfd",
        "syslog", "acct", "swapon", "swapoff", "quotactl", "quotactl_fd",
        "settimeofday", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64",
        "adjtimex", "stime", "iopl", "ioperm", "vhangup", "pciconfig_read", "pciconfig_write",
        "pciconfig_iobase", "nfsservctl", "uselib", "_sysctl", "sysfs", "ustat",
        "vm86", "vm86old", "kcmp", "process_vm_writev",
        NULL,
};

int seccomp_load_container_filter(void) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        static const uint32_t extra_arches[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
        int r;

        if (!ctx)
                return -ENOMEM;
        /* The loader still has CAP_SYS_ADMIN, so NO_NEW_PRIVS is not needed, and setting
         * it would break setuid binaries (su, sudo) inside the container. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        if (seccomp_arch_native() == SCMP_ARCH_X86_64)
                for (size_t i = 0; i < ELEMENTSOF(extra_arches); i++) {
                        r = seccomp_arch_add(ctx, extra_arches[i]);
                        if (r < 0 && r != -EEXIST)
                                return r;
                }

        for (const char *const *s = seccomp_denied_syscalls; *s; s++) {
                int nr = seccomp_syscall_resolve_name(*s);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0 && r != -EDOM && r != -EFAULT)
                        return r;
        }

        /* The request number is an int in the kernel but an unsigned long at the syscall
         * boundary: compare only the low 32 bits so 0x100005412 cannot slip through
         * (CVE-2017-5226 style). */
        static const unsigned long bad_ioctls[] = { TIOCSTI, TIOCLINUX };
        int ioctl_nr = seccomp_syscall_resolve_name("ioctl");
        for (size_t i = 0; i < ELEMENTSOF(bad_ioctls); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), ioctl_nr, 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, bad_ioctls[i]));
                if (r < 0)
                        return r;
        }

        return seccomp_load(ctx);
}
