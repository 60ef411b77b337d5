/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>

#include "tests.h"

static bool libsystemd_loaded(void) {
        void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_NOLOAD);
        if (h)
                dlclose(h);
        return h != NULL;
}

/* One test: whether the library is loaded is the process's state, so the steps go in order. */
TEST(loaded_on_first_use) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_error named = SD_BUS_ERROR_MAKE_CONST("org.example.Error", "text");
        sd_bus_message *m = NULL;
        sd_bus *bus = NULL;
        const char *s = NULL;

        /* Linked against the stubs, not libsystemd: nothing is loaded before a call. The
         * error checks work on the public fields without loading it. */
        ASSERT_FALSE(libsystemd_loaded());
        ASSERT_FALSE(sd_bus_error_is_set(&e));
        ASSERT_TRUE(sd_bus_error_is_set(&named));
        ASSERT_TRUE(sd_bus_error_has_name(&named, "org.example.Error"));
        ASSERT_FALSE(sd_bus_error_has_name(&named, "org.example.Other"));
        ASSERT_FALSE(sd_bus_error_has_name(NULL, "org.example.Error"));
        /* A _cleanup_(sd_bus_error_free) on an error never used: nothing to load for it. */
        sd_bus_error_free(&e);
        ASSERT_FALSE(libsystemd_loaded());

        /* The first real call loads it, and the calls go through to it, the variadic ones
         * included. */
        ASSERT_OK(sd_bus_new(&bus));
        ASSERT_TRUE(libsystemd_loaded());
        ASSERT_OK(sd_bus_set_address(bus, "unix:path=/nonexistent/bus"));
        ASSERT_TRUE(sd_bus_start(bus) < 0);
        if (sd_bus_message_new_method_call(bus, &m, "org.example", "/", "org.example.I", "M") >= 0) {
                ASSERT_OK(sd_bus_message_append(m, "s", "x"));
                m = sd_bus_message_unref(m);
        }
        ASSERT_TRUE(m == NULL);
        ASSERT_TRUE(sd_bus_call_method(bus, "org.example", "/", "org.example.I", "M", &e, NULL, "s", "x") < 0);
        sd_bus_error_free(&e);
        ASSERT_FALSE(sd_bus_error_is_set(&e));
        ASSERT_TRUE(sd_bus_message_read(NULL, "s", &s) < 0);
        ASSERT_TRUE(sd_bus_flush_close_unref(bus) == NULL);
}
