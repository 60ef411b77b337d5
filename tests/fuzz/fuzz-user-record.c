/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A guest's /etc/passwd and /etc/group are parsed by our own code when a command runs as
 * --user= or a shell opens for a user, sometimes in a process that shares memory with the
 * host's supervisor (the payload until its exec). The files are guest root's to write.
 * Whatever their bytes, the parser must not crash, and what it returns must be a user of
 * those files: its name, uid or the name asked for; home, shell and GECOS NUL-free; the
 * primary group first; never more groups than room was given. The input is: one byte that
 * picks the user asked for, then passwd, then (after the first NUL) group. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "user-record.h"
#include "util/util.h"

static const char *const users[] = { "root", "alice", "0", "1000", "4294967294", "a:b", "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        gid_t groups[8];
        struct passwd pw;
        char *buf = NULL;
        const char *user, *text, *nul, *group = NULL;
        size_t passwd_size, group_size = 0;
        int n, r;

        if (size < 1)
                return 0;
        user = users[data[0] % ELEMENTSOF(users)];
        n = 1 + data[0] / ELEMENTSOF(users) % ELEMENTSOF(groups);
        text = (const char *) data + 1;
        passwd_size = size - 1;
        nul = memchr(text, 0, passwd_size);
        if (nul) {
                group = nul + 1;
                group_size = passwd_size - (size_t) (group - text);
                passwd_size = (size_t) (nul - text);
        }

        const int room = n;
        r = user_record_parse(text, passwd_size, group, group_size, user, &pw, &buf, groups, &n);
        if (isempty(user)) {
                if (r != -EINVAL)
                        abort();
                return 0;
        }
        if (r == -ESRCH)
                return 0;
        if (r < 0)
                abort();
        if (n < 1 || n > room || groups[0] != pw.pw_gid)
                abort();
        if (!streq(pw.pw_name, user) && !(strspn(user, "0123456789") == strlen(user) &&
                                          strtoull(user, NULL, 10) == (unsigned long long) pw.pw_uid))
                abort();
        if (pw.pw_uid == (uid_t) -1 || pw.pw_gid == (gid_t) -1)
                abort();
        /* Every string is one of the line's fields: within the text, no ':' or newline. */
        for (const char *const *f = (const char *const[]) { pw.pw_name, pw.pw_dir, pw.pw_shell, pw.pw_gecos, NULL };
             *f; f++)
                if (strlen(*f) > passwd_size || strpbrk(*f, ":\n"))
                        abort();
        for (int i = 1; i < n; i++)
                if (groups[i] == pw.pw_gid || groups[i] == (gid_t) -1)
                        abort();
        free(buf);
        return 0;
}
