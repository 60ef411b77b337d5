/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tar header walker: the checks every imported archive passes before tar extracts it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tar-walk.h"
#include "util/strv.h"
#include "util/util.h"

#define TAR_BLOCK 512
/* GNU long names and pax headers larger than this are not plausible. */
#define TAR_META_MAX (1024 * 1024)

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
                /* These types carry no data. GNU tar skips the blocks a size announces after a
                 * symlink, device or fifo, but reads what follows a directory or hard link as
                 * the next header: a header hidden there would reach tar unchecked, and the
                 * blocks of a skipped device would go on without it. Real archives give them
                 * no size; one that does is read two ways, and refused. */
                if (size > 0 && h->typeflag && strchr("123456", h->typeflag)) {
                        r = refuse(&w, name, "data on a member that has none");
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
                        /* Nothing of it goes on, nor the headers before it (it has no data). */
                        (void) held_release(&w, false);
                        w.skipped++;
                        continue;
                case '6':
                        r = refuse(&w, name, "fifo");
                        goto finish;
                case 'S': /* old GNU sparse file */
                        break;
                default:
                        r = refuse(&w, name, "unsupported member type");
                        goto finish;
                }

                /* The member passed: its held headers, its own, an old GNU sparse map's
                 * extension blocks (byte 482 of the header, then 504 of each, says another
                 * follows), its data. */
                bool extended = h->typeflag == 'S' && ((const unsigned char *) block)[482] != 0;
                r = held_release(&w, true);
                if (r >= 0)
                        r = forward(&w, block, TAR_BLOCK);
                while (r >= 0 && extended) {
                        r = read_block(&w, block);
                        if (r == 0)
                                r = -EBADMSG;
                        if (r < 0)
                                break;
                        extended = ((const unsigned char *) block)[504] != 0;
                        r = forward(&w, block, TAR_BLOCK);
                }
                if (r >= 0)
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
