/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "macro.h"
#include "tests.h"
#include "user-record.h"

/* The lookup reads /etc/passwd and /etc/group of the current root: the host's here, which
 * has root on every system. */
TEST(root_by_name_and_uid) {
        static const char *const users[] = { "root", "0" };
        for (size_t i = 0; i < ELEMENTSOF(users); i++) {
                const char *u = users[i];
                struct passwd pw;
                char *buf = NULL;
                gid_t groups[8];
                int n = ELEMENTSOF(groups);

                ASSERT_OK(user_record_lookup(u, &pw, &buf, groups, &n));
                ASSERT_EQ(pw.pw_uid, 0);
                ASSERT_STREQ(pw.pw_name, "root");
                ASSERT_TRUE(pw.pw_dir && pw.pw_dir[0] == '/');
                ASSERT_TRUE(pw.pw_shell);
                ASSERT_TRUE(n >= 1);
                ASSERT_EQ(groups[0], pw.pw_gid);
                free(buf);
        }
}

TEST(unknown_user) {
        struct passwd pw;
        char *buf = NULL;
        gid_t groups[4];
        int n = ELEMENTSOF(groups);

        ASSERT_ERROR(user_record_lookup("no-such-user-nspawnctl", &pw, &buf, groups, &n), ESRCH);
        n = ELEMENTSOF(groups);
        ASSERT_ERROR(user_record_lookup("4294967294", &pw, &buf, groups, &n), ESRCH);
        ASSERT_TRUE(buf == NULL);
}

TEST(no_room_for_groups) {
        struct passwd pw;
        char *buf = NULL;
        gid_t groups[1];
        int n = 0;

        ASSERT_ERROR(user_record_lookup("root", &pw, &buf, groups, &n), EINVAL);
}
