/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "macro.h"
#include "names.h"
#include "tests.h"

/* 64 and 65 bytes, built from valid labels so that only the length decides. */
#define N63 "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij" "abc"
#define N64 N63 "d"
#define N65 N64 "e"
#define D64 "abcdefghij.bcdefghij.bcdefghij.bcdefghij.bcdefghij.bcdefghij.bcd"

static const struct {
        const char *name;
        bool machine;
        bool image;
} name_table[] = {
        /* good */
        { "a", true, true },
        { "A", true, true },
        { "0", true, true },
        { "foo", true, true },
        { "foo-bar", true, true },
        { "a-b-c", true, true },
        { "a--b", true, true },
        { "Debian12", true, true },
        { "foo.bar", true, true },
        { "foo.bar.baz", true, true },
        { "a.b.c.d", true, true },
        { "1.2.3.4", true, true },
        { "x-1.y-2", true, true },
        { N63, true, true },
        { N64, true, true },
        { D64, true, true },
        /* empty and dots */
        { "", false, false },
        { ".", false, false },
        { "..", false, false },
        { "...", false, false },
        { ".foo", false, false },
        { "foo.", false, false },
        { "a..b", false, false },
        { "a...b", false, false },
        { ".hidden", false, false },
        { ".#foo", false, false },
        { ".#", false, false },
        { ".base-debian", false, false },
        /* path tricks */
        { "../etc", false, false },
        { "..", false, false },
        { "a/b", false, false },
        { "/", false, false },
        { "/etc", false, false },
        { "foo/", false, false },
        { "./foo", false, false },
        /* hyphens */
        { "-", false, false },
        { "-x", false, false },
        { "x-", false, false },
        { "--", false, false },
        { "a.-b", false, false },
        { "a-.b", false, false },
        { "a.b-", false, false },
        { "-a.b", false, false },
        /* length */
        { N65, false, false },
        { N64 ".a", false, false },
        { D64 "x", false, false },
        { N64 N64 N64 N64, false, false },
        /* other characters */
        { "foo bar", false, false },
        { " foo", false, false },
        { "foo ", false, false },
        { "foo\tbar", false, false },
        { "foo\nbar", false, false },
        { "foo\rbar", false, false },
        { "\x01", false, false },
        { "a\x1b[31m", false, false },
        { "foo\x7f", false, false },
        { "foo_bar", false, false },
        { "foo:bar", false, false },
        { "foo@bar", false, false },
        { "foo*", false, false },
        { "foo?", false, false },
        { "$(id)", false, false },
        { "`id`", false, false },
        { "foo;bar", false, false },
        { "foo\\bar", false, false },
        { "foo'bar", false, false },
        { "foo\"bar", false, false },
        { "foo%2fbar", false, false },
        { "~root", false, false },
        /* UTF-8, valid and not */
        { "caf\xc3\xa9", false, false },
        { "\xc3\xa9", false, false },
        { "\xe2\x80\x8b", false, false },          /* zero width space */
        { "a\xef\xbc\x8e" "b", false, false },     /* fullwidth full stop */
        { "\xff", false, false },
        { "a\x80", false, false },
        { "\xc0\xae\xc0\xae", false, false },      /* overlong ".." */
        { "foo\xc3", false, false },
        { "\xed\xa0\x80", false, false },          /* surrogate */
};

TEST(name_table) {
        for (size_t i = 0; i < ELEMENTSOF(name_table); i++) {
                bool m = machine_name_is_valid(name_table[i].name);
                bool im = image_name_is_valid(name_table[i].name);
                if (m != name_table[i].machine || im != name_table[i].image)
                        fprintf(stderr, "entry %zu \"%s\": machine=%d image=%d\n", i,
                                name_table[i].name, m, im);
                ASSERT_EQ(m, name_table[i].machine);
                ASSERT_EQ(im, name_table[i].image);
        }
}

TEST(name_lengths) {
        char buf[200];

        ASSERT_EQ(strlen(N64), 64);
        ASSERT_EQ(strlen(N65), 65);
        ASSERT_EQ(strlen(D64), 64);

        /* Every length from 1 to 199: valid exactly up to 64 bytes. */
        for (size_t n = 1; n < sizeof buf; n++) {
                memset(buf, 'x', n);
                buf[n] = 0;
                ASSERT_EQ(machine_name_is_valid(buf), n <= 64);
                ASSERT_EQ(image_name_is_valid(buf), n <= 64);
        }
}

TEST(name_every_byte) {
        /* Each byte value alone and in the middle of a name. */
        for (int c = 1; c < 256; c++) {
                char one[2] = { (char) c, 0 };
                char mid[4] = { 'a', (char) c, 'b', 0 };
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9');

                ASSERT_EQ(machine_name_is_valid(one), alnum);
                ASSERT_EQ(machine_name_is_valid(mid), alnum || c == '-' || c == '.');
                ASSERT_EQ(image_name_is_valid(mid), alnum || c == '-' || c == '.');
        }
}

TEST(name_null) {
        ASSERT_FALSE(machine_name_is_valid(NULL));
        ASSERT_FALSE(image_name_is_valid(NULL));
}

TEST(env_and_user_names) {
        static const char *const good_env[] = { "A=1", "_x=", "PATH=/bin:/usr/bin", "a_9=b=c" };
        static const char *const bad_env[] = { "", "=x", "1A=x", "A-B=x", "A B=x", "NOEQUALS", "\xff=x" };
        static const char *const good_user[] = { "root", "nobody", "0", "65534", "user.name", "svc-x", "machine$" };
        static const char *const bad_user[] = { "", "-x", ".x", "a/b", "a:b", "a b", "a\nb", "a$b" };

        for (size_t i = 0; i < ELEMENTSOF(good_env); i++)
                ASSERT_TRUE(env_assignment_is_valid(good_env[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad_env); i++)
                ASSERT_FALSE(env_assignment_is_valid(bad_env[i]));
        ASSERT_FALSE(env_assignment_is_valid(NULL));
        for (size_t i = 0; i < ELEMENTSOF(good_user); i++)
                ASSERT_TRUE(user_name_is_valid(good_user[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad_user); i++)
                ASSERT_FALSE(user_name_is_valid(bad_user[i]));
        char longname[300];
        memset(longname, 'a', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        ASSERT_FALSE(user_name_is_valid(longname));
}
