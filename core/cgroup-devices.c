/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-devices.h"
#include "cgroup.h"
#include "util/util.h"

static const char *const device_policy_backend_table[_DEVICE_POLICY_BACKEND_MAX] = {
        [DEVICE_POLICY_AUTO] = "auto",
        [DEVICE_POLICY_V1] = "v1",
        [DEVICE_POLICY_BPF] = "bpf",
};

const char *device_policy_backend_to_string(DevicePolicyBackend b) {
        return b >= 0 && b < _DEVICE_POLICY_BACKEND_MAX ? device_policy_backend_table[b] : NULL;
}

DevicePolicyBackend device_policy_backend_from_string(const char *s) {
        for (int i = 0; s && i < _DEVICE_POLICY_BACKEND_MAX; i++)
                if (streq(s, device_policy_backend_table[i]))
                        return i;
        return _DEVICE_POLICY_BACKEND_INVALID;
}

int device_policy_backend_from_env(DevicePolicyBackend *ret) {
        const char *e = getenv("NSPAWNCTL_DEVICE_POLICY");
        DevicePolicyBackend b;

        if (isempty(e)) {
                *ret = DEVICE_POLICY_AUTO;
                return 0;
        }
        b = device_policy_backend_from_string(e);
        if (b < 0)
                return -EINVAL;
        *ret = b;
        return 0;
}

/* What setup_dev() puts in /dev (mknod needs 'm' for those it creates), the ptmx of the
 * container's own devpts, and its ptys - the console is one of them. Add here what the
 * runtime binds into /dev (e.g. /dev/net/tun). */
const DeviceAllow device_allow_list[] = {
        { 1, 1, 3, "rwm" },     /* null */
        { 1, 1, 5, "rwm" },     /* zero */
        { 1, 1, 7, "rwm" },     /* full */
        { 1, 1, 8, "rwm" },     /* random */
        { 1, 1, 9, "rwm" },     /* urandom */
        { 5, 5, 0, "rwm" },     /* tty */
        { 5, 5, 2, "rw" },      /* ptmx (devpts' own, pts/ptmx) */
        { 136, 143, -1, "rw" }, /* pty slaves of every devpts: /dev/pts/N and /dev/console */
};
const unsigned device_allow_list_size = ELEMENTSOF(device_allow_list);

/* --- v1 ---------------------------------------------------------------------------- */

static int apply_v1(const CGroupHierarchy *h, const char *path) {
        _cleanup_free_ char *deny = strjoin(h->mount_point, path, "/devices.deny");
        _cleanup_free_ char *allow = strjoin(h->mount_point, path, "/devices.allow");
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!deny || !allow)
                return -ENOMEM;
        r = write_string_file(deny, "a");
        if (r < 0)
                return r;
        /* One rule per write(), all through one open file: the kernel parses each write on
         * its own, and an open and a close per rule are 40 system calls more per start. */
        fd = open(allow, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(device_allow_list); i++) {
                const DeviceAllow *d = &device_allow_list[i];
                for (unsigned major = d->major_lo; major <= d->major_hi; major++) {
                        char line[64];
                        if (d->minor < 0)
                                snprintf(line, sizeof line, "c %u:* %s", major, d->access);
                        else
                                snprintf(line, sizeof line, "c %u:%d %s", major, d->minor, d->access);
                        r = loop_write(fd, line, strlen(line));
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* --- cgroup2: a hand-written BPF_PROG_TYPE_CGROUP_DEVICE program -------------------- */

#define INSN(c, dst, src, o, i)                                                            \
        ((struct bpf_insn) { .code = (c), .dst_reg = (dst), .src_reg = (src), .off = (o), .imm = (i) })
#define LDX_W(dst, src, o) INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, o, 0)
#define ALU32_K(op, dst, i) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, i)
#define MOV32_X(dst, src) INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, i)
#define JMP_K(op, dst, i, o) INSN(BPF_JMP | (op) | BPF_K, dst, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static unsigned access_bits(const char *access) {
        unsigned b = 0;
        for (const char *p = access; *p; p++)
                b |= *p == 'r'   ? BPF_DEVCG_ACC_READ
                     : *p == 'w' ? BPF_DEVCG_ACC_WRITE
                     : *p == 'm' ? BPF_DEVCG_ACC_MKNOD
                                 : 0;
        return b;
}

/* r2: device type, r3: requested access, r4: major, r5: minor. Each rule either returns 1
 * (allowed) or jumps to the next one; after the last, 0 (denied). */
int device_bpf_program_build(struct bpf_insn *insns, unsigned max) {
        unsigned n = 0;

#define EMIT(i)                                                                            \
        do {                                                                               \
                if (n >= max)                                                              \
                        return -ENOBUFS;                                                   \
                insns[n++] = (i);                                                          \
        } while (0)

        EMIT(LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
        EMIT(MOV32_X(BPF_REG_3, BPF_REG_2));
        EMIT(ALU32_K(BPF_AND, BPF_REG_2, 0xFFFF));
        EMIT(ALU32_K(BPF_RSH, BPF_REG_3, 16));
        EMIT(LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)));
        EMIT(LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)));

        for (size_t i = 0; i < ELEMENTSOF(device_allow_list); i++) {
                const DeviceAllow *d = &device_allow_list[i];
                unsigned jumps[8], n_jumps = 0;

                jumps[n_jumps++] = n;
                EMIT(JMP_K(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_CHAR, 0));
                if (d->major_lo == d->major_hi) {
                        jumps[n_jumps++] = n;
                        EMIT(JMP_K(BPF_JNE, BPF_REG_4, (int) d->major_lo, 0));
                } else {
                        jumps[n_jumps++] = n;
                        EMIT(JMP_K(BPF_JLT, BPF_REG_4, (int) d->major_lo, 0));
                        jumps[n_jumps++] = n;
                        EMIT(JMP_K(BPF_JGT, BPF_REG_4, (int) d->major_hi, 0));
                }
                if (d->minor >= 0) {
                        jumps[n_jumps++] = n;
                        EMIT(JMP_K(BPF_JNE, BPF_REG_5, d->minor, 0));
                }
                /* Any access bit outside the allowed ones: not this rule. */
                EMIT(MOV32_X(BPF_REG_1, BPF_REG_3));
                EMIT(ALU32_K(BPF_AND, BPF_REG_1, (int) (~access_bits(d->access) & 0xFFFF)));
                jumps[n_jumps++] = n;
                EMIT(JMP_K(BPF_JNE, BPF_REG_1, 0, 0));
                EMIT(MOV64_K(BPF_REG_0, 1));
                EMIT(EXIT());
                for (unsigned j = 0; j < n_jumps; j++)
                        insns[jumps[j]].off = (short) (n - jumps[j] - 1);
        }
        EMIT(MOV64_K(BPF_REG_0, 0));
        EMIT(EXIT());
#undef EMIT
        return (int) n;
}

static int apply_bpf(const CGroupHierarchy *h, const char *path) {
        struct bpf_insn insns[128];
        _cleanup_close_ int prog = -EBADF, cg = -EBADF;
        _cleanup_free_ char *dir = strjoin(h->mount_point, path);
        union bpf_attr attr;
        int n;

        if (!dir)
                return -ENOMEM;
        n = device_bpf_program_build(insns, ELEMENTSOF(insns));
        if (n < 0)
                return n;

        memset(&attr, 0, sizeof attr);
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t) (uintptr_t) insns;
        attr.insn_cnt = (uint32_t) n;
        attr.license = (uint64_t) (uintptr_t) "GPL";
        snprintf(attr.prog_name, sizeof attr.prog_name, "nspawnctl_dev");
        prog = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
        if (prog < 0)
                return errno == EINVAL || errno == ENOSYS ? -EOPNOTSUPP : -errno;
        (void) fd_cloexec(prog, true);

        cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg < 0)
                return -errno;
        /* ALLOW_MULTI: programs attached below (by anyone who could) run in addition to
         * this one and can only deny more, never override it. The attachment lives as
         * long as the cgroup; the fd may go. */
        memset(&attr, 0, sizeof attr);
        attr.target_fd = (uint32_t) cg;
        attr.attach_bpf_fd = (uint32_t) prog;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr) < 0)
                return -errno;
        return 0;
}

int cgroup_devices_apply(const CGroupHierarchies *given, const char *path, DevicePolicyBackend backend,
                         DevicePolicyBackend *ret_used) {
        CGroupHierarchies buf;
        const CGroupHierarchies *hs;
        const CGroupHierarchy *v1, *unified;
        int r;

        r = cgroup_hierarchies_get(given, &buf, &hs);
        if (r < 0)
                return r;
        v1 = cgroup_hierarchies_find_v1(hs, "devices");
        unified = cgroup_hierarchies_unified(hs);
        if (backend == DEVICE_POLICY_AUTO)
                backend = v1 ? DEVICE_POLICY_V1 : DEVICE_POLICY_BPF;

        if (backend == DEVICE_POLICY_V1) {
                if (!v1)
                        return -EOPNOTSUPP;
                r = apply_v1(v1, path);
        } else {
                if (!unified)
                        return -EOPNOTSUPP;
                r = apply_bpf(unified, path);
        }
        if (r < 0)
                return r;
        if (ret_used)
                *ret_used = backend;
        return 0;
}
