/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libmount and libblkid calls of core/, resolved when first made instead of when a
 * program starts, as api/sd-bus-lazy.c does for libsystemd. Linked in place of -lmount and
 * -lblkid: libmount brings libblkid, libselinux and libpcre2 along, and mapping and
 * relocating the four costs every exec 1.1 ms on the test VM. Only the pool's checks of
 * what is mounted where (pool.c, image-create.c) need them; `nspawnctl run`, a supervisor
 * and most verbs never do.
 *
 * Each call looks the library up again (util/lazy-lib.h). Only the calls listed here exist:
 * one the code starts to use fails at link time until it is added. */
#include <blkid/blkid.h>
#include <dlfcn.h> /* RTLD_NOLOAD */
#include <errno.h>
#include <libmount/libmount.h>
#include <stddef.h>

#include "util/lazy-lib.h"

#define LIBMOUNT_SONAME "libmount.so.1"
#define LIBBLKID_SONAME "libblkid.so.1"

/* A call that returns an int: -EOPNOTSUPP when the library cannot be loaded. */
#define LAZY_INT(lib, name, params, args)                                                  \
        int name params {                                                                  \
                typeof(name) *f = lazy_lib_sym(lib, #name, 0);                                 \
                return f ? f args : -EOPNOTSUPP;                                           \
        }
/* A call that returns an object or a string of the library's: there is none without it. */
#define LAZY_PTR(lib, type, name, params, args)                                            \
        type name params {                                                                 \
                typeof(name) *f = lazy_lib_sym(lib, #name, 0);                                 \
                return f ? f args : NULL;                                                  \
        }
/* A free: nothing to free unless the library is loaded. */
#define LAZY_FREE(lib, name, type)                                                         \
        void name(type p) {                                                                \
                typeof(name) *f = p ? lazy_lib_sym(lib, #name, RTLD_NOLOAD) : NULL;            \
                if (f)                                                                     \
                        f(p);                                                              \
        }

LAZY_PTR(LIBMOUNT_SONAME, struct libmnt_table *, mnt_new_table, (void), ())
LAZY_FREE(LIBMOUNT_SONAME, mnt_unref_table, struct libmnt_table *)
LAZY_INT(LIBMOUNT_SONAME, mnt_table_parse_mtab, (struct libmnt_table *tb, const char *filename), (tb, filename))
LAZY_PTR(LIBMOUNT_SONAME, struct libmnt_fs *, mnt_table_find_target,
         (struct libmnt_table *tb, const char *path, int direction), (tb, path, direction))
LAZY_INT(LIBMOUNT_SONAME, mnt_table_next_fs, (struct libmnt_table *tb, struct libmnt_iter *itr, struct libmnt_fs **fs),
         (tb, itr, fs))
LAZY_PTR(LIBMOUNT_SONAME, struct libmnt_iter *, mnt_new_iter, (int direction), (direction))
LAZY_FREE(LIBMOUNT_SONAME, mnt_free_iter, struct libmnt_iter *)
LAZY_PTR(LIBMOUNT_SONAME, const char *, mnt_fs_get_source, (struct libmnt_fs *fs), (fs))
LAZY_PTR(LIBMOUNT_SONAME, const char *, mnt_fs_get_target, (struct libmnt_fs *fs), (fs))
LAZY_PTR(LIBMOUNT_SONAME, const char *, mnt_fs_get_fstype, (struct libmnt_fs *fs), (fs))

LAZY_PTR(LIBBLKID_SONAME, blkid_probe, blkid_new_probe, (void), ())
LAZY_FREE(LIBBLKID_SONAME, blkid_free_probe, blkid_probe)
LAZY_INT(LIBBLKID_SONAME, blkid_probe_set_device, (blkid_probe pr, int fd, blkid_loff_t off, blkid_loff_t size),
         (pr, fd, off, size))
LAZY_INT(LIBBLKID_SONAME, blkid_probe_enable_superblocks, (blkid_probe pr, int enable), (pr, enable))
LAZY_INT(LIBBLKID_SONAME, blkid_probe_set_superblocks_flags, (blkid_probe pr, int flags), (pr, flags))
LAZY_INT(LIBBLKID_SONAME, blkid_do_safeprobe, (blkid_probe pr), (pr))
LAZY_INT(LIBBLKID_SONAME, blkid_probe_lookup_value, (blkid_probe pr, const char *name, const char **data, size_t *len),
         (pr, name, data, len))
