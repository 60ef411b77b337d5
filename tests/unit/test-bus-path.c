/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "bus-path.h"
#include "machined-api.h"
#include "tests.h"
#include "util/util.h"

static const struct {
        const char *in;
        const char *out;
} escape_table[] = {
        { "", "_" },
        { "a", "a" },
        { "foo", "foo" },
        { "FooBar", "FooBar" },
        { "foo1", "foo1" },
        { "1foo", "_31foo" },
        { "0", "_30" },
        { "foo-bar", "foo_2dbar" },
        { "foo.bar", "foo_2ebar" },
        { "foo_bar", "foo_5fbar" },
        { "_", "_5f" },
        { "a/b", "a_2fb" },
        { " ", "_20" },
        { "\x01", "_01" },
        { "\xff", "_ff" },
        { "caf\xc3\xa9", "caf_c3_a9" },
        { "my-machine.example", "my_2dmachine_2eexample" },
};

TEST(machine_bus_path) {
        for (size_t i = 0; i < ELEMENTSOF(escape_table); i++) {
                _cleanup_free_ char *e = NULL;
                _cleanup_free_ char *want = strjoin(MACHINED_MACHINE_PATH_PREFIX "/", escape_table[i].out);
                ASSERT_OK(machine_bus_path(escape_table[i].in, &e));
                ASSERT_STREQ(e, want);
        }
}

TEST(bus_path_charset) {
        /* Whatever goes in, only [A-Za-z0-9_] comes out, and never empty. */
        char buf[256];
        for (int c = 1; c < 256; c++) {
                _cleanup_free_ char *e = NULL;
                buf[c - 1] = (char) c;
                buf[c] = 0;
                ASSERT_OK(image_bus_path(buf, &e));
                ASSERT_TRUE(startswith(e, MACHINED_IMAGE_PATH_PREFIX "/"));
                ASSERT_TRUE(e[STRLEN(MACHINED_IMAGE_PATH_PREFIX "/")] != 0);
                for (char *p = e + STRLEN(MACHINED_IMAGE_PATH_PREFIX "/"); *p; p++)
                        ASSERT_TRUE((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                    (*p >= '0' && *p <= '9') || *p == '_');
        }
}

TEST(image_name_round_trip) {
        for (size_t i = 1; i < ELEMENTSOF(escape_table); i++) {
                _cleanup_free_ char *p = NULL, *name = NULL;
                ASSERT_OK(image_bus_path(escape_table[i].in, &p));
                ASSERT_OK(image_name_from_bus_path(p, &name));
                ASSERT_STREQ(name, escape_table[i].in);
        }
        char *name = NULL;
        ASSERT_ERROR(image_name_from_bus_path(MACHINED_MACHINE_PATH_PREFIX "/foo", &name), ENOENT);
}
