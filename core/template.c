/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "ini.h"
#include "macro.h"
#include "names.h"
#include "template.h"
#include "util/chase.h"
#include "util/guest-file.h"
#include "util/strv.h"
#include "util/util.h"

static const char *const machine_id_mode_table[_MACHINE_ID_MODE_MAX] = {
        [MACHINE_ID_KEEP] = "keep",
        [MACHINE_ID_EMPTY] = "empty",
        [MACHINE_ID_UNINITIALIZED] = "uninitialized",
};

static const char *const template_network_table[_TEMPLATE_NETWORK_MAX] = {
        [TEMPLATE_NETWORK_NONE] = "none",
        [TEMPLATE_NETWORK_NETWORKD] = "networkd",
};

DEFINE_STRING_TABLE_LOOKUP(machine_id_mode, MachineIdMode, _MACHINE_ID_MODE_MAX);
DEFINE_STRING_TABLE_LOOKUP(template_network, TemplateNetwork, _TEMPLATE_NETWORK_MAX);

Template *template_free(Template *t) {
        if (!t)
                return NULL;
        free(t->name);
        free(t->path);
        free(t->description);
        free(t->distribution);
        free(t->suite);
        free(t->variant);
        strv_free(t->components);
        strv_free(t->include);
        free(t->hostname);
        free(t);
        return NULL;
}

static bool char_is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool debian_package_name_is_valid(const char *s) {
        if (!s || !char_is_lower_alnum(s[0]) || strlen(s) < 2 || strlen(s) > 128)
                return false;
        for (const char *p = s; *p; p++)
                if (!char_is_lower_alnum(*p) && !strchr(".+-", *p))
                        return false;
        return true;
}

/* Suites ("bookworm", "bookworm-backports"), components ("non-free-firmware") and
 * distributions: lower-case words that end up as debootstrap arguments and URL parts. */
static bool archive_word_is_valid(const char *s) {
        if (!s || !char_is_lower_alnum(s[0]) || strlen(s) > 64)
                return false;
        for (const char *p = s; *p; p++)
                if (!char_is_lower_alnum(*p) && *p != '-' && *p != '.')
                        return false;
        return true;
}

static bool strv_isempty(char *const *l) {
        return !l || !l[0];
}

static int split_words(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *copy = NULL;
        char *state = NULL;
        int r;

        copy = strdup(s);
        l = calloc(1, sizeof(char *));
        if (!copy || !l)
                return -ENOMEM;

        for (char *w = strtok_r(copy, " \t\r", &state); w; w = strtok_r(NULL, " \t\r", &state)) {
                r = strv_extend(&l, w);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int template_assignment(IniParser *p, const char *section, const char *key, const char *value,
                               void *userdata) {
        Template *t = userdata;
        int r;

        if (streq(section, "Template")) {
                if (streq(key, "Description"))
                        return ini_set_string(&t->description, value);

                if (streq(key, "Distribution") || streq(key, "Suite")) {
                        if (!archive_word_is_valid(value))
                                return ini_syntax_error(p, "invalid %s= \"%s\"", key, value);
                        return ini_set_string(streq(key, "Suite") ? &t->suite : &t->distribution, value);
                }

                if (streq(key, "Variant")) {
                        /* The variants debootstrap itself knows. */
                        if (!streq(value, "minbase") && !streq(value, "buildd") &&
                            !streq(value, "fakechroot"))
                                return ini_syntax_error(p, "invalid Variant= \"%s\", expected minbase, "
                                                        "buildd or fakechroot", value);
                        return ini_set_string(&t->variant, value);
                }

                if (streq(key, "Components") || streq(key, "Include")) {
                        bool include = streq(key, "Include");
                        char **l = NULL;

                        r = split_words(value, &l);
                        if (r < 0)
                                return r;
                        STRV_FOREACH(w, l)
                                if (include ? !debian_package_name_is_valid(*w) : !archive_word_is_valid(*w)) {
                                        r = ini_syntax_error(p, "invalid %s \"%s\" in %s=",
                                                             include ? "package name" : "component",
                                                             *w, key);
                                        strv_free(l);
                                        return r;
                                }

                        if (include && !strv_isempty(l)) {
                                r = strv_extend_strv(&t->include, l);
                                strv_free(l);
                                return r;
                        }
                        /* Components= replaces; an empty Include= resets. */
                        strv_free(include ? t->include : t->components);
                        if (include)
                                t->include = strv_isempty(l) ? strv_free(l) : l;
                        else
                                t->components = strv_isempty(l) ? strv_free(l) : l;
                        return 0;
                }

                return ini_syntax_error(p, "unknown key %s= in section [%s]", key, section);
        }

        /* [PostSetup] */
        if (streq(key, "Hostname")) {
                if (!isempty(value) && !machine_name_is_valid(value))
                        return ini_syntax_error(p, "invalid Hostname= \"%s\"", value);
                return ini_set_string(&t->hostname, value);
        }

        if (streq(key, "MachineId")) {
                MachineIdMode m = machine_id_mode_from_string(value);
                if (m < 0)
                        return ini_syntax_error(p, "invalid MachineId= \"%s\", expected empty, "
                                                "uninitialized or keep", value);
                t->machine_id = m;
                return 0;
        }

        if (streq(key, "RootLogin")) {
                _cleanup_strv_free_ char **l = NULL;
                unsigned flags = 0;

                r = split_words(value, &l);
                if (r < 0)
                        return r;
                STRV_FOREACH(w, l) {
                        if (streq(*w, "console"))
                                flags |= ROOT_LOGIN_CONSOLE;
                        else if (streq(*w, "pts"))
                                flags |= ROOT_LOGIN_PTS;
                        else
                                return ini_syntax_error(p, "invalid RootLogin= word \"%s\", expected "
                                                        "console or pts", *w);
                }
                t->root_login = flags;
                return 0;
        }

        if (streq(key, "Network")) {
                TemplateNetwork n = template_network_from_string(value);
                if (n < 0)
                        return ini_syntax_error(p, "invalid Network= \"%s\", expected networkd or none",
                                                value);
                t->network = n;
                return 0;
        }

        return ini_syntax_error(p, "unknown key %s= in section [%s]", key, section);
}

int template_parse(FILE *f, const char *filename, const char *name, Template **ret, Error *e) {
        static const char *const sections[] = { "Template", "PostSetup", NULL };
        _cleanup_(template_freep) Template *t = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        const char *missing = NULL;
        int r;

        if (!f || !ret)
                return -EINVAL;
        if (!image_name_is_valid(name))
                return -EINVAL;
        filename = filename ?: name;

        t = calloc(1, sizeof(Template));
        if (!t)
                return -ENOMEM;
        t->machine_id = MACHINE_ID_KEEP;
        t->network = TEMPLATE_NETWORK_NONE;
        t->name = strdup(name);
        t->path = strdup(filename);
        if (!t->name || !t->path)
                return -ENOMEM;

        r = ini_parse(f, filename, sections, template_assignment, t, e, &warnings);
        if (r < 0)
                return r;

        /* The only warnings ini_parse() leaves are unknown sections and assignments outside
         * any section; in our own closed format both are mistakes. */
        if (!strv_isempty(warnings))
                return error_set(e, -EBADMSG, "%s", warnings[0]);

        if (!t->suite)
                missing = "Suite";
        else if (!t->variant)
                missing = "Variant";
        if (missing)
                return error_set(e, -EBADMSG, "%s: [Template] %s= is required", filename, missing);

        if (!t->distribution && !(t->distribution = strdup("debian")))
                return -ENOMEM;
        if (!t->components) {
                r = strv_extend(&t->components, "main");
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(t);
        return 0;
}

const char *const *template_default_search_dirs(void) {
        static const char *const dirs[] = {
                "/etc/nspawnctl/templates",
                PKGDATADIR "/templates",
                SOURCE_ROOT "/templates",
                NULL,
        };
        return dirs;
}

int template_load(const char *name, const char *const *search_dirs, Template **ret, Error *e) {
        if (!ret)
                return -EINVAL;
        /* The name becomes a file name: the image name rule keeps '/' and ".." out. */
        if (!image_name_is_valid(name))
                return -EINVAL;

        for (const char *const *d = search_dirs; d && *d; d++) {
                _cleanup_fclose_ FILE *f = NULL;
                _cleanup_free_ char *path = NULL;
                int r;

                path = strjoin(*d, "/", name, ".template");
                if (!path)
                        return -ENOMEM;

                r = ini_open(path, &f);
                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                if (r < 0)
                        return r;

                return template_parse(f, path, name, ret, e);
        }

        return -ENOENT;
}

static int cmp_strp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int template_list(const char *const *search_dirs, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (!ret)
                return -EINVAL;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (const char *const *d = search_dirs; d && *d; d++) {
                DIR *dir = opendir(*d);
                struct dirent *de;

                if (!dir) {
                        if (errno == ENOENT || errno == ENOTDIR)
                                continue;
                        return -errno;
                }

                r = 0;
                while ((de = readdir(dir))) {
                        _cleanup_free_ char *n = NULL;

                        if (!endswith(de->d_name, ".template"))
                                continue;
                        n = strndup(de->d_name, strlen(de->d_name) - STRLEN(".template"));
                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        if (!image_name_is_valid(n) || strv_contains(l, n))
                                continue;
                        r = strv_consume(&l, TAKE_PTR(n));
                        if (r < 0)
                                break;
                }
                closedir(dir);
                if (r < 0)
                        return r;
        }

        qsort(l, strv_length(l), sizeof(char *), cmp_strp);
        *ret = TAKE_PTR(l);
        return 0;
}

static char *strv_join_comma(char *const *l) {
        size_t n = 1;
        char *s, *p;

        STRV_FOREACH(i, l)
                n += strlen(*i) + 1;
        s = p = malloc(n);
        if (!s)
                return NULL;
        *p = 0;
        STRV_FOREACH(i, l) {
                if (p != s)
                        *p++ = ',';
                p = stpcpy(p, *i);
        }
        return s;
}

int template_debootstrap_argv(const Template *t, const char *target, const char *mirror, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *components = NULL, *include = NULL;
        int r;

        if (!t || !ret || isempty(target) || isempty(mirror))
                return -EINVAL;
        /* Neither may be taken for an option by debootstrap. */
        if (target[0] == '-' || mirror[0] == '-')
                return -EINVAL;

        components = strv_join_comma(t->components);
        include = strv_join_comma(t->include);
        if (!components || !include)
                return -ENOMEM;

        argv = calloc(1, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        r = strv_extend(&argv, "debootstrap");
        if (r >= 0)
                r = strv_consume(&argv, strjoin("--variant=", t->variant));
        if (r >= 0)
                r = strv_consume(&argv, strjoin("--components=", components));
        if (r >= 0 && !isempty(include))
                r = strv_consume(&argv, strjoin("--include=", include));
        if (r >= 0)
                r = strv_extend(&argv, t->suite);
        if (r >= 0)
                r = strv_extend(&argv, target);
        if (r >= 0)
                r = strv_extend(&argv, mirror);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(argv);
        return 0;
}

/* ---- post setup: writes confined to the tree ---- */

/* Opens path (relative, no "..") below root_fd. openat2() resolves symlinks as if
 * root_fd were "/", which is how the container will see them. Without openat2 (old
 * kernels, some seccomp filters) every symlink on the way is refused instead: stricter,
 * never looser. */
static bool openat2_enabled = true;

void template_set_openat2_enabled(bool b) {
        openat2_enabled = b;
}

static int open_in_root(int root_fd, const char *path, int flags) {
        /* openat2() refuses O_NOCTTY next to O_PATH. */
        int open_flags = flags | O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY);
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int fd = -EBADF;
        char *state = NULL, *c, *next;
        int r;

        if (openat2_enabled) {
                r = chase_open(root_fd, path, open_flags, CHASE_IN_ROOT);
                if (r != -ENOSYS)
                        return r;
        }

        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        for (c = strtok_r(copy, "/", &state); c; c = next) {
                int nfd;

                next = strtok_r(NULL, "/", &state);
                if (streq(c, ".."))
                        return -EPERM;
                nfd = openat(fd, c,
                             next ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                                  : flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (nfd < 0)
                        return -errno;
                safe_close(fd);
                fd = nfd;
        }
        return TAKE_FD(fd);
}

/* mkdir -p below root_fd; returns an fd of the directory. */
static int mkdir_in_root(int root_fd, const char *path) {
        _cleanup_free_ char *prefix = NULL;
        _cleanup_close_ int parent = -EBADF;
        const char *p = path;

        parent = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (parent < 0)
                return -errno;

        while (*p) {
                const char *end = p + strcspn(p, "/");
                _cleanup_free_ char *component = strndup(p, end - p);
                int fd;

                free(prefix);
                prefix = strndup(path, end - path);
                if (!prefix || !component)
                        return -ENOMEM;

                fd = open_in_root(root_fd, prefix, O_RDONLY | O_DIRECTORY);
                if (fd == -ENOENT) {
                        if (mkdirat(parent, component, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        fd = openat(parent, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return -errno;
                }
                if (fd < 0)
                        return fd;

                safe_close(parent);
                parent = fd;
                p = *end ? end + 1 : end;
        }

        return TAKE_FD(parent);
}

static int tmp_name(const char *name, char **ret) {
        char id[33];
        int r;

        r = id128_random_hex(id);
        if (r < 0)
                return r;
        *ret = strjoin(".#", name, ".", id);
        return *ret ? 0 : -ENOMEM;
}

/* Replaces dir_fd/name by a new file: an existing symlink there is replaced, never
 * followed. */
static int write_file_replace_at(int dir_fd, const char *name, const char *contents, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = tmp_name(name, &tmp);
        if (r < 0)
                return r;

        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, contents, strlen(contents));
        if (r >= 0 && fchmod(fd, mode) < 0) /* umask */
                r = -errno;
        return rename_into_place_at(dir_fd, tmp, name, r);
}

static int symlink_replace_at(const char *target, int dir_fd, const char *name) {
        _cleanup_free_ char *tmp = NULL;
        int r;

        r = tmp_name(name, &tmp);
        if (r < 0)
                return r;
        if (symlinkat(target, dir_fd, tmp) < 0)
                return -errno;
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                r = -errno;
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return 0;
}

static int post_setup_hostname(int etc_fd, const char *hostname) {
        _cleanup_free_ char *s = strjoin(hostname, "\n");
        if (!s)
                return -ENOMEM;
        return write_file_replace_at(etc_fd, "hostname", s, 0644);
}

static int post_setup_machine_id(int root_fd, int etc_fd, MachineIdMode mode) {
        _cleanup_close_ int dbus_fd = -EBADF;
        struct stat st;
        int r;

        if (mode == MACHINE_ID_KEEP)
                return 0;

        /* Every clone of this image would otherwise share the id debootstrap's systemd
         * postinst generated. systemd fills an empty file at boot. */
        r = write_file_replace_at(etc_fd, "machine-id", mode == MACHINE_ID_EMPTY ? "" : "uninitialized\n",
                                  0444);
        if (r < 0)
                return r;

        /* dbus keeps a copy; where it is a file rather than the usual symlink, it would
         * pin the old id. */
        dbus_fd = open_in_root(root_fd, "var/lib/dbus", O_RDONLY | O_DIRECTORY);
        if (dbus_fd == -ENOENT)
                return 0;
        if (dbus_fd < 0)
                return dbus_fd;
        if (fstatat(dbus_fd, "machine-id", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISLNK(st.st_mode))
                return 0;
        return symlink_replace_at("/etc/machine-id", dbus_fd, "machine-id");
}

static int post_setup_securetty(int etc_fd, unsigned root_login) {
        _cleanup_free_ char *old = NULL, *new = NULL;
        _cleanup_strv_free_ char **add = NULL;
        size_t size = 0, n;
        struct stat st;
        char *p;
        int r;

        if (root_login == 0)
                return 0;

        /* Newer Debian has no /etc/securetty: root may log in anywhere PAM allows. */
        r = read_guest_file(etc_fd, "securetty", 1024 * 1024, GUEST_FILE_NO_SYMLINKS, &old, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (fstatat(etc_fd, "securetty", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;

        add = calloc(1, sizeof(char *));
        if (!add)
                return -ENOMEM;
        if (root_login & ROOT_LOGIN_CONSOLE) {
                r = strv_extend(&add, "console");
                if (r < 0)
                        return r;
        }
        /* securetty has no wildcards. */
        for (int i = 0; (root_login & ROOT_LOGIN_PTS) && i < 32; i++) {
                char tty[16];
                snprintf(tty, sizeof tty, "pts/%d", i);
                r = strv_extend(&add, tty);
                if (r < 0)
                        return r;
        }

        n = size + 2;
        STRV_FOREACH(a, add)
                n += strlen(*a) + 1;
        new = malloc(n);
        if (!new)
                return -ENOMEM;
        p = stpcpy(new, old);
        if (size > 0 && old[size - 1] != '\n')
                *p++ = '\n';
        STRV_FOREACH(a, add) {
                bool present = false;
                char *state = NULL, *copy = strdup(old);

                if (!copy)
                        return -ENOMEM;
                for (char *l = strtok_r(copy, "\n", &state); l; l = strtok_r(NULL, "\n", &state))
                        if (streq(strstrip(l), *a))
                                present = true;
                free(copy);
                if (!present) {
                        p = stpcpy(p, *a);
                        *p++ = '\n';
                }
        }
        *p = 0;

        return write_file_replace_at(etc_fd, "securetty", new, st.st_mode & 07777);
}

/* The unit file as it will be found inside the container, as an absolute path. */
static int find_unit(int root_fd, const char *unit, char **ret) {
        static const char *const dirs[] = { "usr/lib/systemd/system", "lib/systemd/system" };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *path = strjoin(dirs[i], "/", unit);
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (!path)
                        return -ENOMEM;
                fd = open_in_root(root_fd, path, O_PATH);
                if (fd == -ENOENT || fd == -ELOOP || fd == -ENOTDIR)
                        continue;
                if (fd < 0)
                        return fd;
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode))
                        continue;
                *ret = strjoin("/", path);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

/* What "systemctl enable" would create, as symlinks below /etc/systemd/system. */
static int enable_unit(int root_fd, const char *unit, const char *wants_dir, const char *alias,
                       bool required) {
        _cleanup_free_ char *target = NULL, *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = find_unit(root_fd, unit, &target);
        if (r == -ENOENT && !required)
                return 0;
        if (r < 0)
                return r;

        dir = strjoin("etc/systemd/system/", wants_dir);
        if (!dir)
                return -ENOMEM;
        fd = mkdir_in_root(root_fd, dir);
        if (fd < 0)
                return fd;
        r = symlink_replace_at(target, fd, unit);
        if (r < 0)
                return r;

        if (alias) {
                fd = safe_close(fd);
                fd = mkdir_in_root(root_fd, "etc/systemd/system");
                if (fd < 0)
                        return fd;
                r = symlink_replace_at(target, fd, alias);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int post_setup_networkd(int root_fd, int etc_fd) {
        /* host0 only, the container side of a veth: never eth*, which in the host's network
         * namespace are the host's own interfaces. Virtualization=container keeps this off
         * a real machine's interfaces should the tree ever be booted on bare metal. The
         * managed network's domain becomes the search domain, so box names resolve bare. */
        static const char network[] =
                "# Written by nspawnctl from the image template (Network=networkd).\n"
                "[Match]\n"
                "Virtualization=container\n"
                "Name=host0\n"
                "\n"
                "[Network]\n"
                "DHCP=yes\n"
                "LinkLocalAddressing=yes\n"
                "\n"
                "[DHCPv4]\n"
                "UseDomains=yes\n"
                "\n"
                "[DHCPv6]\n"
                "UseDomains=yes\n";
        /* systemd-networkd-wait-online is left out on purpose: without a private network
         * there is no host0 and it would hold up boot for two minutes. */
        static const struct {
                const char *unit, *wants_dir, *alias;
                bool required;
        } units[] = {
                { "systemd-networkd.service", "multi-user.target.wants",
                  "dbus-org.freedesktop.network1.service", true },
                { "systemd-networkd.socket", "sockets.target.wants", NULL, false },
                { "systemd-resolved.service", "sysinit.target.wants",
                  "dbus-org.freedesktop.resolve1.service", true },
        };
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = mkdir_in_root(root_fd, "etc/systemd/network");
        if (fd < 0)
                return fd;
        r = write_file_replace_at(fd, "80-nspawnctl-container.network", network, 0644);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                r = enable_unit(root_fd, units[i].unit, units[i].wants_dir, units[i].alias,
                                units[i].required);
                if (r < 0)
                        return r;
        }

        /* Names must resolve through resolved, which learns DNS servers over DHCP; a copy
         * of the host's resolv.conf (what debootstrap leaves) may point at a stub the
         * container cannot reach. In the host's namespace resolved is masked and the runtime
         * puts the host's resolver list where this link points (core/resolv-conf.c). */
        return symlink_replace_at("../run/systemd/resolve/stub-resolv.conf", etc_fd, "resolv.conf");
}

int template_post_setup(const Template *t, int root_fd, const char *image_name) {
        _cleanup_close_ int etc_fd = -EBADF;
        const char *hostname;
        int r;

        if (!t || root_fd < 0)
                return -EINVAL;

        hostname = t->hostname ?: image_name;
        if (!machine_name_is_valid(hostname))
                return -EINVAL;

        etc_fd = mkdir_in_root(root_fd, "etc");
        if (etc_fd < 0)
                return etc_fd;

        r = post_setup_hostname(etc_fd, hostname);
        if (r < 0)
                return r;
        r = post_setup_machine_id(root_fd, etc_fd, t->machine_id);
        if (r < 0)
                return r;
        r = post_setup_securetty(etc_fd, t->root_login);
        if (r < 0)
                return r;
        if (t->network == TEMPLATE_NETWORK_NETWORKD) {
                r = post_setup_networkd(root_fd, etc_fd);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- the host's apt mirror ---- */

static bool suite_is_debian(const char *suite) {
        static const char *const suites[] = {
                "sid", "unstable", "experimental", "testing", "stable", "oldstable", "oldoldstable",
                "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "duke",
        };
        size_t n = strcspn(suite, "-");

        /* Security updates live on their own mirror; bookworm-updates and -backports are
         * served by the main one. */
        if (strstr(suite, "security"))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(suites); i++)
                if (strlen(suites[i]) == n && strneq(suite, suites[i], n))
                        return true;
        return false;
}

static bool uri_is_usable(const char *uri) {
        if (!(startswith(uri, "http://") || startswith(uri, "https://") || startswith(uri, "ftp://") ||
              startswith(uri, "file:/")))
                return false;
        if (strstr(uri, "debian-security"))
                return false;
        for (const char *p = uri; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

/* Does the entry (its suites and components) point at a Debian archive we can use? */
static bool entry_is_usable(char *const *suites, char *const *components) {
        bool suite_ok = false;

        STRV_FOREACH(s, suites) {
                if (strstr(*s, "security"))
                        return false;
                if (suite_is_debian(*s))
                        suite_ok = true;
        }
        return suite_ok && strv_contains(components, "main");
}

typedef struct Stanza {
        char **types, **uris, **suites, **components;
        bool disabled;
} Stanza;

static void stanza_done(Stanza *s) {
        s->types = strv_free(s->types);
        s->uris = strv_free(s->uris);
        s->suites = strv_free(s->suites);
        s->components = strv_free(s->components);
        s->disabled = false;
}

static int stanza_pick(const Stanza *s, char **ret) {
        if (s->disabled || !strv_contains(s->types, "deb") || !entry_is_usable(s->suites, s->components))
                return -ENOENT;
        STRV_FOREACH(u, s->uris)
                if (uri_is_usable(*u)) {
                        *ret = strdup(*u);
                        return *ret ? 0 : -ENOMEM;
                }
        return -ENOENT;
}

int apt_mirror_from_deb822(const char *contents, char **ret) {
        _cleanup_free_ char *copy = NULL;
        _cleanup_(stanza_done) Stanza s = {};
        char ***field = NULL, *rest, *line;
        int r;

        if (!contents || !ret)
                return -EINVAL;
        copy = strdup(contents);
        if (!copy)
                return -ENOMEM;

        rest = copy;
        while ((line = strsep(&rest, "\n"))) {
                _cleanup_strv_free_ char **words = NULL;
                char *value;

                if (line[0] == '#')
                        continue;

                if (line[strspn(line, " \t\r")] == 0) {
                        /* A blank line ends a stanza. */
                        r = stanza_pick(&s, ret);
                        if (r != -ENOENT)
                                return r;
                        stanza_done(&s);
                        field = NULL;
                        continue;
                }

                if (line[0] == ' ' || line[0] == '\t')
                        value = line; /* continues the field before it */
                else {
                        char *colon = strchr(line, ':');
                        const char *name;

                        field = NULL;
                        if (!colon)
                                continue;
                        *colon = 0;
                        name = strstrip(line);
                        value = colon + 1;
                        if (strcasecmp(name, "Types") == 0)
                                field = &s.types;
                        else if (strcasecmp(name, "URIs") == 0)
                                field = &s.uris;
                        else if (strcasecmp(name, "Suites") == 0)
                                field = &s.suites;
                        else if (strcasecmp(name, "Components") == 0)
                                field = &s.components;
                        else if (strcasecmp(name, "Enabled") == 0)
                                s.disabled = parse_boolean(strstrip(value)) == 0;
                }
                if (!field)
                        continue;

                r = split_words(value, &words);
                if (r < 0)
                        return r;
                r = strv_extend_strv(field, words);
                if (r < 0)
                        return r;
        }

        return stanza_pick(&s, ret);
}

int apt_mirror_from_one_line(const char *contents, char **ret) {
        _cleanup_free_ char *copy = NULL;
        char *state = NULL;
        int r;

        if (!contents || !ret)
                return -EINVAL;
        copy = strdup(contents);
        if (!copy)
                return -ENOMEM;

        for (char *line = strtok_r(copy, "\n", &state); line; line = strtok_r(NULL, "\n", &state)) {
                _cleanup_strv_free_ char **words = NULL;
                char *hash = strchr(line, '#');
                size_t i = 1;

                if (hash)
                        *hash = 0;
                r = split_words(line, &words);
                if (r < 0)
                        return r;
                if (strv_length(words) < 3 || !streq(words[0], "deb"))
                        continue;

                /* "[ arch=amd64 signed-by=... ]": the options may contain spaces. */
                if (words[1][0] == '[') {
                        while (words[i] && !endswith(words[i], "]"))
                                i++;
                        if (!words[i])
                                continue;
                        i++;
                }
                if (strv_length(words + i) < 3)
                        continue; /* URI, suite and at least one component */
                if (!uri_is_usable(words[i]))
                        continue;
                if (!entry_is_usable((char *const[]) { words[i + 1], NULL }, words + i + 2))
                        continue;

                *ret = strdup(words[i]);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

static int mirror_from_file(const char *path, bool deb822, char **ret) {
        _cleanup_free_ char *contents = NULL;
        int r;

        r = read_full_file(path, &contents, NULL);
        if (r == -ENOENT || r == -EACCES || r == -EISDIR)
                return -ENOENT;
        if (r < 0)
                return r;
        return deb822 ? apt_mirror_from_deb822(contents, ret) : apt_mirror_from_one_line(contents, ret);
}

static int mirror_from_dir(const char *dir, const char *suffix, bool deb822, char **ret) {
        struct dirent **entries = NULL;
        int n, r = -ENOENT;

        n = scandir(dir, &entries, NULL, alphasort);
        if (n < 0)
                return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;

        for (int i = 0; i < n; i++) {
                if (r == -ENOENT && endswith(entries[i]->d_name, suffix) && entries[i]->d_name[0] != '.') {
                        _cleanup_free_ char *path = strjoin(dir, "/", entries[i]->d_name);
                        r = path ? mirror_from_file(path, deb822, ret) : -ENOMEM;
                }
                free(entries[i]);
        }
        free(entries);
        return r;
}

int host_apt_mirror_at(const char *apt_dir, char **ret) {
        _cleanup_free_ char *d = NULL, *list = NULL;
        int r;

        if (!apt_dir || !ret)
                return -EINVAL;

        d = strjoin(apt_dir, "/sources.list.d");
        list = strjoin(apt_dir, "/sources.list");
        if (!d || !list)
                return -ENOMEM;

        r = mirror_from_dir(d, ".sources", true, ret);
        if (r != -ENOENT)
                return r;
        r = mirror_from_file(list, false, ret);
        if (r != -ENOENT)
                return r;
        return mirror_from_dir(d, ".list", false, ret);
}

int host_apt_mirror(char **ret) {
        return host_apt_mirror_at("/etc/apt", ret);
}
