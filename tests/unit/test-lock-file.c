/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests.h"
#include "util/lock-file.h"
#include "util/util.h"

TEST(lock_file) {
        char dir[] = "/tmp/test-lock-file.XXXXXX", path[256];
        int a = -EBADF, b = -EBADF;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/lock", dir);

        ASSERT_OK(lock_file_try(path, &a));
        /* flock() locks belong to the open file: a second open conflicts even in this process. */
        ASSERT_ERROR(lock_file_try(path, &b), EEXIST);
        lock_file_release(path, a);
        ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);

        /* A file at the path that is not the one we hold is somebody else's: left alone. */
        ASSERT_OK(lock_file_try(path, &a));
        ASSERT_EQ(unlink(path), 0);
        ASSERT_OK(lock_file_try(path, &b));
        lock_file_release(path, a);
        ASSERT_EQ(access(path, F_OK), 0);
        lock_file_release(path, b);
        ASSERT_TRUE(access(path, F_OK) < 0);

        lock_file_release(path, -EBADF);
        ASSERT_ERROR(lock_file_try("/nonexistent-dir/lock", &a), ENOENT);
        ASSERT_EQ(rmdir(dir), 0);
}

