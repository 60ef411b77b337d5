/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "run-settings.h"
#include "util/escape.h"
#include "util/strv.h"
#include "util/util.h"

/* In the order of RUN_SETTINGS_OPTIONS. */
static const struct {
        const char *option;
        const char *section;
        const char *key; /* NULL: --rlimit=, whose key is in the value */
} options[] = {
        { "--capability", "Exec", "Capability" },
        { "--drop-capability", "Exec", "DropCapability" },
        { "--ambient-capability", "Exec", "AmbientCapability" },
        { "--no-new-privileges", "Exec", "NoNewPrivileges" },
        { "--system-call-filter", "Exec", "SystemCallFilter" },
        { "--oom-score-adjust", "Exec", "OOMScoreAdjust" },
        { "--cpu-affinity", "Exec", "CPUAffinity" },
        { "--hostname", "Exec", "Hostname" },
        { "--uuid", "Exec", "MachineID" },
        { "--inaccessible", "Files", "Inaccessible" },
        { "--overlay", "Files", "Overlay" },
        { "--overlay-ro", "Files", "OverlayReadOnly" },
        { "--volatile", "Files", "Volatile" },
        { "--kill-signal", "Exec", "KillSignal" },
        { "--timezone", "Exec", "Timezone" },
        { "--link-journal", "Exec", "LinkJournal" },
        { "--personality", "Exec", "Personality" },
        { "--suppress-sync", "Exec", "SuppressSync" },
        { "--rlimit", "Exec", NULL },
};

int run_settings_option(Settings *s, int opt, const char *arg) {
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_(error_done) Error error = ERROR_NULL;
        _cleanup_free_ char *name = NULL;
        const char *key, *value = arg;
        size_t i;
        int r;

        if (opt < RUN_SETTINGS_OPTION_BASE || opt >= RUN_SETTINGS_OPTION_BASE + (int) ELEMENTSOF(options))
                return 0;
        i = opt - RUN_SETTINGS_OPTION_BASE;
        key = options[i].key;
        /* --volatile alone is --volatile=yes, as with systemd-nspawn. */
        if (!value)
                value = "yes";
        /* An empty value would reset a file's key: on the command line it is a mistake. */
        if (isempty(value))
                return log_error_errno(-EINVAL, "%s= needs a value.", options[i].option);
        if (!key) {
                const char *eq = strchr(value, '=');
                int resource;

                name = eq ? strndup(value, eq - value) : NULL;
                if (eq && !name)
                        return log_oom();
                resource = name ? rlimit_from_any_name(name) : -EINVAL;
                if (resource < 0 || isempty(eq + 1))
                        return log_error_errno(-EINVAL, "Invalid --rlimit= '%s': expected NAME=SOFT[:HARD] "
                                               "with NAME e.g. RLIMIT_NOFILE.", value);
                key = rlimit_to_key(resource);
                value = eq + 1;
        }
        r = settings_assign(s, options[i].section, key, value, options[i].option, &error, &warnings);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                /* The value is in the message: the user's, but maybe pasted from anywhere. */
                _cleanup_free_ char *e = escape_terminal(
                        error_is_set(&error) ? error_message(&error) : "Invalid value.", 1024, 0);
                return log_error_errno(-EINVAL, "%s", e ?: "Invalid value.");
        }
        STRV_FOREACH(w, warnings) {
                _cleanup_free_ char *e = escape_terminal(*w, 1024, 0);
                log_warning("%s", strna(e));
        }
        return 1;
}
