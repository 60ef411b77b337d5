/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup.h"
#include "runtime.h"
#include "seccomp-policy.h"
#include "settings-load.h"
#include "container-spawn.h"
#include "tests.h"
#include "util/process.h"
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

TEST(seccomp_program_built_ahead) {
        SeccompProgram p = {};
        int status = -1;
        pid_t pid;

        ASSERT_OK(seccomp_build_container_filter(NULL, false, &p));
        ASSERT_TRUE(p.n_insns > 10);
        /* Loaded, it denies what the deny-list says and lets the rest through. */
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                if (seccomp_program_load(&p) < 0)
                        _exit(2);
                if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) >= 0 || errno != EPERM)
                        _exit(3);
                _exit(getpid() > 0 ? 0 : 4);
        }
        ASSERT_OK(wait_for_terminate(pid, &status));
        ASSERT_EQ(status, 0);
        seccomp_program_done(&p);
        ASSERT_TRUE(p.insns == NULL);
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

static void touch_exec(const char *dir, const char *rel, mode_t mode) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
        if (fd >= 0) {
                (void) fchmod(fd, mode);
                close(fd);
        }
}

static int check_boot(const char *dir) {
        _cleanup_(error_done) Error e = ERROR_NULL;
        SpawnConfig c = { .directory = dir, .boot = true };
        return spawn_check(&c, &e);
}

/* One init list decides both the check and the exec: a tree whose only init is
 * /lib/systemd/systemd (not merged-/usr) boots; links resolve inside the tree. */
TEST(spawn_check_init) {
        char dir[] = "/tmp/test-runtime-init.XXXXXX", cmd[600], path[512];

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/usr/bin' '%s/lib/systemd' '%s/sbin'", dir, dir, dir);
        ASSERT_EQ(system(cmd), 0);
        ASSERT_ERROR(check_boot(dir), ENOEXEC);

        /* An absolute link that only works on the host, and one that climbs out. */
        snprintf(path, sizeof path, "%s/sbin/init", dir);
        ASSERT_OK(symlink("/bin/sh", path));
        ASSERT_ERROR(check_boot(dir), ENOEXEC);
        ASSERT_OK(unlink(path));
        ASSERT_OK(symlink("../../../../../../bin/sh", path));
        ASSERT_ERROR(check_boot(dir), ENOEXEC);
        ASSERT_OK(unlink(path));

        touch_exec(dir, "lib/systemd/systemd", 0644);
        ASSERT_ERROR(check_boot(dir), ENOEXEC); /* not executable */
        touch_exec(dir, "lib/systemd/systemd", 0755);
        ASSERT_OK(check_boot(dir));

        /* Merged /usr: /sbin/init -> /lib/systemd/systemd, /lib -> usr/lib. */
        snprintf(cmd, sizeof cmd, "rm -rf '%s/lib' && mkdir -p '%s/usr/lib/systemd' && ln -s usr/lib '%s/lib'", dir,
                 dir, dir);
        ASSERT_EQ(system(cmd), 0);
        ASSERT_ERROR(check_boot(dir), ENOEXEC);
        touch_exec(dir, "usr/lib/systemd/systemd", 0755);
        ASSERT_OK(symlink("/lib/systemd/systemd", path));
        ASSERT_OK(check_boot(dir));

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}

TEST(settings_merge) {
        _cleanup_(settings_freep) Settings *cli = NULL, *file = NULL;
        char *ro_spec = (char *) "/srv:/srv";

        ASSERT_OK(settings_new(&cli));
        ASSERT_OK(settings_new(&file));
        cli->boot = 0;
        ASSERT_OK(strv_extend(&cli->environment, "A=cli"));
        file->boot = 1;
        file->read_only = 1;
        ASSERT_OK(strv_extend(&file->environment, "A=file"));
        ASSERT_OK(strv_extend(&file->parameters, "--from-file"));
        file->user = strdup("u");
        file->binds = calloc(1, sizeof(BindMount));
        ASSERT_TRUE(file->user && file->binds);
        ASSERT_OK(bind_mount_parse(ro_spec, true, &file->binds[0]));
        file->n_binds = 1;

        settings_merge(cli, file);
        /* The command line wins where it said something; the rest comes from the file. */
        ASSERT_EQ(cli->boot, 0);
        ASSERT_STREQ(cli->environment[0], "A=cli");
        ASSERT_EQ(cli->read_only, 1);
        ASSERT_STREQ(cli->parameters[0], "--from-file");
        ASSERT_STREQ(cli->user, "u");
        ASSERT_EQ(cli->n_binds, 1);
        ASSERT_STREQ(cli->binds[0].destination, "/srv");
        ASSERT_EQ(file->n_binds, 0);

        SuperviseConfig c = {};
        settings_apply(cli, &c);
        ASSERT_FALSE(c.spawn.boot);
        ASSERT_TRUE(c.spawn.read_only);
        ASSERT_EQ(c.spawn.n_binds, 1);
        ASSERT_STREQ(c.spawn.user, "u");
        ASSERT_EQ(c.private_users.mode, PRIVATE_USERS_NO);
}

/* The network settings: how the container is networked is one setting (the command line's
 * kind, if it has one, over the file's), Port= and ResolvConf= each their own. */
TEST(settings_merge_network) {
        static const struct {
                int cli_private, cli_veth;
                const char *cli_zone;
                int file_private, file_veth;
                const char *file_bridge, *file_zone;
                NetworkMode mode;
                const char *bridge;
        } rows[] = {
                { -1, -1, NULL, -1, -1, NULL, NULL, NETWORK_HOST, "" },
                { -1, -1, NULL, 1, -1, NULL, NULL, NETWORK_PRIVATE, "" },
                { -1, -1, NULL, -1, 1, NULL, NULL, NETWORK_VETH, "" },
                { -1, -1, NULL, -1, 1, "br0", NULL, NETWORK_BRIDGE, "br0" },   /* Bridge= wins over VirtualEthernet= */
                { -1, -1, NULL, -1, -1, "br0", "lab", NETWORK_BRIDGE, "br0" }, /* and over Zone= */
                { -1, -1, NULL, -1, -1, NULL, "lab", NETWORK_ZONE, "vz-lab" },
                { -1, 1, NULL, -1, -1, "br0", NULL, NETWORK_VETH, "" },        /* the command line's kind */
                { -1, -1, "z1", 1, -1, "br0", NULL, NETWORK_ZONE, "vz-z1" },
                { 1, -1, NULL, -1, 1, NULL, NULL, NETWORK_PRIVATE, "" },
                { 0, -1, NULL, -1, 1, NULL, NULL, NETWORK_HOST, "" },          /* --private-network=no */
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_(settings_freep) Settings *cli = NULL, *file = NULL;
                SuperviseConfig c = {};

                ASSERT_OK(settings_new(&cli));
                ASSERT_OK(settings_new(&file));
                cli->private_network = rows[i].cli_private;
                cli->virtual_ethernet = rows[i].cli_veth;
                cli->zone = rows[i].cli_zone ? strdup(rows[i].cli_zone) : NULL;
                file->private_network = rows[i].file_private;
                file->virtual_ethernet = rows[i].file_veth;
                file->bridge = rows[i].file_bridge ? strdup(rows[i].file_bridge) : NULL;
                file->zone = rows[i].file_zone ? strdup(rows[i].file_zone) : NULL;
                settings_merge(cli, file);
                settings_apply(cli, &c);
                if (c.network.mode != rows[i].mode)
                        fprintf(stderr, "row %zu: mode %s\n", i, network_mode_to_string(c.network.mode));
                ASSERT_EQ(c.network.mode, rows[i].mode);
                ASSERT_STREQ(c.network.bridge, rows[i].bridge);
                ASSERT_EQ(c.resolv_conf, RESOLV_CONF_AUTO);
        }

        /* Port= and ResolvConf=: the command line's, else the file's. */
        _cleanup_(settings_freep) Settings *cli = NULL, *file = NULL;
        PortForward p;
        ASSERT_OK(settings_new(&cli));
        ASSERT_OK(settings_new(&file));
        ASSERT_OK(port_forward_parse("udp:53", &p));
        ASSERT_OK(port_forwards_add(&file->ports, &file->n_ports, &p));
        file->resolv_conf = RESOLV_CONF_OFF;
        file->virtual_ethernet = 1;
        settings_merge(cli, file);
        SuperviseConfig c = {};
        settings_apply(cli, &c);
        ASSERT_EQ(c.network.n_ports, 1);
        ASSERT_EQ(c.network.ports[0].protocol, PORT_PROTOCOL_UDP);
        ASSERT_EQ(c.resolv_conf, RESOLV_CONF_OFF);
        ASSERT_EQ(file->n_ports, 0);
        cli->resolv_conf = RESOLV_CONF_COPY_HOST;
        ASSERT_OK(port_forward_parse("8080:80", &p));
        ASSERT_OK(port_forwards_add(&file->ports, &file->n_ports, &p));
        settings_merge(cli, file);
        ASSERT_EQ(cli->n_ports, 1);
        ASSERT_EQ(cli->ports[0].protocol, PORT_PROTOCOL_UDP);
        settings_apply(cli, &c);
        ASSERT_EQ(c.resolv_conf, RESOLV_CONF_COPY_HOST);
}

static void write_settings(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (f) {
                fputs(text, f);
                fclose(f);
        }
}

/* Trusted directories first, the file next to the image last and untrusted. */
TEST(settings_find) {
        char dir[] = "/tmp/test-runtime-settings.XXXXXX", path[512], cmd[600];
        _cleanup_free_ char *found = NULL;
        SettingsTrust trust;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/etc' '%s/state' '%s/pool/box'", dir, dir, dir);
        ASSERT_EQ(system(cmd), 0);
        snprintf(path, sizeof path, "%s/pool/box", dir);
        char etc[512], state[512];
        snprintf(etc, sizeof etc, "%s/etc", dir);
        snprintf(state, sizeof state, "%s/state", dir);
        SettingsSearch s = { .config_dir = etc, .state_dir = state, .image = path };

        ASSERT_EQ(settings_find("box", &s, &found, &trust), 0);

        snprintf(path, sizeof path, "%s/pool/box.nspawn", dir);
        write_settings(path, "[Exec]\nBoot=no\n");
        ASSERT_EQ(settings_find("box", &s, &found, &trust), 1);
        ASSERT_STREQ(found, path);
        ASSERT_EQ(trust, SETTINGS_UNTRUSTED);
        found = mfree(found);

        /* Next to the image not even a symlink, and never a FIFO. */
        ASSERT_OK(unlink(path));
        ASSERT_OK(symlink("/etc/passwd", path));
        ASSERT_ERROR(settings_find("box", &s, &found, &trust), EBADFD);
        ASSERT_OK(unlink(path));
        ASSERT_OK(mkfifo(path, 0600));
        ASSERT_ERROR(settings_find("box", &s, &found, &trust), EBADFD);
        ASSERT_OK(unlink(path));

        snprintf(path, sizeof path, "%s/state/box.nspawn", dir);
        write_settings(path, "[Exec]\nBoot=no\n");
        snprintf(path, sizeof path, "%s/etc/box.nspawn", dir);
        write_settings(path, "[Exec]\nBoot=yes\n");
        ASSERT_EQ(settings_find("box", &s, &found, &trust), 1);
        ASSERT_STREQ(found, path);
        ASSERT_EQ(trust, SETTINGS_TRUSTED);

        _cleanup_(settings_freep) Settings *loaded = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;
        ASSERT_EQ(settings_load_for_machine("box", &s, &loaded, NULL, &e), 1);
        ASSERT_EQ(loaded->boot, 1);
        settings_free(loaded);
        loaded = NULL;
        write_settings(path, "[Exec]\nBoot=maybe\n");
        ASSERT_ERROR(settings_load_for_machine("box", &s, &loaded, NULL, &e), EBADMSG);
        ASSERT_TRUE(strstr(error_message(&e), "box.nspawn:2:"));

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}
