/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "user-record.h"
#include "util/guest-file.h"
#include "util/util.h"

typedef struct Field {
        const char *p;
        size_t n;
} Field;

/* Splits the line [p, p + n) at ':' into exactly want fields; false if the count differs. */
static bool split_fields(const char *p, size_t n, Field *f, size_t want) {
        size_t k = 0;

        for (const char *end = p + n;;) {
                const char *c = memchr(p, ':', end - p);
                if (k == want)
                        return false;
                f[k].p = p;
                f[k].n = (c ?: end) - p;
                k++;
                if (!c)
                        break;
                p = c + 1;
        }
        return k == want;
}

static bool field_is(const Field *f, const char *s) {
        return f->n == strlen(s) && memcmp(f->p, s, f->n) == 0;
}

/* A uid or gid: decimal, 0 to 2^32-2 ((uid_t) -1 means "none" to the kernel). */
static bool parse_id(const Field *f, uint32_t *ret) {
        uint64_t v = 0;

        if (f->n == 0 || f->n > 10)
                return false;
        for (size_t i = 0; i < f->n; i++) {
                if (f->p[i] < '0' || f->p[i] > '9')
                        return false;
                v = v * 10 + (uint64_t) (f->p[i] - '0');
        }
        if (v >= UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

/* Calls fn for every line of text that is not too long and not a NIS "+"/"-" entry; stops
 * when fn returns non-zero and returns that. */
static int for_each_line(const char *text, size_t size, int (*fn)(const char *p, size_t n, void *userdata),
                         void *userdata) {
        for (const char *p = text, *end = text + size; p < end;) {
                const char *nl = memchr(p, '\n', end - p);
                size_t n = (nl ?: end) - p;
                int r;

                if (n > 0 && n <= USER_DB_LINE_MAX && p[0] != '+' && p[0] != '-') {
                        r = fn(p, n, userdata);
                        if (r != 0)
                                return r;
                }
                p += n + 1;
        }
        return 0;
}

typedef struct PasswdMatch {
        const char *user;
        int64_t uid; /* -1: user is a name */
        Field f[7];
        uint32_t pw_uid, pw_gid;
} PasswdMatch;

static int passwd_line(const char *p, size_t n, void *userdata) {
        PasswdMatch *m = userdata;
        uint32_t uid, gid;

        /* name:password:uid:gid:gecos:home:shell */
        if (!split_fields(p, n, m->f, 7) || m->f[0].n == 0 || !parse_id(&m->f[2], &uid) ||
            !parse_id(&m->f[3], &gid))
                return 0;
        if (!field_is(&m->f[0], m->user) && !(m->uid >= 0 && uid == (uint32_t) m->uid))
                return 0;
        m->pw_uid = uid;
        m->pw_gid = gid;
        return 1;
}

typedef struct GroupScan {
        const char *user;
        gid_t primary;
        gid_t *groups;
        int n, max;
} GroupScan;

static int group_line(const char *p, size_t n, void *userdata) {
        GroupScan *s = userdata;
        Field f[4];
        uint32_t gid;

        /* name:password:gid:member,member,... */
        if (!split_fields(p, n, f, 4) || !parse_id(&f[2], &gid) || gid == s->primary)
                return 0;
        for (const char *m = f[3].p, *end = f[3].p + f[3].n; m < end;) {
                const char *comma = memchr(m, ',', end - m);
                Field member = { m, (comma ?: end) - m };
                if (field_is(&member, s->user)) {
                        if (s->n >= s->max)
                                return 1; /* full */
                        s->groups[s->n++] = (gid_t) gid;
                        break;
                }
                m += member.n + 1;
        }
        return 0;
}

int user_record_parse(const char *passwd, size_t passwd_size, const char *group, size_t group_size,
                      const char *user, struct passwd *ret, char **ret_buf, gid_t *groups, int *n_groups) {
        PasswdMatch m = { .user = user, .uid = -1 };
        int uid;

        if (*n_groups < 1 || isempty(user))
                return -EINVAL;
        if (safe_atoi(user, &uid) >= 0 && uid >= 0)
                m.uid = uid;
        if (for_each_line(passwd, passwd_size, passwd_line, &m) == 0)
                return -ESRCH;

        const Field *name = &m.f[0], *gecos = &m.f[4], *home = &m.f[5], *shell = &m.f[6];
        char *b = NULL;
        if (asprintf(&b, "%.*s%c%.*s%c%.*s%c%.*s", (int) name->n, name->p, 0, (int) home->n, home->p, 0,
                     (int) shell->n, shell->p, 0, (int) gecos->n, gecos->p) < 0)
                return -ENOMEM;
        *ret = (struct passwd) {
                .pw_name = b,
                .pw_passwd = (char *) "x",
                .pw_uid = (uid_t) m.pw_uid,
                .pw_gid = (gid_t) m.pw_gid,
        };
        ret->pw_dir = b + name->n + 1;
        ret->pw_shell = ret->pw_dir + home->n + 1;
        ret->pw_gecos = ret->pw_shell + shell->n + 1;
        if (shell->n == 0)
                ret->pw_shell = (char *) "/bin/sh";
        *ret_buf = b;

        GroupScan s = {
                .user = ret->pw_name,
                .primary = ret->pw_gid,
                .groups = groups,
                .n = 1,
                .max = *n_groups,
        };
        groups[0] = ret->pw_gid;
        if (group)
                (void) for_each_line(group, group_size, group_line, &s);
        *n_groups = s.n;
        return 0;
}

int user_record_lookup_at(int root_fd, const char *user, struct passwd *ret, char **ret_buf, gid_t *groups,
                          int *n_groups) {
        _cleanup_free_ char *text = NULL, *gtext = NULL;
        size_t size, gsize = 0;
        int r;

        r = read_guest_file(root_fd, "/etc/passwd", USER_DB_MAX_SIZE, 0, &text, &size);
        if (r < 0)
                return r;
        if (read_guest_file(root_fd, "/etc/group", USER_DB_MAX_SIZE, 0, &gtext, &gsize) < 0)
                gtext = mfree(gtext);
        return user_record_parse(text, size, gtext, gsize, user, ret, ret_buf, groups, n_groups);
}

int user_record_lookup(const char *user, struct passwd *ret, char **ret_buf, gid_t *groups,
                       int *n_groups) {
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (root < 0)
                return -errno;
        return user_record_lookup_at(root, user, ret, ret_buf, groups, n_groups);
}
