/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "verbs.h"

/* Verb groups register here; each verb's own --help describes its options. */
static const Verb verbs[] = {
        { "run", verb_run, "Run a command or boot a directory tree (no daemon needed)" },
        { "list", verb_list, "List running machines" },
        { "status", verb_status, "Show a machine's state, console and processes" },
        { "start", verb_start, "Boot an image of the pool as a machine" },
        { "poweroff", verb_poweroff, "Power a machine off cleanly" },
        { "reboot", verb_reboot, "Reboot a machine" },
        { "terminate", verb_terminate, "Kill a machine at once" },
        { "kill", verb_kill, "Send a signal to a machine's processes" },
        { "set-limit", verb_set_limit, "Change a machine's resource limits (MemoryMax=, ...)" },
        { "enable", verb_enable, "Start a machine at host boot" },
        { "disable", verb_disable, "Do not start a machine at host boot" },
        { "console", verb_console, "Attach to a machine's console" },
        { "log", verb_log, "Show a machine's console and supervisor log" },
        { "login", verb_login, "Get a login prompt in a running machine" },
        { "shell", verb_shell, "Open a shell or run a command in a running machine" },
        { "exec", verb_shell, "Run a command in a running machine (same as shell)" },
        { "enter", verb_enter, "Run a command in a running machine without machined (no pty)" },
        { "bind", verb_bind, "Bind mount a host path into a running machine" },
        { "create", verb_image, "Create an image from a template" },
        { "list-images", verb_image, "List the images of the pool" },
        { "image-status", verb_image, "Show an image's properties" },
        { "clone", verb_image, "Clone an image (O(1) on btrfs)" },
        { "rename", verb_image, "Rename an image" },
        { "remove", verb_image, "Remove images" },
        { "read-only", verb_image, "Mark an image read-only or writable" },
        { "snapshot", verb_image, "Take a snapshot of an image" },
        { "list-snapshots", verb_image, "List an image's snapshots" },
        { "restore", verb_image, "Put an image back to a snapshot" },
        { "remove-snapshot", verb_image, "Remove a snapshot" },
        { "export-tar", verb_image, "Export an image as a tar archive" },
        { "import-tar", verb_image, "Import a tar archive as an image" },
        { "copy-to", verb_image, "Copy files into an image" },
        { "copy-from", verb_image, "Copy files out of an image" },
        { "clean", verb_image, "Remove leftovers of interrupted image operations" },
        { "test", verb_test, "Run a command in throwaway machines of several images at once" },
        { "update", verb_update, "Upgrade an image's packages in a throwaway copy, then swap it in" },
};

static void help(void) {
        printf("nspawnctl [OPTIONS...] COMMAND ...\n\n"
               "Create, run and manage system containers.\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-16s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nOptions:\n"
               "  -h --help        Show this help\n"
               "     --version     Show the version\n"
               "\nRun 'nspawnctl COMMAND --help' for a command's options.\n"
               "\nExit status: 0 success, 1 failure, 2 usage error, 3 no such machine or image,\n"
               "4 name already taken, 5 wrong state, 6 machined not reachable, 7 not allowed,\n"
               "8 timed out; 'run', 'shell' and 'enter' exit with the command's own status; 'test'\n"
               "exits 1 when an image did not pass and 130 when interrupted.\n");
}

int main(int argc, char *argv[]) {
        log_set_prefix("nspawnctl");

        if (argc < 2) {
                help();
                return EXIT_USAGE;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                help();
                return EXIT_OK;
        }
        if (streq(argv[1], "--version")) {
                printf("nspawnctl %s\n", PACKAGE_VERSION);
                return EXIT_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].dispatch(argc - 1, argv + 1);

        log_error("Unknown command '%s'. See 'nspawnctl --help'.", argv[1]);
        return EXIT_USAGE;
}
