/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings-file.h"
#include "util/util.h"

#define SETTINGS_FILE_MAX (1024 * 1024)

int settings_file_edit(const char *path, SettingsTextEdit edit, void *userdata) {
        _cleanup_free_ char *text = NULL, *new_text = NULL, *tmp = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        mode_t mode = 0644;
        struct stat st;
        int r;

        if (fd >= 0) {
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode))
                        return -EBADFD;
                if (st.st_size > SETTINGS_FILE_MAX)
                        return -EFBIG;
                text = calloc(1, (size_t) st.st_size + 1);
                if (!text)
                        return -ENOMEM;
                ssize_t n = loop_read(fd, text, (size_t) st.st_size);
                if (n < 0)
                        return (int) n;
                text[n] = 0;
                if (strlen(text) != (size_t) n)
                        return -EBADMSG; /* a NUL byte: not a settings file */
                mode = st.st_mode & 07777;
        } else if (errno != ENOENT)
                return -errno;

        r = edit(text, userdata, &new_text);
        if (r < 0)
                return r;

        /* ".#" marks a temporary file in the pool too (see pool.c), never an image. */
        const char *slash = strrchr(path, '/');
        if (asprintf(&tmp, "%.*s.#%sXXXXXX", slash ? (int) (slash - path + 1) : 0, path,
                     slash ? slash + 1 : path) < 0)
                return -ENOMEM;
        _cleanup_close_ int out = mkostemp(tmp, O_CLOEXEC);
        if (out < 0)
                return -errno;
        r = loop_write(out, new_text, strlen(new_text));
        if (r >= 0 && (fchmod(out, mode) < 0 || fsync(out) < 0))
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
