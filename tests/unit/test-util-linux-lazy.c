/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <blkid/blkid.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"

static bool loaded(const char *soname) {
        void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
        if (h)
                dlclose(h);
        return h != NULL;
}

/* One test: whether a library is loaded is the process's state, so the steps go in order.
 * libblkid first: libmount would bring it along. */
TEST(loaded_on_first_use) {
        char path[] = "/tmp/test-util-linux-lazy.XXXXXX";
        struct libmnt_table *t;
        struct libmnt_iter *it;
        struct libmnt_fs *fs;
        blkid_probe pr;
        const char *type = NULL;
        size_t n = 0;
        int fd;

        /* Linked against core's stubs, as every program is: nothing is mapped before a call,
         * and freeing what was never made loads nothing either. */
        ASSERT_FALSE(loaded("libmount.so.1"));
        ASSERT_FALSE(loaded("libblkid.so.1"));
        ASSERT_FALSE(loaded("libselinux.so.1"));
        mnt_unref_table(NULL);
        mnt_free_iter(NULL);
        blkid_free_probe(NULL);
        ASSERT_FALSE(loaded("libmount.so.1"));
        ASSERT_FALSE(loaded("libblkid.so.1"));

        /* A probe of a file of zeros loads libblkid alone and finds no file system. */
        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        (void) unlink(path);
        ASSERT_OK(ftruncate(fd, 1024 * 1024));
        pr = blkid_new_probe();
        ASSERT_TRUE(pr != NULL);
        ASSERT_TRUE(loaded("libblkid.so.1"));
        ASSERT_FALSE(loaded("libmount.so.1"));
        ASSERT_OK(blkid_probe_set_device(pr, fd, 0, 0));
        ASSERT_OK(blkid_probe_enable_superblocks(pr, 1));
        ASSERT_OK(blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE));
        ASSERT_EQ(blkid_do_safeprobe(pr), 1);
        ASSERT_TRUE(blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0);
        blkid_free_probe(pr);
        close(fd);

        /* The mount table: "/" is mounted, and walking it finds it too. */
        t = mnt_new_table();
        ASSERT_TRUE(t != NULL);
        ASSERT_TRUE(loaded("libmount.so.1"));
        ASSERT_OK(mnt_table_parse_mtab(t, NULL));
        fs = mnt_table_find_target(t, "/", MNT_ITER_BACKWARD);
        ASSERT_TRUE(fs != NULL);
        ASSERT_STREQ(mnt_fs_get_target(fs), "/");
        ASSERT_TRUE(mnt_fs_get_fstype(fs) != NULL);
        ASSERT_TRUE(mnt_fs_get_source(fs) != NULL);
        it = mnt_new_iter(MNT_ITER_FORWARD);
        ASSERT_TRUE(it != NULL);
        while (mnt_table_next_fs(t, it, &fs) == 0)
                n++;
        ASSERT_TRUE(n > 1);
        mnt_free_iter(it);
        mnt_unref_table(t);
}
