/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

#include "config.h"
#include "macro.h"
#include "template.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

/* ---- helpers: a scratch directory that is removed on every way out of a test ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

static void rm_rf_freep(char **dir) {
        if (!*dir)
                return;
        /* FTW_PHYS: never follow a symlink out of the scratch dir. */
        (void) nftw(*dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(*dir);
}
#define _cleanup_rm_rf_ _cleanup_(rm_rf_freep)

static char *scratch(void) {
        char t[] = "/tmp/test-template-XXXXXX";
        return mkdtemp(t) ? strdup(t) : NULL;
}

static int write_at(const char *dir, const char *rel, const char *contents) {
        _cleanup_free_ char *p = strjoin(dir, "/", rel);
        _cleanup_close_ int fd = -EBADF;

        if (!p)
                return -ENOMEM;
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        return loop_write(fd, contents, strlen(contents));
}

static int mkdir_at(const char *dir, const char *rel) {
        _cleanup_free_ char *p = strjoin(dir, "/", rel);
        if (!p)
                return -ENOMEM;
        return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int symlink_at(const char *target, const char *dir, const char *rel) {
        _cleanup_free_ char *p = strjoin(dir, "/", rel);
        if (!p)
                return -ENOMEM;
        return symlink(target, p) < 0 ? -errno : 0;
}

static char *read_at(const char *dir, const char *rel) {
        _cleanup_free_ char *p = strjoin(dir, "/", rel);
        char *c = NULL;
        if (!p || read_full_file(p, &c, NULL) < 0)
                return NULL;
        return c;
}

static char *readlink_at(const char *dir, const char *rel) {
        _cleanup_free_ char *p = strjoin(dir, "/", rel);
        char buf[PATH_MAX];
        ssize_t n;

        if (!p)
                return NULL;
        n = readlink(p, buf, sizeof buf - 1);
        if (n < 0)
                return NULL;
        buf[n] = 0;
        return strdup(buf);
}

static int unlink_at(const char *dir, const char *rel) {
        _cleanup_free_ char *p = strjoin(dir, "/", rel);
        if (!p)
                return -ENOMEM;
        return unlink(p) < 0 ? -errno : 0;
}

static size_t count_lines(const char *text, const char *line) {
        size_t n = 0, len = strlen(line);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strneq(p, line, len) && (p[len] == '\n' || p[len] == 0))
                        n++;
        return n;
}

static mode_t lmode_at(const char *dir, const char *rel) {
        _cleanup_free_ char *p = strjoin(dir, "/", rel);
        struct stat st;
        return p && lstat(p, &st) >= 0 ? st.st_mode : 0;
}

static int parse_string(const char *text, Template **ret, Error *e) {
        _cleanup_fclose_ FILE *f = NULL;

        f = fmemopen((void *) (text[0] ? text : "\n"), text[0] ? strlen(text) : 1, "r");
        if (!f)
                return -errno;
        return template_parse(f, "t.template", "t", ret, e);
}

/* ---- tables ---- */

TEST(enum_tables) {
        for (MachineIdMode m = 0; m < _MACHINE_ID_MODE_MAX; m++) {
                ASSERT_TRUE(machine_id_mode_to_string(m));
                ASSERT_EQ(machine_id_mode_from_string(machine_id_mode_to_string(m)), m);
        }
        for (TemplateNetwork n = 0; n < _TEMPLATE_NETWORK_MAX; n++) {
                ASSERT_TRUE(template_network_to_string(n));
                ASSERT_EQ(template_network_from_string(template_network_to_string(n)), n);
        }
        ASSERT_STREQ(machine_id_mode_to_string(MACHINE_ID_EMPTY), "empty");
        ASSERT_STREQ(template_network_to_string(TEMPLATE_NETWORK_NETWORKD), "networkd");
        ASSERT_TRUE(machine_id_mode_to_string(_MACHINE_ID_MODE_MAX) == NULL);
        ASSERT_TRUE(machine_id_mode_to_string(-1) == NULL);
        ASSERT_TRUE(template_network_to_string(_TEMPLATE_NETWORK_MAX) == NULL);
        ASSERT_EQ(machine_id_mode_from_string("Empty"), _MACHINE_ID_MODE_INVALID);
        ASSERT_EQ(machine_id_mode_from_string(""), _MACHINE_ID_MODE_INVALID);
        ASSERT_EQ(machine_id_mode_from_string(NULL), _MACHINE_ID_MODE_INVALID);
        ASSERT_EQ(template_network_from_string("ifupdown"), _TEMPLATE_NETWORK_INVALID);
}

TEST(debian_package_name) {
        static const struct {
                const char *name;
                bool valid;
        } table[] = {
                { "systemd", true },         { "libpam-systemd", true }, { "g++", true },
                { "libstdc++6", true },      { "python3.11", true },     { "0ad", true },
                { "ca-certificates", true }, { "a", false },             { "", false },
                { "Systemd", false },        { "-x", false },            { ".x", false },
                { "+x", false },             { "a_b", false },           { "a/b", false },
                { "../etc", false },         { "a b", false },           { "a,b", false },
                { "a:amd64", false },        { "a=1.0", false },         { "caf\xc3\xa9", false },
                { "a\n", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                if (debian_package_name_is_valid(table[i].name) != table[i].valid)
                        fprintf(stderr, "entry %zu \"%s\"\n", i, table[i].name);
                ASSERT_EQ(debian_package_name_is_valid(table[i].name), table[i].valid);
        }
        ASSERT_FALSE(debian_package_name_is_valid(NULL));
}

/* ---- parsing ---- */

TEST(template_parse_minimal) {
        _cleanup_(template_freep) Template *t = NULL;

        ASSERT_OK(parse_string("[Template]\nSuite=bookworm\nVariant=minbase\n", &t, NULL));
        ASSERT_STREQ(t->name, "t");
        ASSERT_STREQ(t->path, "t.template");
        ASSERT_STREQ(t->distribution, "debian");
        ASSERT_STREQ(t->suite, "bookworm");
        ASSERT_STREQ(t->variant, "minbase");
        ASSERT_EQ(strv_length(t->components), 1);
        ASSERT_STREQ(t->components[0], "main");
        ASSERT_TRUE(t->include == NULL);
        ASSERT_TRUE(t->hostname == NULL);
        ASSERT_EQ(t->machine_id, MACHINE_ID_KEEP);
        ASSERT_EQ(t->root_login, 0);
        ASSERT_EQ(t->network, TEMPLATE_NETWORK_NONE);
}

TEST(template_parse_full) {
        _cleanup_(template_freep) Template *t = NULL;

        ASSERT_OK(parse_string("# comment\n"
                               "[Template]\n"
                               "Description = A test\n"
                               "Distribution=debian\n"
                               "Suite=trixie\n"
                               "Variant=buildd\n"
                               "Components=main contrib non-free-firmware\n"
                               "Include=systemd  dbus\n"
                               "Include=\tg++ python3.11\n"
                               "[PostSetup]\n"
                               "Hostname=box.example\n"
                               "MachineId=uninitialized\n"
                               "RootLogin=pts console\n"
                               "Network=networkd\n",
                               &t, NULL));
        ASSERT_STREQ(t->description, "A test");
        ASSERT_STREQ(t->suite, "trixie");
        ASSERT_STREQ(t->variant, "buildd");
        ASSERT_EQ(strv_length(t->components), 3);
        ASSERT_STREQ(t->components[2], "non-free-firmware");
        ASSERT_EQ(strv_length(t->include), 4);
        ASSERT_STREQ(t->include[0], "systemd");
        ASSERT_STREQ(t->include[3], "python3.11");
        ASSERT_STREQ(t->hostname, "box.example");
        ASSERT_EQ(t->machine_id, MACHINE_ID_UNINITIALIZED);
        ASSERT_EQ(t->root_login, ROOT_LOGIN_CONSOLE | ROOT_LOGIN_PTS);
        ASSERT_EQ(t->network, TEMPLATE_NETWORK_NETWORKD);
}

TEST(template_parse_reset) {
        _cleanup_(template_freep) Template *t = NULL;

        ASSERT_OK(parse_string("[Template]\nSuite=sid\nVariant=minbase\nInclude=a1 b2\nInclude=\n"
                               "Include=c3\nComponents=contrib\nComponents=main\n"
                               "[PostSetup]\nHostname=x\nHostname=\nRootLogin=pts\nRootLogin=\n",
                               &t, NULL));
        ASSERT_EQ(strv_length(t->include), 1);
        ASSERT_STREQ(t->include[0], "c3");
        ASSERT_EQ(strv_length(t->components), 1);
        ASSERT_STREQ(t->components[0], "main");
        ASSERT_TRUE(t->hostname == NULL);
        ASSERT_EQ(t->root_login, 0);
}

static const struct {
        const char *text;
        const char *error;
} bad_templates[] = {
        { "", "t.template: [Template] Suite= is required" },
        { "[Template]\nVariant=minbase\n", "t.template: [Template] Suite= is required" },
        { "[Template]\nSuite=bookworm\n", "t.template: [Template] Variant= is required" },
        { "[Template]\nSuite=bookworm\nVariant=\n", "t.template:3: invalid Variant= \"\"*" },
        { "[Template]\nSuite=bookworm\nVariant=maxbase\n", "t.template:3: invalid Variant=*" },
        { "[Template]\nSuite=\n", "t.template:2: invalid Suite= \"\"" },
        { "[Template]\nSuite=Bookworm\n", "t.template:2: invalid Suite= \"Bookworm\"" },
        { "[Template]\nSuite=../x\n", "t.template:2: invalid Suite=*" },
        { "[Template]\nSuite=a/b\n", "t.template:2: invalid Suite=*" },
        { "[Template]\nDistribution=Debian\n", "t.template:2: invalid Distribution=*" },
        { "[Template]\nComponents=main Contrib\n", "t.template:2: invalid component \"Contrib\" in Components=" },
        { "[Template]\nInclude=systemd Foo\n", "t.template:2: invalid package name \"Foo\" in Include=" },
        { "[Template]\nInclude=a,b\n", "t.template:2: invalid package name \"a,b\" in Include=" },
        { "[Template]\nInclude=--force-yes\n", "t.template:2: invalid package name*" },
        { "[Template]\nInclude=../../etc\n", "t.template:2: invalid package name*" },
        { "[Template]\nSutie=bookworm\n", "t.template:2: unknown key Sutie= in section [Template]" },
        { "[PostSetup]\nHostName=x\n", "t.template:2: unknown key HostName= in section [PostSetup]" },
        { "[Templates]\nSuite=bookworm\n", "t.template:1: unknown section [Templates], ignoring" },
        { "Suite=bookworm\n", "t.template:1: assignment Suite= outside of any section, ignoring" },
        { "[Template\n", "t.template:1: unterminated section header" },
        { "[Template]\nSuite\n", "t.template:2: expected KEY=VALUE*" },
        { "[PostSetup]\nHostname=-x\n", "t.template:2: invalid Hostname= \"-x\"" },
        { "[PostSetup]\nHostname=a..b\n", "t.template:2: invalid Hostname=*" },
        { "[PostSetup]\nHostname=a/b\n", "t.template:2: invalid Hostname=*" },
        { "[PostSetup]\nMachineId=random\n", "t.template:2: invalid MachineId= \"random\"*" },
        { "[PostSetup]\nRootLogin=console tty1\n", "t.template:2: invalid RootLogin= word \"tty1\"*" },
        { "[PostSetup]\nNetwork=ifupdown\n", "t.template:2: invalid Network= \"ifupdown\"*" },
        { "[PostSetup]\nNetwork=\n", "t.template:2: invalid Network= \"\"*" },
        { "[Template]\nDescription=\x01\n", "t.template:2: control character in line" },
};

TEST(template_parse_bad) {
        for (size_t i = 0; i < ELEMENTSOF(bad_templates); i++) {
                _cleanup_(template_freep) Template *t = NULL;
                _cleanup_(error_done) Error e = ERROR_NULL;
                const char *want = bad_templates[i].error;
                size_t n = strlen(want);
                int r;

                r = parse_string(bad_templates[i].text, &t, &e);
                bool match = e.message &&
                             (want[n - 1] == '*' ? strneq(e.message, want, n - 1) : streq(e.message, want));
                if (r != -EBADMSG || !match)
                        fprintf(stderr, "entry %zu: r=%d error=\"%s\"\n", i, r, strna(e.message));
                ASSERT_EQ(r, -EBADMSG);
                ASSERT_TRUE(match);
                ASSERT_TRUE(t == NULL);
        }
}

TEST(template_parse_bad_name) {
        static const char *const names[] = { "", "../etc", "a/b", ".hidden", ".#tmp", "-x", NULL };
        _cleanup_(template_freep) Template *t = NULL;

        for (const char *const *n = names; *n; n++) {
                _cleanup_fclose_ FILE *f = fmemopen((void *) "[Template]\n", 11, "r");
                ASSERT_TRUE(f);
                ASSERT_EQ(template_parse(f, "x", *n, &t, NULL), -EINVAL);
                ASSERT_EQ(template_load(*n, (const char *const[]) { "/tmp", NULL }, &t, NULL), -EINVAL);
        }
        ASSERT_EQ(template_load(NULL, (const char *const[]) { "/tmp", NULL }, &t, NULL), -EINVAL);
        ASSERT_TRUE(t == NULL);
}

/* ---- the templates we ship ---- */

TEST(shipped_templates) {
        static const char *const dirs[] = { "/nonexistent", SOURCE_ROOT "/templates", NULL };
        static const struct {
                const char *name, *suite;
        } shipped[] = {
                { "debian-bookworm", "bookworm" },
                { "debian-trixie", "trixie" },
                { "debian-sid", "sid" },
        };
        _cleanup_strv_free_ char **list = NULL;

        for (size_t i = 0; i < ELEMENTSOF(shipped); i++) {
                _cleanup_(template_freep) Template *t = NULL;
                _cleanup_(error_done) Error e = ERROR_NULL;
                int r = template_load(shipped[i].name, dirs, &t, &e);

                if (r < 0)
                        fprintf(stderr, "%s: %s\n", shipped[i].name, strna(e.message));
                ASSERT_OK(r);
                ASSERT_STREQ(t->suite, shipped[i].suite);
                ASSERT_STREQ(t->distribution, "debian");
                ASSERT_STREQ(t->variant, "minbase");
                ASSERT_TRUE(t->description != NULL);
                ASSERT_TRUE(strv_contains(t->include, "systemd"));
                ASSERT_TRUE(strv_contains(t->include, "systemd-sysv"));
                ASSERT_TRUE(strv_contains(t->include, "systemd-resolved"));
                ASSERT_TRUE(strv_contains(t->include, "dbus"));
                ASSERT_EQ(t->machine_id, MACHINE_ID_EMPTY);
                ASSERT_EQ(t->root_login, ROOT_LOGIN_CONSOLE | ROOT_LOGIN_PTS);
                ASSERT_EQ(t->network, TEMPLATE_NETWORK_NETWORKD);
                ASSERT_TRUE(t->hostname == NULL);
                ASSERT_TRUE(endswith(t->path, "/templates/") || strstr(t->path, "/templates/"));
        }

        ASSERT_OK(template_list(dirs, &list));
        for (size_t i = 0; i < ELEMENTSOF(shipped); i++)
                ASSERT_TRUE(strv_contains(list, shipped[i].name));
}

/* Oldstable has systemd-resolved inside systemd, so it is not named; the Ubuntu recipe
 * differs from Debian's only in what the format carries (distribution, suite). */
TEST(shipped_templates_other) {
        static const char *const dirs[] = { SOURCE_ROOT "/templates", NULL };
        _cleanup_(template_freep) Template *b = NULL, *u = NULL;
        _cleanup_strv_free_ char **argv = NULL;

        ASSERT_OK(template_load("debian-bullseye", dirs, &b, NULL));
        ASSERT_STREQ(b->suite, "bullseye");
        ASSERT_STREQ(b->distribution, "debian");
        ASSERT_TRUE(strv_contains(b->include, "systemd-sysv"));
        ASSERT_FALSE(strv_contains(b->include, "systemd-resolved"));
        ASSERT_EQ(b->network, TEMPLATE_NETWORK_NETWORKD);

        ASSERT_OK(template_load("ubuntu-noble", dirs, &u, NULL));
        ASSERT_STREQ(u->distribution, "ubuntu");
        ASSERT_STREQ(u->suite, "noble");
        ASSERT_TRUE(strv_contains(u->components, "main"));
        ASSERT_TRUE(strv_contains(u->include, "systemd-resolved"));
        ASSERT_OK(template_debootstrap_argv(u, "/tmp/x", "file:///srv/ubuntu", &argv));
        ASSERT_STREQ(argv[strv_length(argv) - 3], "noble");
        ASSERT_STREQ(argv[strv_length(argv) - 1], "file:///srv/ubuntu");
}

TEST(default_search_dirs) {
        const char *const *dirs = template_default_search_dirs();
        _cleanup_(template_freep) Template *t = NULL;

        ASSERT_STREQ(dirs[0], "/etc/nspawnctl/templates");
        ASSERT_TRUE(endswith(dirs[2], "/templates"));
        ASSERT_TRUE(dirs[3] == NULL);
        /* Found in the source tree at the latest. */
        ASSERT_OK(template_load("debian-bookworm", dirs, &t, NULL));
}

TEST(template_load_order) {
        _cleanup_rm_rf_ char *d = scratch();
        _cleanup_free_ char *a = NULL, *b = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;
        _cleanup_(template_freep) Template *t = NULL;
        _cleanup_strv_free_ char **list = NULL;

        ASSERT_TRUE(d);
        a = strjoin(d, "/a");
        b = strjoin(d, "/b");
        ASSERT_TRUE(a && b);
        ASSERT_OK(mkdir_at(d, "a"));
        ASSERT_OK(mkdir_at(d, "b"));
        ASSERT_OK(write_at(b, "x.template", "[Template]\nSuite=trixie\nVariant=minbase\n"));
        ASSERT_OK(write_at(b, "y.template", "[Template]\nSuite=sid\nVariant=minbase\n"));
        ASSERT_OK(write_at(b, ".hidden.template", "[Template]\nSuite=sid\nVariant=minbase\n"));
        ASSERT_OK(write_at(b, "not-a-template", ""));
        ASSERT_OK(mkdir_at(b, "dir.template"));

        const char *const dirs[] = { a, b, NULL };
        ASSERT_OK(template_load("x", dirs, &t, &e));
        ASSERT_STREQ(t->suite, "trixie");
        t = template_free(t);

        /* An earlier directory shadows a later one. */
        ASSERT_OK(write_at(a, "x.template", "[Template]\nSuite=bookworm\nVariant=minbase\n"));
        ASSERT_OK(template_load("x", dirs, &t, &e));
        ASSERT_STREQ(t->suite, "bookworm");
        ASSERT_TRUE(startswith(t->path, a));
        t = template_free(t);

        /* A broken file is reported, not skipped in favour of a later one. */
        ASSERT_OK(write_at(a, "y.template", "[Template]\nSuite=sid\n"));
        ASSERT_EQ(template_load("y", dirs, &t, &e), -EBADMSG);
        ASSERT_TRUE(e.message && strstr(e.message, "/a/y.template: [Template] Variant= is required"));

        ASSERT_EQ(template_load("z", dirs, &t, NULL), -ENOENT);
        ASSERT_EQ(template_load("dir", dirs, &t, NULL), -EISDIR);
        ASSERT_EQ(template_load("x", (const char *const[]) { NULL }, &t, NULL), -ENOENT);
        ASSERT_TRUE(t == NULL);

        ASSERT_OK(template_list(dirs, &list));
        ASSERT_EQ(strv_length(list), 3);
        ASSERT_STREQ(list[0], "dir");
        ASSERT_STREQ(list[1], "x");
        ASSERT_STREQ(list[2], "y");
}

TEST(debootstrap_argv) {
        _cleanup_(template_freep) Template *t = NULL;
        _cleanup_strv_free_ char **argv = NULL;

        ASSERT_OK(parse_string("[Template]\nSuite=bookworm\nVariant=minbase\nComponents=main contrib\n"
                               "Include=systemd dbus\n",
                               &t, NULL));
        ASSERT_OK(template_debootstrap_argv(t, "/var/lib/machines/.#x", "http://mirror.invalid/debian", &argv));
        ASSERT_EQ(strv_length(argv), 7);
        ASSERT_STREQ(argv[0], "debootstrap");
        ASSERT_STREQ(argv[1], "--variant=minbase");
        ASSERT_STREQ(argv[2], "--components=main,contrib");
        ASSERT_STREQ(argv[3], "--include=systemd,dbus");
        ASSERT_STREQ(argv[4], "bookworm");
        ASSERT_STREQ(argv[5], "/var/lib/machines/.#x");
        ASSERT_STREQ(argv[6], "http://mirror.invalid/debian");
        argv = strv_free(argv);

        ASSERT_EQ(template_debootstrap_argv(t, "", "http://m", &argv), -EINVAL);
        ASSERT_EQ(template_debootstrap_argv(t, "/x", "", &argv), -EINVAL);
        ASSERT_EQ(template_debootstrap_argv(t, "/x", "--keyring=/tmp/k", &argv), -EINVAL);
        ASSERT_EQ(template_debootstrap_argv(t, "-x", "http://m", &argv), -EINVAL);
        t = template_free(t);

        /* No Include=: no --include= at all. */
        ASSERT_OK(parse_string("[Template]\nSuite=sid\nVariant=minbase\n", &t, NULL));
        ASSERT_OK(template_debootstrap_argv(t, "/x", "http://m", &argv));
        ASSERT_EQ(strv_length(argv), 6);
        ASSERT_STREQ(argv[3], "sid");
}

/* ---- post setup ---- */

static const char networkd_template[] = "[Template]\nSuite=bookworm\nVariant=minbase\n"
                                        "[PostSetup]\nMachineId=empty\nRootLogin=console pts\n"
                                        "Network=networkd\n";

/* A tree shaped like a merged-/usr debootstrap result, as far as post setup cares. */
static int make_tree(const char *base, char **ret_root) {
        _cleanup_free_ char *root = strjoin(base, "/root");
        int r;

        if (!root)
                return -ENOMEM;
        if ((r = mkdir_at(base, "root")) < 0 || (r = mkdir_at(root, "usr")) < 0 ||
            (r = mkdir_at(root, "usr/lib")) < 0 || (r = mkdir_at(root, "usr/lib/systemd")) < 0 ||
            (r = mkdir_at(root, "usr/lib/systemd/system")) < 0 || (r = symlink_at("usr/lib", root, "lib")) < 0 ||
            (r = mkdir_at(root, "etc")) < 0 || (r = mkdir_at(root, "var")) < 0 ||
            (r = mkdir_at(root, "var/lib")) < 0 || (r = mkdir_at(root, "var/lib/dbus")) < 0)
                return r;
        if ((r = write_at(root, "usr/lib/systemd/system/systemd-networkd.service", "[Unit]\n")) < 0 ||
            (r = write_at(root, "usr/lib/systemd/system/systemd-networkd.socket", "[Unit]\n")) < 0 ||
            (r = write_at(root, "usr/lib/systemd/system/systemd-resolved.service", "[Unit]\n")) < 0 ||
            (r = write_at(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n")) < 0 ||
            (r = write_at(root, "var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n")) < 0 ||
            (r = write_at(root, "etc/hostname", "buildhost\n")) < 0 ||
            (r = write_at(root, "etc/resolv.conf", "nameserver 127.0.0.53\n")) < 0 ||
            (r = write_at(root, "etc/securetty", "# ttys\nconsole\ntty1")) < 0)
                return r;
        *ret_root = TAKE_PTR(root);
        return 0;
}

static int open_dir(const char *p) {
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* What every post setup test starts from: make_tree() in a scratch dir, a template and
 * an fd of the tree's root. */
typedef struct TestTree {
        char *dir;
        char *root;
        Template *template;
        int fd;
} TestTree;

static void test_tree_done(TestTree *tree) {
        safe_close(tree->fd);
        template_free(tree->template);
        free(tree->root);
        rm_rf_freep(&tree->dir);
}

static int test_tree_setup(TestTree *tree, const char *template_text) {
        int r;

        tree->dir = scratch();
        if (!tree->dir)
                return -ENOMEM;
        r = make_tree(tree->dir, &tree->root);
        if (r < 0)
                return r;
        r = parse_string(template_text, &tree->template, NULL);
        if (r < 0)
                return r;
        tree->fd = open_dir(tree->root);
        return tree->fd < 0 ? tree->fd : 0;
}

/* A file under a directory with the contents it should have, or a symlink with its
 * target. */
typedef struct FileWant {
        const char *path;
        const char *contents;
        const char *target;
} FileWant;

/* Prints the first file that is not as wanted, so the failed assertion names it. */
static bool files_match(const char *dir, const FileWant *want, size_t n) {
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *c = want[i].target ? readlink_at(dir, want[i].path)
                                                        : read_at(dir, want[i].path);
                const char *w = want[i].target ?: want[i].contents;

                if (!c || !streq(c, w)) {
                        fprintf(stderr, "%s/%s: \"%s\", expected \"%s\"\n", dir, want[i].path, strna(c), w);
                        return false;
                }
        }
        return true;
}

static void post_setup_impl(int *_failed_, bool fallback) {
        static const FileWant want[] = {
                { "etc/hostname", "mybox\n" },
                { "etc/machine-id", "" },
                { "var/lib/dbus/machine-id", .target = "/etc/machine-id" },
                { "etc/systemd/system/multi-user.target.wants/systemd-networkd.service",
                  .target = "/usr/lib/systemd/system/systemd-networkd.service" },
                { "etc/systemd/system/sockets.target.wants/systemd-networkd.socket",
                  .target = "/usr/lib/systemd/system/systemd-networkd.socket" },
                { "etc/systemd/system/dbus-org.freedesktop.network1.service",
                  .target = "/usr/lib/systemd/system/systemd-networkd.service" },
                { "etc/systemd/system/sysinit.target.wants/systemd-resolved.service",
                  .target = "/usr/lib/systemd/system/systemd-resolved.service" },
                { "etc/systemd/system/dbus-org.freedesktop.resolve1.service",
                  .target = "/usr/lib/systemd/system/systemd-resolved.service" },
                { "etc/resolv.conf", .target = "../run/systemd/resolve/stub-resolv.conf" },
        };
        template_set_openat2_enabled(!fallback);
        _cleanup_(test_tree_done) TestTree tree = { .fd = -EBADF };
        const char *root = NULL;
        _cleanup_free_ char *c = NULL;

        ASSERT_OK(test_tree_setup(&tree, networkd_template));
        root = tree.root;
        ASSERT_OK(template_post_setup(tree.template, tree.fd, "mybox"));

        ASSERT_TRUE(files_match(root, want, ELEMENTSOF(want)));
        ASSERT_EQ(lmode_at(root, "etc/machine-id") & 07777, 0444);

        /* console was there already: not added twice; the missing newline is mended. */
        c = read_at(root, "etc/securetty");
        ASSERT_TRUE(startswith(c, "# ttys\nconsole\ntty1\npts/0\npts/1\n"));
        ASSERT_TRUE(strstr(c, "\npts/31\n"));
        ASSERT_EQ(count_lines(c, "console"), 1);
        ASSERT_EQ(count_lines(c, "pts/7"), 1);
        free(c);

        c = read_at(root, "etc/systemd/network/80-nspawnctl-container.network");
        ASSERT_TRUE(c && strstr(c, "Name=host0\n") && strstr(c, "DHCP=yes\n") && !strstr(c, "eth"));
        free(c);
        c = NULL;

        /* Running it again changes nothing and fails on nothing. */
        ASSERT_OK(template_post_setup(tree.template, tree.fd, "mybox"));
        c = read_at(root, "etc/securetty");
        ASSERT_EQ(count_lines(c, "pts/0"), 1);
        ASSERT_EQ(count_lines(c, "console"), 1);
}

TEST(post_setup_keep_and_hostname) {
        static const FileWant want[] = {
                { "etc/hostname", "fixed.example\n" },
                { "etc/machine-id", "uninitialized\n" },
                /* RootLogin= and Network= unset: untouched. */
                { "etc/securetty", "# ttys\nconsole\ntty1" },
        };
        _cleanup_(test_tree_done) TestTree tree = { .fd = -EBADF };
        _cleanup_free_ char *c = NULL;

        ASSERT_OK(test_tree_setup(&tree, "[Template]\nSuite=sid\nVariant=minbase\n"
                                         "[PostSetup]\nHostname=fixed.example\nMachineId=uninitialized\n"));
        ASSERT_OK(template_post_setup(tree.template, tree.fd, "image"));
        ASSERT_TRUE(files_match(tree.root, want, ELEMENTSOF(want)));
        ASSERT_TRUE(S_ISREG(lmode_at(tree.root, "etc/resolv.conf")));
        ASSERT_EQ(lmode_at(tree.root, "etc/systemd"), 0);

        tree.template = template_free(tree.template);
        ASSERT_OK(parse_string("[Template]\nSuite=sid\nVariant=minbase\n", &tree.template, NULL));
        ASSERT_EQ(template_post_setup(tree.template, tree.fd, "../etc"), -EINVAL);
        ASSERT_EQ(template_post_setup(tree.template, tree.fd, "-x"), -EINVAL);
        ASSERT_EQ(template_post_setup(tree.template, tree.fd, NULL), -EINVAL);
        ASSERT_EQ(template_post_setup(tree.template, -1, "x"), -EINVAL);
        c = read_at(tree.root, "etc/hostname");
        ASSERT_STREQ(c, "fixed.example\n");
}

TEST(post_setup_missing_units) {
        _cleanup_(test_tree_done) TestTree tree = { .fd = -EBADF };

        ASSERT_OK(test_tree_setup(&tree, networkd_template));
        ASSERT_OK(unlink_at(tree.root, "usr/lib/systemd/system/systemd-resolved.service"));
        ASSERT_EQ(template_post_setup(tree.template, tree.fd, "x"), -ENOENT);
}

/* Symlinks in the tree that point at the host must not carry a single write out of it. */
static void post_setup_symlinks_stay_inside_impl(int *_failed_, bool fallback) {
        static const FileWant want_outside[] = {
                { "hostname", "host\n" },
                { "securetty", "host\n" },
        };
        template_set_openat2_enabled(!fallback);
        _cleanup_(test_tree_done) TestTree tree = { .fd = -EBADF };
        _cleanup_free_ char *outside = NULL, *c = NULL, *abs_outside = NULL;
        const char *d, *root;

        ASSERT_OK(test_tree_setup(&tree, networkd_template));
        d = tree.dir;
        root = tree.root;
        ASSERT_OK(mkdir_at(d, "outside"));
        outside = strjoin(d, "/outside");
        abs_outside = strjoin(outside, "/hostname");
        ASSERT_TRUE(outside && abs_outside);
        ASSERT_OK(write_at(outside, "hostname", "host\n"));
        ASSERT_OK(write_at(outside, "securetty", "host\n"));

        /* Final components that are symlinks to host files: replaced, never written through. */
        ASSERT_OK(unlink_at(root, "etc/hostname"));
        ASSERT_OK(symlink_at(abs_outside, root, "etc/hostname"));
        ASSERT_OK(unlink_at(root, "etc/machine-id"));
        ASSERT_OK(symlink_at("../../../../../../../../outside/hostname", root, "etc/machine-id"));
        /* A directory on the way that leads out, by an absolute symlink. In the container
         * it means <root>/<outside>, so that is where the files must land. */
        ASSERT_OK(symlink_at(outside, root, "etc/systemd"));
        {
                _cleanup_free_ char *inner = strjoin(root, outside);
                ASSERT_TRUE(inner);
                for (char *s = inner + strlen(root) + 1; (s = strchr(s, '/')); s++) {
                        *s = 0;
                        ASSERT_OK(mkdir(inner, 0755) < 0 && errno != EEXIST ? -errno : 0);
                        *s = '/';
                }
                ASSERT_OK(mkdir(inner, 0755) < 0 ? -errno : 0);
        }

        if (fallback)
                /* Without openat2 every symlink on the way is refused. */
                ASSERT_TRUE(template_post_setup(tree.template, tree.fd, "inside") < 0);
        else
                ASSERT_OK(template_post_setup(tree.template, tree.fd, "inside"));

        ASSERT_TRUE(files_match(outside, want_outside, ELEMENTSOF(want_outside)));
        ASSERT_EQ(lmode_at(outside, "network"), 0);
        ASSERT_EQ(lmode_at(outside, "system"), 0);
        ASSERT_TRUE(S_ISREG(lmode_at(root, "etc/hostname")));
        c = read_at(root, "etc/hostname");
        ASSERT_STREQ(c, "inside\n");
        free(c);
        c = NULL;
        if (fallback)
                return;
        /* etc/systemd resolved as the container would: to <root>/<d>/outside. */
        c = strjoin(root, outside, "/network/80-nspawnctl-container.network");
        ASSERT_TRUE(c);
        ASSERT_TRUE(access(c, F_OK) == 0);
}

TEST(post_setup_dangling_symlink) {
        _cleanup_(test_tree_done) TestTree tree = { .fd = -EBADF };
        _cleanup_free_ char *outside = NULL;

        ASSERT_OK(test_tree_setup(&tree, networkd_template));
        ASSERT_OK(mkdir_at(tree.dir, "outside"));
        outside = strjoin(tree.dir, "/outside");
        ASSERT_TRUE(outside);
        /* Exists on the host, not in the tree: refused, not created on either side. */
        ASSERT_OK(symlink_at(outside, tree.root, "etc/systemd"));
        ASSERT_TRUE(template_post_setup(tree.template, tree.fd, "x") < 0);
        ASSERT_EQ(lmode_at(outside, "network"), 0);
        ASSERT_EQ(lmode_at(outside, "system"), 0);
        ASSERT_TRUE(S_ISLNK(lmode_at(tree.root, "etc/systemd")));
}

TEST(post_setup_etc_symlink_outside) {
        _cleanup_rm_rf_ char *d = scratch();
        _cleanup_(template_freep) Template *t = NULL;
        _cleanup_free_ char *root = NULL, *outside = NULL, *etc = NULL;
        _cleanup_close_ int fd = -EBADF;

        ASSERT_TRUE(d);
        ASSERT_OK(mkdir_at(d, "root"));
        ASSERT_OK(mkdir_at(d, "outside"));
        root = strjoin(d, "/root");
        outside = strjoin(d, "/outside");
        etc = strjoin(root, "/etc");
        ASSERT_TRUE(root && outside && etc);
        ASSERT_OK(symlink(outside, etc) == 0 ? 0 : -errno);

        ASSERT_OK(parse_string("[Template]\nSuite=sid\nVariant=minbase\n[PostSetup]\nMachineId=empty\n", &t, NULL));
        ASSERT_OK(fd = open_dir(root));
        /* /etc points nowhere inside the tree: refused rather than created on the host. */
        ASSERT_TRUE(template_post_setup(t, fd, "x") < 0);
        ASSERT_EQ(lmode_at(outside, "hostname"), 0);
        ASSERT_EQ(lmode_at(outside, "machine-id"), 0);
}

/* ---- apt mirror ---- */

typedef struct MirrorCase {
        const char *contents;
        const char *mirror; /* NULL: -ENOENT */
} MirrorCase;

/* Whether parse finds the mirror the case wants (or -ENOENT); prints the entry if not. */
static bool mirror_case_passes(int (*parse)(const char *contents, char **ret), const MirrorCase *c,
                               size_t i) {
        _cleanup_free_ char *m = NULL;
        int r = parse(c->contents, &m);

        if (c->mirror ? r >= 0 && streq(m, c->mirror) : r == -ENOENT)
                return true;
        fprintf(stderr, "entry %zu: r=%d mirror=%s\n", i, r, strna(m));
        return false;
}

static const MirrorCase deb822_table[] = {
        { "", NULL },
        { "Types: deb\nURIs: http://deb.mirror.example/debian\nSuites: bookworm bookworm-updates\n"
          "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
          "Types: deb\nURIs: http://deb.mirror.example/debian-security\nSuites: bookworm-security\n"
          "Components: main\n",
          "http://deb.mirror.example/debian" },
        /* security first: skipped */
        { "Types: deb\nURIs: http://security.example/debian-security\nSuites: trixie-security\nComponents: main\n\n"
          "Types: deb\nURIs: https://mirror.example/debian/\nSuites: trixie\nComponents: main contrib\n",
          "https://mirror.example/debian/" },
        /* deb-src only, disabled, cdrom, third-party and Ubuntu stanzas are skipped */
        { "Types: deb-src\nURIs: http://a.example/debian\nSuites: sid\nComponents: main\n\n"
          "Enabled: no\nTypes: deb\nURIs: http://b.example/debian\nSuites: sid\nComponents: main\n\n"
          "Types: deb\nURIs: cdrom:[Debian GNU/Linux]/\nSuites: bookworm\nComponents: main\n\n"
          "Types: deb\nURIs: https://download.example/linux/debian\nSuites: bookworm\nComponents: stable\n\n"
          "Types: deb\nURIs: http://archive.example/ubuntu\nSuites: noble\nComponents: main\n\n"
          "Types: deb deb-src\nURIs: http://c.example/debian\nSuites: unstable\nComponents: main\n",
          "http://c.example/debian" },
        /* comments, case-insensitive field names, continuation lines, CRLF, no final newline */
        { "# a comment\ntypes: deb\nuris:\n http://d.example/debian\n http://e.example/debian\n"
          "suites: stable\r\ncomponents: main\r\nEnabled: yes",
          "http://d.example/debian" },
        /* URI of an unusable scheme, then a usable one */
        { "Types: deb\nURIs: mirror+file:/etc/apt/mirrors.txt ftp://f.example/debian\nSuites: testing\nComponents: main\n",
          "ftp://f.example/debian" },
        { "Types: deb\nURIs: http://g.example/debian\nSuites: bookworm\n", NULL }, /* no components */
        { "Types: deb\nURIs: http://g.example/debian\nSuites: bookworm\nComponents: contrib\n", NULL },
        { "Types: deb\nSuites: bookworm\nComponents: main\n", NULL },
        { "garbage\n\n\n:::\n", NULL },
        { "Types: deb\nURIs: http://h.example/debian\nSuites: bookworm bookworm-security\nComponents: main\n", NULL },
};

TEST(apt_mirror_deb822) {
        for (size_t i = 0; i < ELEMENTSOF(deb822_table); i++)
                ASSERT_TRUE(mirror_case_passes(apt_mirror_from_deb822, &deb822_table[i], i));
}

static const MirrorCase one_line_table[] = {
        { "", NULL },
        { "deb http://deb.mirror.example/debian bookworm main\n", "http://deb.mirror.example/debian" },
        { "deb http://security.mirror.example/debian-security bookworm-security main\n"
          "deb http://deb.mirror.example/debian bookworm main contrib\n",
          "http://deb.mirror.example/debian" },
        { "# deb http://commented.example/debian sid main\n"
          "deb-src http://src.example/debian sid main\n"
          "deb cdrom:[Debian]/ bookworm main\n"
          "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://download.example/linux/debian bookworm stable\n"
          "deb [ arch=amd64 ] http://i.example/debian trixie main # trailing comment\n",
          "http://i.example/debian" },
        { "deb [trusted=yes] file:///srv/mirror/debian sid main\n", "file:///srv/mirror/debian" },
        { "deb http://j.example/debian bookworm\n", NULL },
        { "deb http://archive.example/ubuntu noble main\n", NULL },
        { "deb [arch=amd64 http://k.example/debian bookworm main\n", NULL },
        { "deb\n", NULL },
        { "   deb    http://l.example/debian   stable-updates   main   \n", "http://l.example/debian" },
};

TEST(apt_mirror_one_line) {
        for (size_t i = 0; i < ELEMENTSOF(one_line_table); i++)
                ASSERT_TRUE(mirror_case_passes(apt_mirror_from_one_line, &one_line_table[i], i));
}

TEST(host_apt_mirror_at) {
        _cleanup_rm_rf_ char *d = scratch();
        _cleanup_free_ char *m = NULL, *sld = NULL;

        ASSERT_TRUE(d);
        ASSERT_EQ(host_apt_mirror_at(d, &m), -ENOENT);

        /* One-line files: sources.list before sources.list.d/ *.list. */
        ASSERT_OK(mkdir_at(d, "sources.list.d"));
        sld = strjoin(d, "/sources.list.d");
        ASSERT_TRUE(sld);
        ASSERT_OK(write_at(sld, "z.list", "deb http://list-d.example/debian sid main\n"));
        ASSERT_OK(host_apt_mirror_at(d, &m));
        ASSERT_STREQ(m, "http://list-d.example/debian");
        free(m);
        ASSERT_OK(write_at(d, "sources.list", "deb http://list.example/debian sid main\n"));
        ASSERT_OK(host_apt_mirror_at(d, &m));
        ASSERT_STREQ(m, "http://list.example/debian");
        free(m);

        /* deb822 wins over both; files in name order; unusable files skipped. */
        ASSERT_OK(write_at(sld, "b.sources", "Types: deb\nURIs: http://b.example/debian\nSuites: sid\nComponents: main\n"));
        ASSERT_OK(write_at(sld, "a.sources", "Types: deb\nURIs: http://a.example/ubuntu\nSuites: noble\nComponents: main\n"));
        ASSERT_OK(write_at(sld, "c.sources", "Types: deb\nURIs: http://c.example/debian\nSuites: sid\nComponents: main\n"));
        ASSERT_OK(write_at(sld, "b.sources.disabled", "Types: deb\nURIs: http://x.example/debian\nSuites: sid\nComponents: main\n"));
        ASSERT_OK(host_apt_mirror_at(d, &m));
        ASSERT_STREQ(m, "http://b.example/debian");
        free(m);
        m = NULL;

        ASSERT_EQ(host_apt_mirror_at("/nonexistent", &m), -ENOENT);
        ASSERT_TRUE(m == NULL);
}

TEST(post_setup) {
        post_setup_impl(_failed_, false);
}

TEST(post_setup_fallback) {
        post_setup_impl(_failed_, true);
        template_set_openat2_enabled(true);
}

TEST(post_setup_symlinks_stay_inside) {
        post_setup_symlinks_stay_inside_impl(_failed_, false);
}

TEST(post_setup_symlinks_stay_inside_fallback) {
        post_setup_symlinks_stay_inside_impl(_failed_, true);
        template_set_openat2_enabled(true);
}
