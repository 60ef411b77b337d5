/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Exit codes that mean something to scripts (documented in nspawnctl --help). */
enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,         /* operation failed */
        EXIT_USAGE = 2,        /* bad command line */
        EXIT_NOT_FOUND = 3,    /* no such machine or image */
        EXIT_EXISTS = 4,       /* name already taken */
        EXIT_STATE = 5,        /* wrong state (running / not running) */
        EXIT_NO_SERVICE = 6,   /* machined not reachable */
        EXIT_PERMISSION = 7,   /* not allowed */
};

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
/* verbs-network.c: port forwards, through machined */
int verb_port(int argc, char *argv[]);
/* verbs-shell.c: sessions in a running machine, through machined */
int verb_login(int argc, char *argv[]);
int verb_shell(int argc, char *argv[]);
