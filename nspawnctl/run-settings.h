/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The options of `nspawnctl run` that are systemd-nspawn's names for settings keys
 * (--capability= is Capability=, ...): each goes through the settings parser
 * (settings_assign()) into the command line's Settings, so a value means the same on the
 * command line as in a .nspawn file. */

#include <getopt.h>

#include "settings.h"

#define RUN_SETTINGS_OPTION_BASE 0x400

#define RUN_SETTINGS_OPTIONS                                                                                \
        { "capability", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 0 },                            \
        { "drop-capability", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 1 },                       \
        { "ambient-capability", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 2 },                    \
        { "no-new-privileges", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 3 },                     \
        { "system-call-filter", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 4 },                    \
        { "oom-score-adjust", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 5 },                      \
        { "cpu-affinity", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 6 },                          \
        { "hostname", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 7 },                              \
        { "uuid", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 8 },                                  \
        { "inaccessible", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 9 },                          \
        { "overlay", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 10 },                              \
        { "overlay-ro", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 11 },                           \
        { "volatile", optional_argument, NULL, RUN_SETTINGS_OPTION_BASE + 12 },                             \
        { "kill-signal", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 13 },                          \
        { "timezone", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 14 },                             \
        { "link-journal", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 15 },                         \
        { "personality", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 16 },                          \
        { "suppress-sync", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 17 },                        \
        { "rlimit", required_argument, NULL, RUN_SETTINGS_OPTION_BASE + 18 }

#define RUN_SETTINGS_HELP                                                                                   \
        "     --capability=CAPS      Add capabilities to the bounding set (or all)\n"                       \
        "     --drop-capability=CAPS Drop capabilities from the bounding set\n"                             \
        "     --ambient-capability=CAPS Pass capabilities in the ambient set to COMMAND\n"                  \
        "     --no-new-privileges=BOOL Set PR_SET_NO_NEW_PRIVS for the payload\n"                           \
        "     --system-call-filter=[~]LIST Deny (~) more system calls; allowing cannot lift\n"              \
        "                            the project's deny-list\n"                                             \
        "     --rlimit=NAME=SOFT[:HARD] A resource limit of the payload (RLIMIT_NOFILE=1024)\n"             \
        "     --oom-score-adjust=N   The payload's OOM score adjustment (-1000..1000)\n"                    \
        "     --cpu-affinity=CPUS    CPUs the payload may run on (0,2-3)\n"                                 \
        "     --hostname=NAME        Host name inside (default: the machine name)\n"                        \
        "     --uuid=ID              Machine ID (for an empty /etc/machine-id) and container UUID\n"        \
        "     --inaccessible=PATH    Mask PATH in the container\n"                                          \
        "     --overlay=[+]LOWER:...:[+]UPPER:DST Mount an overlay on DST (+: in the tree)\n"               \
        "     --overlay-ro=[+]LOWER:...:DST Mount a read-only overlay on DST\n"                             \
        "     --volatile[=MODE]      yes (tmpfs root, /usr read-only), state (tmpfs /var), overlay, no\n"   \
        "     --kill-signal=SIGNAL   How a stop request asks PID 1 (default SIGRTMIN+3 with --boot)\n"      \
        "     --timezone=MODE        /etc/localtime: off (default), copy, bind, symlink, delete, auto\n"    \
        "     --link-journal=MODE    no (default) or auto: bind /var/log/journal/ID of the host\n"          \
        "     --personality=ARCH     x86 or x86-64\n"                                                       \
        "     --suppress-sync=BOOL   Make sync(), fsync() and O_SYNC no-ops\n"

/* Handles opt if it is one of RUN_SETTINGS_OPTIONS: 1 when it was (and went into s), 0 when
 * it is not one of them, -EINVAL (logged) for a bad value. */
int run_settings_option(Settings *s, int opt, const char *arg);
