/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "autostart.h"
#include "tests.h"
#include "util/strv.h"
#include "util/util.h"

TEST(round_trip) {
        char dir[] = "/tmp/test-autostart.XXXXXX", path[256], cmd[300];
        _cleanup_strv_free_ char **names = NULL;
        char *want[] = { "a", "b.example", "c-1", NULL };

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/autostart", dir);
        ASSERT_OK(autostart_read(path, &names));
        ASSERT_EQ(strv_length(names), 0);
        names = strv_free(names);

        ASSERT_OK(autostart_write(path, want));
        ASSERT_OK(autostart_read(path, &names));
        ASSERT_EQ(strv_length(names), 3);
        for (size_t i = 0; want[i]; i++)
                ASSERT_STREQ(names[i], want[i]);
        names = strv_free(names);

        /* Order kept, no duplicates, removal of the middle one. */
        ASSERT_EQ(autostart_set(path, "a", true), 0);
        ASSERT_EQ(autostart_set(path, "d", true), 1);
        ASSERT_EQ(autostart_set(path, "b.example", false), 1);
        ASSERT_EQ(autostart_set(path, "b.example", false), 0);
        ASSERT_ERROR(autostart_set(path, "../x", true), EINVAL);
        ASSERT_OK(autostart_read(path, &names));
        ASSERT_EQ(strv_length(names), 3);
        ASSERT_STREQ(names[0], "a");
        ASSERT_STREQ(names[1], "c-1");
        ASSERT_STREQ(names[2], "d");
        names = strv_free(names);

        /* Hand edits: comments, blanks, spaces, junk and repeats are read over. */
        FILE *f = fopen(path, "we");
        ASSERT_TRUE(f);
        fputs("# comment\n\n  x  \n../etc\nx\n-bad\ny\n", f);
        fclose(f);
        ASSERT_OK(autostart_read(path, &names));
        ASSERT_EQ(strv_length(names), 2);
        ASSERT_STREQ(names[0], "x");
        ASSERT_STREQ(names[1], "y");

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        ASSERT_EQ(system(cmd), 0);
}
