/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl bind: a live bind mount into a running machine (machined's BindMountMachine). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bus-util.h"
#include "log.h"
#include "machined-api.h"
#include "names.h"
#include "util/util.h"
#include "verbs.h"

#define BIND_TIMEOUT_USEC (60ULL * 1000000ULL)

static int check_absolute(const char *what, const char *p) {
        if (isempty(p) || p[0] != '/' || strlen(p) >= 4096)
                return log_invalid(what, p, ": an absolute path is needed.");
        return 0;
}

int verb_bind(int argc, char *argv[]) {
        enum { ARG_READ_ONLY = 0x100, ARG_MKDIR };
        static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                                 { "state-dir", required_argument, NULL, 'S' },
                                                 { "read-only", no_argument, NULL, ARG_READ_ONLY },
                                                 { "mkdir", no_argument, NULL, ARG_MKDIR },
                                                 {} };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *state_dir = NULL, *name, *source, *destination;
        bool read_only = false, make_dir = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("nspawnctl bind NAME SOURCE [DESTINATION] [--read-only] [--mkdir]\n\n"
                               "Bind mount the host path SOURCE onto DESTINATION (default: the same\n"
                               "path) inside the running machine NAME, at once. The mount lasts until the\n"
                               "machine stops.\n\n"
                               "  -h --help             Show this help\n"
                               "     --state-dir=DIR    Where machined's private socket is, when there is "
                               "no\n"
                               "                        system bus (default $NSPAWNCTL_STATE_DIR or "
                               "/run/nspawnctl)\n"
                               "     --read-only        Mount it read-only\n"
                               "     --mkdir            Create the destination (and its parents) if "
                               "missing\n");
                        return EXIT_OK;
                case 'S':
                        if (bus_parse_state_dir(optarg, &state_dir) < 0)
                                return EXIT_USAGE;
                        break;
                case ARG_READ_ONLY:
                        read_only = true;
                        break;
                case ARG_MKDIR:
                        make_dir = true;
                        break;
                default:
                        return EXIT_USAGE;
                }
        if (argc - optind < 2 || argc - optind > 3)
                return log_error("bind: expected a machine name, a source and an optional destination."),
                       EXIT_USAGE;
        name = argv[optind];
        source = argv[optind + 1];
        destination = argc - optind == 3 ? argv[optind + 2] : source;
        if (!machine_name_is_valid(name))
                return log_invalid("machine name", name, MACHINE_NAME_HINT);
        if ((r = check_absolute("source", source)) != 0 ||
            (r = check_absolute("destination", destination)) != 0)
                return r;
        if (bus_connect_machined(bus_state_dir(state_dir), &bus) < 0)
                return bus_last_exit_code();
        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "BindMountMachine",
                              BIND_TIMEOUT_USEC, "bind mount", NULL, "sssbb", name, source, destination,
                              read_only, make_dir);
        return r < 0 ? bus_last_exit_code() : EXIT_OK;
}
