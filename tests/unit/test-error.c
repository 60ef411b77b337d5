/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "error.h"
#include "tests.h"

TEST(error_set_first_wins) {
        Error e = ERROR_NULL;

        ASSERT_FALSE(error_is_set(&e));
        ASSERT_STREQ(error_message(&e), "Success");
        ASSERT_EQ(error_set(&e, -ENOENT, "no %s: %m", "file"), -ENOENT);
        ASSERT_TRUE(error_is_set(&e));
        ASSERT_EQ(e.code, -ENOENT);
        ASSERT_STREQ(error_message(&e), "no file: No such file or directory");
        /* A later error leaves the first one, which says what went wrong first. */
        ASSERT_EQ(error_set(&e, -EIO, "later"), -EIO);
        ASSERT_EQ(e.code, -ENOENT);
        ASSERT_STREQ(error_message(&e), "no file: No such file or directory");
        error_done(&e);
        ASSERT_FALSE(error_is_set(&e));
}

TEST(error_set_code_only) {
        Error e = ERROR_NULL;

        ASSERT_EQ(error_set(&e, -EBADMSG, NULL), -EBADMSG);
        ASSERT_TRUE(error_is_set(&e));
        ASSERT_STREQ(error_message(&e), strerror(EBADMSG));
        error_done(&e);

        /* Not a negative errno: still a failure. */
        ASSERT_EQ(error_set(&e, 0, "odd"), -EIO);
        ASSERT_STREQ(error_message(&e), "odd");
        error_done(&e);
}

TEST(error_null) {
        ASSERT_EQ(error_set(NULL, -EPERM, "ignored"), -EPERM);
        ASSERT_FALSE(error_is_set(NULL));
        ASSERT_STREQ(error_message(NULL), "Success");
        error_done(NULL);
}
