/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "tests.h"
#include "userns.h"
#include "util/strv.h"
#include "util/util.h"

static const struct {
        const char *s;
        int r;
        PrivateUsersMode mode;
        uint32_t shift, range;
} parse_table[] = {
        { "no", 0, PRIVATE_USERS_NO, 0, 0 },
        { "false", 0, PRIVATE_USERS_NO, 0, 0 },
        { "off", 0, PRIVATE_USERS_NO, 0, 0 },
        { "NO", 0, PRIVATE_USERS_NO, 0, 0 },
        { "yes", 0, PRIVATE_USERS_YES, 0, 65536 },
        { "true", 0, PRIVATE_USERS_YES, 0, 65536 },
        { "on", 0, PRIVATE_USERS_YES, 0, 65536 },
        { "pick", 0, PRIVATE_USERS_PICK, 0, 65536 },
        { "identity", 0, PRIVATE_USERS_IDENTITY, 0, 65536 },
        /* digits are a UID, never a boolean */
        { "0", 0, PRIVATE_USERS_FIXED, 0, 65536 },
        { "1", 0, PRIVATE_USERS_FIXED, 1, 65536 },
        { "65536", 0, PRIVATE_USERS_FIXED, 65536, 65536 },
        { "524288:65536", 0, PRIVATE_USERS_FIXED, 524288, 65536 },
        { "1000:1", 0, PRIVATE_USERS_FIXED, 1000, 1 },
        { "0:4294967295", 0, PRIVATE_USERS_FIXED, 0, 4294967295U },
        { "4294901759", 0, PRIVATE_USERS_FIXED, 4294901759U, 65536 }, /* ends at 4294967294 */
        { "4294967294:1", 0, PRIVATE_USERS_FIXED, 4294967294U, 1 },
        /* garbage and empty */
        { "", -EINVAL, 0, 0, 0 },
        { "maybe", -EINVAL, 0, 0, 0 },
        { "Pick", -EINVAL, 0, 0, 0 },
        { "pick:5", -EINVAL, 0, 0, 0 },
        { " 1000", -EINVAL, 0, 0, 0 },
        { "1000 ", -EINVAL, 0, 0, 0 },
        { "+1000", -EINVAL, 0, 0, 0 },
        { "-1", -EINVAL, 0, 0, 0 },
        { "0x1000", -EINVAL, 0, 0, 0 },
        { "1000:", -EINVAL, 0, 0, 0 },
        { ":1000", -EINVAL, 0, 0, 0 },
        { "1000:2:3", -EINVAL, 0, 0, 0 },
        { "1000:-1", -EINVAL, 0, 0, 0 },
        { "1e3", -EINVAL, 0, 0, 0 },
        { "1000\n", -EINVAL, 0, 0, 0 },
        /* COUNT 0, overflow, and ranges that would reach or pass UID 4294967295 */
        { "1000:0", -EINVAL, 0, 0, 0 },
        { "4294967295", -EINVAL, 0, 0, 0 },
        { "4294967296", -EINVAL, 0, 0, 0 },
        { "99999999999", -EINVAL, 0, 0, 0 },
        { "4294901760", -EINVAL, 0, 0, 0 },
        { "4294967294:2", -EINVAL, 0, 0, 0 },
        { "1:4294967295", -EINVAL, 0, 0, 0 },
        { "0:4294967296", -EINVAL, 0, 0, 0 },
        { "2147483648:2147483648", -EINVAL, 0, 0, 0 },
};

TEST(private_users_parse_table) {
        for (size_t i = 0; i < ELEMENTSOF(parse_table); i++) {
                PrivateUsers p = { _PRIVATE_USERS_MODE_INVALID, 7, 7 };
                int r = private_users_parse(parse_table[i].s, &p);
                if (r != parse_table[i].r)
                        fprintf(stderr, "input \"%s\"\n", parse_table[i].s);
                ASSERT_EQ(r, parse_table[i].r);
                if (r < 0) {
                        ASSERT_EQ(p.mode, _PRIVATE_USERS_MODE_INVALID); /* untouched */
                        continue;
                }
                ASSERT_EQ(p.mode, parse_table[i].mode);
                ASSERT_EQ(p.range, parse_table[i].range);
                if (p.mode == PRIVATE_USERS_FIXED)
                        ASSERT_EQ(p.shift, parse_table[i].shift);
        }
        ASSERT_EQ(private_users_parse(NULL, &(PrivateUsers){}), -EINVAL);
}

TEST(private_users_round_trip) {
        static const char *const forms[] = { "no", "yes", "pick", "identity", "0:65536", "524288:65536",
                "1000:1", "4294967294:1" };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                PrivateUsers p, q;
                char buf[PRIVATE_USERS_STRING_MAX];
                ASSERT_OK(private_users_parse(forms[i], &p));
                ASSERT_STREQ(private_users_to_string(&p, buf), forms[i]);
                ASSERT_OK(private_users_parse(private_users_to_string(&p, buf), &q));
                ASSERT_EQ(q.mode, p.mode);
                ASSERT_EQ(q.shift, p.shift);
                ASSERT_EQ(q.range, p.range);
        }
        char buf[PRIVATE_USERS_STRING_MAX];
        ASSERT_TRUE(private_users_to_string(&(PrivateUsers){ _PRIVATE_USERS_MODE_INVALID }, buf) == NULL);
}

TEST(uid_range_candidates) {
        /* Every candidate is an aligned 65536 range inside nspawn's window, the same for a
         * name each time, and the probes walk the slots one by one. */
        FOREACH_STRING(name, "a", "box", "t123-pick", "debian.example", "") {
                uid_t first = uid_range_candidate(name, 0);
                ASSERT_EQ(first, uid_range_candidate(name, 0));
                for (unsigned i = 0; i < 3 * USERNS_PICK_SLOTS; i += 997) {
                        uid_t b = uid_range_candidate(name, i);
                        ASSERT_TRUE(b >= USERNS_PICK_MIN);
                        ASSERT_TRUE((uint64_t) b + USERNS_RANGE_DEFAULT <= USERNS_PICK_MAX);
                        ASSERT_EQ(b % USERNS_RANGE_DEFAULT, 0);
                }
                uid_t next = uid_range_candidate(name, 1);
                ASSERT_TRUE(next == first + USERNS_RANGE_DEFAULT ||
                        (next == USERNS_PICK_MIN && first + 2 * USERNS_RANGE_DEFAULT > USERNS_PICK_MAX));
                ASSERT_EQ(uid_range_candidate(name, USERNS_PICK_SLOTS), first);
        }
        ASSERT_TRUE(uid_range_candidate("box", 0) != uid_range_candidate("box2", 0));
}

static const char passwd_text[] = "root:x:0:0:root:/root:/bin/bash\n"
                                  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                                  "# a comment: with:colons\n"
                                  "broken line without fields\n"
                                  "alice:x:1000:1000::/home/alice:/bin/sh\n"
                                  "svc:x:600000:600000::/:/usr/sbin/nologin\n"
                                  "bad:x:12ab:0::/:\n"
                                  "big:x:99999999999:0::/:\n"
                                  "last:x:4294967294:0::/:"; /* no final newline */

TEST(user_db_ranges) {
        ASSERT_TRUE(user_db_has_id_in(passwd_text, 0, 1));
        ASSERT_TRUE(user_db_has_id_in(passwd_text, 1000, 1));
        ASSERT_FALSE(user_db_has_id_in(passwd_text, 1001, 1000));
        ASSERT_TRUE(user_db_has_id_in(passwd_text, 589824, 65536)); /* holds 600000 */
        ASSERT_FALSE(user_db_has_id_in(passwd_text, 524288, 65536));
        ASSERT_FALSE(user_db_has_id_in(passwd_text, 655360, 65536));
        ASSERT_TRUE(user_db_has_id_in(passwd_text, 4294901760U, 65535)); /* the last line */
        ASSERT_FALSE(user_db_has_id_in(passwd_text, 12, 1));             /* "12ab" is no number */
        ASSERT_FALSE(user_db_has_id_in("", 0, UINT32_MAX));
        ASSERT_FALSE(user_db_has_id_in(NULL, 0, UINT32_MAX));
        ASSERT_FALSE(user_db_has_id_in("x:y\n::\n:\n\n", 0, UINT32_MAX));
        ASSERT_TRUE(user_db_has_id_in("staff:x:50:\n", 50, 1)); /* /etc/group */
}

TEST(uid_range_pick_and_lock) {
        char dir[] = "/tmp/test-userns.XXXXXX";
        uid_t a, b, c;
        int fa = -EBADF, fb = -EBADF, fc = -EBADF;
        char *busy = NULL;

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_OK(uid_range_pick(dir, "box", "", "", &a, &fa));
        ASSERT_EQ(a, uid_range_candidate("box", 0));
        /* Held: the same name gets the next slot while the first is in use. */
        ASSERT_OK(uid_range_pick(dir, "box", "", "", &b, &fb));
        ASSERT_EQ(b, uid_range_candidate("box", 1));
        /* A host user inside the first free slot moves the pick on. */
        ASSERT_TRUE(asprintf(&busy, "u:x:%u:0::/:\n", (unsigned) (uid_range_candidate("box", 2) + 70)) > 0);
        ASSERT_OK(uid_range_pick(dir, "box", "", busy, &c, &fc));
        ASSERT_EQ(c, uid_range_candidate("box", 3));
        free(busy);
        uid_range_release(dir, c, fc);
        /* Released: the lock file is gone and the range is given again. */
        uid_range_release(dir, a, fa);
        char *p = uid_range_lock_path(dir, a);
        ASSERT_TRUE(p && access(p, F_OK) < 0);
        free(p);
        ASSERT_OK(uid_range_pick(dir, "box", "", "", &c, &fc));
        ASSERT_EQ(c, a);
        uid_range_release(dir, c, fc);
        uid_range_release(dir, b, fb);
        char *d = strjoin(dir, "/uidranges");
        ASSERT_TRUE(d && rmdir(d) == 0 && rmdir(dir) == 0);
        free(d);
}

static const struct {
        const char *in;
        const char *out; /* NULL: error */
        int r;
} tmpfs_table[] = {
        { NULL, "uid=524288,gid=524288", 0 },
        { "", "uid=524288,gid=524288", 0 },
        { "mode=0755", "mode=0755,uid=524288,gid=524288", 0 },
        { "mode=1777,size=20%", "mode=1777,size=20%,uid=524288,gid=524288", 0 },
        { "uid=1000", "uid=525288,gid=524288", 0 },
        { "gid=5,mode=0620", "gid=524293,mode=0620,uid=524288", 0 },
        { "uid=0,gid=0", "uid=524288,gid=524288", 0 },
        { "uid=65535,gid=65535", "uid=589823,gid=589823", 0 },
        { ",,mode=0700,", "mode=0700,uid=524288,gid=524288", 0 },
        { "uid=65536", NULL, -ERANGE },
        { "gid=4294967295", NULL, -ERANGE },
        { "uid=", NULL, -EINVAL },
        { "uid=1x", NULL, -EINVAL },
        { "uid=-1", NULL, -EINVAL },
        { "gid=99999999999", NULL, -EINVAL },
};

TEST(tmpfs_options) {
        for (size_t i = 0; i < ELEMENTSOF(tmpfs_table); i++) {
                char *out = NULL;
                int r = tmpfs_options_shift(tmpfs_table[i].in, 524288, 65536, &out);
                ASSERT_EQ(r, tmpfs_table[i].r);
                if (r >= 0)
                        ASSERT_STREQ(out, tmpfs_table[i].out);
                free(out);
        }
}
