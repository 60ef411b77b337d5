/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "user-record.h"
#include "util/util.h"

/* The files belong to the container: a FIFO or a device there must not block or confuse
 * the privileged caller, so only regular files are read, and opened without blocking. */
static FILE *open_db(const char *path) {
        struct stat st;
        FILE *f;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                safe_close(fd);
                errno = EBADF;
                return NULL;
        }
        f = fdopen(fd, "re");
        if (!f)
                safe_close(fd);
        return f;
}

int user_record_lookup(const char *user, struct passwd *ret, char **ret_buf, gid_t *groups,
                       int *n_groups) {
        _cleanup_fclose_ FILE *f = open_db("/etc/passwd");
        struct passwd *pw;
        struct group *gr;
        int max = *n_groups, uid = -1;

        if (!f)
                return -errno;
        if (max < 1)
                return -EINVAL;
        if (safe_atoi(user, &uid) < 0)
                uid = -1;
        while ((pw = fgetpwent(f)))
                if ((uid >= 0 && pw->pw_uid == (uid_t) uid) || streq(pw->pw_name, user))
                        break;
        if (!pw)
                return -ESRCH;
        *ret = *pw;
        /* fgetpwent's storage is static; copy the strings we keep into one buffer. */
        char *b = NULL;
        if (asprintf(&b, "%s%c%s%c%s", pw->pw_name, 0, pw->pw_dir, 0, pw->pw_shell) < 0)
                return -ENOMEM;
        ret->pw_name = b;
        ret->pw_dir = b + strlen(b) + 1;
        ret->pw_shell = ret->pw_dir + strlen(ret->pw_dir) + 1;
        *ret_buf = b;

        *n_groups = 0;
        groups[(*n_groups)++] = ret->pw_gid;
        _cleanup_fclose_ FILE *g = open_db("/etc/group");
        while (g && (gr = fgetgrent(g)))
                for (char **m = gr->gr_mem; m && *m && *n_groups < max; m++)
                        if (streq(*m, ret->pw_name) && gr->gr_gid != ret->pw_gid) {
                                groups[(*n_groups)++] = gr->gr_gid;
                                break;
                        }
        return 0;
}
