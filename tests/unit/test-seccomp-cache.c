/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp-cache.h"
#include "tests.h"
#include "util/build-id.h"
#include "util/process.h"
#include "util/util.h"

static char *tmpdir_new(void) {
        char *d = strdup("/tmp/test-seccomp-cache.XXXXXX");
        if (d && !mkdtemp(d))
                d = mfree(d);
        return d;
}

static int tmpdir_remove(char *d) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
        free(d);
        return system(cmd) == 0 ? 0 : -EIO;
}

TEST(build_id_of_program_and_library) {
        uint8_t a[BUILD_ID_MAX], b[BUILD_ID_MAX];
        int n = build_id_of(NULL, a);

        /* Debian's gcc always asks the linker for one. */
        ASSERT_TRUE(n >= 16);
        ASSERT_EQ(build_id_of(NULL, b), n);
        ASSERT_TRUE(memcmp(a, b, n) == 0);
        n = build_id_of("libc.so", b);
        ASSERT_TRUE(n >= 16);
        /* libseccomp is linked in (meson.build): then our own build ID covers it. */
        n = build_id_of("libseccomp.so", b);
        ASSERT_TRUE(n >= 16 || n == -ENOENT);
        ASSERT_ERROR(build_id_of("no-such-library.so", b), ENOENT);
}

TEST(key_names_every_input) {
        _cleanup_free_ char *k1 = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL;
        char *deny_a[] = { (char *) "@swap", NULL }, *deny_b[] = { (char *) "@swap", (char *) "acct", NULL };
        char *deny_c[] = { (char *) "@swap acct", NULL };
        size_t l1, l2, l3, l4;

        ASSERT_OK(seccomp_cache_key(deny_a, false, &k1, &l1));
        ASSERT_OK(seccomp_cache_key(deny_a, true, &k2, &l2));
        ASSERT_OK(seccomp_cache_key(deny_b, false, &k3, &l3));
        ASSERT_OK(seccomp_cache_key(deny_c, false, &k4, &l4));
        ASSERT_EQ(strlen(k1), l1);
        ASSERT_TRUE(strstr(k1, "\nexe ") && strstr(k1, "\nlibseccomp ") && strstr(k1, "\nkernel "));
        ASSERT_TRUE(strcmp(k1, k2) != 0);
        ASSERT_TRUE(strcmp(k1, k3) != 0);
        /* Two words are never the same key as one word with the same characters. */
        ASSERT_TRUE(strcmp(k3, k4) != 0);
        {
                _cleanup_free_ char *again = NULL;
                size_t l;
                char n1[17], n2[17];
                ASSERT_OK(seccomp_cache_key(deny_a, false, &again, &l));
                ASSERT_STREQ(again, k1);
                seccomp_cache_name(k1, l1, n1);
                seccomp_cache_name(again, l, n2);
                ASSERT_STREQ(n1, n2);
                ASSERT_EQ(strlen(n1), 16);
                seccomp_cache_name(k2, l2, n2);
                ASSERT_TRUE(strcmp(n1, n2) != 0);
        }
}

TEST(store_load_round_trip) {
        _cleanup_(seccomp_program_done) SeccompProgram built = {}, loaded = {};
        _cleanup_free_ char *key = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        char *d = tmpdir_new(), name[17];
        size_t len;

        ASSERT_TRUE(d != NULL);
        dir_fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);
        ASSERT_OK(seccomp_cache_key(NULL, false, &key, &len));
        seccomp_cache_name(key, len, name);
        ASSERT_ERROR(seccomp_cache_load(dir_fd, name, key, len, &loaded), ENOENT);
        ASSERT_OK(seccomp_build_container_filter(NULL, false, &built));
        ASSERT_OK(seccomp_cache_store(dir_fd, name, key, len, &built));
        ASSERT_OK(seccomp_cache_load(dir_fd, name, key, len, &loaded));
        ASSERT_EQ(loaded.n_insns, built.n_insns);
        ASSERT_TRUE(memcmp(loaded.insns, built.insns, built.n_insns * sizeof(struct sock_filter)) == 0);
        seccomp_program_done(&loaded);

        /* Another key under the same name (a hash collision, or a stale file): not taken. */
        {
                _cleanup_free_ char *other = strdup(key);
                ASSERT_TRUE(other != NULL);
                other[len - 2] ^= 1;
                ASSERT_ERROR(seccomp_cache_load(dir_fd, name, other, len, &loaded), EBADMSG);
        }
        /* Only a file nobody else could have written. */
        ASSERT_OK(fchmodat(dir_fd, name, 0620, 0) < 0 ? -errno : 0);
        ASSERT_ERROR(seccomp_cache_load(dir_fd, name, key, len, &loaded), EBADMSG);
        ASSERT_OK(fchmodat(dir_fd, name, 0600, 0) < 0 ? -errno : 0);
        ASSERT_OK(fchownat(dir_fd, name, 65534, 0, 0) < 0 ? -errno : 0);
        ASSERT_ERROR(seccomp_cache_load(dir_fd, name, key, len, &loaded), EBADMSG);
        ASSERT_OK(fchownat(dir_fd, name, 0, 0, 0) < 0 ? -errno : 0);
        ASSERT_OK(seccomp_cache_load(dir_fd, name, key, len, &loaded));
        seccomp_program_done(&loaded);
        /* Cut short, or longer than its header says. */
        {
                struct stat st;
                _cleanup_close_ int fd = openat(dir_fd, name, O_RDWR | O_CLOEXEC);
                ASSERT_TRUE(fd >= 0 && fstat(fd, &st) == 0);
                ASSERT_OK(ftruncate(fd, st.st_size - 1) < 0 ? -errno : 0);
                ASSERT_ERROR(seccomp_cache_load(dir_fd, name, key, len, &loaded), EBADMSG);
                ASSERT_OK(ftruncate(fd, st.st_size + 8) < 0 ? -errno : 0);
                ASSERT_ERROR(seccomp_cache_load(dir_fd, name, key, len, &loaded), EBADMSG);
        }
        /* Never through a symlink, nor from a FIFO (which would block). */
        ASSERT_OK(unlinkat(dir_fd, name, 0) < 0 ? -errno : 0);
        ASSERT_OK(symlinkat("/etc/passwd", dir_fd, name) < 0 ? -errno : 0);
        ASSERT_ERROR(seccomp_cache_load(dir_fd, name, key, len, &loaded), EBADMSG);
        ASSERT_OK(unlinkat(dir_fd, name, 0) < 0 ? -errno : 0);
        ASSERT_OK(mkfifoat(dir_fd, name, 0600) < 0 ? -errno : 0);
        ASSERT_ERROR(seccomp_cache_load(dir_fd, name, key, len, &loaded), EBADMSG);
        ASSERT_OK(tmpdir_remove(d));
}

TEST(container_program_fills_the_cache) {
        _cleanup_(seccomp_program_done) SeccompProgram a = {}, b = {}, c = {};
        _cleanup_free_ char *cache = NULL, *key = NULL;
        char *d = tmpdir_new(), name[17];
        struct stat st;
        size_t len;
        int status = -1;
        pid_t pid;

        ASSERT_TRUE(d != NULL);
        cache = strjoin(d, "/seccomp");
        ASSERT_OK(seccomp_container_program(cache, NULL, true, &a));
        ASSERT_OK(stat(cache, &st) < 0 ? -errno : 0);
        ASSERT_EQ(st.st_mode & 07777, 0700);
        ASSERT_OK(seccomp_cache_key(NULL, true, &key, &len));
        seccomp_cache_name(key, len, name);
        {
                _cleanup_free_ char *p = strjoin(cache, "/", name);
                ASSERT_OK(stat(p, &st) < 0 ? -errno : 0);
                ASSERT_EQ(st.st_mode & 07777, 0600);
        }
        ASSERT_OK(seccomp_container_program(cache, NULL, true, &b));
        ASSERT_EQ(a.n_insns, b.n_insns);
        ASSERT_TRUE(memcmp(a.insns, b.insns, a.n_insns * sizeof(struct sock_filter)) == 0);
        /* Without SuppressSync= it is another program. */
        ASSERT_OK(seccomp_container_program(cache, NULL, false, &c));
        ASSERT_TRUE(c.n_insns != b.n_insns || memcmp(c.insns, b.insns, c.n_insns * sizeof(struct sock_filter)) != 0);

        /* A cache directory someone else may write to is not used, and not an error. */
        ASSERT_OK(chmod(cache, 0777) < 0 ? -errno : 0);
        seccomp_program_done(&c);
        ASSERT_OK(seccomp_container_program(cache, NULL, true, &c));
        ASSERT_EQ(c.n_insns, a.n_insns);

        /* What came from the cache works as built: the sync calls do nothing. */
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                if (seccomp_program_load(&b) < 0)
                        _exit(2);
                if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) >= 0 || errno != EPERM)
                        _exit(3);
                _exit(syscall(SYS_sync) == 0 ? 0 : 4);
        }
        ASSERT_OK(wait_for_terminate(pid, &status));
        ASSERT_EQ(status, 0);
        ASSERT_OK(tmpdir_remove(d));
}
