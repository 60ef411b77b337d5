/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every key of systemd.nspawn(5) v252, each honoured (parsed into its field, ignored with a
 * warning in an untrusted file when privileged) or refused with "FILE:LINE: KEY= is not
 * supported"; and the value parsers of core/settings-exec.c. */
#include <linux/capability.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include "runtime.h"
#include "settings-exec.h"
#include "settings.h"
#include "syscall-sets.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

static int parse_text(const char *text, SettingsTrust trust, Settings **ret, Error *e, char ***ret_warnings) {
        _cleanup_fclose_ FILE *f = fmemopen((void *) text, strlen(text), "r");

        if (!f)
                return -errno;
        return settings_parse(f, "test.nspawn", trust, ret, e, ret_warnings);
}

#define BIT(c) (UINT64_C(1) << (c))

/* What an honoured key's value must have become. */
typedef bool (*Check)(const Settings *s);

#define CHECK_FN(name, expr)                                                               \
        static bool check_##name(const Settings *s) {                                      \
                return (expr);                                                             \
        }

CHECK_FN(boot, s->boot == 1)
CHECK_FN(ephemeral, s->ephemeral == 1)
CHECK_FN(process_two, s->process_two == 1)
CHECK_FN(parameters, strv_length(s->parameters) == 2 && streq(s->parameters[1], "b c"))
CHECK_FN(environment, strv_length(s->environment) == 1 && streq(s->environment[0], "A=1"))
CHECK_FN(user, s->user && streq(s->user, "nobody"))
CHECK_FN(working_directory, s->working_directory && streq(s->working_directory, "/srv"))
CHECK_FN(capability, s->capability_set && s->capability == (BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_NICE)))
CHECK_FN(drop_capability, s->drop_capability_set && s->drop_capability == BIT(CAP_NET_RAW))
CHECK_FN(ambient_capability, s->ambient_capability_set && s->ambient_capability == BIT(CAP_NET_BIND_SERVICE))
CHECK_FN(no_new_privileges, s->no_new_privileges == 1)
CHECK_FN(kill_signal, s->kill_signal == SIGRTMIN + 4)
CHECK_FN(personality, s->personality == PERSONALITY_X86)
CHECK_FN(machine_id, streq(s->machine_id, "0123456789abcdef0123456789abcdef"))
CHECK_FN(private_users, s->private_users.mode == PRIVATE_USERS_PICK)
CHECK_FN(notify_ready, s->notify_ready == 0)
CHECK_FN(syscall_filter, strv_length(s->syscall_deny) == 2 && streq(s->syscall_deny[0], "@clock") &&
                                 !s->syscall_allow)
CHECK_FN(oom_score_adjust, s->oom_score_adjust_set && s->oom_score_adjust == 500)
CHECK_FN(cpu_affinity, s->cpu_affinity.set && CPU_ISSET(0, &s->cpu_affinity.mask) &&
                               CPU_ISSET(2, &s->cpu_affinity.mask) && CPU_ISSET(3, &s->cpu_affinity.mask) &&
                               !CPU_ISSET(1, &s->cpu_affinity.mask))
CHECK_FN(hostname, s->hostname && streq(s->hostname, "inside"))
CHECK_FN(timezone, s->timezone == TIMEZONE_SYMLINK)
CHECK_FN(link_journal, s->link_journal == LINK_JOURNAL_AUTO)
CHECK_FN(suppress_sync, s->suppress_sync == 1)
CHECK_FN(cgroup_layout, s->cgroup_layout == CGROUP_LAYOUT_UNIFIED)
CHECK_FN(read_only, s->read_only == 1)
CHECK_FN(volatile_mode, s->volatile_mode == VOLATILE_STATE)
CHECK_FN(bind, s->n_binds == 1 && streq(s->binds[0].destination, "/mnt") && !s->binds[0].read_only)
CHECK_FN(bind_ro, s->n_binds == 1 && s->binds[0].read_only)
CHECK_FN(tmpfs, strv_length(s->tmpfs) == 1)
CHECK_FN(inaccessible, strv_length(s->inaccessible) == 1 && streq(s->inaccessible[0], "/etc/shadow"))
CHECK_FN(overlay, s->n_overlays == 1 && !s->overlays[0].read_only && streq(s->overlays[0].upper, "/b") &&
                          streq(s->overlays[0].destination, "/c"))
CHECK_FN(overlay_ro, s->n_overlays == 1 && s->overlays[0].read_only && !s->overlays[0].upper)
CHECK_FN(nothing, true) /* accepted, and what it asks for is what always happens */
CHECK_FN(private_network, s->private_network == 1)
CHECK_FN(limit_cpu, s->rlimits.set[RLIMIT_CPU] && s->rlimits.value[RLIMIT_CPU].rlim_cur == 3600)
CHECK_FN(limit_nofile, s->rlimits.set[RLIMIT_NOFILE] && s->rlimits.value[RLIMIT_NOFILE].rlim_cur == 100 &&
                               s->rlimits.value[RLIMIT_NOFILE].rlim_max == 200)
CHECK_FN(limit_nice, s->rlimits.set[RLIMIT_NICE] && s->rlimits.value[RLIMIT_NICE].rlim_cur == 25)
CHECK_FN(limit_rttime, s->rlimits.set[RLIMIT_RTTIME] && s->rlimits.value[RLIMIT_RTTIME].rlim_cur == 5000)
CHECK_FN(limit_memlock, s->rlimits.set[RLIMIT_MEMLOCK] && s->rlimits.value[RLIMIT_MEMLOCK].rlim_cur == 65536)

typedef enum Fate {
        HONOURED,
        REFUSED,
        NETWORK, /* [Network] Private=, VirtualEthernet=, Bridge=, Zone=, Port= and ResolvConf=:
                  * the networking work owns them */
} Fate;

static const struct {
        const char *section;
        const char *key;
        const char *value;
        Fate fate;
        bool privileged;
        Check check;
} nspawn_keys[] = {
        { "Exec", "Boot", "yes", HONOURED, false, check_boot },
        { "Exec", "Ephemeral", "yes", HONOURED, false, check_ephemeral },
        { "Exec", "ProcessTwo", "yes", HONOURED, false, check_process_two },
        { "Exec", "Parameters", "a 'b c'", HONOURED, false, check_parameters },
        { "Exec", "Environment", "A=1", HONOURED, false, check_environment },
        { "Exec", "User", "nobody", HONOURED, false, check_user },
        { "Exec", "WorkingDirectory", "/srv", HONOURED, false, check_working_directory },
        { "Exec", "PivotRoot", "/sysroot", REFUSED, false, NULL },
        { "Exec", "Capability", "CAP_NET_ADMIN sys_nice", HONOURED, true, check_capability },
        { "Exec", "DropCapability", "CAP_NET_RAW", HONOURED, false, check_drop_capability },
        { "Exec", "AmbientCapability", "CAP_NET_BIND_SERVICE", HONOURED, true, check_ambient_capability },
        { "Exec", "NoNewPrivileges", "yes", HONOURED, false, check_no_new_privileges },
        { "Exec", "KillSignal", "SIGRTMIN+4", HONOURED, false, check_kill_signal },
        { "Exec", "Personality", "x86", HONOURED, false, check_personality },
        { "Exec", "MachineID", "01234567-89AB-CDEF-0123-456789ABCDEF", HONOURED, false, check_machine_id },
        { "Exec", "PrivateUsers", "pick", HONOURED, true, check_private_users },
        { "Exec", "NotifyReady", "no", HONOURED, false, check_notify_ready },
        { "Exec", "SystemCallFilter", "~@clock sethostname", HONOURED, false, check_syscall_filter },
        { "Exec", "LimitCPU", "1h", HONOURED, false, check_limit_cpu },
        { "Exec", "LimitFSIZE", "1G", HONOURED, false, NULL },
        { "Exec", "LimitDATA", "1G", HONOURED, false, NULL },
        { "Exec", "LimitSTACK", "8M", HONOURED, false, NULL },
        { "Exec", "LimitCORE", "0", HONOURED, false, NULL },
        { "Exec", "LimitRSS", "1G", HONOURED, false, NULL },
        { "Exec", "LimitNOFILE", "100:200", HONOURED, false, check_limit_nofile },
        { "Exec", "LimitAS", "4G", HONOURED, false, NULL },
        { "Exec", "LimitNPROC", "100", HONOURED, false, NULL },
        { "Exec", "LimitMEMLOCK", "64K", HONOURED, false, check_limit_memlock },
        { "Exec", "LimitLOCKS", "100", HONOURED, false, NULL },
        { "Exec", "LimitSIGPENDING", "100", HONOURED, false, NULL },
        { "Exec", "LimitMSGQUEUE", "8K", HONOURED, false, NULL },
        { "Exec", "LimitNICE", "-5", HONOURED, false, check_limit_nice },
        { "Exec", "LimitRTPRIO", "0", HONOURED, false, NULL },
        { "Exec", "LimitRTTIME", "5ms", HONOURED, false, check_limit_rttime },
        { "Exec", "OOMScoreAdjust", "500", HONOURED, false, check_oom_score_adjust },
        { "Exec", "CPUAffinity", "0,2-3", HONOURED, false, check_cpu_affinity },
        { "Exec", "Hostname", "inside", HONOURED, false, check_hostname },
        { "Exec", "ResolvConf", "off", NETWORK, false, NULL },
        { "Exec", "Timezone", "symlink", HONOURED, false, check_timezone },
        { "Exec", "LinkJournal", "auto", HONOURED, true, check_link_journal },
        { "Exec", "SuppressSync", "yes", HONOURED, false, check_suppress_sync },
        { "Exec", "CGroupLayout", "unified", HONOURED, false, check_cgroup_layout }, /* ours */
        { "Files", "ReadOnly", "yes", HONOURED, false, check_read_only },
        { "Files", "Volatile", "state", HONOURED, false, check_volatile_mode },
        { "Files", "Bind", "/srv:/mnt", HONOURED, true, check_bind },
        { "Files", "BindReadOnly", "/srv:/mnt", HONOURED, true, check_bind_ro },
        { "Files", "BindUser", "alice", REFUSED, false, NULL },
        { "Files", "TemporaryFileSystem", "/var/tmp", HONOURED, true, check_tmpfs },
        { "Files", "Inaccessible", "/etc/shadow", HONOURED, false, check_inaccessible },
        { "Files", "Overlay", "/a:/b:/c", HONOURED, true, check_overlay },
        { "Files", "OverlayReadOnly", "/a:/b:/c", HONOURED, true, check_overlay_ro },
        { "Files", "PrivateUsersChown", "no", HONOURED, false, check_nothing },
        { "Files", "PrivateUsersOwnership", "map", HONOURED, false, check_nothing },
        { "Network", "Private", "yes", HONOURED, true, check_private_network },
        { "Network", "VirtualEthernet", "yes", NETWORK, false, NULL },
        { "Network", "VirtualEthernetExtra", "ve-a:host0", REFUSED, false, NULL },
        { "Network", "Interface", "eth1", REFUSED, false, NULL },
        { "Network", "MACVLAN", "eth1", REFUSED, false, NULL },
        { "Network", "IPVLAN", "eth1", REFUSED, false, NULL },
        { "Network", "Bridge", "br0", NETWORK, false, NULL },
        { "Network", "Zone", "z", NETWORK, false, NULL },
        { "Network", "Port", "8080", NETWORK, false, NULL },
};

/* The keys `man 5 systemd.nspawn` of systemd-container 252 lists, nothing more, nothing
 * less: the table above must have them all (CGroupLayout= is this project's own). */
static const char *const v252_keys[] = {
        "Boot", "Ephemeral", "ProcessTwo", "Parameters", "Environment", "User", "WorkingDirectory",
        "PivotRoot", "Capability", "DropCapability", "AmbientCapability", "NoNewPrivileges", "KillSignal",
        "Personality", "MachineID", "PrivateUsers", "NotifyReady", "SystemCallFilter", "LimitCPU",
        "LimitFSIZE", "LimitDATA", "LimitSTACK", "LimitCORE", "LimitRSS", "LimitNOFILE", "LimitAS",
        "LimitNPROC", "LimitMEMLOCK", "LimitLOCKS", "LimitSIGPENDING", "LimitMSGQUEUE", "LimitNICE",
        "LimitRTPRIO", "LimitRTTIME", "OOMScoreAdjust", "CPUAffinity", "Hostname", "ResolvConf", "Timezone",
        "LinkJournal", "SuppressSync", "ReadOnly", "Volatile", "Bind", "BindReadOnly", "BindUser",
        "TemporaryFileSystem", "Inaccessible", "Overlay", "OverlayReadOnly", "PrivateUsersChown",
        "PrivateUsersOwnership", "Private", "VirtualEthernet", "VirtualEthernetExtra", "Interface", "MACVLAN",
        "IPVLAN", "Bridge", "Zone", "Port", NULL,
};

TEST(every_v252_key_is_in_the_table) {
        for (const char *const *k = v252_keys; *k; k++) {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(nspawn_keys) && !found; i++)
                        found = streq(nspawn_keys[i].key, *k);
                if (!found)
                        fprintf(stderr, "missing: %s=\n", *k);
                ASSERT_TRUE(found);
        }
}

TEST(every_key_honoured_or_refused) {
        for (size_t i = 0; i < ELEMENTSOF(nspawn_keys); i++) {
                _cleanup_(settings_freep) Settings *s = NULL;
                _cleanup_strv_free_ char **w = NULL;
                _cleanup_(error_done) Error e = ERROR_NULL;
                _cleanup_free_ char *text = NULL, *want = NULL;
                int r;

                text = strjoin("# a comment\n[", nspawn_keys[i].section, "]\n", nspawn_keys[i].key, "=",
                               nspawn_keys[i].value, "\n");
                ASSERT_TRUE(text);
                r = parse_text(text, SETTINGS_TRUSTED, &s, &e, &w);
                if (nspawn_keys[i].fate == NETWORK)
                        continue; /* left as the networking work has it */
                ASSERT_TRUE(settings_key_is_known(nspawn_keys[i].section, nspawn_keys[i].key));
                if (nspawn_keys[i].fate == REFUSED) {
                        want = strjoin("test.nspawn:3: ", nspawn_keys[i].key, "= is not supported");
                        if (r != -EBADMSG || !e.message || !streq(e.message, want))
                                fprintf(stderr, "%s=: %d \"%s\"\n", nspawn_keys[i].key, r, strna(e.message));
                        ASSERT_EQ(r, -EBADMSG);
                        ASSERT_STREQ(e.message, want);
                        continue;
                }
                if (r < 0 || w)
                        fprintf(stderr, "%s=%s: %d \"%s\" %s\n", nspawn_keys[i].key, nspawn_keys[i].value, r,
                                strna(e.message), w ? w[0] : "");
                ASSERT_OK(r);
                ASSERT_TRUE(!w);
                if (nspawn_keys[i].check && !nspawn_keys[i].check(s))
                        fprintf(stderr, "%s=%s parsed wrong\n", nspawn_keys[i].key, nspawn_keys[i].value);
                ASSERT_TRUE(!nspawn_keys[i].check || nspawn_keys[i].check(s));
                /* Generic: an rlimit key sets its limit. */
                int res = rlimit_from_key(nspawn_keys[i].key);
                ASSERT_TRUE(res < 0 || s->rlimits.set[res]);
        }
}

/* A privileged key in an untrusted file: ignored with a warning, the field untouched, and the
 * value not even looked at. */
TEST(privileged_keys_ignored_in_untrusted_files) {
        for (size_t i = 0; i < ELEMENTSOF(nspawn_keys); i++) {
                _cleanup_(settings_freep) Settings *s = NULL, *empty = NULL;
                _cleanup_strv_free_ char **w = NULL;
                _cleanup_free_ char *text = NULL, *want = NULL;

                if (!nspawn_keys[i].privileged)
                        continue;
                text = strjoin("[", nspawn_keys[i].section, "]\n", nspawn_keys[i].key, "=garbage ::: \"\n");
                want = strjoin("test.nspawn:2: ignoring privileged setting ", nspawn_keys[i].key,
                               "= in untrusted file");
                ASSERT_TRUE(text && want);
                ASSERT_OK(parse_text(text, SETTINGS_UNTRUSTED, &s, NULL, &w));
                ASSERT_EQ(strv_length(w), 1);
                ASSERT_STREQ(w[0], want);
                ASSERT_OK(settings_new(&empty));
                /* Nothing of the Settings moved away from empty in the fields these keys set. */
                ASSERT_EQ(s->capability_set, false);
                ASSERT_EQ(s->ambient_capability_set, false);
                ASSERT_EQ(s->n_binds, 0);
                ASSERT_EQ(s->n_overlays, 0);
                ASSERT_TRUE(!s->tmpfs);
                ASSERT_EQ(s->link_journal, empty->link_journal);
                ASSERT_EQ(s->private_users.mode, empty->private_users.mode);
                ASSERT_EQ(s->private_network, -1);
        }
}

TEST(untrusted_files_only_restrict) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_strv_free_ char **w = NULL;
        struct rlimit cur;

        ASSERT_OK(getrlimit(RLIMIT_NOFILE, &cur));
        ASSERT_OK(parse_text("[Exec]\n"
                             "LimitNOFILE=infinity\n"
                             "LimitNPROC=10\n"
                             "OOMScoreAdjust=-900\n"
                             "OOMScoreAdjust=100\n"
                             "DropCapability=all\n"
                             "SystemCallFilter=~kcmp\n"
                             "NoNewPrivileges=yes\n",
                             SETTINGS_UNTRUSTED, &s, NULL, &w));
        if (cur.rlim_max != RLIM_INFINITY) {
                ASSERT_EQ(strv_length(w), 2);
                ASSERT_STREQ(w[0], "test.nspawn:2: ignoring LimitNOFILE=infinity above the current limit in untrusted file");
                ASSERT_FALSE(s->rlimits.set[RLIMIT_NOFILE]);
        }
        ASSERT_TRUE(s->rlimits.set[RLIMIT_NPROC]);
        ASSERT_TRUE(strv_contains(w, "test.nspawn:4: ignoring negative OOMScoreAdjust=-900 in untrusted file"));
        ASSERT_EQ(s->oom_score_adjust, 100);
        ASSERT_EQ(s->drop_capability, CAPABILITY_ALL);
        ASSERT_EQ(strv_length(s->syscall_deny), 1);
        ASSERT_EQ(s->no_new_privileges, 1);
}

static const struct {
        const char *text;
        const char *error; /* NULL: parses */
} bad_values[] = {
        { "[Exec]\nCapability=CAP_NOPE\n", "test.nspawn:2: unknown capability \"CAP_NOPE\" in Capability=CAP_NOPE" },
        { "[Exec]\nAmbientCapability=all\n", "test.nspawn:2: unknown capability \"all\" in AmbientCapability=all" },
        { "[Exec]\nSystemCallFilter=keyctl\n",
          "test.nspawn:2: SystemCallFilter=keyctl is not supported: it would allow what the project's system call "
          "filter denies (docs/settings.md)" },
        { "[Exec]\nSystemCallFilter=@clock\n",
          "test.nspawn:2: SystemCallFilter=@clock is not supported: it would allow what the project's system call "
          "filter denies (docs/settings.md)" },
        { "[Exec]\nSystemCallFilter=~@nope\n", "test.nspawn:2: unknown system call group \"@nope\" in SystemCallFilter=" },
        { "[Exec]\nSystemCallFilter=~Open\n", "test.nspawn:2: invalid system call name \"Open\" in SystemCallFilter=" },
        { "[Exec]\nLimitNOFILE=200:100\n",
          "test.nspawn:2: invalid value \"200:100\" for LimitNOFILE= (expected VALUE or SOFT:HARD, soft not above hard)" },
        { "[Exec]\nLimitNICE=-21\n",
          "test.nspawn:2: invalid value \"-21\" for LimitNICE= (expected VALUE or SOFT:HARD, soft not above hard)" },
        { "[Exec]\nOOMScoreAdjust=1001\n", "test.nspawn:2: invalid value \"1001\" for OOMScoreAdjust= (expected -1000..1000)" },
        { "[Exec]\nCPUAffinity=3-1\n", "test.nspawn:2: invalid CPU list \"3-1\" for CPUAffinity= (expected e.g. 0,2-3 below 1024)" },
        { "[Exec]\nHostname=-bad\n",
          "test.nspawn:2: invalid host name \"-bad\" for Hostname= (at most 64 bytes, [A-Za-z0-9-] labels joined by dots)" },
        { "[Exec]\nMachineID=00000000000000000000000000000000\n",
          "test.nspawn:2: invalid MachineID= \"00000000000000000000000000000000\" (expected 32 hex digits or a UUID, not all zero)" },
        { "[Exec]\nKillSignal=SIGNOPE\n", "test.nspawn:2: invalid signal \"SIGNOPE\" for KillSignal=" },
        { "[Exec]\nPersonality=arm64\n", "test.nspawn:2: Personality=arm64 is not supported (x86 or x86-64)" },
        { "[Exec]\nTimezone=utc\n",
          "test.nspawn:2: invalid Timezone= \"utc\" (expected off, copy, bind, symlink, delete or auto)" },
        { "[Exec]\nLinkJournal=host\n", "test.nspawn:2: LinkJournal=host is not supported (only no and auto)" },
        { "[Exec]\nLinkJournal=try-guest\n", "test.nspawn:2: LinkJournal=try-guest is not supported (only no and auto)" },
        { "[Files]\nVolatile=maybe\n", "test.nspawn:2: invalid Volatile= \"maybe\" (expected yes, no, state or overlay)" },
        { "[Files]\nInaccessible=/\n", "test.nspawn:2: Inaccessible= path \"/\" is not a normalized absolute path below /" },
        { "[Files]\nOverlay=/a\n",
          "test.nspawn:2: invalid overlay \"/a\" for Overlay= (expected [+]LOWER:...:[+]UPPER:DESTINATION with absolute paths)" },
        { "[Files]\nPrivateUsersChown=yes\n",
          "test.nspawn:2: PrivateUsersChown=yes is not supported: the tree is always ID-mapped, never chowned" },
        { "[Files]\nPrivateUsersOwnership=chown\n",
          "test.nspawn:2: PrivateUsersOwnership=chown is not supported: the tree is always ID-mapped, never chowned" },
        { "[Files]\nPrivateUsersOwnership=off\n",
          "test.nspawn:2: PrivateUsersOwnership=off is not supported: the tree is always ID-mapped, never chowned" },
        /* An empty assignment of a refused key asks for nothing. */
        { "[Exec]\nPivotRoot=\n[Network]\nInterface=\n", NULL },
        { "[Exec]\nSystemCallFilter=~@clock\nSystemCallFilter=\n", NULL },
        { "[Exec]\nSystemCallFilter=open read\n", NULL },
};

TEST(bad_values_refused_with_file_and_line) {
        for (size_t i = 0; i < ELEMENTSOF(bad_values); i++) {
                _cleanup_(settings_freep) Settings *s = NULL;
                _cleanup_(error_done) Error e = ERROR_NULL;
                int r = parse_text(bad_values[i].text, SETTINGS_TRUSTED, &s, &e, NULL);

                if (!bad_values[i].error) {
                        ASSERT_OK(r);
                        continue;
                }
                if (r != -EBADMSG || !e.message || !streq(e.message, bad_values[i].error))
                        fprintf(stderr, "entry %zu: %d \"%s\"\n", i, r, strna(e.message));
                ASSERT_EQ(r, -EBADMSG);
                ASSERT_STREQ(e.message, bad_values[i].error);
        }
}

TEST(capability_warning_for_denied_use) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_strv_free_ char **w = NULL;

        ASSERT_OK(parse_text("[Exec]\nCapability=CAP_SYS_TIME\nCapability=all\n", SETTINGS_TRUSTED, &s, NULL, &w));
        ASSERT_EQ(strv_length(w), 1);
        ASSERT_STREQ(w[0], "test.nspawn:2: Capability=CAP_SYS_TIME: setting the clock stays denied by the system "
                           "call filter (docs/settings.md)");
        ASSERT_EQ(s->capability, CAPABILITY_ALL);
}

TEST(lists_accumulate_and_reset) {
        _cleanup_(settings_freep) Settings *s = NULL;

        ASSERT_OK(parse_text("[Exec]\nDropCapability=CAP_NET_RAW\nDropCapability=CAP_MKNOD,CAP_KILL\n"
                             "SystemCallFilter=~kcmp\nSystemCallFilter=~@swap kcmp\n"
                             "Capability=CAP_SYS_NICE\nCapability=\n"
                             "[Files]\nInaccessible=/a\nInaccessible=/b\nInaccessible=/a\n"
                             "Overlay=/x:/y\nOverlayReadOnly=/x:/y:/z\n",
                             SETTINGS_TRUSTED, &s, NULL, NULL));
        ASSERT_EQ(s->drop_capability, BIT(CAP_NET_RAW) | BIT(CAP_MKNOD) | BIT(CAP_KILL));
        ASSERT_EQ(strv_length(s->syscall_deny), 2);
        ASSERT_FALSE(s->capability_set);
        ASSERT_EQ(strv_length(s->inaccessible), 2);
        ASSERT_EQ(s->n_overlays, 2);
}

TEST(settings_assign_from_the_command_line) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;

        ASSERT_OK(settings_new(&s));
        ASSERT_OK(settings_assign(s, "Exec", "Capability", "CAP_NET_ADMIN,CAP_SYS_NICE", "--capability", &e, &w));
        ASSERT_EQ(s->capability, BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_NICE));
        ASSERT_OK(settings_assign(s, "Exec", "LimitNOFILE", "10", "--rlimit", &e, &w));
        ASSERT_EQ(s->rlimits.value[RLIMIT_NOFILE].rlim_max, 10);
        ASSERT_EQ(settings_assign(s, "Exec", "OOMScoreAdjust", "x", "--oom-score-adjust", &e, &w), -EBADMSG);
        ASSERT_STREQ(e.message, "--oom-score-adjust: invalid value \"x\" for OOMScoreAdjust= (expected -1000..1000)");
        ASSERT_EQ(settings_assign(s, "Exec", "NoSuchKey", "1", "--x", NULL, NULL), -ENOENT);
        /* Trusted: a privileged key is taken. */
        ASSERT_OK(settings_assign(s, "Files", "Overlay", "/a:/b", "--overlay", NULL, NULL));
        ASSERT_EQ(s->n_overlays, 1);
}

/* ---- value parsers ---- */

TEST(capability_names) {
        uint64_t m;
        _cleanup_free_ char *bad = NULL;

        ASSERT_EQ(capability_from_name("CAP_CHOWN"), CAP_CHOWN);
        ASSERT_EQ(capability_from_name("cap_sys_admin"), CAP_SYS_ADMIN);
        ASSERT_EQ(capability_from_name("NET_RAW"), CAP_NET_RAW);
        ASSERT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE"), CAP_CHECKPOINT_RESTORE);
        ASSERT_EQ(capability_from_name("12"), 12);
        ASSERT_EQ(capability_from_name("64"), -EINVAL);
        ASSERT_EQ(capability_from_name(""), -EINVAL);
        ASSERT_EQ(capability_from_name("CAP_"), -EINVAL);
        for (int c = 0; c <= CAPABILITY_LAST; c++)
                ASSERT_EQ(capability_from_name(capability_to_name(c)), c);
        ASSERT_OK(capability_list_parse(" CAP_KILL,\tCAP_CHOWN ", false, &m, NULL));
        ASSERT_EQ(m, BIT(CAP_KILL) | BIT(CAP_CHOWN));
        ASSERT_OK(capability_list_parse("all", true, &m, NULL));
        ASSERT_EQ(m, CAPABILITY_ALL);
        ASSERT_EQ(capability_list_parse("CAP_KILL bogus", true, &m, &bad), -EINVAL);
        ASSERT_STREQ(bad, "bogus");
}

static const struct {
        int resource;
        const char *value;
        int ret;
        rlim_t soft, hard;
} rlimit_table[] = {
        { RLIMIT_NOFILE, "1024", 0, 1024, 1024 },
        { RLIMIT_NOFILE, "1024:4096", 0, 1024, 4096 },
        { RLIMIT_NOFILE, "infinity", 0, RLIM_INFINITY, RLIM_INFINITY },
        { RLIMIT_NOFILE, "10:infinity", 0, 10, RLIM_INFINITY },
        { RLIMIT_NOFILE, "infinity:10", -ERANGE, 0, 0 },
        { RLIMIT_NOFILE, "1K", -EINVAL, 0, 0 },
        { RLIMIT_NOFILE, "-1", -EINVAL, 0, 0 },
        { RLIMIT_NOFILE, "", -EINVAL, 0, 0 },
        { RLIMIT_NOFILE, "1:", -EINVAL, 0, 0 },
        { RLIMIT_NOFILE, "1:2:3", -EINVAL, 0, 0 },
        { RLIMIT_NOFILE, "99999999999999999999999", -ERANGE, 0, 0 },
        { RLIMIT_AS, "1G", 0, UINT64_C(1) << 30, UINT64_C(1) << 30 },
        { RLIMIT_CORE, "0", 0, 0, 0 },
        { RLIMIT_MEMLOCK, "64K:1M", 0, 65536, 1 << 20 },
        { RLIMIT_FSIZE, "16E", -ERANGE, 0, 0 },
        { RLIMIT_CPU, "90", 0, 90, 90 },
        { RLIMIT_CPU, "2min", 0, 120, 120 },
        { RLIMIT_CPU, "1h:1d", 0, 3600, 86400 },
        { RLIMIT_CPU, "1ms", -EINVAL, 0, 0 },
        { RLIMIT_RTTIME, "100", 0, 100, 100 },
        { RLIMIT_RTTIME, "1s", 0, 1000000, 1000000 },
        { RLIMIT_NICE, "0", 0, 0, 0 },
        { RLIMIT_NICE, "40", 0, 40, 40 },
        { RLIMIT_NICE, "41", -ERANGE, 0, 0 },
        { RLIMIT_NICE, "+19", 0, 1, 1 },
        { RLIMIT_NICE, "-20", 0, 40, 40 },
        { RLIMIT_NICE, "+20", -ERANGE, 0, 0 },
        { -1, "1", -EINVAL, 0, 0 },
        { RLIM_NLIMITS, "1", -EINVAL, 0, 0 },
};

TEST(rlimit_values) {
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++) {
                struct rlimit rl = {};
                int r = rlimit_value_parse(rlimit_table[i].resource, rlimit_table[i].value, &rl);
                if (r != rlimit_table[i].ret)
                        fprintf(stderr, "entry %zu \"%s\": %d\n", i, rlimit_table[i].value, r);
                ASSERT_EQ(r, rlimit_table[i].ret);
                if (r < 0)
                        continue;
                ASSERT_TRUE(rl.rlim_cur == rlimit_table[i].soft && rl.rlim_max == rlimit_table[i].hard);
        }
        for (int i = 0; i < RLIM_NLIMITS; i++) {
                ASSERT_EQ(rlimit_from_key(rlimit_to_key(i)), i);
                ASSERT_EQ(rlimit_from_any_name(rlimit_to_key(i)), i);
                ASSERT_EQ(rlimit_from_any_name(rlimit_to_key(i) + STRLEN("Limit")), i);
        }
        ASSERT_EQ(rlimit_from_any_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
        ASSERT_EQ(rlimit_from_any_name("RLIMIT_nofile"), -EINVAL);
        ASSERT_EQ(rlimit_from_key("NOFILE"), -EINVAL);
}

TEST(cpu_sets) {
        CPUSet set;

        ASSERT_OK(cpu_set_parse("0", &set));
        ASSERT_EQ(CPU_COUNT(&set.mask), 1);
        ASSERT_OK(cpu_set_parse("0,2-3 5", &set));
        ASSERT_EQ(CPU_COUNT(&set.mask), 4);
        ASSERT_TRUE(CPU_ISSET(5, &set.mask) && !CPU_ISSET(4, &set.mask));
        ASSERT_OK(cpu_set_parse("1023", &set));
        ASSERT_EQ(cpu_set_parse("1024", &set), -ERANGE);
        FOREACH_STRING(bad, "", " , ", "a", "1-", "-1", "3-1", "1.5", "0x1", "1--2")
                ASSERT_TRUE(cpu_set_parse(bad, &set) < 0);
}

TEST(machine_ids) {
        char id[33];

        ASSERT_OK(machine_id_parse("0123456789ABCDEF0123456789abcdef", id));
        ASSERT_STREQ(id, "0123456789abcdef0123456789abcdef");
        ASSERT_OK(machine_id_parse("01234567-89ab-cdef-0123-456789abcdef", id));
        ASSERT_STREQ(id, "0123456789abcdef0123456789abcdef");
        FOREACH_STRING(bad, "", "0123", "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcdef0",
                       "01234567-89ab-cdef-0123456789abcdef", "0123456789abcdef-0123456789abcdef",
                       "00000000-0000-0000-0000-000000000000", "01234567-89ab-cdef-0123-456789abcde-")
                ASSERT_EQ(machine_id_parse(bad, id), -EINVAL);
}

TEST(signals_and_modes) {
        int sig;

        ASSERT_OK(kill_signal_parse("SIGTERM", &sig));
        ASSERT_EQ(sig, SIGTERM);
        ASSERT_OK(kill_signal_parse("RTMIN+3", &sig));
        ASSERT_EQ(sig, SIGRTMIN + 3);
        ASSERT_OK(kill_signal_parse("9", &sig));
        ASSERT_EQ(sig, 9);
        ASSERT_EQ(kill_signal_parse("0", &sig), -EINVAL);
        ASSERT_EQ(kill_signal_parse("SIGRTMIN+99", &sig), -EINVAL);

        for (int i = 0; i < _VOLATILE_MODE_MAX; i++)
                ASSERT_EQ(volatile_mode_from_string(volatile_mode_to_string(i)), i);
        ASSERT_EQ(volatile_mode_from_string("true"), VOLATILE_YES);
        ASSERT_EQ(volatile_mode_from_string("off"), VOLATILE_NO);
        ASSERT_EQ(volatile_mode_from_string(""), -EINVAL);
        for (int i = 0; i < _TIMEZONE_MODE_MAX; i++)
                ASSERT_EQ(timezone_mode_from_string(timezone_mode_to_string(i)), i);
        for (int i = 0; i < _LINK_JOURNAL_MAX; i++)
                ASSERT_EQ(link_journal_from_string(link_journal_to_string(i)), i);
        for (int i = 0; i < _PERSONALITY_MAX; i++)
                ASSERT_EQ(personality_from_string(personality_to_string(i)), i);
        ASSERT_TRUE(link_journal_is_refused("try-host"));
        ASSERT_FALSE(link_journal_is_refused("auto"));
        int v;
        ASSERT_OK(oom_score_adjust_parse("-1000", &v));
        ASSERT_EQ(v, -1000);
        ASSERT_EQ(oom_score_adjust_parse("1001", &v), -ERANGE);
        ASSERT_EQ(oom_score_adjust_parse("1e3", &v), -EINVAL);
}

static const struct {
        const char *spec;
        bool read_only;
        int ret;
        const char *lower; /* joined with '|' */
        const char *upper;
        const char *destination;
} overlay_table[] = {
        { "/a:/b", false, 0, "/a", "/b", "/b" },
        { "/a:/b", true, 0, "/a|/b", NULL, "/b" },
        { "/a:/b:/c", false, 0, "/a", "/b", "/c" },
        { "/a:/b:/c:/d", false, 0, "/a|/b", "/c", "/d" },
        { "/a:/b:/c:/d", true, 0, "/a|/b|/c", NULL, "/d" },
        { "+/var::/var", false, 0, "+/var", "", "/var" },
        { "/a:+/b", false, 0, "/a", "+/b", "/b" },
        { "/a\\:b:/c\\\\d:/e", false, 0, "/a:b", "/c\\d", "/e" },
        { "+/var::/var", true, -EINVAL, NULL, NULL, NULL },
        { "/a", false, -EINVAL, NULL, NULL, NULL },
        { "", false, -EINVAL, NULL, NULL, NULL },
        { ":/b", false, -EINVAL, NULL, NULL, NULL },
        { "/a:/b:", false, -EINVAL, NULL, NULL, NULL },
        { "a:/b", false, -EINVAL, NULL, NULL, NULL },
        { "/a/../x:/b", false, -EINVAL, NULL, NULL, NULL },
        { "/a:/b:+/c", false, -EINVAL, NULL, NULL, NULL },
        { "/a\\x:/b", false, -EINVAL, NULL, NULL, NULL },
        { "::/b", false, -EINVAL, NULL, NULL, NULL },
};

TEST(overlay_specs) {
        for (size_t i = 0; i < ELEMENTSOF(overlay_table); i++) {
                OverlayMount o = {};
                int r = overlay_mount_parse(overlay_table[i].spec, overlay_table[i].read_only, &o);

                if (r != overlay_table[i].ret)
                        fprintf(stderr, "entry %zu \"%s\": %d\n", i, overlay_table[i].spec, r);
                ASSERT_EQ(r, overlay_table[i].ret);
                if (r < 0)
                        continue;
                _cleanup_free_ char *lower = NULL;
                STRV_FOREACH(l, o.lower) {
                        char *n = strjoin(strempty(lower), lower ? "|" : "", *l);
                        free(lower);
                        lower = n;
                }
                bool same = streq(strempty(lower), overlay_table[i].lower) &&
                            streq(strempty(o.upper), strempty(overlay_table[i].upper)) &&
                            !o.upper == !overlay_table[i].upper &&
                            streq(o.destination, overlay_table[i].destination) &&
                            o.read_only == overlay_table[i].read_only;
                overlay_mount_done(&o);
                if (!same)
                        fprintf(stderr, "entry %zu \"%s\" parsed wrong\n", i, overlay_table[i].spec);
                ASSERT_TRUE(same);
        }
}

TEST(syscall_words) {
        ASSERT_TRUE(syscall_word_is_valid("open"));
        ASSERT_TRUE(syscall_word_is_valid("@clock"));
        ASSERT_FALSE(syscall_word_is_valid("@nope"));
        ASSERT_FALSE(syscall_word_is_valid("Open"));
        ASSERT_FALSE(syscall_word_is_valid(""));
        ASSERT_TRUE(syscall_word_is_denied("keyctl"));
        ASSERT_TRUE(syscall_word_is_denied("@keyring"));
        ASSERT_TRUE(syscall_word_is_denied("@privileged"));
        ASSERT_FALSE(syscall_word_is_denied("@sync"));
        ASSERT_FALSE(syscall_word_is_denied("open"));
        for (const char *const *g = syscall_group_names; *g; g++)
                ASSERT_TRUE(syscall_group_lookup(*g) != NULL);
}

/* The command line over a file, key by key, and what settings_apply() makes of it. */
TEST(merge_and_apply) {
        _cleanup_(settings_freep) Settings *cli = NULL, *file = NULL;
        SuperviseConfig c = {};

        ASSERT_OK(parse_text("[Exec]\nKillSignal=SIGUSR1\nHostname=cli\nLimitNOFILE=50\nPersonality=x86\n",
                             SETTINGS_TRUSTED, &cli, NULL, NULL));
        ASSERT_OK(parse_text("[Exec]\nKillSignal=SIGUSR2\nHostname=file\nLimitNOFILE=60\nLimitNPROC=70\n"
                             "MachineID=0123456789abcdef0123456789abcdef\nNotifyReady=yes\nCapability=CAP_SYS_NICE\n"
                             "SystemCallFilter=~kcmp\n[Files]\nVolatile=overlay\nInaccessible=/x\n",
                             SETTINGS_TRUSTED, &file, NULL, NULL));
        settings_merge(cli, file);
        ASSERT_EQ(cli->kill_signal, SIGUSR1);
        ASSERT_STREQ(cli->hostname, "cli");
        ASSERT_EQ(cli->rlimits.value[RLIMIT_NOFILE].rlim_cur, 50);
        ASSERT_EQ(cli->rlimits.value[RLIMIT_NPROC].rlim_cur, 70);
        ASSERT_STREQ(cli->machine_id, "0123456789abcdef0123456789abcdef");
        ASSERT_EQ(cli->volatile_mode, VOLATILE_OVERLAY);
        ASSERT_EQ(strv_length(cli->inaccessible), 1);
        ASSERT_EQ(strv_length(cli->syscall_deny), 1);

        settings_apply(cli, &c);
        ASSERT_EQ(c.kill_signal, SIGUSR1);
        ASSERT_STREQ(c.spawn.hostname, "cli");
        ASSERT_STREQ(c.spawn.machine_id, "0123456789abcdef0123456789abcdef");
        ASSERT_EQ(c.spawn.personality, PER_LINUX32);
        ASSERT_TRUE(c.spawn.notify);
        ASSERT_EQ(c.spawn.caps_add, BIT(CAP_SYS_NICE));
        ASSERT_EQ(c.spawn.volatile_mode, VOLATILE_OVERLAY);
        ASSERT_EQ(c.spawn.timezone, TIMEZONE_OFF);
        ASSERT_EQ(c.spawn.link_journal, LINK_JOURNAL_NO);
        ASSERT_TRUE(c.spawn.rlimits->set[RLIMIT_NPROC]);
}

/* Keys that only together are wrong: runtime_prepare() refuses them, -EBADMSG, before
 * anything exists. */
TEST(combinations_refused) {
        static const struct {
                const char *text;
                const char *error;
        } table[] = {
                { "[Exec]\nBoot=yes\nAmbientCapability=CAP_KILL\n",
                  "AmbientCapability= does not go with booting an init (Boot=, --boot)." },
                { "[Exec]\nAmbientCapability=CAP_SYS_TIME\n",
                  "AmbientCapability=CAP_SYS_TIME is not in the bounding set (add it with Capability=)." },
                { "[Exec]\nAmbientCapability=CAP_KILL\nDropCapability=CAP_KILL\n",
                  "AmbientCapability=CAP_KILL is not in the bounding set (add it with Capability=)." },
                { "[Exec]\nEphemeral=yes\n[Files]\nVolatile=yes\n",
                  "Volatile= and Ephemeral= do not go together: both make the tree throwaway." },
                { "[Exec]\nSystemCallFilter=~no_such_call\n",
                  "SystemCallFilter=: no system call \"no_such_call\" on this architecture." },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_(settings_freep) Settings *s = NULL;
                _cleanup_(runtime_ids_done) RuntimeIds ids = {};
                _cleanup_(error_done) Error e = ERROR_NULL;
                SuperviseConfig c = { .spawn.directory = "/nonexistent", .spawn.machine = "m" };

                ASSERT_OK(parse_text(table[i].text, SETTINGS_TRUSTED, &s, NULL, NULL));
                settings_apply(s, &c);
                ASSERT_EQ(runtime_prepare(&c, &ids, &e), -EBADMSG);
                ASSERT_STREQ(error_message(&e), table[i].error);
        }
}
