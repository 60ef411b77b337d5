/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>

#include "cgroup.h"

/* The container's device allow-list: exactly the nodes its /dev has (core/container-spawn.c,
 * setup_dev()), whatever else container root mounts or finds - a devtmpfs, a device node
 * left in the tree - stays closed: open() and mknod() fail with EPERM. */
typedef enum DevicePolicyBackend {
        DEVICE_POLICY_AUTO, /* the v1 devices controller where the host has one, else BPF */
        DEVICE_POLICY_V1,   /* devices.deny / devices.allow of the v1 devices hierarchy */
        DEVICE_POLICY_BPF,  /* a BPF_PROG_TYPE_CGROUP_DEVICE program on the cgroup2 cgroup */
        _DEVICE_POLICY_BACKEND_MAX,
        _DEVICE_POLICY_BACKEND_INVALID = -EINVAL,
} DevicePolicyBackend;

const char *device_policy_backend_to_string(DevicePolicyBackend b);
DevicePolicyBackend device_policy_backend_from_string(const char *s);

/* NSPAWNCTL_DEVICE_POLICY=auto|v1|bpf (unset: auto), so tests can take the BPF path on a
 * host that also has the v1 controller. -EINVAL for any other value. */
int device_policy_backend_from_env(DevicePolicyBackend *ret);

/* One entry of the allow-list: a character device (the list has no block device), a major
 * range, a minor (-1: any) and the access ("rwm": read, write, mknod). */
typedef struct DeviceAllow {
        unsigned major_lo, major_hi;
        int minor;
        const char *access;
} DeviceAllow;

extern const DeviceAllow device_allow_list[];
extern const unsigned device_allow_list_size;

/* Restricts the container's cgroup path ("/nspawnctl/NAME", before anything lives in it
 * and before its payload cgroup exists) to the allow-list. *ret_used (may be NULL) says
 * which backend did it. -EOPNOTSUPP when the chosen backend is not available (no v1
 * devices hierarchy, no cgroup2, or a kernel without cgroup BPF). */
int cgroup_devices_apply(const CGroupHierarchies *hs, const char *path, DevicePolicyBackend backend,
                         DevicePolicyBackend *ret_used);

/* The BPF program for the allow-list (exposed for the unit test): fills insns (room for
 * max) and returns the number of instructions, or -ENOBUFS. */
struct bpf_insn;
int device_bpf_program_build(struct bpf_insn *insns, unsigned max);
