/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every imported archive (nspawnctl import-tar, machined's ImportTar) passes the header
 * walker before tar extracts what it forwards: the archive is the user's, possibly
 * hostile. Whatever the bytes, the walker must not crash, and:
 * - it answers 0, -EPERM with a reason, -EBADMSG, or -ENOMEM;
 * - an archive it accepts it forwards unchanged, byte for byte;
 * - with TAR_WALK_SKIP_DEVICES, what it forwards from an accepted archive is an archive it
 *   accepts again without skipping anything: no device, no refused member got through. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "macro.h"
#include "tar-walk.h"
#include "util/util.h"

typedef struct Sink {
        char *buf;
        size_t n;
} Sink;

static int sink_append(const void *buf, size_t n, void *userdata) {
        Sink *s = userdata;
        char *p = realloc(s->buf, s->n + n);

        if (!p)
                return -ENOMEM;
        memcpy(p + s->n, buf, n);
        s->buf = p;
        s->n += n;
        return 0;
}

static int memfd_with(const void *data, size_t size) {
        int fd = memfd_create("fuzz-tar", MFD_CLOEXEC);

        if (fd < 0)
                abort();
        if (size > 0 && write(fd, data, size) != (ssize_t) size)
                abort();
        if (lseek(fd, 0, SEEK_SET) < 0)
                abort();
        return fd;
}

static int walk(const void *data, size_t size, TarWalkFlags flags, Sink *sink, unsigned *skipped) {
        _cleanup_(tar_refusal_done) TarRefusal refusal = {};
        _cleanup_close_ int fd = memfd_with(data, size);
        int r = tar_walk_full(fd, flags, sink ? sink_append : NULL, sink, &refusal, skipped);

        if (r != 0 && r != -EPERM && r != -EBADMSG && r != -ENOMEM)
                abort();
        if (r == -EPERM && !refusal.reason)
                abort();
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *plain = NULL, *skipping = NULL;
        Sink a = {}, b = {};
        unsigned skipped = 0, again = 0;
        int r;

        r = walk(data, size, 0, &a, NULL);
        plain = a.buf;
        if (r == 0 && (a.n != size || (size > 0 && memcmp(a.buf, data, size) != 0)))
                abort();
        /* Without a sink, the same verdict. */
        if (walk(data, size, 0, NULL, NULL) != r && r != -ENOMEM)
                abort();

        r = walk(data, size, TAR_WALK_SKIP_DEVICES, &b, &skipped);
        skipping = b.buf;
        if (r == 0) {
                if (walk(b.buf, b.n, 0, NULL, NULL) != 0)
                        abort();
                if (walk(b.buf, b.n, TAR_WALK_SKIP_DEVICES, NULL, &again) != 0 || again != 0)
                        abort();
        }
        return 0;
}
