/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"
#include "verbs.h"

int verb_run(int argc, char *argv[]) {
        log_error("run: not implemented yet");
        return EXIT_FAIL;
}
