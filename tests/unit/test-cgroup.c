/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-devices.h"
#include "cgroup-layout.h"
#include "cgroup-limits.h"
#include "cgroup.h"
#include "settings-resources.h"
#include "settings.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

#define INF CGROUP_LIMIT_INFINITY
#define ERR(e) (-(long long) (e))

static const struct {
        CGroupLimitType type;
        const char *value;
        long long result; /* >= 0: the expected value (INF as is), < 0: -errno */
        unsigned long long expect;
} limit_cases[] = {
        { CGROUP_LIMIT_MEMORY_MAX, "64M", 0, 64ULL << 20 },
        { CGROUP_LIMIT_MEMORY_MAX, "1G", 0, 1ULL << 30 },
        { CGROUP_LIMIT_MEMORY_MAX, "1.5G", 0, 3ULL << 29 },
        { CGROUP_LIMIT_MEMORY_MAX, "2T", 0, 2ULL << 40 },
        { CGROUP_LIMIT_MEMORY_MAX, "512K", 0, 512ULL << 10 },
        { CGROUP_LIMIT_MEMORY_MAX, "4096", 0, 4096 },
        { CGROUP_LIMIT_MEMORY_MAX, "4096B", 0, 4096 },
        { CGROUP_LIMIT_MEMORY_MAX, "infinity", 0, INF },
        { CGROUP_LIMIT_MEMORY_MAX, "0", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "-1", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "64MB", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "64m", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, " 64M", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "64 M", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "1.5", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, ".5G", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "5.G", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "99999999999T", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "99999999999999999999", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "0%", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "101%", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "100.5%", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "%", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "Infinity", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_MAX, "", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_MEMORY_HIGH, "32M", 0, 32ULL << 20 },
        { CGROUP_LIMIT_MEMORY_HIGH, "0", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_MEMORY_SWAP_MAX, "0", 0, 0 },
        { CGROUP_LIMIT_MEMORY_SWAP_MAX, "infinity", 0, INF },
        { CGROUP_LIMIT_CPU_WEIGHT, "1", 0, 1 },
        { CGROUP_LIMIT_CPU_WEIGHT, "100", 0, 100 },
        { CGROUP_LIMIT_CPU_WEIGHT, "10000", 0, 10000 },
        { CGROUP_LIMIT_CPU_WEIGHT, "0", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_CPU_WEIGHT, "10001", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_CPU_WEIGHT, "idle", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_CPU_WEIGHT, "+5", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_CPU_WEIGHT, "5x", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_CPU_QUOTA, "50%", 0, 500000 },
        { CGROUP_LIMIT_CPU_QUOTA, "150%", 0, 1500000 },
        { CGROUP_LIMIT_CPU_QUOTA, "12.5%", 0, 125000 },
        { CGROUP_LIMIT_CPU_QUOTA, "1%", 0, 10000 },
        { CGROUP_LIMIT_CPU_QUOTA, "infinity", 0, INF },
        { CGROUP_LIMIT_CPU_QUOTA, "0.5%", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_CPU_QUOTA, "0%", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_CPU_QUOTA, "50", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_CPU_QUOTA, "12.125%", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_CPU_QUOTA, "50%%", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_TASKS_MAX, "100", 0, 100 },
        { CGROUP_LIMIT_TASKS_MAX, "1", 0, 1 },
        { CGROUP_LIMIT_TASKS_MAX, "infinity", 0, INF },
        { CGROUP_LIMIT_TASKS_MAX, "0", ERR(ERANGE), 0 },
        { CGROUP_LIMIT_TASKS_MAX, "-5", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_TASKS_MAX, "1e3", ERR(EINVAL), 0 },
        { CGROUP_LIMIT_IO_WEIGHT, "500", 0, 500 },
        { CGROUP_LIMIT_IO_WEIGHT, "0", ERR(ERANGE), 0 },
};

TEST(cgroup_limit_parse_table) {
        for (size_t i = 0; i < ELEMENTSOF(limit_cases); i++) {
                uint64_t v = 12345;
                int r = cgroup_limit_parse(limit_cases[i].type, limit_cases[i].value, &v);
                if (r != limit_cases[i].result || (r >= 0 && v != limit_cases[i].expect)) {
                        fprintf(stderr, "%s=\"%s\": got %d/%llu, want %lld/%llu\n",
                                cgroup_limit_type_to_string(limit_cases[i].type), limit_cases[i].value, r,
                                (unsigned long long) v, limit_cases[i].result, limit_cases[i].expect);
                        ASSERT_TRUE(false);
                }
        }
}

TEST(cgroup_limit_percentages) {
        uint64_t mem = (uint64_t) sysconf(_SC_PHYS_PAGES) * (uint64_t) sysconf(_SC_PAGESIZE), v;

        ASSERT_OK(cgroup_limit_parse(CGROUP_LIMIT_MEMORY_MAX, "50%", &v));
        ASSERT_EQ(v, mem / 2);
        ASSERT_OK(cgroup_limit_parse(CGROUP_LIMIT_MEMORY_MAX, "100%", &v));
        ASSERT_EQ(v, mem);
        ASSERT_OK(cgroup_limit_parse(CGROUP_LIMIT_TASKS_MAX, "10%", &v));
        ASSERT_TRUE(v > 0);
}

TEST(cgroup_limit_type_table) {
        for (int i = 0; i < _CGROUP_LIMIT_TYPE_MAX; i++)
                ASSERT_EQ(cgroup_limit_type_from_string(cgroup_limit_type_to_string(i)), i);
        ASSERT_EQ(cgroup_limit_type_from_string("memorymax"), _CGROUP_LIMIT_TYPE_INVALID);
        ASSERT_EQ(cgroup_limit_type_from_string("MemoryLimit"), _CGROUP_LIMIT_TYPE_INVALID);
        ASSERT_EQ(cgroup_limit_type_from_string(NULL), _CGROUP_LIMIT_TYPE_INVALID);
        ASSERT_TRUE(cgroup_limit_type_to_string(_CGROUP_LIMIT_TYPE_MAX) == NULL);
}

/* What is formatted parses back to the same value. */
TEST(cgroup_limit_format_roundtrip) {
        static const struct {
                CGroupLimitType t;
                uint64_t v;
                const char *s;
        } cases[] = {
                { CGROUP_LIMIT_MEMORY_MAX, 64ULL << 20, "67108864" }, { CGROUP_LIMIT_MEMORY_MAX, INF, "infinity" },
                { CGROUP_LIMIT_CPU_QUOTA, 500000, "50%" },             { CGROUP_LIMIT_CPU_QUOTA, 125000, "12.50%" },
                { CGROUP_LIMIT_CPU_QUOTA, 2000000, "200%" },           { CGROUP_LIMIT_TASKS_MAX, INF, "infinity" },
                { CGROUP_LIMIT_TASKS_MAX, 16384, "16384" },            { CGROUP_LIMIT_IO_WEIGHT, 10000, "10000" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[32];
                uint64_t back;
                ASSERT_OK(cgroup_limit_format(cases[i].t, cases[i].v, buf, sizeof buf));
                ASSERT_STREQ(buf, cases[i].s);
                ASSERT_OK(cgroup_limit_parse(cases[i].t, buf, &back));
                ASSERT_EQ(back, cases[i].v);
        }
        char small[3];
        ASSERT_ERROR(cgroup_limit_format(CGROUP_LIMIT_MEMORY_MAX, 123456, small, sizeof small), ENOBUFS);
}

TEST(cgroup_limits_assignments) {
        CGroupLimits l = {}, o = {};
        _cleanup_strv_free_ char **list = NULL;

        ASSERT_OK(cgroup_limits_set_assignment(&l, "MemoryMax=64M"));
        ASSERT_OK(cgroup_limits_set_assignment(&l, "CPUQuota=50%"));
        ASSERT_OK(cgroup_limits_set_assignment(&l, "TasksMax=100"));
        ASSERT_OK(cgroup_limits_set_assignment(&l, "IOWeight=200"));
        ASSERT_OK(cgroup_limits_set_assignment(&l, "IOWeight="));
        ASSERT_FALSE(l.set[CGROUP_LIMIT_IO_WEIGHT]);
        ASSERT_ERROR(cgroup_limits_set_assignment(&l, "Memory=64M"), ENOENT);
        ASSERT_ERROR(cgroup_limits_set_assignment(&l, "MemoryMax"), EINVAL);
        ASSERT_ERROR(cgroup_limits_set_assignment(&l, "=5"), ENOENT);
        ASSERT_ERROR(cgroup_limits_set_assignment(&l, "MemoryMax=lots"), EINVAL);
        ASSERT_ERROR(cgroup_limits_set_assignment(&l, "CPUWeight=0"), ERANGE);
        ASSERT_EQ(l.value[CGROUP_LIMIT_MEMORY_MAX], 64ULL << 20); /* a failed one changes nothing */

        ASSERT_OK(cgroup_limits_to_strv(&l, &list));
        ASSERT_EQ(strv_length(list), 3);
        ASSERT_STREQ(list[0], "MemoryMax=67108864");
        ASSERT_STREQ(list[1], "CPUQuota=50%");
        ASSERT_STREQ(list[2], "TasksMax=100");
        /* and what run-argv hands on reads back the same */
        STRV_FOREACH(a, list)
                ASSERT_OK(cgroup_limits_set_assignment(&o, *a));
        ASSERT_TRUE(memcmp(&o, &l, sizeof l) == 0);

        ASSERT_EQ(cgroup_limit_default(CGROUP_LIMIT_MEMORY_MAX), INF);
        ASSERT_EQ(cgroup_limit_default(CGROUP_LIMIT_CPU_QUOTA), INF);
        ASSERT_EQ(cgroup_limit_default(CGROUP_LIMIT_CPU_WEIGHT), 100);
        ASSERT_EQ(cgroup_limit_default(CGROUP_LIMIT_TASKS_MAX), CGROUP_TASKS_MAX_DEFAULT);

        CGroupLimits d = {};
        cgroup_limits_fill_defaults(&d);
        ASSERT_TRUE(d.set[CGROUP_LIMIT_TASKS_MAX]);
        ASSERT_EQ(d.value[CGROUP_LIMIT_TASKS_MAX], CGROUP_TASKS_MAX_DEFAULT);
        cgroup_limits_fill_defaults(&l);
        ASSERT_EQ(l.value[CGROUP_LIMIT_TASKS_MAX], 100);
        cgroup_limits_merge(&d, &l);
        ASSERT_EQ(d.value[CGROUP_LIMIT_TASKS_MAX], 100);
        ASSERT_EQ(d.value[CGROUP_LIMIT_MEMORY_MAX], 64ULL << 20);
}

TEST(cgroup_controllers_have) {
        ASSERT_TRUE(cgroup_controllers_have("cpu,cpuacct", "cpu"));
        ASSERT_TRUE(cgroup_controllers_have("cpu,cpuacct", "cpuacct"));
        ASSERT_FALSE(cgroup_controllers_have("cpuacct", "cpu"));
        ASSERT_FALSE(cgroup_controllers_have("cpuset", "cpu"));
        ASSERT_TRUE(cgroup_controllers_have("cpuset cpu io memory pids", "memory"));
        ASSERT_FALSE(cgroup_controllers_have("cpuset cpu io memory pids", "mem"));
        ASSERT_TRUE(cgroup_controllers_have("name=systemd", "name=systemd"));
        ASSERT_FALSE(cgroup_controllers_have("", "cpu"));
        ASSERT_FALSE(cgroup_controllers_have(NULL, "cpu"));
}

TEST(cgroup_layout_table) {
        for (int i = 0; i < _CGROUP_LAYOUT_MAX; i++)
                ASSERT_EQ(cgroup_layout_from_string(cgroup_layout_to_string(i)), i);
        ASSERT_EQ(cgroup_layout_from_string("v2"), _CGROUP_LAYOUT_INVALID);
        ASSERT_EQ(cgroup_layout_from_string(""), _CGROUP_LAYOUT_INVALID);
}

TEST(cgroup_layout_pick_table) {
        static const struct {
                CGroupLayout requested;
                CGroupMode host;
                bool unified_possible;
                unsigned guest;
                int result;
                CGroupMode expect;
        } cases[] = {
                /* auto on a hybrid host: the guest decides */
                { CGROUP_LAYOUT_AUTO, CGROUP_HYBRID, true, 252, 0, CGROUP_HYBRID },
                { CGROUP_LAYOUT_AUTO, CGROUP_HYBRID, true, 255, 0, CGROUP_HYBRID },
                { CGROUP_LAYOUT_AUTO, CGROUP_HYBRID, true, 256, 0, CGROUP_UNIFIED },
                { CGROUP_LAYOUT_AUTO, CGROUP_HYBRID, true, 257, 0, CGROUP_UNIFIED },
                { CGROUP_LAYOUT_AUTO, CGROUP_HYBRID, true, 231, 0, CGROUP_LEGACY },
                { CGROUP_LAYOUT_AUTO, CGROUP_HYBRID, true, 0, 0, CGROUP_HYBRID },
                /* a cgroup2 host has nothing else */
                { CGROUP_LAYOUT_AUTO, CGROUP_UNIFIED, true, 219, 0, CGROUP_UNIFIED },
                { CGROUP_LAYOUT_AUTO, CGROUP_UNIFIED, true, 0, 0, CGROUP_UNIFIED },
                /* a legacy host cannot give a new systemd what it needs */
                { CGROUP_LAYOUT_AUTO, CGROUP_LEGACY, false, 257, -EOPNOTSUPP, 0 },
                { CGROUP_LAYOUT_AUTO, CGROUP_LEGACY, false, 252, 0, CGROUP_LEGACY },
                /* explicit choices */
                { CGROUP_LAYOUT_UNIFIED, CGROUP_HYBRID, true, 252, 0, CGROUP_UNIFIED },
                { CGROUP_LAYOUT_HYBRID, CGROUP_HYBRID, true, 257, 0, CGROUP_HYBRID },
                { CGROUP_LAYOUT_LEGACY, CGROUP_HYBRID, true, 257, 0, CGROUP_LEGACY },
                { CGROUP_LAYOUT_HYBRID, CGROUP_UNIFIED, true, 0, -EOPNOTSUPP, 0 },
                { CGROUP_LAYOUT_LEGACY, CGROUP_UNIFIED, true, 0, -EOPNOTSUPP, 0 },
                { CGROUP_LAYOUT_UNIFIED, CGROUP_LEGACY, false, 0, -EOPNOTSUPP, 0 },
                { CGROUP_LAYOUT_HYBRID, CGROUP_LEGACY, false, 0, -EOPNOTSUPP, 0 },
                { _CGROUP_LAYOUT_INVALID, CGROUP_HYBRID, true, 0, -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CGroupMode m = _CGROUP_MODE_INVALID;
                int r = cgroup_layout_pick(cases[i].requested, cases[i].host, cases[i].unified_possible, cases[i].guest, &m);
                if (r != cases[i].result || (r >= 0 && m != cases[i].expect)) {
                        fprintf(stderr, "case %zu: got %d/%d\n", i, r, m);
                        ASSERT_TRUE(false);
                }
        }
}

static void touch_at(int dfd, const char *path) {
        int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                close(fd);
}

TEST(guest_systemd_version) {
        char dir[] = "/tmp/test-cgroup-XXXXXX";
        unsigned v = 1;
        int fd;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(guest_systemd_version(dir, &v));
        ASSERT_EQ(v, 0);
        ASSERT_EQ(mkdirat(fd, "usr", 0755), 0);
        ASSERT_EQ(mkdirat(fd, "usr/lib", 0755), 0);
        ASSERT_EQ(mkdirat(fd, "usr/lib/x86_64-linux-gnu", 0755), 0);
        ASSERT_EQ(mkdirat(fd, "usr/lib/x86_64-linux-gnu/systemd", 0755), 0);
        touch_at(fd, "usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so");
        touch_at(fd, "usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-999"); /* not a .so */
        ASSERT_OK(guest_systemd_version(dir, &v));
        ASSERT_EQ(v, 252);
        /* lib -> usr/lib as in a merged /usr, and an absolute link that must resolve inside */
        ASSERT_EQ(symlinkat("usr/lib", fd, "lib"), 0);
        ASSERT_EQ(symlinkat("/usr/lib/x86_64-linux-gnu/systemd", fd, "usr/lib/systemd"), 0);
        ASSERT_OK(guest_systemd_version(dir, &v));
        ASSERT_EQ(v, 252);
        ASSERT_EQ(unlinkat(fd, "usr/lib/systemd", 0), 0);
        ASSERT_EQ(mkdirat(fd, "usr/lib/systemd", 0755), 0);
        touch_at(fd, "usr/lib/systemd/libsystemd-shared-255.4-1.fc40.so");
        ASSERT_OK(guest_systemd_version(dir, &v));
        ASSERT_EQ(v, 255);
        touch_at(fd, "usr/lib/systemd/libsystemd-shared-257.so");
        touch_at(fd, "usr/lib/systemd/libsystemd-shared-x.so");
        touch_at(fd, "usr/lib/systemd/libsystemd-shared-9999999999.so");
        ASSERT_OK(guest_systemd_version(dir, &v));
        ASSERT_EQ(v, 257);
        close(fd);
        char cmd[64];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
}

TEST(device_policy_backend_table) {
        for (int i = 0; i < _DEVICE_POLICY_BACKEND_MAX; i++)
                ASSERT_EQ(device_policy_backend_from_string(device_policy_backend_to_string(i)), i);
        ASSERT_EQ(device_policy_backend_from_string("BPF"), _DEVICE_POLICY_BACKEND_INVALID);
}

/* The program ends in "r0 = 0; exit", every jump lands inside it, and every allowed rule
 * returns 1. The kernel's verifier checks the rest (tests/integration/test-cgroup.sh). */
TEST(device_bpf_program) {
        struct bpf_insn insns[128], few[4];
        int n = device_bpf_program_build(insns, ELEMENTSOF(insns));

        ASSERT_TRUE(n > 10);
        ASSERT_EQ(insns[n - 1].code, BPF_JMP | BPF_EXIT);
        ASSERT_EQ(insns[n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
        ASSERT_EQ(insns[n - 2].imm, 0);
        unsigned allows = 0;
        for (int i = 0; i < n; i++) {
                if (BPF_CLASS(insns[i].code) == BPF_JMP && BPF_OP(insns[i].code) != BPF_EXIT) {
                        ASSERT_TRUE(insns[i].off >= 0);
                        ASSERT_TRUE(i + 1 + insns[i].off < n);
                }
                if (insns[i].code == (BPF_ALU64 | BPF_MOV | BPF_K) && insns[i].imm == 1)
                        allows++;
        }
        ASSERT_EQ(allows, device_allow_list_size);
        ASSERT_ERROR(device_bpf_program_build(few, ELEMENTSOF(few)), ENOBUFS);
}

TEST(settings_resources) {
        static const char text[] = "[Resources]\nMemoryMax=64M\nCPUQuota=50%\nTasksMax=100000\n"
                                   "IOWeight=\nBogus=1\n[Exec]\nCGroupLayout=unified\n";
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_fclose_ FILE *f = fmemopen((void *) text, strlen(text), "r");

        ASSERT_TRUE(f != NULL);
        ASSERT_OK(settings_parse(f, "t.nspawn", SETTINGS_UNTRUSTED, &s, NULL, &warnings));
        ASSERT_EQ(s->limits.value[CGROUP_LIMIT_MEMORY_MAX], 64ULL << 20);
        ASSERT_EQ(s->limits.value[CGROUP_LIMIT_CPU_QUOTA], 500000);
        /* an untrusted file may not lift the default pids limit */
        ASSERT_FALSE(s->limits.set[CGROUP_LIMIT_TASKS_MAX]);
        ASSERT_FALSE(s->limits.set[CGROUP_LIMIT_IO_WEIGHT]);
        ASSERT_EQ(s->cgroup_layout, CGROUP_LAYOUT_UNIFIED);
        ASSERT_EQ(strv_length(warnings), 2);
        ASSERT_STREQ(warnings[0], "t.nspawn:4: ignoring TasksMax=100000 above the default 16384 in untrusted file");
        ASSERT_TRUE(strstr(warnings[1], "t.nspawn:6:") != NULL);

        s = settings_free(s);
        rewind(f);
        ASSERT_OK(settings_parse(f, "t.nspawn", SETTINGS_TRUSTED, &s, NULL, NULL));
        ASSERT_EQ(s->limits.value[CGROUP_LIMIT_TASKS_MAX], 100000);

        static const char *const bad[] = { "[Resources]\nMemoryMax=lots\n", "[Resources]\nCPUWeight=0\n",
                                           "[Exec]\nCGroupLayout=v2\n" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(settings_freep) Settings *b = NULL;
                _cleanup_(error_done) Error error = ERROR_NULL;
                _cleanup_fclose_ FILE *g = fmemopen((void *) bad[i], strlen(bad[i]), "r");
                ASSERT_ERROR(settings_parse(g, "b.nspawn", SETTINGS_TRUSTED, &b, &error, NULL), EBADMSG);
                ASSERT_TRUE(startswith(error.message, "b.nspawn:2: "));
        }
        _cleanup_(settings_freep) Settings *e = NULL;
        ASSERT_OK(settings_new(&e));
        ASSERT_EQ(e->cgroup_layout, _CGROUP_LAYOUT_INVALID);
}

TEST(settings_text_set_resources_table) {
        static const struct {
                const char *in;
                const char *set[3];
                const char *out;
        } cases[] = {
                { "", { "MemoryMax=64M" }, "[Resources]\nMemoryMax=64M\n" },
                { NULL, { "TasksMax=10", "CPUQuota=50%" }, "[Resources]\nTasksMax=10\nCPUQuota=50%\n" },
                { "[Exec]\nBoot=yes\n", { "MemoryMax=64M" }, "[Exec]\nBoot=yes\n\n[Resources]\nMemoryMax=64M\n" },
                { "[Exec]\nBoot=yes", { "MemoryMax=64M" }, "[Exec]\nBoot=yes\n\n[Resources]\nMemoryMax=64M\n" },
                /* replaced in place of the section's end, comments and other keys kept */
                { "# mine\n[Resources]\nMemoryMax=1G\n# keep\nCPUWeight=5\n\n[Files]\nBind=/a\n",
                  { "MemoryMax=64M" },
                  "# mine\n[Resources]\n# keep\nCPUWeight=5\nMemoryMax=64M\n\n[Files]\nBind=/a\n" },
                /* spaces around the key; every old assignment goes */
                { "[Resources]\n  MemoryMax = 1G\nMemoryMax=2G\n", { "MemoryMax=3G" }, "[Resources]\nMemoryMax=3G\n" },
                /* only in [Resources]: the same key elsewhere stays */
                { "[Other]\nMemoryMax=1G\n", { "MemoryMax=3G" }, "[Other]\nMemoryMax=1G\n\n[Resources]\nMemoryMax=3G\n" },
                /* "NAME=" only drops */
                { "[Resources]\nMemoryMax=1G\nTasksMax=5\n", { "MemoryMax=" }, "[Resources]\nTasksMax=5\n" },
                { "[Exec]\nBoot=yes\n", { "MemoryMax=" }, "[Exec]\nBoot=yes\n" },
                /* the last of two [Resources] sections gets the new line */
                { "[Resources]\nCPUWeight=5\n[Exec]\nBoot=no\n[Resources]\nIOWeight=7\n", { "CPUWeight=6" },
                  "[Resources]\n[Exec]\nBoot=no\n[Resources]\nIOWeight=7\nCPUWeight=6\n" },
                /* a prefix of another key is not that key */
                { "[Resources]\nMemoryMaxX=1\n", { "MemoryMax=2" }, "[Resources]\nMemoryMaxX=1\nMemoryMax=2\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *out = NULL;
                ASSERT_OK(settings_text_set_resources(cases[i].in, (char *const *) cases[i].set, &out));
                if (!streq(out, cases[i].out)) {
                        fprintf(stderr, "case %zu:\n%s---\nwanted:\n%s---\n", i, out, cases[i].out);
                        ASSERT_TRUE(false);
                }
        }
        _cleanup_free_ char *x = NULL;
        ASSERT_ERROR(settings_text_set_resources("", (char *const[]) { (char *) "MemoryMax", NULL }, &x), EINVAL);
}

TEST(settings_file_set_resources) {
        char dir[] = "/tmp/test-cgroup-XXXXXX", path[64];
        _cleanup_free_ char *text = NULL;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/box.nspawn", dir);
        ASSERT_OK(settings_file_set_resources(path, (char *const[]) { (char *) "TasksMax=50", NULL }));
        ASSERT_OK(read_full_file(path, &text, NULL));
        ASSERT_STREQ(text, "[Resources]\nTasksMax=50\n");
        ASSERT_EQ(chmod(path, 0600), 0);
        ASSERT_OK(settings_file_set_resources(path, (char *const[]) { (char *) "TasksMax=60", NULL }));
        struct stat st;
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0600);
        /* what the parser reads back */
        _cleanup_(settings_freep) Settings *s = NULL;
        ASSERT_OK(settings_load(path, SETTINGS_TRUSTED, &s, NULL, NULL));
        ASSERT_EQ(s->limits.value[CGROUP_LIMIT_TASKS_MAX], 60);
        /* not a regular file */
        char fifo[80];
        snprintf(fifo, sizeof fifo, "%s/fifo.nspawn", dir);
        ASSERT_EQ(mkfifo(fifo, 0644), 0);
        ASSERT_ERROR(settings_file_set_resources(fifo, (char *const[]) { (char *) "TasksMax=60", NULL }), EBADFD);
        char cmd[64];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
}
