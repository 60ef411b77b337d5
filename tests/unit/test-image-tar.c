/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tar header walker fed with archives crafted in memory: every hostile member type is
 * refused, normal root file system content passes. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image-tar.h"
#include "tests.h"
#include "util/util.h"

typedef struct Archive {
        unsigned char data[64 * 512];
        size_t size;
} Archive;

static void add_header(Archive *a, const char *name, char type, uint64_t size, const char *link,
                       const char *magic) {
        unsigned char *h = a->data + a->size;
        unsigned sum = 0;

        memset(h, 0, 512);
        strncpy((char *) h, name, 100);
        memcpy(h + 100, "0000644", 8);
        memcpy(h + 108, "0000000", 8);
        memcpy(h + 116, "0000000", 8);
        snprintf((char *) h + 124, 12, "%011llo", (unsigned long long) (size & 077777777777ULL));
        memcpy(h + 136, "00000000000", 12);
        h[156] = (unsigned char) type;
        if (link)
                strncpy((char *) h + 157, link, 100);
        memcpy(h + 257, magic ?: "ustar", 6); /* POSIX: "ustar\0" "00" */
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += h[i];
        snprintf((char *) h + 148, 8, "%06o", sum);
        a->size += 512;
}

static void add_data(Archive *a, const void *d, size_t n) {
        memset(a->data + a->size, 0, (n + 511) / 512 * 512);
        memcpy(a->data + a->size, d, n);
        a->size += (n + 511) / 512 * 512;
}

static void add_file(Archive *a, const char *name, const char *content) {
        add_header(a, name, '0', strlen(content), NULL, NULL);
        add_data(a, content, strlen(content));
}

/* One pax header of type 'x' (the next member) or 'g' (global) with the records of kv:
 * key, value, key, value, ..., NULL. */
static void add_pax_records(Archive *a, char type, const char *const *kv) {
        char recs[2048] = "";
        size_t n = 0;

        for (size_t i = 0; kv[i]; i += 2) {
                int len = (int) strlen(kv[i]) + (int) strlen(kv[i + 1]) + 3, digits;
                /* the length counts itself */
                for (digits = 1;; digits++) {
                        int total = len + digits;
                        if (snprintf(NULL, 0, "%d", total) == digits) {
                                len = total;
                                break;
                        }
                }
                n += snprintf(recs + n, sizeof recs - n, "%d %s=%s\n", len, kv[i], kv[i + 1]);
        }
        add_header(a, type == 'g' ? "./PaxHeaders/global" : "./PaxHeaders/x", type, n, NULL, NULL);
        add_data(a, recs, n);
}

static void add_pax(Archive *a, const char *key, const char *value) {
        add_pax_records(a, 'x', (const char *const[]) { key, value, NULL });
}

static void add_gnu_long(Archive *a, char type, const char *value) {
        add_header(a, "././@LongLink", type, strlen(value) + 1, NULL, "ustar  ");
        add_data(a, value, strlen(value) + 1);
}

/* A device node: major/minor left 0, no data. */
static void add_device(Archive *a, const char *name, char type) {
        add_header(a, name, type, 0, NULL, NULL);
}

static void finish(Archive *a) {
        memset(a->data + a->size, 0, 1024);
        a->size += 1024;
}

static int walk(Archive *a, TarRefusal *refusal) {
        int fd = memfd_create("tar", MFD_CLOEXEC), r;
        if (fd < 0)
                return -errno;
        if (write(fd, a->data, a->size) != (ssize_t) a->size) {
                close(fd);
                return -EIO;
        }
        lseek(fd, 0, SEEK_SET);
        r = tar_walk(fd, NULL, NULL, refusal);
        close(fd);
        return r;
}

/* A normal tree: directories, files, absolute and relative symlinks, a hard link inside
 * the tree, a long GNU name, a pax path, POSIX prefix names. */
TEST(tar_normal_tree) {
        static Archive a;
        TarRefusal refusal = {};
        char longname[300];

        a.size = 0;
        add_header(&a, "./", '5', 0, NULL, NULL);
        add_header(&a, "./etc/", '5', 0, NULL, NULL);
        add_file(&a, "./etc/hostname", "box\n");
        add_header(&a, "./etc/localtime", '2', 0, "/usr/share/zoneinfo/UTC", NULL);
        add_header(&a, "./bin", '2', 0, "usr/bin", NULL);
        add_header(&a, "./usr/lib/os-release.link", '1', 0, "./etc/hostname", NULL);
        memset(longname, 'a', sizeof longname);
        memcpy(longname, "./usr/share/", 12);
        longname[sizeof longname - 1] = 0;
        add_gnu_long(&a, 'L', longname);
        add_file(&a, "./usr/share/aaaa", "long\n");
        add_pax(&a, "path", "./usr/share/doc/with pax name");
        add_file(&a, "./usr/share/doc/short", "x");
        add_pax(&a, "SCHILY.xattr.security.capability", "caps");
        add_file(&a, "./usr/bin/ping", "elf");
        add_file(&a, "./a..b/c..", "dots in names are fine");
        finish(&a);
        ASSERT_OK(walk(&a, &refusal));
        ASSERT_TRUE(refusal.path == NULL);
}

static void expect_refused(int *_failed_, Archive *a, const char *want_path) {
        TarRefusal refusal = {};
        ASSERT_ERROR(walk(a, &refusal), EPERM);
        ASSERT_STREQ(refusal.path, want_path);
        ASSERT_TRUE(refusal.reason != NULL);
        tar_refusal_done(&refusal);
}

#define REFUSED(a, p)                                                                      \
        do {                                                                               \
                expect_refused(_failed_, (a), (p));                                        \
                if (*_failed_)                                                             \
                        return;                                                            \
        } while (0)

/* Archives of a single member, refused for its name, type or link target. */
static const struct {
        const char *name;
        char type;
        const char *link;    /* of a hard link ('1'), the path refused */
        const char *content; /* of a file ('0') */
} refused_members[] = {
        /* .. */
        { "./etc/../../x", '0', NULL, "escape" },
        { "..", '5' },
        /* absolute */
        { "/etc/x", '0', NULL, "escape" },
        /* devices and fifos */
        { "./dev/sda", '4' },
        { "./dev/mem", '3' },
        { "./run/fifo", '6' },
        /* hard links out of the tree */
        { "./shadow", '1', "/etc/shadow" },
        { "./shadow", '1', "../../etc/shadow" },
};

TEST(tar_refused_members) {
        static Archive a;

        for (size_t i = 0; i < ELEMENTSOF(refused_members); i++) {
                const char *link = refused_members[i].link;

                a.size = 0;
                if (refused_members[i].content)
                        add_file(&a, refused_members[i].name, refused_members[i].content);
                else
                        add_header(&a, refused_members[i].name, refused_members[i].type, 0, link, NULL);
                finish(&a);
                REFUSED(&a, link ?: refused_members[i].name);
        }
}

TEST(tar_dotdot) {
        static Archive a;
        a.size = 0;
        add_header(&a, "./", '5', 0, NULL, NULL);
        add_file(&a, "../x", "escape");
        finish(&a);
        REFUSED(&a, "../x");
}

TEST(tar_pax_path) {
        static Archive a;
        a.size = 0;
        add_pax(&a, "path", "./ok/../../etc/shadow");
        add_file(&a, "./harmless", "x");
        finish(&a);
        REFUSED(&a, "./ok/../../etc/shadow");

        a.size = 0;
        add_pax(&a, "path", "/etc/shadow");
        add_file(&a, "./harmless", "x");
        finish(&a);
        REFUSED(&a, "/etc/shadow");
}

/* GNU tar takes a member's name from GNU.sparse.name (pax sparse formats 0.1 and 1.0),
 * before "path" whatever their order: it is checked the same way. */
TEST(tar_pax_sparse_name) {
        static Archive a;
        TarRefusal refusal = {};

        a.size = 0;
        add_pax(&a, "GNU.sparse.name", "../../etc/cron.d/x");
        add_file(&a, "./harmless", "x");
        finish(&a);
        REFUSED(&a, "../../etc/cron.d/x");

        a.size = 0;
        add_pax(&a, "GNU.sparse.name", "/etc/shadow");
        add_file(&a, "./harmless", "x");
        finish(&a);
        REFUSED(&a, "/etc/shadow");

        /* a safe "path" does not hide an unsafe GNU.sparse.name, before or after it */
        a.size = 0;
        add_pax_records(&a, 'x', (const char *const[]) { "path", "./ok", "GNU.sparse.name", "../x", NULL });
        add_file(&a, "./ok", "x");
        finish(&a);
        REFUSED(&a, "../x");
        a.size = 0;
        add_pax_records(&a, 'x', (const char *const[]) { "GNU.sparse.name", "../y", "path", "./ok", NULL });
        add_file(&a, "./ok", "x");
        finish(&a);
        REFUSED(&a, "../y");

        /* a GNU.sparse keyword nobody knows (GNU tar has no GNU.sparse.realname) */
        a.size = 0;
        add_pax(&a, "GNU.sparse.realname", "../z");
        add_file(&a, "./harmless", "x");
        finish(&a);
        REFUSED(&a, "GNU.sparse.realname");

        /* what GNU tar writes for a sparse file in pax format 1.0 passes */
        a.size = 0;
        add_pax_records(&a, 'x',
                        (const char *const[]) { "GNU.sparse.major", "1", "GNU.sparse.minor", "0",
                                                "GNU.sparse.name", "./var/lib/sparse",
                                                "GNU.sparse.realsize", "1048576", NULL });
        add_file(&a, "./GNUSparseFile.0/sparse", "1\n0\n0\n");
        finish(&a);
        ASSERT_OK(walk(&a, &refusal));
        ASSERT_TRUE(refusal.path == NULL);
}

/* A global header ('g') applies to every member that follows: names, link targets, sizes
 * and sparse maps there are refused, even safe ones; a comment (git archive writes the
 * commit id there) is fine. */
TEST(tar_pax_global) {
        static const struct {
                const char *key, *value, *refused;
        } table[] = {
                { "path", "./all-the-same", "./all-the-same" },
                { "path", "../x", "../x" },
                { "linkpath", "/etc/shadow", "/etc/shadow" },
                { "size", "0", "0" },
                { "GNU.sparse.name", "./x", "./x" },
                { "GNU.sparse.map", "0,1", "GNU.sparse.map" },
                { "comment", "0123abcd", NULL },
                { "mtime", "1700000000", NULL },
        };
        static Archive a;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                TarRefusal refusal = {};
                a.size = 0;
                add_pax_records(&a, 'g', (const char *const[]) { table[i].key, table[i].value, NULL });
                add_file(&a, "./harmless", "x");
                add_header(&a, "./l", '1', 0, "./harmless", NULL);
                finish(&a);
                if (table[i].refused)
                        REFUSED(&a, table[i].refused);
                else {
                        ASSERT_OK(walk(&a, &refusal));
                        ASSERT_TRUE(refusal.path == NULL);
                }
        }
}

TEST(tar_gnu_long_name) {
        static Archive a;
        char name[400];

        memset(name, 'b', sizeof name);
        memcpy(name, "../", 3);
        name[sizeof name - 1] = 0;
        a.size = 0;
        add_gnu_long(&a, 'L', name);
        add_file(&a, "./bbbb", "x");
        finish(&a);
        REFUSED(&a, name);
}

TEST(tar_hard_links) {
        static Archive a;

        /* link target given by GNU 'K' long link name */
        a.size = 0;
        add_gnu_long(&a, 'K', "/etc/shadow");
        add_header(&a, "./shadow", '1', 0, "x", "ustar  ");
        finish(&a);
        REFUSED(&a, "/etc/shadow");

        /* and by a pax linkpath record */
        a.size = 0;
        add_pax(&a, "linkpath", "../outside");
        add_header(&a, "./l", '1', 0, "x", NULL);
        finish(&a);
        REFUSED(&a, "../outside");
}

TEST(tar_damaged) {
        static Archive a;
        TarRefusal refusal = {};

        a.size = 0;
        add_file(&a, "./x", "data");
        a.data[0] ^= 1; /* checksum no longer matches */
        finish(&a);
        ASSERT_ERROR(walk(&a, &refusal), EBADMSG);

        /* truncated in the middle of a member's data */
        a.size = 0;
        add_header(&a, "./big", '0', 4096, NULL, NULL);
        add_data(&a, "x", 1);
        ASSERT_ERROR(walk(&a, &refusal), EBADMSG);

        /* not a tar at all */
        a.size = 0;
        memset(a.data, 'z', 512);
        a.size = 512;
        ASSERT_ERROR(walk(&a, &refusal), EBADMSG);
}

TEST(tar_path_is_safe) {
        ASSERT_TRUE(tar_path_is_safe("./etc/passwd"));
        ASSERT_TRUE(tar_path_is_safe("etc"));
        ASSERT_TRUE(tar_path_is_safe("./"));
        ASSERT_TRUE(tar_path_is_safe("a..b/..c/c.."));
        ASSERT_FALSE(tar_path_is_safe(""));
        ASSERT_FALSE(tar_path_is_safe("/"));
        ASSERT_FALSE(tar_path_is_safe("/etc"));
        ASSERT_FALSE(tar_path_is_safe(".."));
        ASSERT_FALSE(tar_path_is_safe("../"));
        ASSERT_FALSE(tar_path_is_safe("a/.."));
        ASSERT_FALSE(tar_path_is_safe("a//../b"));
}

TEST(tar_compression_table) {
        ASSERT_EQ(tar_compression_from_filename("x.tar"), TAR_COMPRESSION_NONE);
        ASSERT_EQ(tar_compression_from_filename("/a/x.tar.gz"), TAR_COMPRESSION_GZIP);
        ASSERT_EQ(tar_compression_from_filename("x.tgz"), TAR_COMPRESSION_GZIP);
        ASSERT_EQ(tar_compression_from_filename("x.tar.xz"), TAR_COMPRESSION_XZ);
        ASSERT_EQ(tar_compression_from_filename("x.tar.zst"), TAR_COMPRESSION_ZSTD);
        ASSERT_EQ(tar_compression_from_filename("x.tar.bz2"), -EINVAL);
        ASSERT_EQ(tar_compression_from_filename(".tar"), -EINVAL);
        ASSERT_EQ(tar_compression_from_filename("x"), -EINVAL);
        ASSERT_EQ(tar_compression_from_filename(NULL), -EINVAL);
        for (int c = 0; c < _TAR_COMPRESSION_MAX; c++)
                ASSERT_TRUE(tar_compression_to_string(c) != NULL);
        ASSERT_TRUE(tar_compression_to_string(_TAR_COMPRESSION_MAX) == NULL);
}

typedef struct Collected {
        unsigned char data[64 * 512];
        size_t size;
} Collected;

static int collect(const void *buf, size_t n, void *userdata) {
        Collected *c = userdata;
        if (c->size + n > sizeof c->data)
                return -ENOSPC;
        memcpy(c->data + c->size, buf, n);
        c->size += n;
        return 0;
}

/* A rootfs tarball with /dev nodes (debootstrap's): the nodes are left out and counted, with
 * the long names and pax records that belong to them, so that what tar gets is exactly the
 * archive without them - no member inherits a skipped node's name. Fifos are still refused. */
TEST(tar_skip_devices) {
        static Archive a, expected;
        static Collected got;
        TarRefusal refusal = {};
        unsigned skipped = 0;
        char longname[200];
        int fd;

        memset(longname, 'd', sizeof longname);
        memcpy(longname, "./dev/", 6);
        longname[sizeof longname - 1] = 0;

        a.size = expected.size = got.size = 0;
        add_file(&a, "./etc/hostname", "box\n");
        add_device(&a, "./dev/null", '3');
        add_gnu_long(&a, 'L', longname);
        add_device(&a, "./dev/dddd", '3');
        add_file(&a, "./etc/motd", "hello\n");
        add_pax(&a, "path", "./dev/sda with pax name");
        add_device(&a, "./dev/sda", '4');
        add_file(&a, "./etc/issue", "Debian\n");
        finish(&a);

        add_file(&expected, "./etc/hostname", "box\n");
        add_file(&expected, "./etc/motd", "hello\n");
        add_file(&expected, "./etc/issue", "Debian\n");
        finish(&expected);

        fd = memfd_create("tar", MFD_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, a.data, a.size), (ssize_t) a.size);
        ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
        ASSERT_OK(tar_walk_full(fd, TAR_WALK_SKIP_DEVICES, collect, &got, &refusal, &skipped));
        close(fd);
        ASSERT_EQ(skipped, 3);
        ASSERT_EQ(got.size, expected.size);
        ASSERT_TRUE(memcmp(got.data, expected.data, got.size) == 0);

        /* Without the flag, the same archive is refused at the first node. */
        expect_refused(_failed_, &a, "./dev/null");

        /* A fifo is no device: refused either way. */
        a.size = 0;
        add_header(&a, "./run/fifo", '6', 0, NULL, NULL);
        finish(&a);
        fd = memfd_create("tar", MFD_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, a.data, a.size), (ssize_t) a.size);
        ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
        ASSERT_ERROR(tar_walk_full(fd, TAR_WALK_SKIP_DEVICES, NULL, NULL, &refusal, &skipped), EPERM);
        close(fd);
        tar_refusal_done(&refusal);
}

/* Member types without data given a size. GNU tar skips that many blocks after a symlink,
 * a device or a fifo, but reads what follows a directory or a hard link as the next header:
 * a header hidden there would reach tar unchecked, and a skipped device's blocks would go
 * on without it. Such an archive is read two ways, so it is refused, whatever hides in it. */
TEST(tar_sizeless_types_with_data) {
        static const char types[] = { '1', '2', '3', '4', '5', '6' };
        static Archive a, hidden;
        static Collected got;

        hidden.size = 0;
        add_header(&hidden, "./dev/sda", '4', 0, NULL, NULL); /* what tar would see */
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                TarRefusal refusal = {};
                unsigned skipped = 0;
                int fd;

                a.size = got.size = 0;
                add_file(&a, "./etc/hostname", "box\n");
                add_header(&a, "./x", types[i], 512, types[i] == '1' || types[i] == '2' ? "etc/hostname" : NULL,
                           NULL);
                add_data(&a, hidden.data, 512);
                add_file(&a, "./etc/motd", "hello\n");
                finish(&a);

                fd = memfd_create("tar", MFD_CLOEXEC);
                ASSERT_TRUE(fd >= 0);
                ASSERT_EQ(write(fd, a.data, a.size), (ssize_t) a.size);
                ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
                ASSERT_ERROR(tar_walk_full(fd, TAR_WALK_SKIP_DEVICES, collect, &got, &refusal, &skipped), EPERM);
                close(fd);
                ASSERT_STREQ(refusal.path, "./x");
                /* Nothing of it went on: only the member before it. */
                ASSERT_EQ(got.size, 1024);
                tar_refusal_done(&refusal);
        }
}

/* Old GNU sparse members ('S'): the header's sparse map may go on in extension blocks (byte
 * 482 of the header, then 504 of each extension, says another follows). They are passed on
 * with the member, unchanged; an archive that ends inside them is damaged. */
static void add_old_sparse(Archive *a, const char *name, unsigned extensions, const char *data) {
        unsigned char *h = a->data + a->size;
        unsigned sum = 0;

        add_header(a, name, 'S', strlen(data), NULL, "ustar  ");
        h[482] = extensions > 0;
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += h[i];
        snprintf((char *) h + 148, 8, "%06o", sum);
        for (unsigned i = 0; i < extensions; i++) {
                unsigned char *x = a->data + a->size;
                memset(x, 0, 512);
                memcpy(x, "00000000000", 12); /* one map entry: offset 0 ... */
                memcpy(x + 12, "00000000001", 12); /* ... length 1 */
                x[504] = i + 1 < extensions;
                a->size += 512;
        }
        add_data(a, data, strlen(data));
}

static int walk_collect(const Archive *a, Collected *got) {
        TarRefusal refusal = {};
        int fd = memfd_create("tar", MFD_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        if (write(fd, a->data, a->size) != (ssize_t) a->size || lseek(fd, 0, SEEK_SET) != 0)
                r = -EIO;
        else
                r = tar_walk_full(fd, TAR_WALK_SKIP_DEVICES, collect, got, &refusal, NULL);
        close(fd);
        tar_refusal_done(&refusal);
        return r;
}

TEST(tar_old_gnu_sparse) {
        static Archive a;
        static Collected got;

        for (unsigned extensions = 0; extensions <= 2; extensions++) {
                a.size = got.size = 0;
                add_old_sparse(&a, "./var/sparse", extensions, "x");
                add_file(&a, "./etc/motd", "hello\n");
                finish(&a);
                ASSERT_OK(walk_collect(&a, &got));
                ASSERT_EQ(got.size, a.size);
                ASSERT_TRUE(memcmp(got.data, a.data, a.size) == 0);

                /* Cut inside the extensions (or the data): damaged. */
                a.size = got.size = 0;
                add_old_sparse(&a, "./var/sparse", extensions, "x");
                a.size -= 512;
                ASSERT_ERROR(walk_collect(&a, &got), EBADMSG);
        }
}

