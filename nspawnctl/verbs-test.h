/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* What the daemonless image verbs (test, update) share. */

/* The pool: arg when given, else machined's PoolPath when machined is reachable, else
 * /var/lib/machines. *ret_machined says whether machined answered (and should make images
 * from templates). Logs on failure. */
int pool_resolve(const char *arg, const char *state_dir, char **ret_pool, bool *ret_machined);

/* The running nspawnctl binary, by its real path, for the machines it starts. */
int self_exe(char **ret);

/* Starts the runtime of a machine, `nspawnctl run ARGS...` (argv: { self, "run", ARGS...
 * }), as a forked child that runs verb_run() without exec'ing, whose death follows ours
 * (PR_SET_PDEATHSIG) and that has a session of its own (a Ctrl-C on our terminal is ours
 * to handle): stdin /dev/null, stdout and stderr on out_fd, report_fd (if >= 0) as fd 3. */
int run_child_start(char **argv, int out_fd, int report_fd, pid_t *ret_pid);
