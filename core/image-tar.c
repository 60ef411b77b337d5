/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy.h"
#include "exec-util.h"
#include "image-tar.h"
#include "names.h"
#include "util/strv.h"
#include "util/util.h"

#define TAR_BLOCK 512
/* GNU long names and pax headers larger than this are not plausible. */
#define TAR_META_MAX (1024 * 1024)

static const char *const tar_compression_table[_TAR_COMPRESSION_MAX] = {
        [TAR_COMPRESSION_NONE] = "none",
        [TAR_COMPRESSION_GZIP] = "gzip",
        [TAR_COMPRESSION_XZ] = "xz",
        [TAR_COMPRESSION_ZSTD] = "zstd",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(tar_compression, TarCompression, _TAR_COMPRESSION_MAX);

TarCompression tar_compression_from_filename(const char *filename) {
        static const struct {
                const char *suffix;
                TarCompression c;
        } table[] = {
                { ".tar", TAR_COMPRESSION_NONE },     { ".tar.gz", TAR_COMPRESSION_GZIP },
                { ".tgz", TAR_COMPRESSION_GZIP },     { ".tar.xz", TAR_COMPRESSION_XZ },
                { ".txz", TAR_COMPRESSION_XZ },       { ".tar.zst", TAR_COMPRESSION_ZSTD },
                { ".tzst", TAR_COMPRESSION_ZSTD },    { ".tar.zstd", TAR_COMPRESSION_ZSTD },
        };

        if (!filename)
                return _TAR_COMPRESSION_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (endswith(filename, table[i].suffix) && strlen(filename) > strlen(table[i].suffix))
                        return table[i].c;
        return _TAR_COMPRESSION_INVALID;
}

void tar_refusal_done(TarRefusal *r) {
        free(r->path);
        r->path = NULL;
        r->reason = NULL;
}

/* ---- the header walker ---- */

typedef struct TarHeader {
        char name[100];
        char mode[8];
        char uid[8];
        char gid[8];
        char size[12];
        char mtime[12];
        char chksum[8];
        char typeflag;
        char linkname[100];
        char magic[6];
        char version[2];
        char uname[32];
        char gname[32];
        char devmajor[8];
        char devminor[8];
        char prefix[155];
        char pad[12];
} TarHeader;

_Static_assert(sizeof(TarHeader) == TAR_BLOCK, "tar header is one block");

typedef struct TarWalk {
        int fd;
        TarWalkFlags flags;
        TarForwardFunc forward;
        void *userdata;
        TarRefusal *refusal;
        /* With TAR_WALK_SKIP_DEVICES the headers before a member (long names, pax records)
         * are held back until the member is known, so that a skipped member takes its own
         * along and never renames the next one. */
        char *held;
        size_t n_held;
        bool holding;
        unsigned skipped;
        char *long_name; /* from a GNU 'L' member or a pax "path" record */
        char *sparse_name; /* from a pax "GNU.sparse.name": GNU tar prefers it to "path" */
        char *long_link; /* from a GNU 'K' member or a pax "linkpath" record */
        uint64_t pax_size;
        bool have_pax_size;
} TarWalk;

static int parse_number(const char *field, size_t n, uint64_t *ret) {
        uint64_t v = 0;
        size_t i = 0;

        /* GNU base-256 for values that do not fit in octal */
        if ((unsigned char) field[0] & 0x80) {
                if ((unsigned char) field[0] != 0x80)
                        return -EBADMSG; /* negative */
                for (i = 1; i < n; i++) {
                        if (v >> 56)
                                return -EBADMSG;
                        v = (v << 8) | (unsigned char) field[i];
                }
                *ret = v;
                return 0;
        }
        while (i < n && field[i] == ' ')
                i++;
        for (; i < n && field[i] >= '0' && field[i] <= '7'; i++) {
                if (v >> 60)
                        return -EBADMSG;
                v = v * 8 + (field[i] - '0');
        }
        for (; i < n; i++)
                if (field[i] != ' ' && field[i] != 0)
                        return -EBADMSG;
        *ret = v;
        return 0;
}

static bool header_checksum_ok(const TarHeader *h) {
        const unsigned char *p = (const unsigned char *) h;
        uint64_t expected;
        unsigned long sum_u = 0;
        long sum_s = 0;

        if (parse_number(h->chksum, sizeof h->chksum, &expected) < 0)
                return false;
        for (size_t i = 0; i < TAR_BLOCK; i++) {
                bool in_chksum = i >= offsetof(TarHeader, chksum) &&
                                 i < offsetof(TarHeader, chksum) + sizeof h->chksum;
                sum_u += in_chksum ? ' ' : p[i];
                sum_s += in_chksum ? ' ' : (signed char) p[i];
        }
        /* some old tars summed signed chars */
        return expected == sum_u || (long) expected == sum_s;
}

static bool block_is_zero(const void *b) {
        const unsigned char *p = b;
        for (size_t i = 0; i < TAR_BLOCK; i++)
                if (p[i])
                        return false;
        return true;
}

bool tar_path_is_safe(const char *p) {
        if (isempty(p) || p[0] == '/')
                return false;
        for (const char *c = p; *c;) {
                size_t l = strcspn(c, "/");
                if (l == 2 && c[0] == '.' && c[1] == '.')
                        return false;
                c += l;
                while (*c == '/')
                        c++;
        }
        return true;
}

static int refuse(TarWalk *w, const char *path, const char *reason) {
        if (w->refusal) {
                free(w->refusal->path);
                w->refusal->path = strdup(path ?: "");
                w->refusal->reason = reason;
        }
        return -EPERM;
}

static int read_block(TarWalk *w, void *buf) {
        ssize_t n = loop_read(w->fd, buf, TAR_BLOCK);
        if (n < 0)
                return (int) n;
        if (n == 0)
                return 0;
        if (n != TAR_BLOCK)
                return -EBADMSG; /* truncated */
        return 1;
}

/* At most this much of held-back headers before one member. */
#define TAR_HELD_MAX (4 * (TAR_META_MAX + TAR_BLOCK))

static int forward(TarWalk *w, const void *buf, size_t n) {
        if (!w->forward)
                return 0;
        if (w->holding) {
                char *h;
                if (w->n_held + n > TAR_HELD_MAX)
                        return -EBADMSG;
                h = realloc(w->held, w->n_held + n);
                if (!h)
                        return -ENOMEM;
                memcpy(h + w->n_held, buf, n);
                w->held = h;
                w->n_held += n;
                return 0;
        }
        return w->forward(buf, n, w->userdata);
}

/* The member after the held headers is taken (forward them) or skipped (drop them). */
static int held_release(TarWalk *w, bool take) {
        int r = 0;

        w->holding = false;
        if (take && w->n_held > 0)
                r = forward(w, w->held, w->n_held);
        w->held = mfree(w->held);
        w->n_held = 0;
        return r;
}

/* Reads (and forwards) the data of a member; into *ret (NUL-terminated) if asked. */
static int read_data(TarWalk *w, uint64_t size, char **ret) {
        _cleanup_free_ char *data = NULL;
        char block[TAR_BLOCK];
        uint64_t done = 0;
        int r;

        if (ret) {
                if (size > TAR_META_MAX)
                        return -EBADMSG;
                data = malloc(size + 1);
                if (!data)
                        return -ENOMEM;
        }
        while (done < size) {
                r = read_block(w, block);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -EBADMSG;
                if (data)
                        memcpy(data + done, block, MIN((uint64_t) TAR_BLOCK, size - done));
                r = forward(w, block, TAR_BLOCK);
                if (r < 0)
                        return r;
                done += MIN((uint64_t) TAR_BLOCK, size - done);
        }
        if (ret) {
                data[size] = 0;
                *ret = TAKE_PTR(data);
        }
        return 0;
}

static bool key_is(const char *key, size_t klen, const char *name) {
        return klen == strlen(name) && strneq(key, name, klen);
}

/* The GNU.sparse.* keywords GNU tar knows besides GNU.sparse.name: they describe the sparse
 * map and the real size, never a name. Any other (a future or made-up one) is refused
 * rather than guessed about. */
static bool sparse_key_is_known(const char *key, size_t klen) {
        FOREACH_STRING(k, "GNU.sparse.major", "GNU.sparse.minor", "GNU.sparse.realsize",
                       "GNU.sparse.numblocks", "GNU.sparse.size", "GNU.sparse.offset",
                       "GNU.sparse.numbytes", "GNU.sparse.map")
                if (key_is(key, klen, k))
                        return true;
        return false;
}

/* Applies the records of a pax extended header ("LEN key=value\n"...). Every keyword that
 * GNU tar (which extracts) takes a member's name, link target or size from is checked here
 * as the member's own would be, so that tar never sees a name the walker did not: "path",
 * "GNU.sparse.name" (which wins over "path" whatever the order), "linkpath", "size". In a
 * global header, which GNU tar applies to every member that follows, they are refused. */
static int parse_pax(TarWalk *w, const char *data, size_t size, bool global) {
        const char *p = data, *end = data + size;

        while (p < end && *p) {
                char *e;
                unsigned long len = strtoul(p, &e, 10);
                if (e == p || *e != ' ' || len == 0 || len > (size_t) (end - p) || p[len - 1] != '\n')
                        return -EBADMSG;
                const char *key = e + 1, *eq = memchr(key, '=', p + len - key);
                if (!eq)
                        return -EBADMSG;
                size_t klen = eq - key;
                _cleanup_free_ char *value = strndup(eq + 1, p + len - 1 - (eq + 1));
                if (!value)
                        return -ENOMEM;

                if (key_is(key, klen, "path") || key_is(key, klen, "GNU.sparse.name")) {
                        bool sparse = klen != 4;
                        if (global)
                                return refuse(w, value, "pax global header renames every member");
                        if (!tar_path_is_safe(value))
                                return refuse(w, value, sparse ? "unsafe path in pax GNU.sparse.name"
                                                               : "unsafe path in pax header");
                        char **target = sparse ? &w->sparse_name : &w->long_name;
                        free(*target);
                        *target = TAKE_PTR(value);
                } else if (key_is(key, klen, "linkpath")) {
                        if (global)
                                return refuse(w, value, "pax global header changes every link target");
                        free(w->long_link);
                        w->long_link = TAKE_PTR(value);
                } else if (key_is(key, klen, "size")) {
                        if (global)
                                return refuse(w, value, "pax global header changes every member's size");
                        if (safe_atou64(value, &w->pax_size) < 0)
                                return -EBADMSG;
                        w->have_pax_size = true;
                } else if (klen > STRLEN("GNU.sparse.") &&
                           strneq(key, "GNU.sparse.", STRLEN("GNU.sparse."))) {
                        _cleanup_free_ char *k = strndup(key, klen);
                        if (!k)
                                return -ENOMEM;
                        if (global)
                                return refuse(w, k, "GNU.sparse keyword in a pax global header");
                        if (!sparse_key_is_known(key, klen))
                                return refuse(w, k, "unknown pax GNU.sparse keyword");
                }
                p += len;
        }
        return 0;
}

static void walk_reset_pending(TarWalk *w) {
        free(w->long_name);
        free(w->sparse_name);
        free(w->long_link);
        w->long_name = w->sparse_name = w->long_link = NULL;
        w->have_pax_size = false;
}

int tar_walk(int fd, TarForwardFunc forward_cb, void *userdata, TarRefusal *refusal) {
        return tar_walk_full(fd, 0, forward_cb, userdata, refusal, NULL);
}

int tar_walk_full(int fd, TarWalkFlags flags, TarForwardFunc forward_cb, void *userdata, TarRefusal *refusal,
                  unsigned *ret_skipped) {
        TarWalk w = { .fd = fd, .flags = flags, .forward = forward_cb, .userdata = userdata, .refusal = refusal };
        char block[TAR_BLOCK];
        int r;

        for (;;) {
                const TarHeader *h = (const TarHeader *) block;
                _cleanup_free_ char *name = NULL, *link = NULL, *meta = NULL;
                uint64_t size;

                r = read_block(&w, block);
                if (r < 0)
                        goto finish;
                if (r == 0) {
                        /* EOF without end marker: GNU tar accepts that too. */
                        r = 0;
                        goto finish;
                }
                if (block_is_zero(block)) {
                        /* End of archive; pass on the marker and whatever padding follows. */
                        r = held_release(&w, true);
                        if (r >= 0)
                                r = forward(&w, block, TAR_BLOCK);
                        while (r >= 0 && (r = read_block(&w, block)) > 0)
                                r = forward(&w, block, TAR_BLOCK);
                        goto finish;
                }
                if (!header_checksum_ok(h) || !strneq(h->magic, "ustar", 5)) {
                        r = -EBADMSG;
                        goto finish;
                }
                r = parse_number(h->size, sizeof h->size, &size);
                if (r < 0)
                        goto finish;

                switch (h->typeflag) {
                case 'L':
                case 'K':
                case 'x':
                case 'g':
                        if ((flags & TAR_WALK_SKIP_DEVICES) && h->typeflag != 'g')
                                w.holding = true;
                        r = forward(&w, block, TAR_BLOCK);
                        if (r < 0)
                                goto finish;
                        r = read_data(&w, size, &meta);
                        if (r < 0)
                                goto finish;
                        if (h->typeflag == 'L') {
                                if (!tar_path_is_safe(meta)) {
                                        r = refuse(&w, meta, "unsafe GNU long name");
                                        goto finish;
                                }
                                free(w.long_name);
                                w.long_name = TAKE_PTR(meta);
                        } else if (h->typeflag == 'K') {
                                free(w.long_link);
                                w.long_link = TAKE_PTR(meta);
                        } else {
                                r = parse_pax(&w, meta, size, h->typeflag == 'g');
                                if (r < 0)
                                        goto finish;
                        }
                        continue;
                default:
                        break;
                }

                /* A real member: its name, from the pending long name or the header. */
                if (w.sparse_name)
                        name = TAKE_PTR(w.sparse_name);
                else if (w.long_name)
                        name = TAKE_PTR(w.long_name);
                else if (strneq(h->magic, "ustar\0", 6) && h->prefix[0]) {
                        char buf[sizeof h->prefix + 1 + sizeof h->name + 1];
                        snprintf(buf, sizeof buf, "%.*s/%.*s", (int) sizeof h->prefix, h->prefix,
                                 (int) sizeof h->name, h->name);
                        name = strdup(buf);
                } else
                        name = strndup(h->name, sizeof h->name);
                link = w.long_link ? TAKE_PTR(w.long_link) : strndup(h->linkname, sizeof h->linkname);
                if (!name || !link) {
                        r = -ENOMEM;
                        goto finish;
                }
                if (w.have_pax_size)
                        size = w.pax_size;
                walk_reset_pending(&w);

                if (!tar_path_is_safe(name)) {
                        r = refuse(&w, name, isempty(name) ? "empty member name"
                                             : name[0] == '/' ? "absolute member path"
                                                              : "member path with '..'");
                        goto finish;
                }
                switch (h->typeflag) {
                case '0':
                case '\0':
                case '7': /* contiguous: a regular file */
                case '2': /* symlink: any target */
                case '5':
                case 'D': /* GNU dumpdir: a directory with a listing as data */
                        break;
                case '1':
                        if (!tar_path_is_safe(link)) {
                                r = refuse(&w, link, "hard link target outside the tree");
                                goto finish;
                        }
                        break;
                case '3':
                case '4':
                        if (!(flags & TAR_WALK_SKIP_DEVICES)) {
                                r = refuse(&w, name, "device node");
                                goto finish;
                        }
                        /* No data, and nothing of it goes on. */
                        r = held_release(&w, false);
                        if (r >= 0)
                                r = read_data(&w, size, NULL);
                        if (r < 0)
                                goto finish;
                        w.skipped++;
                        continue;
                case '6':
                        r = refuse(&w, name, "fifo");
                        goto finish;
                case 'S': {
                        /* Old GNU sparse file: the sparse map may continue in extra blocks. */
                        bool extended = ((const unsigned char *) block)[482] != 0;
                        r = held_release(&w, true);
                        if (r >= 0)
                                r = forward(&w, block, TAR_BLOCK);
                        if (r < 0)
                                goto finish;
                        while (extended) {
                                r = read_block(&w, block);
                                if (r <= 0) {
                                        r = r < 0 ? r : -EBADMSG;
                                        goto finish;
                                }
                                extended = ((const unsigned char *) block)[504] != 0;
                                r = forward(&w, block, TAR_BLOCK);
                                if (r < 0)
                                        goto finish;
                        }
                        r = read_data(&w, size, NULL);
                        if (r < 0)
                                goto finish;
                        continue;
                }
                default:
                        r = refuse(&w, name, "unsupported member type");
                        goto finish;
                }

                r = held_release(&w, true);
                if (r >= 0)
                        r = forward(&w, block, TAR_BLOCK);
                if (r < 0)
                        goto finish;
                r = read_data(&w, size, NULL);
                if (r < 0)
                        goto finish;
        }

finish:
        if (r >= 0)
                r = held_release(&w, true); /* headers at the end: tar makes nothing of them */
        else
                (void) held_release(&w, false);
        walk_reset_pending(&w);
        if (r >= 0 && ret_skipped)
                *ret_skipped = w.skipped;
        return r < 0 ? r : 0;
}

/* ---- running tar and the compressors ---- */

static const char *const decompress_argv[_TAR_COMPRESSION_MAX][3] = {
        [TAR_COMPRESSION_GZIP] = { "gzip", "-dc", NULL },
        [TAR_COMPRESSION_XZ] = { "xz", "-dc", NULL },
        [TAR_COMPRESSION_ZSTD] = { "zstd", "-dcq", NULL },
};
static const char *const compress_argv[_TAR_COMPRESSION_MAX][3] = {
        [TAR_COMPRESSION_GZIP] = { "gzip", "-c", NULL },
        [TAR_COMPRESSION_XZ] = { "xz", "-c", NULL },
        [TAR_COMPRESSION_ZSTD] = { "zstd", "-cq", NULL },
};

/* The archive's plain tar stream: the file itself, or a decompressor's output. */
static int open_tar_stream(int archive_fd, TarCompression c, int *ret_fd, pid_t *ret_pid) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        int r;

        if (lseek(archive_fd, 0, SEEK_SET) < 0)
                return -errno;
        if (c == TAR_COMPRESSION_NONE) {
                int fd = fcntl(archive_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
                *ret_fd = fd;
                *ret_pid = 0;
                return 0;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        const int fds[3] = { archive_fd, p[1], EXEC_FD_INHERIT };
        r = exec_spawn((char *const *) decompress_argv[c], NULL, fds, ret_pid);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(p[0]);
        return 0;
}

/* Reaps the decompressor. If the whole stream was wanted, its exit status counts: a
 * corrupt compressed file must not pass as a short archive. */
static int finish_tar_stream(int *fd, pid_t pid, bool complete) {
        char buf[4096];

        if (pid <= 0) {
                *fd = safe_close(*fd);
                return 0;
        }
        if (complete) {
                while (read(*fd, buf, sizeof buf) > 0)
                        ;
        } else
                (void) kill(pid, SIGTERM);
        *fd = safe_close(*fd);
        int r = exec_wait(pid, NULL);
        return complete && r < 0 ? -EBADMSG : 0;
}

static TarCompression sniff_compression(int fd) {
        unsigned char m[6] = {};

        if (pread(fd, m, sizeof m, 0) < (ssize_t) sizeof m)
                return TAR_COMPRESSION_NONE;
        if (m[0] == 0x1f && m[1] == 0x8b)
                return TAR_COMPRESSION_GZIP;
        if (memcmp(m, "\xfd" "7zXZ\0", 6) == 0)
                return TAR_COMPRESSION_XZ;
        if (memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0)
                return TAR_COMPRESSION_ZSTD;
        return TAR_COMPRESSION_NONE;
}

static int send_all(const void *buf, size_t n, void *userdata) {
        /* A socket, so that a dead tar gives EPIPE without raising SIGPIPE in us. */
        return loop_send(*(int *) userdata, buf, n, MSG_NOSIGNAL);
}

/* Progress is told at most every this many bytes. */
#define TAR_PROGRESS_STEP (4U << 20)

typedef struct TarSend {
        int fd;
        uint64_t bytes, total, told;
        TarProgressFunc progress;
        void *userdata;
} TarSend;

static void tar_send_tell(TarSend *t, bool final) {
        if (!t->progress || (!final && t->bytes - t->told < TAR_PROGRESS_STEP))
                return;
        t->told = t->bytes;
        t->progress(t->bytes, t->total, t->userdata);
}

static int send_counted(const void *buf, size_t n, void *userdata) {
        TarSend *t = userdata;
        int r;

        r = send_all(buf, n, &t->fd);
        if (r < 0)
                return r;
        t->bytes += n;
        tar_send_tell(t, false);
        return 0;
}

static int check_archive(int archive_fd, TarCompression c, TarRefusal *refusal) {
        _cleanup_close_ int fd = -EBADF;
        pid_t pid;
        int r, k;

        r = open_tar_stream(archive_fd, c, &fd, &pid);
        if (r < 0)
                return r;
        r = tar_walk_full(fd, TAR_WALK_SKIP_DEVICES, NULL, NULL, refusal, NULL);
        k = finish_tar_stream(&fd, pid, r >= 0);
        return r < 0 ? r : k;
}

/* A full pool shows up as a failing tar; tell it apart for the caller. */
static int tar_failure_errno(int dir_fd) {
        struct statvfs sv;

        if (fstatvfs(dir_fd, &sv) >= 0 && (uint64_t) sv.f_bavail * sv.f_frsize < (UINT64_C(32) << 20))
                return -ENOSPC;
        return -EPROTO;
}

static int extract_archive(int archive_fd, TarCompression c, const char *target, int pool_fd, TarSend *send,
                           unsigned *ret_skipped, TarRefusal *refusal) {
        _cleanup_close_pair_ int sv[2] = { -EBADF, -EBADF };
        _cleanup_close_ int in = -EBADF;
        pid_t tar_pid, pid;
        int r, k;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        char *argv[] = { (char *) "tar", (char *) "--numeric-owner", (char *) "--xattrs",
                         (char *) "--xattrs-include=*", (char *) "-xpf", (char *) "-",
                         (char *) "-C", (char *) target, NULL };
        const int fds[3] = { sv[1], EXEC_FD_NULL, EXEC_FD_INHERIT };
        r = exec_spawn(argv, NULL, fds, &tar_pid);
        if (r < 0)
                return r;
        sv[1] = safe_close(sv[1]);
        send->fd = sv[0];

        r = open_tar_stream(archive_fd, c, &in, &pid);
        if (r >= 0) {
                r = tar_walk_full(in, TAR_WALK_SKIP_DEVICES, send_counted, send, refusal, ret_skipped);
                k = finish_tar_stream(&in, pid, r >= 0);
                if (r >= 0)
                        r = k;
        }
        if (r < 0) {
                /* Refused or damaged half way: tar must not finish what it has. */
                (void) kill(tar_pid, SIGKILL);
                (void) exec_wait(tar_pid, NULL);
                return r == -EPIPE ? tar_failure_errno(pool_fd) : r;
        }
        sv[0] = safe_close(sv[0]);
        r = exec_wait(tar_pid, NULL);
        if (r < 0)
                return tar_failure_errno(pool_fd);
        tar_send_tell(send, true);
        return 0;
}

/* The import itself, with the pool open and the name locked: what it makes is a temporary,
 * removed on failure before the caller drops the lock. */
static int import_locked(int fd, bool btrfs, const char *pool, int archive, TarCompression c, const char *name,
                         ImageFlags flags, TarSend *send, unsigned *ret_skipped, TarRefusal *refusal) {
        _cleanup_(image_tmp_done) ImageTmp tmp = { .dir_fd = fd };
        _cleanup_free_ char *target = NULL;
        int r;

        /* A refused archive creates nothing at all, not even a temporary. */
        r = check_archive(archive, c, refusal);
        if (r < 0)
                return r;

        r = image_tmp_make(fd, name, btrfs, &tmp.name);
        if (r < 0)
                return r;
        target = strjoin(pool, "/", tmp.name);
        if (!target)
                return -ENOMEM;
        r = extract_archive(archive, c, target, fd, send, ret_skipped, refusal);
        if (r < 0)
                return r;
        return image_tmp_finish(fd, &tmp, name, flags & IMAGE_READ_ONLY);
}

int image_import_tar(const char *pool, const char *path, const char *name, ImageFlags flags,
                     TarProgressFunc progress, void *userdata, unsigned *ret_skipped_devices,
                     TarRefusal *refusal) {
        _cleanup_close_ int archive = -EBADF, fd = -EBADF;
        TarCompression c;
        struct stat st;
        int lock = -EBADF;
        bool btrfs;
        int r;

        if (!image_name_is_valid(name))
                return -EINVAL;
        archive = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        if (archive < 0)
                return -errno;
        if (fstat(archive, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        c = tar_compression_from_filename(path);
        if (c < 0)
                c = sniff_compression(archive);

        r = image_pool_open_new(pool, name, &fd, &btrfs, &lock);
        if (r < 0)
                return r;
        TarSend send = {
                .total = c == TAR_COMPRESSION_NONE ? (uint64_t) st.st_size : 0,
                .progress = progress,
                .userdata = userdata,
        };
        r = import_locked(fd, btrfs, pool, archive, c, name, flags, &send, ret_skipped_devices, refusal);
        image_lock_release(fd, name, &lock);
        return r;
}

/* Writes "./PATH\n" for every device node, fifo and socket below fd to out. */
static int list_special_files(int fd, const char *prefix, FILE *out) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_fd(fd, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT(de, d) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (de->d_type == DT_REG || de->d_type == DT_LNK)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                path = strjoin(prefix, "/", de->d_name);
                if (!path)
                        return -ENOMEM;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int child = openat(dirfd(d), de->d_name,
                                                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (child < 0)
                                return -errno;
                        r = list_special_files(child, path, out);
                        if (r < 0)
                                return r;
                } else if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
                        /* The exclude list is line based. */
                        if (strchr(path, '\n'))
                                return -EBADMSG;
                        fprintf(out, "%s\n", path);
                }
        }
        return errno > 0 ? -errno : 0;
}

/* The archive leaves out device nodes, fifos and sockets: import refuses them, and the
 * runtime makes /dev itself, so an exported image can always be imported again. */
static int make_exclude_list(int pool_fd, const char *name, int *ret_fd) {
        _cleanup_close_ int root = -EBADF, mfd = -EBADF;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        root = openat(pool_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return -errno;
        mfd = memfd_create("tar-exclude", MFD_CLOEXEC);
        if (mfd < 0)
                return -errno;
        int dup_fd = fcntl(mfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        f = fdopen(dup_fd, "w");
        if (!f) {
                safe_close(dup_fd);
                return -errno;
        }
        r = list_special_files(root, ".", f);
        if (r < 0)
                return r;
        if (fflush(f) != 0)
                return -EIO;
        if (lseek(mfd, 0, SEEK_SET) < 0)
                return -errno;
        *ret_fd = TAKE_FD(mfd);
        return 0;
}

/* Copies what tar (or its compressor) writes into out, telling the progress on the way. */
static int export_relay(int from, int out, TarProgressFunc progress, void *userdata) {
        TarSend t = { .progress = progress, .userdata = userdata };
        char buf[65536];
        int r;

        for (;;) {
                ssize_t n = read(from, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                r = loop_write(out, buf, n);
                if (r < 0)
                        return r;
                t.bytes += n;
                tar_send_tell(&t, false);
        }
        tar_send_tell(&t, true);
        return 0;
}

int image_export_tar(const char *pool, const char *name, const char *path, TarProgressFunc progress,
                     void *userdata) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        _cleanup_close_ int dir_fd = -EBADF, out = -EBADF, exclude = -EBADF;
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF }, rp[2] = { -EBADF, -EBADF };
        _cleanup_free_ char *dir = NULL, *base = NULL, *source = NULL;
        TarCompression c;
        pid_t tar_pid, comp_pid = 0;
        int r, k;

        if (!image_name_is_valid(name))
                return -EINVAL;
        c = tar_compression_from_filename(path);
        if (c < 0)
                return c;
        /* image_find_at() only takes a real directory (lstat), so tar -C below cannot be
         * sent elsewhere by a symlink in the pool. */
        r = image_ref_open(pool, name, NULL, &ref);
        if (r < 0)
                return r;
        if (ref.type == IMAGE_RAW)
                return -EOPNOTSUPP; /* nothing to tar */

        r = path_split_last(path, &dir, &base);
        if (r < 0)
                return r;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        if (faccessat(dir_fd, base, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return -EEXIST;
        /* Nameless until complete: an interrupted export leaves no truncated archive. */
        out = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;

        r = make_exclude_list(ref.pool_fd, name, &exclude);
        if (r < 0)
                return r;
        source = strjoin(pool, "/", name);
        if (!source)
                return -ENOMEM;
        char *argv[] = { (char *) "tar", (char *) "--numeric-owner", (char *) "--xattrs",
                         (char *) "--xattrs-include=*", (char *) "--sort=name",
                         (char *) "--anchored", (char *) "--no-wildcards",
                         (char *) "--exclude-from=/dev/stdin", (char *) "-cpf", (char *) "-",
                         (char *) "-C", source, (char *) ".", NULL };
        /* The archive passes through us on its way to out, counted for the progress. */
        if (pipe2(rp, O_CLOEXEC) < 0)
                return -errno;
        if (c == TAR_COMPRESSION_NONE) {
                const int fds[3] = { exclude, rp[1], EXEC_FD_INHERIT };
                r = exec_spawn(argv, NULL, fds, &tar_pid);
                if (r < 0)
                        return r;
        } else {
                if (pipe2(p, O_CLOEXEC) < 0)
                        return -errno;
                const int tar_fds[3] = { exclude, p[1], EXEC_FD_INHERIT };
                r = exec_spawn(argv, NULL, tar_fds, &tar_pid);
                if (r < 0)
                        return r;
                const int comp_fds[3] = { p[0], rp[1], EXEC_FD_INHERIT };
                r = exec_spawn((char *const *) compress_argv[c], NULL, comp_fds, &comp_pid);
                if (r < 0) {
                        (void) kill(tar_pid, SIGKILL);
                        (void) exec_wait(tar_pid, NULL);
                        return r;
                }
                p[0] = safe_close(p[0]);
                p[1] = safe_close(p[1]);
        }
        rp[1] = safe_close(rp[1]);
        int relay = export_relay(rp[0], out, progress, userdata);
        rp[0] = safe_close(rp[0]);
        if (relay < 0) {
                (void) kill(tar_pid, SIGKILL);
                if (comp_pid > 0)
                        (void) kill(comp_pid, SIGKILL);
        }
        r = exec_wait(tar_pid, NULL);
        k = comp_pid > 0 ? exec_wait(comp_pid, NULL) : 0;
        if (relay < 0)
                return relay;
        if (r < 0 || k < 0)
                return tar_failure_errno(dir_fd);
        if (fsync(out) < 0)
                return -errno;

        if (linkat(AT_FDCWD, FORMAT_PROC_FD_PATH(out), dir_fd, base, AT_SYMLINK_FOLLOW) < 0)
                return -errno;
        return 0;
}
