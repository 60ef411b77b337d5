/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "bus-path.h"
#include "machine1-mode.h"
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

TEST(machine1_paths) {
        static const struct {
                const char *path;
                bool machine1;
        } table[] = {
                { "/org/freedesktop/machine1", true },
                { "/org/freedesktop/machine1/machine/foo", true },
                { "/org/freedesktop/machine1/image/_2ehost", true },
                { "/org/freedesktop/machine10", false },
                { "/org/freedesktop/machine", false },
                { "/org/nspawnctl/machined1/machine/foo", false },
                { "/", false },
                { "", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                ASSERT_EQ(bus_path_is_machine1(table[i].path), table[i].machine1);
        ASSERT_FALSE(bus_path_is_machine1(NULL));

        for (size_t i = 1; i < ELEMENTSOF(escape_table); i++)
                for (int flavor = 0; flavor < 2; flavor++) {
                        _cleanup_free_ char *m = NULL, *im = NULL, *name = NULL, *iname = NULL;
                        ASSERT_OK(machine_bus_path_full(flavor, escape_table[i].in, &m));
                        ASSERT_OK(image_bus_path_full(flavor, escape_table[i].in, &im));
                        ASSERT_EQ(bus_path_is_machine1(m), (bool) flavor);
                        ASSERT_OK(machine_name_from_bus_path(m, &name));
                        ASSERT_STREQ(name, escape_table[i].in);
                        ASSERT_OK(image_name_from_bus_path_any(im, &iname));
                        ASSERT_STREQ(iname, escape_table[i].in);
                }
        char *name = NULL;
        ASSERT_ERROR(machine_name_from_bus_path(MACHINE1_IMAGE_PATH_PREFIX "/foo", &name), ENOENT);
        ASSERT_ERROR(image_name_from_bus_path_any(MACHINE1_MACHINE_PATH_PREFIX "/foo", &name), ENOENT);
}

TEST(machine1_error_names) {
        ASSERT_STREQ(bus_error_name_to_machine1(BUS_ERROR_NO_SUCH_MACHINE), "org.freedesktop.machine1.NoSuchMachine");
        ASSERT_STREQ(bus_error_name_to_machine1(BUS_ERROR_NO_SUCH_IMAGE), "org.freedesktop.machine1.NoSuchImage");
        ASSERT_STREQ(bus_error_name_to_machine1(BUS_ERROR_NO_MACHINE_FOR_PID),
                     "org.freedesktop.machine1.NoMachineForPID");
        ASSERT_STREQ(bus_error_name_to_machine1(BUS_ERROR_MACHINE_EXISTS), "org.freedesktop.machine1.MachineExists");
        ASSERT_STREQ(bus_error_name_to_machine1(BUS_ERROR_NO_SUCH_USER_MAPPING),
                     "org.freedesktop.machine1.NoSuchUserMapping");
        ASSERT_STREQ(bus_error_name_to_machine1(BUS_ERROR_NO_SUCH_GROUP_MAPPING),
                     "org.freedesktop.machine1.NoSuchGroupMapping");
        ASSERT_TRUE(bus_error_name_to_machine1(BUS_ERROR_IMAGE_BUSY) == NULL);
        ASSERT_TRUE(bus_error_name_to_machine1("org.freedesktop.DBus.Error.Failed") == NULL);
        ASSERT_TRUE(bus_error_name_to_machine1(NULL) == NULL);
}

TEST(machine1_mode_table) {
        static const struct {
                const char *s;
                Machine1Mode m;
        } table[] = {
                { "auto", MACHINE1_AUTO }, { "yes", MACHINE1_YES }, { "no", MACHINE1_NO },
                { "", _MACHINE1_MODE_INVALID }, { "Yes", _MACHINE1_MODE_INVALID },
                { "true", _MACHINE1_MODE_INVALID }, { "auto ", _MACHINE1_MODE_INVALID },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                ASSERT_EQ(machine1_mode_from_string(table[i].s), table[i].m);
        ASSERT_EQ(machine1_mode_from_string(NULL), _MACHINE1_MODE_INVALID);
        for (Machine1Mode m = 0; m < _MACHINE1_MODE_MAX; m++)
                ASSERT_EQ(machine1_mode_from_string(machine1_mode_to_string(m)), m);
        ASSERT_TRUE(machine1_mode_to_string(_MACHINE1_MODE_MAX) == NULL);
}
