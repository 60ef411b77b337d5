/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "machined-api.h"
#include "util/escape.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

const char *bus_state_dir(const char *arg) {
        const char *e;

        if (!isempty(arg))
                return arg;
        e = getenv("NSPAWNCTL_STATE_DIR");
        return isempty(e) ? "/run/nspawnctl" : e;
}

int bus_parse_state_dir(const char *arg, const char **ret) {
        if (isempty(arg)) {
                log_error("--state-dir= needs a directory.");
                return -EINVAL;
        }
        *ret = arg;
        return 0;
}

static bool name_reachable(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int has = 0, r;

        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "NameHasOwner", NULL, &reply, "s",
                               MACHINED_BUS_NAME);
        if (r >= 0 && sd_bus_message_read(reply, "b", &has) >= 0 && has)
                return true;
        reply = sd_bus_message_unref(reply);

        /* Not running but activatable through units/org.nspawnctl.machined1.service. */
        r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "ListActivatableNames", NULL, &reply,
                               NULL);
        if (r < 0 || sd_bus_message_enter_container(reply, 'a', "s") < 0)
                return false;
        for (;;) {
                const char *n;
                if (sd_bus_message_read(reply, "s", &n) <= 0)
                        return false;
                if (streq(n, MACHINED_BUS_NAME))
                        return true;
        }
}

/* D-Bus addresses escape everything but a few safe characters as %XX. */
static char *address_escape(const char *path) {
        char *r = malloc(strlen(path) * 3 + 1), *t = r;
        if (!r)
                return NULL;
        for (const char *f = path; *f; f++) {
                if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-", *f))
                        *t++ = *f;
                else
                        t += sprintf(t, "%%%02x", (unsigned char) *f);
        }
        *t = 0;
        return r;
}

static int connect_private(const char *state_dir, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *path = strjoin(state_dir, "/private"), *esc = NULL, *addr = NULL;
        int r;

        if (!path)
                return -ENOMEM;
        esc = address_escape(path);
        if (!esc)
                return -ENOMEM;
        addr = strjoin("unix:path=", esc);
        if (!addr)
                return -ENOMEM;
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, addr);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int bus_connect_machined(const char *state_dir, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r >= 0 && name_reachable(bus)) {
                *ret = TAKE_PTR(bus);
                return 0;
        }
        bus = sd_bus_flush_close_unref(bus);

        r = connect_private(state_dir, &bus);
        if (r >= 0) {
                *ret = TAKE_PTR(bus);
                return 0;
        }
        if (r == -EACCES || r == -EPERM) {
                log_error_errno(r, "machined is not on the system bus, and its private socket %s/private "
                                "is for root only.", state_dir);
                return EXIT_PERMISSION;
        }
        log_error("machined is not running (no %s on the system bus, no %s/private).",
                  MACHINED_BUS_NAME, state_dir);
        return EXIT_NO_SERVICE;
}

int bus_call_machined(sd_bus *bus, const char *path, const char *interface, const char *member,
                      uint64_t timeout_usec, const char *what, sd_bus_message **ret_reply,
                      const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, MACHINED_BUS_NAME, path, interface, member);
        if (r < 0)
                goto fail;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        goto fail;
        }
        r = sd_bus_call(bus, m, timeout_usec, &error, &reply);
        if (r < 0)
                goto fail;
        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;

fail:
        if (!what)
                ; /* the caller copes with the failure itself */
        else if (sd_bus_error_is_set(&error))
                log_error("Failed to %s: %s", what, error.message ?: error.name);
        else
                log_error_errno(r, "Failed to %s: %m", what);
        return exit_status_from_bus_error(&error, r < 0 ? r : -EIO);
}

static int read_property(sd_bus_message *m, const BusProperty *p, void *data) {
        void *field = (uint8_t *) data + p->offset;
        const char *s;
        int r;

        if (p->read)
                return p->read(m, field);
        if (streq(p->signature, "s")) {
                char **v = field;
                r = sd_bus_message_read(m, "v", "s", &s);
                if (r < 0)
                        return r;
                free(*v);
                *v = strdup(s);
                return *v ? 0 : -ENOMEM;
        }
        if (streq(p->signature, "as")) {
                char ***v = field;
                r = sd_bus_message_enter_container(m, 'v', "as");
                if (r < 0)
                        return r;
                *v = strv_free(*v);
                r = sd_bus_message_read_strv(m, v);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }
        /* "b", "u", "t": the field has the type sd-bus reads them into. */
        return sd_bus_message_read(m, "v", p->signature, field);
}

int bus_get_properties(sd_bus *bus, const char *path, const char *interface, const char *what,
                       const BusProperty *table, void *data) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = bus_call_machined(bus, path, "org.freedesktop.DBus.Properties", "GetAll", 0, what, &reply, "s",
                              interface);
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const BusProperty *p;
                const char *key;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                for (p = table; p->name && !streq(p->name, key); p++)
                        ;
                r = p->name ? read_property(reply, p, data) : sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : 0;
}

void json_print_string(const char *s) {
        json_write_string(stdout, s);
}

char *cescape_for_message(const char *s) {
        return escape_terminal(s, 80, ESCAPE_BACKSLASH);
}

int log_invalid(const char *what, const char *value, const char *hint) {
        _cleanup_free_ char *e = cescape_for_message(value);
        log_error("Invalid %s '%s'%s", what, strna(e), hint);
        return EXIT_USAGE;
}
