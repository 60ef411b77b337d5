/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "macro.h"
#include "syscall-sets.h"

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

/* The groups of systemd.exec(5)'s SystemCallFilter= that a container's filter is most often
 * written with, after the lists of `systemd-analyze syscall-filter` (252); names of other
 * architectures included: one the running architecture lacks is skipped at load time. */
#define GROUP(name, ...) { name, (const char *const[]) { __VA_ARGS__, NULL } }
static const struct {
        const char *name;
        const char *const *members;
} groups[] = {
        GROUP("@aio", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
              "io_setup", "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup"),
        GROUP("@chown", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32"),
        GROUP("@clock", "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64",
              "settimeofday"),
        GROUP("@cpu-emulation", "modify_ldt", "subpage_prot", "switch_endian", "vm86", "vm86old"),
        GROUP("@debug", "lookup_dcookie", "perf_event_open", "pidfd_getfd", "ptrace", "rtas",
              "s390_runtime_instr", "sys_debug_setcontext"),
        GROUP("@ipc", "ipc", "memfd_create", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
              "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl",
              "msgget", "msgrcv", "msgsnd", "pipe", "pipe2", "process_madvise", "process_vm_readv",
              "process_vm_writev", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "shmat",
              "shmctl", "shmdt", "shmget"),
        GROUP("@keyring", "add_key", "keyctl", "request_key"),
        GROUP("@memlock", "mlock", "mlock2", "mlockall", "munlock", "munlockall"),
        GROUP("@module", "delete_module", "finit_module", "init_module"),
        GROUP("@mount", "chroot", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr",
              "move_mount", "open_tree", "pivot_root", "umount", "umount2"),
        GROUP("@obsolete", "_sysctl", "afs_syscall", "bdflush", "break", "create_module", "ftime",
              "get_kernel_syms", "getpmsg", "gtty", "idle", "lock", "mpx", "prof", "profil", "putpmsg",
              "query_module", "security", "sgetmask", "ssetmask", "stime", "stty", "sysfs", "tuxcall",
              "ulimit", "uselib", "ustat", "vserver"),
        GROUP("@pkey", "pkey_alloc", "pkey_free", "pkey_mprotect"),
        GROUP("@privileged", "_sysctl", "acct", "bpf", "capset", "chown", "chown32", "chroot",
              "delete_module", "fanotify_init", "fanotify_mark", "fchown", "fchown32", "fchownat",
              "finit_module", "init_module", "ioperm", "iopl", "kexec_file_load", "kexec_load", "lchown",
              "lchown32", "nfsservctl", "open_by_handle_at", "pciconfig_iobase", "pciconfig_read",
              "pciconfig_write", "pivot_root", "quotactl", "quotactl_fd", "reboot", "s390_pci_mmio_read",
              "s390_pci_mmio_write", "setdomainname", "setfsuid", "setfsuid32", "setgroups", "setgroups32",
              "sethostname", "setresuid", "setresuid32", "setreuid", "setreuid32", "settimeofday", "setuid",
              "setuid32", "swapoff", "swapon", "vhangup", "adjtimex", "clock_adjtime", "clock_adjtime64",
              "clock_settime", "clock_settime64"),
        GROUP("@raw-io", "ioperm", "iopl", "pciconfig_iobase", "pciconfig_read", "pciconfig_write",
              "s390_pci_mmio_read", "s390_pci_mmio_write"),
        GROUP("@reboot", "kexec_file_load", "kexec_load", "reboot"),
        GROUP("@resources", "ioprio_set", "mbind", "migrate_pages", "move_pages", "nice",
              "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "set_mempolicy",
              "set_mempolicy_home_node", "setpriority", "setrlimit"),
        GROUP("@setuid", "setgid", "setgid32", "setgroups", "setgroups32", "setregid", "setregid32",
              "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setuid",
              "setuid32"),
        GROUP("@swap", "swapoff", "swapon"),
        GROUP("@sync", "fdatasync", "fsync", "msync", "sync", "sync_file_range", "sync_file_range2",
              "syncfs"),
        GROUP("@timer", "alarm", "getitimer", "setitimer", "timer_create", "timer_delete",
              "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
              "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
              "timerfd_settime64", "times"),
};
#undef GROUP

const char *const syscall_group_names[] = {
        "@aio", "@chown", "@clock", "@cpu-emulation", "@debug", "@ipc", "@keyring", "@memlock", "@module",
        "@mount", "@obsolete", "@pkey", "@privileged", "@raw-io", "@reboot", "@resources", "@setuid",
        "@swap", "@sync", "@timer", NULL,
};

const char *const *syscall_group_lookup(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(groups); i++)
                if (streq(groups[i].name, name))
                        return groups[i].members;
        return NULL;
}

bool syscall_word_is_valid(const char *word) {
        size_t n;

        if (!word || !word[0])
                return false;
        if (word[0] == '@')
                return syscall_group_lookup(word) != NULL;
        n = strspn(word, "abcdefghijklmnopqrstuvwxyz0123456789_");
        return word[n] == 0 && n <= 64;
}

static bool name_is_denied(const char *name) {
        for (const char *const *d = seccomp_denied_syscalls; *d; d++)
                if (streq(*d, name))
                        return true;
        return false;
}

bool syscall_word_is_denied(const char *word) {
        const char *const *members;

        if (word[0] != '@')
                return name_is_denied(word);
        members = syscall_group_lookup(word);
        for (; members && *members; members++)
                if (name_is_denied(*members))
                        return true;
        return false;
}

int syscall_word_foreach(const char *word, int (*f)(const char *name, void *userdata), void *userdata) {
        const char *const *members;
        int r;

        if (word[0] != '@')
                return f(word, userdata);
        members = syscall_group_lookup(word);
        if (!members)
                return -EINVAL;
        for (; *members; members++) {
                r = f(*members, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}
