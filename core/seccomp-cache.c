/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "seccomp-cache.h"
#include "util/build-id.h"
#include "util/util.h"

/* The file: this header, the key, the instructions. */
typedef struct CacheHeader {
        char magic[8];
        uint32_t key_len;
        uint32_t n_insns;
} CacheHeader;

static const char cache_magic[8] = "NSCSECC1";

#define CACHE_KEY_MAX 65536u
#define CACHE_FILE_MAX (sizeof(CacheHeader) + CACHE_KEY_MAX + BPF_MAXINSNS * sizeof(struct sock_filter))

static void fprint_hex(FILE *f, const uint8_t *p, int n) {
        for (int i = 0; i < n; i++)
                fprintf(f, "%02x", p[i]);
}

int seccomp_cache_key(char **extra_deny, bool suppress_sync, char **ret_key, size_t *ret_len) {
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_free_ char *buf = NULL;
        uint8_t id[BUILD_ID_MAX];
        const struct scmp_version *v = seccomp_version();
        struct utsname u;
        size_t len = 0;
        int n;

        /* Without our own build ID nothing would tell two builds apart. */
        n = build_id_of(NULL, id);
        if (n < 0)
                return -EOPNOTSUPP;
        if (uname(&u) < 0)
                return -errno;
        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fputs("nspawnctl seccomp program 1\nexe ", f);
        fprint_hex(f, id, n);
        fprintf(f, "\nlibseccomp %u.%u.%u ", v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0);
        n = build_id_of("libseccomp.so", id);
        if (n > 0)
                fprint_hex(f, id, n);
        else
                fputs("static", f);
        fprintf(f, "\narch %" PRIu32 "\nkernel %s %s\nsuppress-sync %d\n", seccomp_arch_native(), u.release, u.version,
                suppress_sync);
        /* With their lengths: a word can never run into the next field. */
        for (char **w = extra_deny; w && *w; w++)
                fprintf(f, "deny %zu %s\n", strlen(*w), *w);
        if (memstream_finish(&f, &buf, ret_key) < 0)
                return -ENOMEM;
        if (len > CACHE_KEY_MAX) {
                *ret_key = mfree(*ret_key);
                return -E2BIG;
        }
        *ret_len = len;
        return 0;
}

/* FNV-1a: only a file name. What decides is the whole key, compared on every load. */
void seccomp_cache_name(const char *key, size_t len, char ret[17]) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t) key[i]) * 0x100000001b3ULL;
        snprintf(ret, 17, "%016" PRIx64, h);
}

int seccomp_cache_load(int dir_fd, const char *name, const char *key, size_t len, SeccompProgram *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        CacheHeader h;
        struct stat st;
        size_t insns_size;
        int r;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : -EBADMSG;
        /* The program decides what the container may call: only a file nobody but us could
         * have written is taken. */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EBADMSG;
        r = read_regular_fd(fd, CACHE_FILE_MAX, &buf);
        if (r < 0 || (size_t) st.st_size < sizeof h)
                return -EBADMSG;
        memcpy(&h, buf, sizeof h);
        if (memcmp(h.magic, cache_magic, sizeof h.magic) != 0 || h.key_len != len || h.n_insns == 0 ||
            h.n_insns > BPF_MAXINSNS)
                return -EBADMSG;
        insns_size = (size_t) h.n_insns * sizeof(struct sock_filter);
        if ((size_t) st.st_size != sizeof h + len + insns_size || memcmp(buf + sizeof h, key, len) != 0)
                return -EBADMSG;
        ret->insns = malloc(insns_size);
        if (!ret->insns)
                return -ENOMEM;
        memcpy(ret->insns, buf + sizeof h + len, insns_size);
        ret->n_insns = h.n_insns;
        return 0;
}

int seccomp_cache_store(int dir_fd, const char *name, const char *key, size_t len, const SeccompProgram *p) {
        CacheHeader h = { .key_len = (uint32_t) len, .n_insns = (uint32_t) p->n_insns };
        char tmp[64];
        int fd, r;

        if (len > CACHE_KEY_MAX || p->n_insns == 0 || p->n_insns > BPF_MAXINSNS)
                return -EINVAL;
        memcpy(h.magic, cache_magic, sizeof h.magic);
        /* Our pid makes the name ours while we live: starts that miss at once each write
         * their own, and the last rename wins with the same content. */
        snprintf(tmp, sizeof tmp, ".%s.%d", name, (int) getpid());
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, &h, sizeof h);
        if (r >= 0)
                r = loop_write(fd, key, len);
        if (r >= 0)
                r = loop_write(fd, p->insns, p->n_insns * sizeof(struct sock_filter));
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        return rename_into_place_at(dir_fd, tmp, name, r);
}

/* The cache directory, made 0700 if missing; refused when it is not ours alone. */
static int cache_dir_open(const char *path) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        return TAKE_FD(fd);
}

int seccomp_container_program(const char *cache_dir, char **extra_deny, bool suppress_sync, SeccompProgram *ret) {
        _cleanup_free_ char *key = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        char name[17];
        size_t len;
        int r;

        if (!cache_dir || seccomp_cache_key(extra_deny, suppress_sync, &key, &len) < 0)
                return seccomp_build_container_filter(extra_deny, suppress_sync, ret);
        seccomp_cache_name(key, len, name);
        dir_fd = cache_dir_open(cache_dir);
        if (dir_fd >= 0) {
                r = seccomp_cache_load(dir_fd, name, key, len, ret);
                if (r >= 0 || r == -ENOMEM)
                        return r;
                if (r != -ENOENT)
                        log_debug("Rebuilding the seccomp program %s/%s: it is not ours or is stale.", cache_dir, name);
        } else
                log_debug_errno(dir_fd, "Not caching the seccomp program in %s: %m", cache_dir);

        r = seccomp_build_container_filter(extra_deny, suppress_sync, ret);
        if (r < 0 || dir_fd < 0)
                return r;
        r = seccomp_cache_store(dir_fd, name, key, len, ret);
        if (r < 0)
                log_debug_errno(r, "Failed to store the seccomp program in %s: %m", cache_dir);
        return 0;
}
