/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ini.h"
#include "macro.h"
#include "util/strv.h"
#include "util/util.h"

int ini_open(const char *path, FILE **ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        FILE *f;

        assert(path);
        assert(ret);

        /* O_NONBLOCK so that a FIFO planted where a settings file or template is expected
         * cannot hang us; anything but a regular file is refused right after. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        f = fdopen(fd, "r");
        if (!f)
                return -errno;
        TAKE_FD(fd);
        *ret = f;
        return 0;
}

int ini_set_string(char **field, const char *value) {
        char *c = NULL;

        assert(field);

        if (!isempty(value)) {
                c = strdup(value);
                if (!c)
                        return -ENOMEM;
        }
        free(*field);
        *field = c;
        return 0;
}

static int ini_format(IniParser *p, char **ret, const char *format, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, format, ap) < 0)
                return -ENOMEM;
        /* Line 0: an assignment that comes from a command line option, named by filename. */
        if ((p->line > 0 ? asprintf(ret, "%s:%u: %s", p->filename, p->line, msg)
                         : asprintf(ret, "%s: %s", p->filename, msg)) < 0)
                return -ENOMEM;
        return 0;
}

int ini_syntax_error(IniParser *p, const char *format, ...) {
        char *e = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = ini_format(p, &e, format, ap);
        va_end(ap);
        if (r < 0)
                return r;

        free(p->error);
        p->error = e;
        return -EBADMSG;
}

int ini_warning(IniParser *p, const char *format, ...) {
        char *w = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = ini_format(p, &w, format, ap);
        va_end(ap);
        if (r < 0)
                return r;

        return strv_consume(&p->warnings, w);
}

/* Like getline(), but gives up with -ENOBUFS past INI_LINE_MAX instead of growing the
 * buffer for as long as a hostile input goes on. Returns 0 at EOF, 1 if a line was read. */
static int read_line_bounded(FILE *f, char **buf, size_t *allocated, size_t *ret_len) {
        size_t n = 0;
        int ch;

        for (;;) {
                ch = getc(f);
                if (ch == EOF) {
                        if (ferror(f))
                                return errno > 0 ? -errno : -EIO;
                        if (n == 0)
                                return 0;
                        break;
                }
                if (n >= INI_LINE_MAX)
                        return -ENOBUFS;
                if (n + 1 >= *allocated) {
                        size_t a = *allocated ? *allocated * 2 : 256;
                        char *q = realloc(*buf, a);
                        if (!q)
                                return -ENOMEM;
                        *buf = q;
                        *allocated = a;
                }
                if (ch == '\n')
                        break;
                (*buf)[n++] = (char) ch;
        }

        (*buf)[n] = 0;
        *ret_len = n;
        return 1;
}

static bool ini_name_is_valid(const char *s) {
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '_' || *s == '-'))
                        return false;
        return true;
}

typedef struct IniState {
        char *section;
        bool section_known;
} IniState;

static int ini_parse_line(IniParser *p, IniState *st, char *l, const char *const *known_sections,
                          IniAssignment callback, void *userdata) {
        char *eq, *key, *value;
        int r;

        if (!utf8_is_valid(l))
                return ini_syntax_error(p, "invalid UTF-8");
        for (char *c = l; *c; c++)
                if (((unsigned char) *c < 0x20 && *c != '\t') || *c == 0x7f)
                        return ini_syntax_error(p, "control character in line");

        l = strstrip(l);
        if (*l == 0 || *l == '#' || *l == ';')
                return 0;

        if (*l == '[') {
                size_t n = strlen(l);
                char *name;

                if (l[n - 1] != ']')
                        return ini_syntax_error(p, "unterminated section header");
                l[n - 1] = 0;
                name = l + 1;
                if (!ini_name_is_valid(name))
                        return ini_syntax_error(p, "invalid section name \"[%s]\"", name);

                free(st->section);
                st->section = strdup(name);
                if (!st->section)
                        return -ENOMEM;

                st->section_known = known_sections && strv_contains((char *const *) known_sections, name);
                if (!st->section_known)
                        return ini_warning(p, "unknown section [%s], ignoring", name);
                return 0;
        }

        eq = strchr(l, '=');
        if (!eq)
                return ini_syntax_error(p, "expected KEY=VALUE or [Section], found neither");
        *eq = 0;
        key = strstrip(l);
        value = strstrip(eq + 1);

        if (st->section && !st->section_known)
                return 0; /* already warned about the section, whatever it contains */
        if (!ini_name_is_valid(key))
                return ini_syntax_error(p, "invalid key name \"%s\"", key);
        if (!st->section)
                return ini_warning(p, "assignment %s= outside of any section, ignoring", key);

        r = callback(p, st->section, key, value, userdata);
        if (r == INI_UNKNOWN_KEY)
                return ini_warning(p, "unknown key %s= in section [%s], ignoring", key, st->section);
        return r;
}

int ini_parse(FILE *f, const char *filename, const char *const *known_sections,
              IniAssignment callback, void *userdata, Error *e, char ***ret_warnings) {
        _cleanup_free_ char *line = NULL;
        IniParser p = {
                .filename = filename ?: "(input)",
        };
        IniState st = {};
        size_t allocated = 0;
        int r;

        if (!f || !callback)
                return -EINVAL;

        for (;;) {
                char *l;
                size_t n = 0;

                r = read_line_bounded(f, &line, &allocated, &n);
                if (r == 0)
                        break;
                p.line++;
                if (r == -ENOBUFS)
                        r = ini_syntax_error(&p, "line too long");
                if (r < 0)
                        goto finish;
                if (memchr(line, 0, n)) {
                        r = ini_syntax_error(&p, "NUL byte in line");
                        goto finish;
                }

                /* CRLF line ends, as systemd accepts them. */
                if (n > 0 && line[n - 1] == '\r')
                        line[--n] = 0;

                l = line;
                /* Editors on some systems write a byte order mark; it is not content. */
                if (p.line == 1 && startswith(l, "\xef\xbb\xbf"))
                        l += 3;

                r = ini_parse_line(&p, &st, l, known_sections, callback, userdata);
                if (r < 0)
                        goto finish;
        }
        r = 0;

finish:
        free(st.section);
        if (r < 0) {
                if (r == -EBADMSG && p.error)
                        error_set(e, r, "%s", p.error);
                free(p.error);
                strv_free(p.warnings);
                return r;
        }
        free(p.error);
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(p.warnings);
        strv_free(p.warnings);
        return 0;
}
