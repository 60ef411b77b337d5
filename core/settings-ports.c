/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings-file.h"
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
        return memstream_finish(&f, &buf, ret);
}

typedef struct PortsEdit {
        const PortForward *ports;
        size_t n_ports;
} PortsEdit;

static int edit_ports(const char *text, void *userdata, char **ret) {
        const PortsEdit *e = userdata;
        return settings_text_set_ports(text, e->ports, e->n_ports, ret);
}

int settings_file_set_ports(const char *path, const PortForward *ports, size_t n_ports) {
        return settings_file_edit(path, edit_ports, &(PortsEdit) { ports, n_ports });
}
