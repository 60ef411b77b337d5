/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "exit-status.h"


typedef struct Verb {
        const char *name;
        /* argv[0] is the verb; the verb parses its own options with getopt_long. */
        int (*dispatch)(int argc, char *argv[]);
        const char *summary;
} Verb;

/* One function per verb, each in the file of its verb group. */
int verb_run(int argc, char *argv[]);
/* verbs-image.c: one dispatcher for all image verbs, by argv[0] */
int verb_image(int argc, char *argv[]);
/* verbs-machine.c: machines, through machined */
int verb_list(int argc, char *argv[]);
int verb_status(int argc, char *argv[]);
int verb_start(int argc, char *argv[]);
int verb_poweroff(int argc, char *argv[]);
int verb_reboot(int argc, char *argv[]);
int verb_terminate(int argc, char *argv[]);
int verb_kill(int argc, char *argv[]);
int verb_enable(int argc, char *argv[]);
int verb_disable(int argc, char *argv[]);
int verb_console(int argc, char *argv[]);
int verb_log(int argc, char *argv[]);
/* verbs-limits.c: resource limits of a machine, through machined */
int verb_set_limit(int argc, char *argv[]);
/* verbs-shell.c: sessions in a running machine, through machined */
int verb_login(int argc, char *argv[]);
int verb_shell(int argc, char *argv[]);
/* verbs-test.c, verbs-update.c: daemonless verbs on images of the pool */
int verb_test(int argc, char *argv[]);
int verb_update(int argc, char *argv[]);
/* verbs-enter.c: a command in a running machine without machined */
int verb_enter(int argc, char *argv[]);
/* verbs-bind.c: a live bind mount into a running machine */
int verb_bind(int argc, char *argv[]);
