/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/capability.h>

#include "caps.h"
#include "cgroup.h"
#include "seccomp-policy.h"
#include "spawn.h"
#include "tests.h"
#include "util/strv.h"

TEST(console_mode_table) {
        for (int i = 0; i < _CONSOLE_MODE_MAX; i++)
                ASSERT_EQ(console_mode_from_string(console_mode_to_string(i)), i);
        ASSERT_EQ(console_mode_from_string("pipe"), CONSOLE_PIPE);
        ASSERT_EQ(console_mode_from_string(""), _CONSOLE_MODE_INVALID);
        ASSERT_EQ(console_mode_from_string("Interactive"), _CONSOLE_MODE_INVALID);
        ASSERT_EQ(console_mode_from_string(NULL), _CONSOLE_MODE_INVALID);
        ASSERT_TRUE(console_mode_to_string(_CONSOLE_MODE_MAX) == NULL);
}

TEST(cgroup_mode_table) {
        for (int i = 0; i < _CGROUP_MODE_MAX; i++)
                ASSERT_EQ(cgroup_mode_from_string(cgroup_mode_to_string(i)), i);
        ASSERT_EQ(cgroup_mode_from_string("v2"), _CGROUP_MODE_INVALID);
        ASSERT_TRUE(cgroup_mode_to_string(-1) == NULL);
}

TEST(cgroup_path) {
        _cleanup_free_ char *p = NULL;
        ASSERT_OK(cgroup_path_for_container("box", &p));
        ASSERT_STREQ(p, "/nspawnctl/box");
}

TEST(seccomp_denies_what_security_md_lists) {
        FOREACH_STRING(s, "keyctl", "add_key", "request_key", "bpf", "kexec_load", "kexec_file_load",
                       "open_by_handle_at", "perf_event_open", "init_module", "finit_module")
                ASSERT_TRUE(strv_contains((char **) seccomp_denied_syscalls, s));
        /* systemd inside needs these */
        FOREACH_STRING(s, "mount", "reboot", "name_to_handle_at", "unshare", "setns")
                ASSERT_FALSE(strv_contains((char **) seccomp_denied_syscalls, s));
}

TEST(capability_bounding_set) {
        uint64_t keep = caps_container_keep(false), net = caps_container_keep(true);
        ASSERT_TRUE(keep & (1ULL << CAP_SYS_ADMIN));
        ASSERT_TRUE(keep & (1ULL << CAP_SYS_BOOT));
        ASSERT_FALSE(keep & (1ULL << CAP_MKNOD));
        ASSERT_FALSE(keep & (1ULL << CAP_SYS_MODULE));
        ASSERT_FALSE(keep & (1ULL << CAP_SYS_RAWIO));
        ASSERT_FALSE(keep & (1ULL << CAP_SYS_TIME));
        ASSERT_FALSE(keep & (1ULL << CAP_SYS_PTRACE));
        ASSERT_FALSE(keep & (1ULL << CAP_NET_ADMIN));
        ASSERT_TRUE(net & (1ULL << CAP_NET_ADMIN));
}
