/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sd-bus calls of the CLI and of nspawnctl-supervisor, resolved when first made instead
 * of when the program starts. Linked in place of -lsystemd: libsystemd and what it pulls in
 * (libgcrypt, libgpg-error, liblzma, libzstd, liblz4) are mapped and relocated only by a
 * program that talks to a bus. `nspawnctl run`, and a supervisor on a host without
 * systemd-machined, never do; on a small VM that load costs about 3 ms per start, a tenth
 * of what starting a container takes.
 *
 * Each call looks the library up again (util/lazy-lib.h). Only the calls listed here exist:
 * one the code starts to use fails at link time until it is added. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "util/lazy-lib.h"

#define LIBSYSTEMD_SONAME "libsystemd.so.0"

static void *lazy_sym_flags(const char *name, int flags) {
        return lazy_lib_sym(LIBSYSTEMD_SONAME, name, flags);
}

static void *lazy_sym(const char *name) {
        return lazy_sym_flags(name, 0);
}

/* A call that returns an int: -EOPNOTSUPP when libsystemd cannot be loaded. */
#define LAZY_INT(name, params, args)                                                       \
        int name params {                                                                  \
                typeof(name) *f = lazy_sym(#name);                                         \
                return f ? f args : -EOPNOTSUPP;                                           \
        }
/* A call that returns an object of the library's: there is none without it. */
#define LAZY_PTR(type, name, params, args)                                                 \
        type name params {                                                                 \
                typeof(name) *f = lazy_sym(#name);                                         \
                return f ? f args : NULL;                                                  \
        }

LAZY_INT(sd_bus_open_system, (sd_bus **ret), (ret))
LAZY_INT(sd_bus_new, (sd_bus **ret), (ret))
LAZY_INT(sd_bus_set_address, (sd_bus *bus, const char *address), (bus, address))
LAZY_INT(sd_bus_is_bus_client, (sd_bus *bus), (bus))
LAZY_INT(sd_bus_start, (sd_bus *bus), (bus))
LAZY_PTR(sd_bus *, sd_bus_flush_close_unref, (sd_bus *bus), (bus))
LAZY_INT(sd_bus_call, (sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error, sd_bus_message **reply),
         (bus, m, usec, ret_error, reply))
LAZY_INT(sd_bus_call_async,
         (sd_bus *bus, sd_bus_slot **slot, sd_bus_message *m, sd_bus_message_handler_t callback, void *userdata,
          uint64_t usec),
         (bus, slot, m, callback, userdata, usec))
LAZY_INT(sd_bus_process, (sd_bus *bus, sd_bus_message **r), (bus, r))
LAZY_INT(sd_bus_wait, (sd_bus *bus, uint64_t timeout_usec), (bus, timeout_usec))
LAZY_INT(sd_bus_flush, (sd_bus *bus), (bus))
LAZY_INT(sd_bus_set_method_call_timeout, (sd_bus *bus, uint64_t usec), (bus, usec))
LAZY_PTR(sd_bus_slot *, sd_bus_slot_unref, (sd_bus_slot *slot), (slot))
LAZY_INT(sd_bus_message_new_method_call,
         (sd_bus *bus, sd_bus_message **m, const char *destination, const char *path, const char *interface,
          const char *member),
         (bus, m, destination, path, interface, member))
LAZY_PTR(sd_bus_message *, sd_bus_message_ref, (sd_bus_message *m), (m))
LAZY_PTR(sd_bus_message *, sd_bus_message_unref, (sd_bus_message *m), (m))
LAZY_PTR(const sd_bus_error *, sd_bus_message_get_error, (sd_bus_message *m), (m))
LAZY_INT(sd_bus_message_appendv, (sd_bus_message *m, const char *types, va_list ap), (m, types, ap))
LAZY_INT(sd_bus_message_append_array, (sd_bus_message *m, char type, const void *ptr, size_t size),
         (m, type, ptr, size))
LAZY_INT(sd_bus_message_append_strv, (sd_bus_message *m, char **l), (m, l))
LAZY_INT(sd_bus_message_open_container, (sd_bus_message *m, char type, const char *contents), (m, type, contents))
LAZY_INT(sd_bus_message_close_container, (sd_bus_message *m), (m))
LAZY_INT(sd_bus_message_readv, (sd_bus_message *m, const char *types, va_list ap), (m, types, ap))
LAZY_INT(sd_bus_message_read_array, (sd_bus_message *m, char type, const void **ptr, size_t *size),
         (m, type, ptr, size))
LAZY_INT(sd_bus_message_read_strv, (sd_bus_message *m, char ***l), (m, l))
LAZY_INT(sd_bus_message_skip, (sd_bus_message *m, const char *types), (m, types))
LAZY_INT(sd_bus_message_enter_container, (sd_bus_message *m, char type, const char *contents), (m, type, contents))
LAZY_INT(sd_bus_message_exit_container, (sd_bus_message *m), (m))
LAZY_INT(sd_bus_message_peek_type, (sd_bus_message *m, char *type, const char **contents), (m, type, contents))
LAZY_INT(sd_bus_call_methodv,
         (sd_bus *bus, const char *destination, const char *path, const char *interface, const char *member,
          sd_bus_error *ret_error, sd_bus_message **reply, const char *types, va_list ap),
         (bus, destination, path, interface, member, ret_error, reply, types, ap))
LAZY_INT(sd_bus_get_property_string,
         (sd_bus *bus, const char *destination, const char *path, const char *interface, const char *member,
          sd_bus_error *ret_error, char **ret),
         (bus, destination, path, interface, member, ret_error, ret))
LAZY_INT(sd_bus_match_signal,
         (sd_bus *bus, sd_bus_slot **ret, const char *sender, const char *path, const char *interface,
          const char *member, sd_bus_message_handler_t callback, void *userdata),
         (bus, ret, sender, path, interface, member, callback, userdata))
LAZY_INT(sd_id128_from_string, (const char *s, sd_id128_t *ret), (s, ret))

/* The variadic calls go through their va_list forms. */
int sd_bus_message_append(sd_bus_message *m, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_message_read(sd_bus_message *m, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_message_readv(m, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_call_method(sd_bus *bus, const char *destination, const char *path, const char *interface,
                       const char *member, sd_bus_error *ret_error, sd_bus_message **reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_call_methodv(bus, destination, path, interface, member, ret_error, reply, types, ap);
        va_end(ap);
        return r;
}

/* An error only the library can have set: while it is not loaded there is nothing to free
 * (a _cleanup_ on an error that was never used must not load it), and the checks read the
 * public fields. */
void sd_bus_error_free(sd_bus_error *e) {
        typeof(sd_bus_error_free) *f;

        /* Unset: nothing to free, and no need to look for the library (a look with
         * RTLD_NOLOAD still searches the paths and opens the file). */
        if (!e || (!e->name && !e->message))
                return;
        f = lazy_sym_flags("sd_bus_error_free", RTLD_NOLOAD);
        if (f)
                f(e);
}

int sd_bus_error_is_set(const sd_bus_error *e) {
        return e && e->name;
}

int sd_bus_error_has_name(const sd_bus_error *e, const char *name) {
        return e && e->name && name && strcmp(e->name, name) == 0;
}
