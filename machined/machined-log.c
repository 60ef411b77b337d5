/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A machine's logs: what it printed on its console (STATEDIR/logs/NAME.console) and what its
 * supervisor said (STATEDIR/logs/NAME.stderr). Both outlive the machine for a while
 * (manager_prune_logs()), so that a failed start can say why. Console text is the guest's:
 * every line is escaped before it leaves machined. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "machined-api.h"
#include "machined.h"
#include "names.h"
#include "state-dir.h"
#include "util/strv.h"
#include "util/escape.h"
#include "util/util.h"

/* Logs are bounded (the console log starts over at 1 MiB), so reading one whole is fine. */
int machine_log_tail(Manager *m, const char *name, MachineLog which, unsigned n_lines, char ***ret) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        char *save = NULL;
        size_t n = 0;
        int r;

        path = which == MACHINE_LOG_CONSOLE ? machine_state_path(m->state_dir, name, MACHINE_CONSOLE_LOG)
                                            : strjoin(m->logs_dir, "/", name, ".stderr");
        if (!path)
                return -ENOMEM;
        r = read_full_file(path, &buf, NULL);
        if (r == -ENOENT) {
                *ret = calloc(1, sizeof(char *));
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        _cleanup_free_ char **all = NULL;
        for (char *l = strtok_r(buf, "\r\n", &save); l; l = strtok_r(NULL, "\r\n", &save)) {
                char **na = reallocarray(all, n + 1, sizeof(char *));
                if (!na)
                        return -ENOMEM;
                all = na;
                all[n++] = l;
        }
        lines = calloc(1, sizeof(char *));
        if (!lines)
                return -ENOMEM;
        for (size_t i = n > n_lines ? n - n_lines : 0; i < n; i++) {
                r = strv_consume(&lines, escape_terminal(all[i], 1024, ESCAPE_BACKSLASH));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(lines);
        return 0;
}

char *machine_log_summary(Manager *m, const char *name, unsigned n_lines) {
        _cleanup_strv_free_ char **lines = NULL;
        char *out = NULL;

        if (machine_log_tail(m, name, MACHINE_LOG_CONSOLE, n_lines, &lines) < 0)
                return NULL;
        STRV_FOREACH(l, lines) {
                if (isempty(strstrip(*l)))
                        continue;
                char *joined = strjoin(strempty(out), out ? " | " : "", strstrip(*l));
                free(out);
                out = joined;
                if (!out)
                        return NULL;
        }
        return out;
}

static int method_get_machine_log(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **console = NULL, **supervisor = NULL;
        Manager *m = userdata;
        const char *name;
        uint32_t n;
        int r;

        r = sd_bus_message_read(message, "su", &name, &n);
        if (r < 0)
                return r;
        if ((r = bus_check_root(message, error)) < 0 || (r = bus_check_machine_name(name, error)) < 0)
                return r;
        if (n == 0 || n > 10000)
                n = 10000;
        if ((r = machine_log_tail(m, name, MACHINE_LOG_CONSOLE, n, &console)) < 0 ||
            (r = machine_log_tail(m, name, MACHINE_LOG_SUPERVISOR, n, &supervisor)) < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to read the logs of %s: %m", name);
        if (strv_length(console) == 0 && strv_length(supervisor) == 0 && !manager_find_machine(m, name))
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_MACHINE, "No machine '%s' known, and no log of one.",
                                         name);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, console);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, supervisor);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const sd_bus_vtable log_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetMachineLog", SD_BUS_ARGS("s", name, "u", lines),
                                SD_BUS_RESULT("as", console, "as", supervisor), method_get_machine_log, 0),
        SD_BUS_VTABLE_END,
};

int manager_add_log_bus_objects(Manager *m, sd_bus *bus) {
        return sd_bus_add_object_vtable(bus, NULL, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, log_vtable, m);
}
