/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "util/util.h"
#include "seccomp-policy.h"
#include "syscall-sets.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(scmp_filter_ctx, seccomp_release, seccomp_releasep);

static int deny_one(const char *name, void *userdata) {
        scmp_filter_ctx ctx = userdata;
        int nr = seccomp_syscall_resolve_name(name), r;

        if (nr == __NR_SCMP_ERROR)
                return 0; /* not on this architecture */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        /* -EEXIST: denied already (the deny-list, or SuppressSync= for a sync call). */
        if (r < 0 && r != -EDOM && r != -EFAULT && r != -EEXIST)
                return r;
        return 0;
}

/* SuppressSync=: the sync calls succeed without doing anything, and O_SYNC/O_DSYNC cannot be
 * asked for (EINVAL), as nspawn has it. openat2() takes its flags in memory a filter cannot
 * read: it says ENOSYS, on which callers fall back to openat(). */
static int add_suppress_sync(scmp_filter_ctx ctx) {
        static const struct {
                const char *name;
                unsigned arg;
        } opens[] = { { "open", 1 }, { "openat", 2 } };
        const char *const *sync_calls = syscall_group_lookup("@sync");
        int r;

        for (; sync_calls && *sync_calls; sync_calls++) {
                int nr = seccomp_syscall_resolve_name(*sync_calls);
                if (nr == __NR_SCMP_ERROR)
                        continue;
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(0), nr, 0);
                if (r < 0 && r != -EDOM && r != -EFAULT && r != -EEXIST)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(opens); i++) {
                int nr = seccomp_syscall_resolve_name(opens[i].name);
                if (nr == __NR_SCMP_ERROR)
                        continue;
                /* O_SYNC includes the O_DSYNC bit. */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EINVAL), nr, 1,
                                     SCMP_CMP(opens[i].arg, SCMP_CMP_MASKED_EQ, O_DSYNC, O_DSYNC));
                if (r < 0 && r != -EDOM && r != -EFAULT)
                        return r;
        }
        int nr = seccomp_syscall_resolve_name("openat2");
        if (nr != __NR_SCMP_ERROR) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
                if (r < 0 && r != -EDOM && r != -EFAULT)
                        return r;
        }
        return 0;
}

int seccomp_check_names(char **words, const char **ret_bad) {
        static const uint32_t arches[] = { SCMP_ARCH_NATIVE, SCMP_ARCH_X86, SCMP_ARCH_X32 };

        for (char **w = words; w && *w; w++) {
                bool found = false;

                /* A group's members are this project's lists; only names are the user's. */
                if ((*w)[0] == '@')
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(arches) && !found; i++)
                        found = seccomp_syscall_resolve_name_arch(arches[i], *w) != __NR_SCMP_ERROR;
                if (!found) {
                        if (ret_bad)
                                *ret_bad = *w;
                        return -EINVAL;
                }
        }
        return 0;
}

static int container_filter_new(char **extra_deny, bool suppress_sync, scmp_filter_ctx *ret) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        static const uint32_t extra_arches[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
        int r;

        if (!ctx)
                return -ENOMEM;
        if (seccomp_arch_native() == SCMP_ARCH_X86_64)
                for (size_t i = 0; i < ELEMENTSOF(extra_arches); i++) {
                        r = seccomp_arch_add(ctx, extra_arches[i]);
                        if (r < 0 && r != -EEXIST)
                                return r;
                }

        for (const char *const *s = seccomp_denied_syscalls; *s; s++) {
                r = deny_one(*s, ctx);
                if (r < 0)
                        return r;
        }
        /* SystemCallFilter=~...: only ever more denied, checked by seccomp_check_names(). */
        for (char **w = extra_deny; w && *w; w++) {
                r = syscall_word_foreach(*w, deny_one, ctx);
                if (r < 0)
                        return r;
        }
        if (suppress_sync) {
                r = add_suppress_sync(ctx);
                if (r < 0)
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
        *ret = TAKE_PTR(ctx);
        return 0;
}

void seccomp_program_done(SeccompProgram *p) {
        p->insns = mfree(p->insns);
        p->n_insns = 0;
}

int seccomp_build_container_filter(char **extra_deny, bool suppress_sync, SeccompProgram *ret) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ struct sock_filter *insns = NULL;
        struct stat st;
        int r;

        r = container_filter_new(extra_deny, suppress_sync, &ctx);
        if (r < 0)
                return r;
        /* libseccomp 2.5 exports only to an fd: a memfd holds the program, read back once. */
        fd = memfd_create("nspawnctl-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -E2BIG;
        insns = malloc(st.st_size);
        if (!insns)
                return -ENOMEM;
        if (pread(fd, insns, st.st_size, 0) != st.st_size)
                return errno > 0 ? -errno : -EIO;
        ret->insns = TAKE_PTR(insns);
        ret->n_insns = st.st_size / sizeof(struct sock_filter);
        return 0;
}

int seccomp_program_load(const SeccompProgram *p) {
        struct sock_fprog prog = { .len = (unsigned short) p->n_insns, .filter = p->insns };

        /* Without NO_NEW_PRIVS, which would break setuid binaries (su, sudo) inside the
         * container: the loader still holds CAP_SYS_ADMIN in its user namespace, which is
         * what the kernel asks for instead. */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                return -errno;
        return 0;
}

/* Built and loaded the one way, whether ahead of time or not. */
int seccomp_load_container_filter(char **extra_deny, bool suppress_sync) {
        _cleanup_(seccomp_program_done) SeccompProgram p = {};
        int r;

        r = seccomp_build_container_filter(extra_deny, suppress_sync, &p);
        if (r < 0)
                return r;
        return seccomp_program_load(&p);
}
