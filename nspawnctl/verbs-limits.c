/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl set-limit: a machine's resource limits, through machined's SetMachineLimits
 * (docs/resources.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus-util.h"
#include "cgroup-limits.h"
#include "log.h"
#include "machined-api.h"
#include "names.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

static void help(void) {
        printf("nspawnctl set-limit [OPTIONS...] NAME LIMIT=VALUE...\n\n"
               "Change resource limits of a machine: at once when it runs, and in its settings\n"
               "file ([Resources]) so the next start has them too.\n\n"
               "  -h --help             Show this help\n"
               "     --runtime          Only for the machine as it runs now\n"
               "     --state-dir=DIR    Where machined's private socket is, when there is no\n"
               "                        system bus (default $NSPAWNCTL_STATE_DIR or /run/nspawnctl)\n"
               "\nLimits: MemoryMax=, MemoryHigh=, MemorySwapMax= (N[K|M|G|T], N%% or infinity),\n"
               "CPUWeight=, IOWeight= (1..10000), CPUQuota= (N%%), TasksMax= (N or infinity).\n"
               "LIMIT= with no value removes a kept limit.\n");
}

int verb_set_limit(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "runtime", no_argument, NULL, 'R' },
                { "state-dir", required_argument, NULL, 'S' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *state_dir = NULL, *name;
        bool runtime = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'R':
                        runtime = true;
                        break;
                case 'S':
                        if (bus_parse_state_dir(optarg, &state_dir) < 0)
                                return EXIT_USAGE;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (argc - optind < 2)
                return log_error("set-limit: expected a machine name and at least one LIMIT=VALUE."), EXIT_USAGE;
        name = argv[optind];
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT);
        /* Checked here too, for a message that names the bad one before any bus call. */
        for (int i = optind + 1; i < argc; i++) {
                CGroupLimits l = {};
                r = cgroup_limits_set_assignment(&l, argv[i]);
                if (r == -ENOENT || (r == -EINVAL && !strchr(argv[i], '=')))
                        return log_error("Unknown limit '%s': expected LIMIT=VALUE with LIMIT one of MemoryMax, MemoryHigh, MemorySwapMax, CPUWeight, CPUQuota, TasksMax, IOWeight.",
                                         argv[i]),
                               EXIT_USAGE;
                if (r < 0)
                        return log_error("Invalid limit '%s' (sizes: N[K|M|G|T], N%% or infinity; CPUQuota: N%%; weights: 1..10000).",
                                         argv[i]),
                               EXIT_USAGE;
        }

        if (bus_connect_machined(bus_state_dir(state_dir), &bus) < 0)
                return bus_last_exit_code();
        r = sd_bus_message_new_method_call(bus, &m, MACHINED_BUS_NAME, MACHINED_OBJECT_PATH,
                                           MACHINED_MANAGER_INTERFACE, "SetMachineLimits");
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", name, runtime);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv + optind + 1);
        if (r < 0)
                return log_error_errno(r, "Failed to build the request: %m"), EXIT_FAIL;
        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0) {
                if (sd_bus_error_is_set(&error))
                        log_error("Failed to set the limits of %s: %s", name, error.message ?: error.name);
                else
                        log_error_errno(r, "Failed to set the limits of %s: %m", name);
                return exit_status_from_bus_error(&error, r);
        }
        return EXIT_OK;
}
