/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image pool naming and layout helpers, and the parts of btrfs.c and copy.c that need no
 * root and no btrfs. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btrfs.h"
#include "copy.h"
#include "image-create.h"
#include "image-usage.h"
#include "image.h"
#include "pool.h"
#include "tests.h"
#include "util/chase.h"
#include "util/util.h"

TEST(image_type_table) {
        for (int t = 0; t < _IMAGE_TYPE_MAX; t++) {
                const char *s = image_type_to_string(t);
                ASSERT_TRUE(s != NULL);
                ASSERT_EQ(image_type_from_string(s), t);
        }
        ASSERT_TRUE(image_type_to_string(_IMAGE_TYPE_MAX) == NULL);
        ASSERT_TRUE(image_type_to_string(-1) == NULL);
        ASSERT_EQ(image_type_from_string("plain"), _IMAGE_TYPE_INVALID);
        ASSERT_EQ(image_type_from_string(NULL), _IMAGE_TYPE_INVALID);
}

TEST(image_tmp_names) {
        _cleanup_free_ char *t = NULL, *u = NULL, *back = NULL;

        ASSERT_OK(image_tmp_name("debian", &t));
        ASSERT_TRUE(startswith(t, ".#debian.tmp"));
        ASSERT_EQ(strlen(t), strlen(".#debian.tmp") + 6);
        ASSERT_OK(image_tmp_name("debian", &u));
        ASSERT_TRUE(!streq(t, u)); /* random: two operations never share one */
        ASSERT_OK(image_tmp_name_parse(t, &back));
        ASSERT_STREQ(back, "debian");
        free(back);
        back = NULL;
        ASSERT_OK(image_tmp_name_parse(".#.base-debian-bookworm.tmpAb12Cd", &back));
        ASSERT_STREQ(back, ".base-debian-bookworm");

        char *x = NULL;
        ASSERT_ERROR(image_tmp_name_parse("debian", &x), EINVAL);
        ASSERT_ERROR(image_tmp_name_parse(".#debian.lck", &x), EINVAL);
        ASSERT_ERROR(image_tmp_name_parse(".#.tmpabcdef", &x), EINVAL);
        ASSERT_ERROR(image_tmp_name_parse(".#x.tmpab/def", &x), EINVAL);
        ASSERT_ERROR(image_tmp_name_parse(NULL, &x), EINVAL);
        ASSERT_ERROR(image_tmp_name("a/b", &x), EINVAL);
        ASSERT_ERROR(image_tmp_name("", &x), EINVAL);
}

TEST(image_base_name) {
        _cleanup_free_ char *b = NULL;
        char *x = NULL;

        ASSERT_OK(image_base_name("debian-bookworm", &b));
        ASSERT_STREQ(b, ".base-debian-bookworm");
        ASSERT_ERROR(image_base_name("../etc", &x), EINVAL);
        ASSERT_ERROR(image_base_name("", &x), EINVAL);
        ASSERT_ERROR(image_base_name("a/b", &x), EINVAL);
}

TEST(pool_backing_file) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        char *x = NULL;

        ASSERT_OK(pool_backing_file_path("/var/lib/machines", &a));
        ASSERT_STREQ(a, "/var/lib/machines.raw");
        ASSERT_OK(pool_backing_file_path("/tmp/p//", &b));
        ASSERT_STREQ(b, "/tmp/p.raw");
        ASSERT_ERROR(pool_backing_file_path("/", &x), EINVAL);
        ASSERT_ERROR(pool_backing_file_path("", &x), EINVAL);
}

TEST(path_split_last) {
        static const struct {
                const char *in, *dir, *name;
        } table[] = {
                { "a/b", "a", "b" },       { "a/b/", "a", "b" },   { "b", ".", "b" },
                { "/b", "/", "b" },        { "/", "/", "" },       { "/a/b/c", "/a/b", "c" },
                { "a//b", "a/", "b" },     { "..", ".", ".." },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *d = NULL, *n = NULL;
                ASSERT_OK(path_split_last(table[i].in, &d, &n));
                ASSERT_STREQ(d, table[i].dir);
                ASSERT_STREQ(n, table[i].name);
        }
        char *d, *n;
        ASSERT_ERROR(path_split_last("", &d, &n), EINVAL);
}

TEST(path_dup_strip) {
        static const struct {
                const char *in, *out;
        } table[] = {
                { "a", "a" }, { "a/", "a" }, { "a///", "a" }, { "/", "/" },
                { "//", "/" }, { "/a/b/", "/a/b" }, { "a//b", "a//b" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *p = NULL;
                ASSERT_OK(path_dup_strip(table[i].in, &p));
                ASSERT_STREQ(p, table[i].out);
        }
        char *p;
        ASSERT_ERROR(path_dup_strip("", &p), EINVAL);
        ASSERT_ERROR(path_dup_strip(NULL, &p), EINVAL);
}

TEST(btrfs_not_btrfs) {
        /* /proc is never btrfs: the checks answer "no" rather than failing. */
        int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(btrfs_is_filesystem_fd(fd), 0);
        ASSERT_EQ(btrfs_is_subvol_fd(fd), 0);
        ASSERT_EQ(btrfs_is_subvol_at(fd, "self"), 0);
        close(fd);
}

TEST(chase_open_stays_inside) {
        char dir[] = "/tmp/test-image-XXXXXX";
        int root, fd;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(root >= 0);
        ASSERT_TRUE(mkdirat(root, "etc", 0755) >= 0);
        ASSERT_TRUE(symlinkat("/", root, "up") >= 0);
        ASSERT_TRUE(symlinkat("../../../..", root, "etc/dots") >= 0);
        /* "/up/etc" and "etc/dots/etc" must resolve to the tree's etc, not the host's. */
        struct stat a, b;
        ASSERT_OK(fd = chase_open(root, "/up/etc", O_PATH, CHASE_IN_ROOT));
        ASSERT_TRUE(fstat(fd, &a) >= 0);
        close(fd);
        ASSERT_TRUE(fstatat(root, "etc", &b, 0) >= 0);
        ASSERT_EQ(a.st_ino, b.st_ino);
        ASSERT_OK(fd = chase_open(root, "etc/dots/etc", O_PATH, CHASE_IN_ROOT));
        ASSERT_TRUE(fstat(fd, &a) >= 0);
        close(fd);
        ASSERT_EQ(a.st_ino, b.st_ino);
        ASSERT_ERROR(chase_open(root, "/up/passwd", O_PATH, CHASE_IN_ROOT), ENOENT);
        ASSERT_ERROR(chase_open(root, "/up/etc", O_PATH, CHASE_IN_ROOT | CHASE_NO_SYMLINKS), ELOOP);
        ASSERT_ERROR(chase_open(root, "/etc", O_PATH | O_CREAT, CHASE_IN_ROOT), EINVAL);
        ASSERT_ERROR(chase_open(root, "", O_PATH, CHASE_IN_ROOT), EINVAL);

        (void) unlinkat(root, "etc/dots", 0);
        (void) unlinkat(root, "up", 0);
        (void) unlinkat(root, "etc", AT_REMOVEDIR);
        close(root);
        ASSERT_TRUE(rmdir(dir) >= 0);
}

TEST(create_progress_parser) {
        static const char *const log[] = {
                "I: Retrieving InRelease ",
                "I: Checking Release signature",
                "I: Valid Release signature (key id 4D64FEC119C2029067D6E791F8D2585B8783D481)",
                "I: Retrieving Packages ",
                "I: Validating Packages ",
                "I: Resolving dependencies of required packages...",
                "I: Retrieving adduser 3.134",
                "I: Validating adduser 3.134",
                "I: Retrieving python3.11-minimal 3.11.2-6",
                "I: Retrieving libstdc++6 12.2.0-14",
                "I: Extracting adduser...",
                "I: Installing core packages...",
                "I: Unpacking required packages...",
                "I: Unpacking adduser...",
                "I: Configuring required packages...",
                "I: Configuring libstdc++6:amd64...",
                "I: Unpacking the base system...",
                "I: Unpacking python3.11-minimal...",
                "I: Configuring the base system...",
                "I: Configuring adduser...",
                "I: Base system installed successfully.",
        };
        CreateProgressParser p = {};
        CreateProgress cp, last = {};
        unsigned events = 0;

        for (size_t i = 0; i < ELEMENTSOF(log); i++)
                if (create_progress_parse_line(&p, log[i], &cp) > 0) {
                        events++;
                        last = cp;
                        if (cp.phase == CREATE_PHASE_RETRIEVING)
                                ASSERT_EQ(cp.total, 0);
                        else
                                ASSERT_EQ(cp.total, 3);
                }
        ASSERT_EQ(events, 8); /* 3 retrieved, 1 extracted, 2 unpacked, 2 configured */
        ASSERT_EQ(p.retrieved, 3);
        ASSERT_EQ(p.unpacked, 2);
        ASSERT_EQ(last.phase, CREATE_PHASE_CONFIGURING);
        ASSERT_EQ(last.current, 2);
        ASSERT_STREQ(last.package, "adduser");

        CreateProgressParser q = {};
        ASSERT_EQ(create_progress_parse_line(&q, "I: Retrieving python3.11-minimal 3.11.2-6", &cp), 1);
        ASSERT_STREQ(cp.package, "python3.11-minimal");
        ASSERT_EQ(create_progress_parse_line(&q, "E: Couldn't download packages", &cp), 0);
        ASSERT_EQ(create_progress_parse_line(&q, "", &cp), 0);

        for (int i = 0; i < _CREATE_PHASE_MAX; i++)
                ASSERT_TRUE(create_phase_to_string(i) != NULL);
        ASSERT_TRUE(create_phase_to_string(_CREATE_PHASE_MAX) == NULL);
}

/* debootstrap unpacks and configures more packages than it retrieved (dpkg and friends
 * twice): the count never runs past the total. */
TEST(create_progress_never_overshoots) {
        CreateProgressParser p = {};
        CreateProgress cp;
        const char *const log[] = {
                "I: Retrieving dpkg 1.21.22",
                "I: Retrieving libc6 2.36-9",
                "I: Unpacking dpkg...",
                "I: Unpacking libc6:amd64...",
                "I: Unpacking dpkg...",
                "I: Configuring dpkg...",
                "I: Configuring libc6:amd64...",
                "I: Configuring dpkg...",
        };

        for (size_t i = 0; i < ELEMENTSOF(log); i++)
                if (create_progress_parse_line(&p, log[i], &cp) > 0 && cp.phase != CREATE_PHASE_RETRIEVING)
                        ASSERT_TRUE(cp.current <= cp.total);
        ASSERT_EQ(cp.current, 3);
        ASSERT_EQ(cp.total, 3);
}

TEST(create_phase_table) {
        for (int p = 0; p < _CREATE_PHASE_MAX; p++) {
                const char *s = create_phase_to_string(p);
                ASSERT_TRUE(s != NULL);
                ASSERT_EQ(create_phase_from_string(s), p);
        }
        ASSERT_TRUE(create_phase_to_string(_CREATE_PHASE_MAX) == NULL);
        ASSERT_EQ(create_phase_from_string("downloading"), _CREATE_PHASE_INVALID);
        ASSERT_EQ(create_phase_from_string(""), _CREATE_PHASE_INVALID);
        ASSERT_EQ(create_phase_from_string(NULL), _CREATE_PHASE_INVALID);
}

TEST(mirror_url_is_valid) {
        static const struct {
                const char *url;
                bool valid;
        } table[] = {
                { "http://mirror.example/debian", true },
                { "https://mirror.example/debian/", true },
                { "ftp://ftp.mirror.example/debian", true },
                { "file:///srv/mirror", true },
                { "http://[::1]:3142/debian", true },
                { "", false },
                { "garbage", false },
                { "-x", false },
                { "--include=evil", false },
                { "mirror.example/debian", false },
                { "file:", false },
                { "http://a b", false },
                { "http://a\tb", false },
                { "http://a\nb", false },
                { "http://a\x7f", false },
                { "http://\xff\xfe", false },
        };
        char long_url[5000];

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                ASSERT_EQ(mirror_url_is_valid(table[i].url), table[i].valid);
        ASSERT_FALSE(mirror_url_is_valid(NULL));
        memcpy(long_url, "http://", 7);
        memset(long_url + 7, 'a', sizeof long_url - 8);
        long_url[sizeof long_url - 1] = 0;
        ASSERT_FALSE(mirror_url_is_valid(long_url));
        long_url[4096] = 0;
        ASSERT_TRUE(mirror_url_is_valid(long_url));
}

/* The usage cache off btrfs: a walk the first time, the cache while it is young enough, a
 * walk again after max_age, and a changed answer after the tree grew. */
TEST(image_usage_cache) {
        _cleanup_(image_usage_cache_freep) ImageUsageCache *c = NULL, *c0 = NULL;
        char dir[] = "/tmp/test-image-usage.XXXXXX";
        _cleanup_free_ char *file = NULL, *sub = NULL;
        Image i = { .type = IMAGE_DIRECTORY, .path = dir };
        uint64_t first;
        int fd;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        file = strjoin(dir, "/data");
        sub = strjoin(dir, "/sub");
        ASSERT_TRUE(file && sub);
        ASSERT_OK(image_usage_cache_new(60ULL * 1000000ULL, &c));
        ASSERT_OK(image_usage_cache_new(0, &c0));

        ASSERT_EQ(image_usage_cache_lookup(c, &i), 0);
        ASSERT_EQ(image_usage_cache_get(c, &i), 1);
        first = i.usage;
        ASSERT_EQ(image_usage_cache_get(c, &i), 0);
        ASSERT_EQ(i.usage, first);

        /* a walk made elsewhere (machined's worker) fills the cache through put */
        ImageUsageKey key;
        uint64_t walked;
        ASSERT_EQ(image_usage_cache_lookup(c0, &i), 0);
        ASSERT_OK(image_usage_walk(&i, &key, &walked));
        ASSERT_EQ(walked, first);
        image_usage_cache_put(c, &key, 4242);
        i.usage = 0;
        ASSERT_EQ(image_usage_cache_lookup(c, &i), 1);
        ASSERT_EQ(i.usage, 4242u);
        image_usage_cache_put(c, &key, first);

        ASSERT_TRUE(mkdir(sub, 0700) >= 0);
        fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(loop_write(fd, dir, sizeof dir));
        ASSERT_TRUE(fsync(fd) >= 0);
        close(fd);
        /* young enough: still the old answer */
        ASSERT_EQ(image_usage_cache_get(c, &i), 0);
        ASSERT_EQ(i.usage, first);
        /* max_age 0: always a walk, which sees the new file and directory */
        ASSERT_EQ(image_usage_cache_get(c0, &i), 1);
        ASSERT_TRUE(i.usage > first);

        ASSERT_TRUE(unlink(file) >= 0);
        ASSERT_TRUE(rmdir(sub) >= 0);
        ASSERT_TRUE(rmdir(dir) >= 0);
        i.usage = 0;
        ASSERT_ERROR(image_usage_cache_get(c, &i), ENOENT);
}
