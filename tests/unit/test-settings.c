/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "macro.h"
#include "resolv-conf.h"
#include "settings.h"
#include "settings-ports.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

static int parse_string(const char *text, SettingsTrust trust, Settings **ret, Error *e,
                        char ***ret_warnings) {
        _cleanup_fclose_ FILE *f = NULL;

        /* fmemopen() refuses a zero size. */
        f = fmemopen((void *) (text[0] ? text : "\n"), text[0] ? strlen(text) : 1, "r");
        if (!f)
                return -errno;
        return settings_parse(f, "test.nspawn", trust, ret, e, ret_warnings);
}

/* Whether the warnings are exactly want (NULL-terminated); prints the first difference. */
static bool warnings_are(char *const *w, const char *const *want) {
        size_t i;

        for (i = 0; want[i]; i++)
                if (!w || !w[i] || !streq(w[i], want[i])) {
                        fprintf(stderr, "warning %zu: \"%s\", expected \"%s\"\n", i, w ? strna(w[i]) : "n/a",
                                want[i]);
                        return false;
                }
        if (w && w[i]) {
                fprintf(stderr, "warning %zu: \"%s\" not expected\n", i, w[i]);
                return false;
        }
        return true;
}

static const struct {
        const char *path;
        bool safe;
} path_table[] = {
        { "/", true },
        { "/a", true },
        { "/srv/data", true },
        { "/a/b/c.d/e-f_g", true },
        { "/.hidden", true },
        { "/a/..b", true },
        { "/a/b..", true },
        { "/a/...", true },
        { "/a b", true },
        { "/caf\xc3\xa9", true },
        { "", false },
        { "a", false },
        { "a/b", false },
        { "./a", false },
        { "../a", false },
        { "//", false },
        { "//a", false },
        { "/a//b", false },
        { "/a/", false },
        { "/.", false },
        { "/..", false },
        { "/a/.", false },
        { "/a/..", false },
        { "/a/./b", false },
        { "/a/../b", false },
        { "/../etc", false },
        { "/a\nb", false },
        { "/a\tb", false },
        { "/a\x01", false },
        { "/a\x7f", false },
        { "/a\x1b[0m", false },
        { "/\xff", false },
        { "/a\xc3", false },
        { "~/a", false },
        { "+/a", false },
};

TEST(path_is_safe_absolute) {
        char buf[PATH_MAX + 2];

        for (size_t i = 0; i < ELEMENTSOF(path_table); i++) {
                if (path_is_safe_absolute(path_table[i].path) != path_table[i].safe)
                        fprintf(stderr, "entry %zu \"%s\"\n", i, path_table[i].path);
                ASSERT_EQ(path_is_safe_absolute(path_table[i].path), path_table[i].safe);
        }
        ASSERT_FALSE(path_is_safe_absolute(NULL));

        /* PATH_MAX counts the terminating NUL: PATH_MAX - 1 bytes are the most. */
        buf[0] = '/';
        memset(buf + 1, 'a', PATH_MAX - 2);
        buf[PATH_MAX - 1] = 0;
        ASSERT_TRUE(path_is_safe_absolute(buf));
        buf[PATH_MAX - 1] = 'a';
        buf[PATH_MAX] = 0;
        ASSERT_FALSE(path_is_safe_absolute(buf));
}

static const struct {
        const char *spec;
        int ret;
        const char *source;
        const char *destination;
        bool recursive;
} bind_table[] = {
        { "/srv", 0, "/srv", "/srv", true },
        { "/srv:/mnt", 0, "/srv", "/mnt", true },
        { "/srv:/mnt:rbind", 0, "/srv", "/mnt", true },
        { "/srv:/mnt:norbind", 0, "/srv", "/mnt", false },
        { "/:/host", 0, "/", "/host", true },
        { "/a b:/c d", 0, "/a b", "/c d", true },
        { "", -EINVAL, NULL, NULL, false },
        { ":", -EINVAL, NULL, NULL, false },
        { "::", -EINVAL, NULL, NULL, false },
        { "srv", -EINVAL, NULL, NULL, false },
        { "srv:/mnt", -EINVAL, NULL, NULL, false },
        { "/srv:mnt", -EINVAL, NULL, NULL, false },
        { "/srv:", -EINVAL, NULL, NULL, false },
        { ":/mnt", -EINVAL, NULL, NULL, false },
        { "/srv::norbind", -EINVAL, NULL, NULL, false },
        { "/srv:/mnt:", -EINVAL, NULL, NULL, false },
        { "/srv:/mnt:ro", -EINVAL, NULL, NULL, false },
        { "/srv:/mnt:rbind,norbind", -EINVAL, NULL, NULL, false },
        { "/srv:/mnt:norbind:x", -EINVAL, NULL, NULL, false },
        { "/srv:/mnt:RBIND", -EINVAL, NULL, NULL, false },
        { "/../etc:/mnt", -EINVAL, NULL, NULL, false },
        { "/srv:/../../etc", -EINVAL, NULL, NULL, false },
        { "/srv:/mnt/..", -EINVAL, NULL, NULL, false },
        { "/srv/./x:/mnt", -EINVAL, NULL, NULL, false },
        { "/srv//x:/mnt", -EINVAL, NULL, NULL, false },
        { "/srv:/mnt/", -EINVAL, NULL, NULL, false },
        { "/srv\n:/mnt", -EINVAL, NULL, NULL, false },
        { "/srv:/mnt\x01", -EINVAL, NULL, NULL, false },
        { "+/srv:/mnt", -EINVAL, NULL, NULL, false },
};

static const struct {
        const char *spec;
        int ret;
        bool recursive;
        BindIdmap idmap;
        const char *formatted;
} bind_options_table[] = {
        {"/srv:/mnt", 0, true, BIND_IDMAP_DEFAULT, "/srv:/mnt"},
        {"/srv:/mnt:idmap", 0, true, BIND_IDMAP_DEFAULT, "/srv:/mnt"},
        {"/srv:/mnt:noidmap", 0, true, BIND_IDMAP_NONE, "/srv:/mnt:noidmap"},
        {"/srv:/mnt:rootidmap", 0, true, BIND_IDMAP_ROOT, "/srv:/mnt:rootidmap"},
        {"/srv:/mnt:owneridmap", 0, true, BIND_IDMAP_OWNER, "/srv:/mnt:owneridmap"},
        {"/srv:/mnt:norbind,owneridmap", 0, false, BIND_IDMAP_OWNER, "/srv:/mnt:norbind,owneridmap"},
        {"/srv:/mnt:owneridmap,rbind", 0, true, BIND_IDMAP_OWNER, "/srv:/mnt:owneridmap"},
        {"/srv:/mnt:norbind", 0, false, BIND_IDMAP_DEFAULT, "/srv:/mnt:norbind"},
        {"/srv:/mnt:idmap,noidmap", -EINVAL, false, 0, NULL},
        {"/srv:/mnt:rootidmap,rootidmap", -EINVAL, false, 0, NULL},
        {"/srv:/mnt:norbind,", -EINVAL, false, 0, NULL},
        {"/srv:/mnt:,idmap", -EINVAL, false, 0, NULL},
        {"/srv:/mnt:norbind,,idmap", -EINVAL, false, 0, NULL},
        {"/srv:/mnt:IDMAP", -EINVAL, false, 0, NULL},
        {"/srv:/mnt:shift", -EINVAL, false, 0, NULL},
        {"/srv:/mnt:idmap:x", -EINVAL, false, 0, NULL},
};

TEST(bind_mount_options) {
        for (size_t i = 0; i < ELEMENTSOF(bind_options_table); i++) {
                BindMount b = {}, c = {};
                char *f = NULL;
                int r = bind_mount_parse(bind_options_table[i].spec, false, &b);

                if (r != bind_options_table[i].ret)
                        fprintf(stderr, "entry %zu \"%s\": %d\n", i, bind_options_table[i].spec, r);
                ASSERT_EQ(r, bind_options_table[i].ret);
                if (r < 0)
                        continue;
                ASSERT_EQ(b.recursive, bind_options_table[i].recursive);
                ASSERT_EQ(b.idmap, bind_options_table[i].idmap);
                ASSERT_OK(bind_mount_format(&b, &f));
                ASSERT_STREQ(f, bind_options_table[i].formatted);
                ASSERT_OK(bind_mount_parse(f, false, &c));
                ASSERT_EQ(c.recursive, b.recursive);
                ASSERT_EQ(c.idmap, b.idmap);
                free(f);
                bind_mount_done(&b);
                bind_mount_done(&c);
        }
}

TEST(bind_mount_parse) {
        for (size_t i = 0; i < ELEMENTSOF(bind_table); i++) {
                BindMount b = {};
                int r;

                for (int ro = 0; ro <= 1; ro++) {
                        r = bind_mount_parse(bind_table[i].spec, ro, &b);
                        if (r != bind_table[i].ret)
                                fprintf(stderr, "entry %zu \"%s\": %d\n", i, bind_table[i].spec, r);
                        ASSERT_EQ(r, bind_table[i].ret);
                        if (r < 0) {
                                ASSERT_TRUE(b.source == NULL);
                                continue;
                        }
                        ASSERT_STREQ(b.source, bind_table[i].source);
                        ASSERT_STREQ(b.destination, bind_table[i].destination);
                        ASSERT_EQ(b.recursive, bind_table[i].recursive);
                        ASSERT_EQ(b.read_only, ro);
                        bind_mount_done(&b);
                        ASSERT_TRUE(b.source == NULL && b.destination == NULL);
                }
        }
}

static const struct {
        const char *in;
        int ret;
        const char *words[5];
} split_table[] = {
        { "", 0, { NULL } },
        { "   \t ", 0, { NULL } },
        { "a", 0, { "a" } },
        { "a b  c", 0, { "a", "b", "c" } },
        { "\ta\t", 0, { "a" } },
        { "\"a b\" c", 0, { "a b", "c" } },
        { "'a b' c", 0, { "a b", "c" } },
        { "a\"b c\"d", 0, { "ab cd" } },
        { "\"\"", 0, { "" } },
        { "''", 0, { "" } },
        { "'a \"b\"'", 0, { "a \"b\"" } },
        { "\"a 'b'\"", 0, { "a 'b'" } },
        { "\"a \\\" b\"", 0, { "a \" b" } },
        { "'a\\b'", 0, { "a\\b" } },
        { "a\\ b", 0, { "a b" } },
        { "--foo=\"bar baz\" -x", 0, { "--foo=bar baz", "-x" } },
        { "\"a", -EINVAL, { NULL } },
        { "'a", -EINVAL, { NULL } },
        { "a\"", -EINVAL, { NULL } },
        { "a \"b' c", -EINVAL, { NULL } },
        { "a\\", -EINVAL, { NULL } },
};

TEST(split_quoted) {
        for (size_t i = 0; i < ELEMENTSOF(split_table); i++) {
                _cleanup_strv_free_ char **l = NULL;
                size_t n = 0;
                int r = split_quoted(split_table[i].in, &l);

                if (r != split_table[i].ret)
                        fprintf(stderr, "entry %zu [%s]: %d\n", i, split_table[i].in, r);
                ASSERT_EQ(r, split_table[i].ret);
                if (r < 0)
                        continue;
                while (split_table[i].words[n])
                        n++;
                ASSERT_EQ(strv_length(l), n);
                for (size_t j = 0; j < n; j++)
                        ASSERT_STREQ(l[j], split_table[i].words[j]);
        }
}

TEST(settings_empty) {
        static const char *const empty_files[] = {
                "",
                "\n\n\n",
                "# comment\n; comment\n",
                "[Exec]\n",
                "[Exec]\n[Files]\n[Network]\n",
                "\xef\xbb\xbf[Exec]\n",
                "   # indented comment\n\t\n",
        };

        for (size_t i = 0; i < ELEMENTSOF(empty_files); i++) {
                _cleanup_(settings_freep) Settings *s = NULL;
                _cleanup_strv_free_ char **w = NULL;

                ASSERT_OK(parse_string(empty_files[i], SETTINGS_TRUSTED, &s, NULL, &w));
                ASSERT_EQ(s->boot, -1);
                ASSERT_EQ(s->read_only, -1);
                ASSERT_EQ(s->private_network, -1);
                ASSERT_TRUE(!s->parameters && !s->environment && !s->user && !s->working_directory);
                ASSERT_TRUE(!s->binds && s->n_binds == 0 && !s->tmpfs);
                ASSERT_EQ(strv_length(w), 0);
        }
}

TEST(settings_full) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;

        ASSERT_OK(parse_string("# A complete file\n"
                               "[Exec]\n"
                               "Boot = yes\n"
                               "Parameters=/bin/sh -c \"echo hello world\"\n"
                               "Environment=FOO=bar\n"
                               "Environment=  EMPTY=\n"
                               "Environment=WITH_EQ=a=b\n"
                               "Environment=FOO=baz\n"
                               "User=builder\n"
                               "WorkingDirectory=/home/builder\n"
                               "\n"
                               "[Files]\n"
                               "ReadOnly=no\n"
                               "Bind=/srv/src:/src\n"
                               "BindReadOnly=/etc/ssl:/etc/ssl:norbind\n"
                               "TemporaryFileSystem=/tmp\n"
                               "TemporaryFileSystem=/var/tmp:mode=0755,size=10M\n"
                               "\n"
                               "[Network]\n"
                               "Private=true\n",
                               SETTINGS_TRUSTED, &s, &e, &w));
        ASSERT_FALSE(error_is_set(&e));
        ASSERT_EQ(strv_length(w), 0);
        ASSERT_EQ(s->boot, 1);
        ASSERT_EQ(strv_length(s->parameters), 3);
        ASSERT_STREQ(s->parameters[0], "/bin/sh");
        ASSERT_STREQ(s->parameters[2], "echo hello world");
        ASSERT_EQ(strv_length(s->environment), 3);
        ASSERT_STREQ(strv_env_get(s->environment, "FOO"), "baz");
        ASSERT_STREQ(strv_env_get(s->environment, "EMPTY"), "");
        ASSERT_STREQ(strv_env_get(s->environment, "WITH_EQ"), "a=b");
        ASSERT_STREQ(s->user, "builder");
        ASSERT_STREQ(s->working_directory, "/home/builder");
        ASSERT_EQ(s->read_only, 0);
        ASSERT_EQ(s->n_binds, 2);
        ASSERT_STREQ(s->binds[0].source, "/srv/src");
        ASSERT_STREQ(s->binds[0].destination, "/src");
        ASSERT_FALSE(s->binds[0].read_only);
        ASSERT_TRUE(s->binds[0].recursive);
        ASSERT_STREQ(s->binds[1].source, "/etc/ssl");
        ASSERT_TRUE(s->binds[1].read_only);
        ASSERT_FALSE(s->binds[1].recursive);
        ASSERT_EQ(strv_length(s->tmpfs), 2);
        ASSERT_STREQ(s->tmpfs[0], "/tmp");
        ASSERT_STREQ(s->tmpfs[1], "/var/tmp:mode=0755,size=10M");
        ASSERT_EQ(s->private_network, 1);
}

TEST(settings_override_and_reset) {
        _cleanup_(settings_freep) Settings *s = NULL;

        ASSERT_OK(parse_string("[Exec]\n"
                               "Boot=yes\n"
                               "Boot=no\n"
                               "Parameters=a b\n"
                               "Parameters=c\n"
                               "Environment=A=1\n"
                               "Environment=\n"
                               "Environment=B=2\n"
                               "User=a\n"
                               "User=\n"
                               "[Files]\n"
                               "Bind=/a\n"
                               "Bind=\n"
                               "Bind=/b\n"
                               "ReadOnly=yes\n"
                               "ReadOnly=\n",
                               SETTINGS_TRUSTED, &s, NULL, NULL));
        ASSERT_EQ(s->boot, 0);
        ASSERT_EQ(strv_length(s->parameters), 1);
        ASSERT_STREQ(s->parameters[0], "c");
        ASSERT_EQ(strv_length(s->environment), 1);
        ASSERT_STREQ(s->environment[0], "B=2");
        ASSERT_TRUE(s->user == NULL);
        ASSERT_EQ(s->n_binds, 1);
        ASSERT_STREQ(s->binds[0].source, "/b");
        ASSERT_EQ(s->read_only, -1);
}

static const struct {
        const char *text;
        const char *error; /* the full expected message, or a prefix ending in '*' */
} bad_table[] = {
        { "[Exec\n", "test.nspawn:1: unterminated section header" },
        { "\n\n[Exec\nBoot=yes\n", "test.nspawn:3: unterminated section header" },
        { "[]\n", "test.nspawn:1: invalid section name*" },
        { "[Ex ec]\n", "test.nspawn:1: invalid section name*" },
        { "[Exec] x\n", "test.nspawn:1: unterminated section header" },
        { "[Exec]\nBoot\n", "test.nspawn:2: expected KEY=VALUE*" },
        { "[Exec]\n\n# c\nBoot yes\n", "test.nspawn:4: expected KEY=VALUE*" },
        { "[Exec]\n=yes\n", "test.nspawn:2: invalid key name*" },
        { "[Exec]\nBo ot=yes\n", "test.nspawn:2: invalid key name*" },
        { "[Exec]\nBoot=maybe\n", "test.nspawn:2: invalid boolean value \"maybe\" for Boot=" },
        { "[Files]\nReadOnly=2\n", "test.nspawn:2: invalid boolean*" },
        { "[Network]\nPrivate=yess\n", "test.nspawn:2: invalid boolean*" },
        { "[Exec]\nEnvironment=FOO\n", "test.nspawn:2: Environment= assignment \"FOO\" lacks '='" },
        { "[Exec]\nEnvironment==x\n", "test.nspawn:2: invalid environment variable name*" },
        { "[Exec]\nEnvironment=1A=x\n", "test.nspawn:2: invalid environment variable name*" },
        { "[Exec]\nEnvironment=A B=x\n", "test.nspawn:2: invalid environment variable name*" },
        { "[Exec]\nEnvironment=A-B=x\n", "test.nspawn:2: invalid environment variable name*" },
        { "[Exec]\nParameters=\"unbalanced\n", "test.nspawn:2: unbalanced quotes*" },
        { "[Exec]\nUser=-root\n", "test.nspawn:2: invalid user name*" },
        { "[Exec]\nUser=a/b\n", "test.nspawn:2: invalid user name*" },
        { "[Exec]\nUser=a:b\n", "test.nspawn:2: invalid user name*" },
        { "[Exec]\nUser=a b\n", "test.nspawn:2: invalid user name*" },
        { "[Exec]\nWorkingDirectory=home\n", "test.nspawn:2: WorkingDirectory= path*" },
        { "[Exec]\nWorkingDirectory=/home/../etc\n", "test.nspawn:2: WorkingDirectory= path*" },
        { "[Files]\nBind=relative\n", "test.nspawn:2: invalid bind mount specification*" },
        { "[Files]\nBind=/a:relative\n", "test.nspawn:2: invalid bind mount specification*" },
        { "[Files]\nBind=/a:/b:ro\n", "test.nspawn:2: invalid bind mount specification*" },
        { "[Files]\nBind=/../etc:/x\n", "test.nspawn:2: invalid bind mount specification*" },
        { "[Files]\nBindReadOnly=/x:/../../etc\n", "test.nspawn:2: invalid bind mount specification*" },
        { "[Files]\nTemporaryFileSystem=tmp\n", "test.nspawn:2: TemporaryFileSystem= path*" },
        { "[Files]\nTemporaryFileSystem=/tmp/..\n", "test.nspawn:2: TemporaryFileSystem= path*" },
        { "[Files]\nTemporaryFileSystem=/tmp:\n", "test.nspawn:2: invalid mount options*" },
        { "[Files]\nTemporaryFileSystem=/tmp:a b\n", "test.nspawn:2: invalid mount options*" },
        { "[Exec]\nUser=a\x01\n", "test.nspawn:2: control character in line" },
        { "[Exec]\nUser=a\rb\n", "test.nspawn:2: control character in line" },
        { "[Exec]\nUser=\xff\n", "test.nspawn:2: invalid UTF-8" },
        { "[Exec]\nUser=a\xc3\n", "test.nspawn:2: invalid UTF-8" },
};

static bool error_matches(const char *got, const char *want) {
        size_t n = strlen(want);

        if (!got)
                return false;
        if (n > 0 && want[n - 1] == '*')
                return strneq(got, want, n - 1);
        return streq(got, want);
}

TEST(settings_bad) {
        for (size_t i = 0; i < ELEMENTSOF(bad_table); i++) {
                for (int trust = 0; trust <= 1; trust++) {
                        _cleanup_(settings_freep) Settings *s = NULL;
                        _cleanup_strv_free_ char **w = NULL;
                        _cleanup_(error_done) Error e = ERROR_NULL;
                        int r;

                        /* Privileged keys are not even parsed in an untrusted file. */
                        if (trust == SETTINGS_UNTRUSTED &&
                            (strstr(bad_table[i].text, "Bind") || strstr(bad_table[i].text, "Temporary") ||
                             strstr(bad_table[i].text, "Private")))
                                continue;

                        r = parse_string(bad_table[i].text, trust, &s, &e, &w);
                        if (r != -EBADMSG || !error_matches(e.message, bad_table[i].error))
                                fprintf(stderr, "entry %zu: r=%d error=\"%s\"\n", i, r, strna(e.message));
                        ASSERT_EQ(r, -EBADMSG);
                        ASSERT_TRUE(error_matches(e.message, bad_table[i].error));
                        ASSERT_TRUE(s == NULL);
                        ASSERT_TRUE(w == NULL);
                }
        }
}

TEST(settings_nul_and_long_lines) {
        static const char nul[] = "[Exec]\nUser=a\0b\n";
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;
        _cleanup_free_ char *big = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 70 * 1024;

        f = fmemopen((void *) nul, sizeof nul - 1, "r");
        ASSERT_TRUE(f);
        ASSERT_EQ(settings_parse(f, "nul.nspawn", SETTINGS_TRUSTED, &s, &e, NULL), -EBADMSG);
        ASSERT_STREQ(e.message, "nul.nspawn:2: NUL byte in line");
        error_done(&e);

        big = malloc(n + 32);
        ASSERT_TRUE(big);
        strcpy(big, "[Exec]\n# ");
        memset(big + 9, 'x', n);
        strcpy(big + 9 + n, "\n");
        ASSERT_EQ(parse_string(big, SETTINGS_TRUSTED, &s, &e, NULL), -EBADMSG);
        ASSERT_STREQ(e.message, "test.nspawn:2: line too long");
}

TEST(settings_crlf) {
        _cleanup_(settings_freep) Settings *s = NULL;

        ASSERT_OK(parse_string("[Exec]\r\nBoot=on\r\nUser=root\r\n", SETTINGS_TRUSTED, &s, NULL, NULL));
        ASSERT_EQ(s->boot, 1);
        ASSERT_STREQ(s->user, "root");
}

TEST(settings_no_trailing_newline) {
        _cleanup_(settings_freep) Settings *s = NULL;

        ASSERT_OK(parse_string("[Exec]\nBoot=on", SETTINGS_TRUSTED, &s, NULL, NULL));
        ASSERT_EQ(s->boot, 1);
}

TEST(settings_warnings) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_strv_free_ char **w = NULL;

        ASSERT_OK(parse_string("Boot=yes\n"
                               "[Exec]\n"
                               "Bogus=CAP_SYS_ADMIN\n"
                               "Boot=yes\n"
                               "[Unknown]\n"
                               "Foo=bar\n"
                               "Anything goes=here?\n"
                               "[Network]\n"
                               "VirtualEthernet=yes\n"
                               "NotAKey=eth0\n",
                               SETTINGS_TRUSTED, &s, NULL, &w));
        ASSERT_EQ(s->boot, 1);
        ASSERT_TRUE(warnings_are(w, (const char *const[]) {
                "test.nspawn:1: assignment Boot= outside of any section, ignoring",
                "test.nspawn:3: unknown key Bogus= in section [Exec], ignoring",
                "test.nspawn:5: unknown section [Unknown], ignoring",
                "test.nspawn:10: unknown key NotAKey= in section [Network], ignoring",
                NULL,
        }));
}

static const char privileged_file[] =
        "[Exec]\n"
        "Boot=yes\n"
        "[Files]\n"
        "ReadOnly=yes\n"
        "Bind=/:/host\n"
        "BindReadOnly=/etc/shadow\n"
        "TemporaryFileSystem=/tmp\n"
        "Bind=garbage that would not parse\n"
        "[Network]\n"
        "Private=no\n";

TEST(settings_untrusted) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_strv_free_ char **w = NULL;

        ASSERT_OK(parse_string(privileged_file, SETTINGS_UNTRUSTED, &s, NULL, &w));
        ASSERT_EQ(s->boot, 1);
        ASSERT_EQ(s->read_only, 1);
        ASSERT_EQ(s->n_binds, 0);
        ASSERT_TRUE(s->binds == NULL);
        ASSERT_TRUE(s->tmpfs == NULL);
        ASSERT_EQ(s->private_network, -1);
        ASSERT_TRUE(warnings_are(w, (const char *const[]) {
                "test.nspawn:5: ignoring privileged setting Bind= in untrusted file",
                "test.nspawn:6: ignoring privileged setting BindReadOnly= in untrusted file",
                "test.nspawn:7: ignoring privileged setting TemporaryFileSystem= in untrusted file",
                "test.nspawn:8: ignoring privileged setting Bind= in untrusted file",
                "test.nspawn:10: ignoring privileged setting Private= in untrusted file",
                NULL,
        }));
}

TEST(settings_trusted) {
        _cleanup_(settings_freep) Settings *s = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;

        /* The same file is refused when trusted, because then the garbage is parsed. */
        ASSERT_EQ(parse_string(privileged_file, SETTINGS_TRUSTED, &s, &e, NULL), -EBADMSG);
        ASSERT_TRUE(startswith(e.message, "test.nspawn:8: invalid bind mount specification"));
}

TEST(settings_private_users) {
        static const char file[] = "[Exec]\nPrivateUsers=no\n";
        _cleanup_(settings_freep) Settings *s = NULL, *t = NULL, *u = NULL, *v = NULL, *n = NULL;
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;

        /* An image's own file may not turn the user namespace off. */
        ASSERT_OK(parse_string(file, SETTINGS_UNTRUSTED, &s, NULL, &w));
        ASSERT_EQ(s->private_users.mode, _PRIVATE_USERS_MODE_INVALID);
        ASSERT_TRUE(warnings_are(
                w, (const char *const[]){
                           "test.nspawn:2: ignoring privileged setting PrivateUsers= in untrusted file",
                           NULL}));
        ASSERT_OK(parse_string(file, SETTINGS_TRUSTED, &t, NULL, NULL));
        ASSERT_EQ(t->private_users.mode, PRIVATE_USERS_NO);
        ASSERT_OK(parse_string(
                "[Exec]\nPrivateUsers=pick\nPrivateUsers=1000:10\n", SETTINGS_TRUSTED, &u, NULL, NULL));
        ASSERT_EQ(u->private_users.mode, PRIVATE_USERS_FIXED);
        ASSERT_EQ(u->private_users.shift, 1000);
        ASSERT_EQ(u->private_users.range, 10);
        ASSERT_OK(
                parse_string("[Exec]\nPrivateUsers=yes\nPrivateUsers=\n", SETTINGS_TRUSTED, &v, NULL, NULL));
        ASSERT_EQ(v->private_users.mode, _PRIVATE_USERS_MODE_INVALID);
        ASSERT_OK(parse_string("[Exec]\n", SETTINGS_TRUSTED, &n, NULL, NULL));
        ASSERT_EQ(n->private_users.mode, _PRIVATE_USERS_MODE_INVALID);
        Settings *x = NULL;
        ASSERT_EQ(parse_string("[Exec]\nPrivateUsers=1000:0\n", SETTINGS_TRUSTED, &x, &e, NULL), -EBADMSG);
        ASSERT_TRUE(startswith(e.message, "test.nspawn:2: invalid value \"1000:0\" for PrivateUsers="));
}

static char *load_dir;

/* Runs on every way out of the test, also a failed assertion. */
static void load_dir_cleanup(char **file) {
        if (!load_dir)
                return;
        (void) unlinkat(AT_FDCWD, *file, 0);
        free(*file);
        *file = strjoin(load_dir, "/fifo.nspawn");
        if (*file)
                (void) unlinkat(AT_FDCWD, *file, 0);
        (void) rmdir(load_dir);
        free(*file);
}

TEST(settings_load) {
        char dir[] = "/tmp/test-settings-XXXXXX";
        _cleanup_(load_dir_cleanup) char *file = NULL;
        _cleanup_(error_done) Error e = ERROR_NULL;
        _cleanup_free_ char *fifo = NULL;
        _cleanup_strv_free_ char **w = NULL;
        Settings *s = NULL;

        ASSERT_TRUE(mkdtemp(dir));
        load_dir = dir;
        file = strjoin(dir, "/m.nspawn");
        fifo = strjoin(dir, "/fifo.nspawn");
        ASSERT_TRUE(file && fifo);

        {
                int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                ASSERT_TRUE(fd >= 0);
                ASSERT_OK(loop_write(fd, "[Exec]\nBoot=yes\nFoo=1\n", 22));
                close(fd);
        }
        ASSERT_OK(settings_load(file, SETTINGS_TRUSTED, &s, &e, &w));
        ASSERT_EQ(s->boot, 1);
        ASSERT_EQ(strv_length(w), 1);
        ASSERT_TRUE(startswith(w[0], file));
        ASSERT_TRUE(endswith(w[0], ":3: unknown key Foo= in section [Exec], ignoring"));
        s = settings_free(s);

        ASSERT_EQ(settings_load(dir, SETTINGS_TRUSTED, &s, &e, NULL), -EISDIR);
        ASSERT_OK(mkfifo(fifo, 0600));
        ASSERT_EQ(settings_load(fifo, SETTINGS_TRUSTED, &s, &e, NULL), -EBADFD);
        ASSERT_TRUE(s == NULL && !error_is_set(&e));

        unlink(fifo);
        unlink(file);
        ASSERT_EQ(settings_load(file, SETTINGS_TRUSTED, &s, &e, NULL), -ENOENT);
}

TEST(tmpfs_spec) {
        static const char *const good[] = { "/srv", "/srv:mode=0755", "/var/tmp:size=10%,mode=1777" };
        static const char *const bad[] = { "", "srv", "/srv:", "/a/../b", "/srv:mode=0755;rm", "/srv:a b", "//x" };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ASSERT_TRUE(tmpfs_spec_is_valid(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_FALSE(tmpfs_spec_is_valid(bad[i]));
}

TEST(settings_network) {
        _cleanup_(settings_freep) Settings *s = NULL, *u = NULL;
        _cleanup_strv_free_ char **w = NULL;
        char buf[PORT_FORWARD_STRLEN];

        ASSERT_OK(parse_string("[Exec]\nResolvConf=copy-host\n"
                               "[Network]\nVirtualEthernet=yes\nBridge=br0\nZone=lab\n"
                               "Port=8080:80\nPort=udp:53\nPort=\nPort=tcp:2222:22\nPort=443\n",
                               SETTINGS_TRUSTED, &s, NULL, NULL));
        ASSERT_EQ(s->virtual_ethernet, 1);
        ASSERT_STREQ(s->bridge, "br0");
        ASSERT_STREQ(s->zone, "lab");
        ASSERT_EQ(s->resolv_conf, RESOLV_CONF_COPY_HOST);
        /* An empty Port= resets the list. */
        ASSERT_EQ(s->n_ports, 2);
        ASSERT_STREQ(port_forward_to_string(&s->ports[0], buf), "tcp:2222:22");
        ASSERT_STREQ(port_forward_to_string(&s->ports[1], buf), "tcp:443:443");

        /* Untrusted: the whole [Network] section is privileged. */
        ASSERT_OK(parse_string("[Network]\nVirtualEthernet=yes\nBridge=br0\nZone=lab\nPort=80\n"
                               "[Exec]\nResolvConf=off\n",
                               SETTINGS_UNTRUSTED, &u, NULL, &w));
        ASSERT_EQ(u->virtual_ethernet, -1);
        ASSERT_TRUE(!u->bridge && !u->zone && u->n_ports == 0);
        ASSERT_EQ(u->resolv_conf, RESOLV_CONF_OFF);
        ASSERT_EQ(strv_length(w), 4);

        static const char *const bad[] = {
                "[Network]\nPort=0\n", "[Network]\nPort=65536\n", "[Network]\nPort=tcp:\n",
                "[Network]\nPort=sctp:80\n", "[Network]\nPort=80\nPort=80:81\n", "[Network]\nBridge=a/b\n",
                "[Network]\nBridge=0123456789abcdef\n", "[Network]\nZone=thirteen-char\n",
                "[Network]\nZone=a.b\n", "[Network]\nVirtualEthernet=maybe\n", "[Exec]\nResolvConf=copy\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(settings_freep) Settings *x = NULL;
                _cleanup_(error_done) Error e = ERROR_NULL;
                ASSERT_EQ(parse_string(bad[i], SETTINGS_TRUSTED, &x, &e, NULL), -EBADMSG);
                ASSERT_TRUE(e.message && strstr(e.message, "test.nspawn:"));
        }
}

TEST(settings_ports_edit) {
        PortForward p[2];
        ASSERT_OK(port_forward_parse("8080:80", &p[0]));
        ASSERT_OK(port_forward_parse("udp:53", &p[1]));
        static const struct {
                const char *in;
                size_t n;
                const char *out;
        } t[] = {
                { NULL, 2, "[Network]\nPort=tcp:8080:80\nPort=udp:53:53\n" },
                { "", 1, "[Network]\nPort=tcp:8080:80\n" },
                { "[Exec]\nBoot=yes\n", 1, "[Exec]\nBoot=yes\n\n[Network]\nPort=tcp:8080:80\n" },
                { "# comment\n[Network]\nPort=1\nZone=lab\n  Port = 2\n[Files]\nBind=/a\n", 2,
                  "# comment\n[Network]\nZone=lab\nPort=tcp:8080:80\nPort=udp:53:53\n[Files]\nBind=/a\n" },
                { "[Network]\nPort=1\n[Exec]\nPort=keep\n[Network]\nPort=3\n", 1,
                  "[Network]\nPort=tcp:8080:80\n[Exec]\nPort=keep\n[Network]\n" },
                { "[Network]\nPort=1\nPorts=x\n", 0, "[Network]\nPorts=x\n" },
                { "[Network]\nPort=1", 0, "[Network]\n" },
                { "[Exec]\nBoot=yes\n", 0, "[Exec]\nBoot=yes\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_free_ char *out = NULL;
                ASSERT_OK(settings_text_set_ports(t[i].in, p, t[i].n, &out));
                ASSERT_STREQ(out, t[i].out);
                /* and it parses back with exactly those forwards */
                _cleanup_(settings_freep) Settings *s = NULL;
                ASSERT_OK(parse_string(out, SETTINGS_TRUSTED, &s, NULL, NULL));
                ASSERT_EQ(s->n_ports, t[i].n);
        }
}
