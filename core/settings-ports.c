/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings-ports.h"
#include "util/util.h"

static bool line_is_section(const char *s, size_t n, const char **ret_name, size_t *ret_len) {
        while (n > 0 && (*s == ' ' || *s == '\t'))
                s++, n--;
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                n--;
        if (n < 2 || s[0] != '[' || s[n - 1] != ']')
                return false;
        *ret_name = s + 1;
        *ret_len = n - 2;
        return true;
}

static bool line_is_port(const char *s, size_t n) {
        while (n > 0 && (*s == ' ' || *s == '\t'))
                s++, n--;
        if (n < 4 || !strneq(s, "Port", 4))
                return false;
        s += 4;
        n -= 4;
        while (n > 0 && (*s == ' ' || *s == '\t'))
                s++, n--;
        return n > 0 && *s == '=';
}

static void put_ports(FILE *f, const PortForward *ports, size_t n_ports) {
        for (size_t i = 0; i < n_ports; i++) {
                char buf[PORT_FORWARD_STRLEN];
                fprintf(f, "Port=%s\n", port_forward_to_string(&ports[i], buf));
        }
}

int settings_text_set_ports(const char *text, const PortForward *ports, size_t n_ports, char **ret) {
        _cleanup_free_ char *buf = NULL;
        FILE *f;
        size_t size = 0;
        bool in_network = false, inserted = false;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (const char *line = text ?: ""; *line;) {
                const char *end = strchrnul(line, '\n'), *name;
                size_t n = (size_t) (end - line), name_len;

                if (line_is_section(line, n, &name, &name_len)) {
                        /* Leaving the first [Network]: its ports go at its end. */
                        if (in_network && !inserted) {
                                put_ports(f, ports, n_ports);
                                inserted = true;
                        }
                        in_network = name_len == 7 && strneq(name, "Network", 7);
                }
                if (!(in_network && line_is_port(line, n))) {
                        fwrite(line, 1, n, f);
                        fputc('\n', f);
                }
                line = *end ? end + 1 : end;
        }
        if (!inserted && n_ports > 0) {
                if (!in_network)
                        fprintf(f, "%s[Network]\n", size > 0 || ftell(f) > 0 ? "\n" : "");
                put_ports(f, ports, n_ports);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

int settings_file_set_ports(const char *path, const PortForward *ports, size_t n_ports) {
        _cleanup_free_ char *text = NULL, *out = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size;
        int r;

        r = read_full_file(path, &text, &size);
        if (r < 0 && r != -ENOENT)
                return r;
        r = settings_text_set_ports(text, ports, n_ports, &out);
        if (r < 0)
                return r;
        tmp = strjoin(path, ".tmp");
        if (!tmp)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, out, strlen(out));
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
