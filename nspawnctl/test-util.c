/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the daemonless image verbs (test, update) share: finding the pool and starting a
 * machine's runtime as a child that dies with us. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus-util.h"
#include "log.h"
#include "machined-api.h"
#include "pool.h"
#include "util/process.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs-test.h"
#include "verbs.h"

int self_exe(char **ret) {
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);

        if (n < 0)
                return -errno;
        buf[n] = 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

int pool_resolve(const char *arg, const char *state_dir, char **ret_pool, bool *ret_machined) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        char buf[PATH_MAX], *p = NULL;
        int r;

        *ret_machined = false;
        if (arg) {
                if (!realpath(arg, buf))
                        return log_error_errno(-errno, "Pool %s: %m", arg);
                p = strdup(buf);
                if (!p)
                        return log_oom();
                *ret_pool = p;
                return 0;
        }
        /* machined's pool when it runs; quietly the default when it does not. */
        log_set_max_level(LOG_CRIT);
        r = bus_connect_machined(state_dir, &bus);
        log_set_max_level(LOG_INFO);
        if (r >= 0) {
                r = sd_bus_get_property_string(bus, MACHINED_BUS_NAME, MACHINED_OBJECT_PATH,
                                               MACHINED_MANAGER_INTERFACE, "PoolPath", &error, &p);
                if (r >= 0 && !isempty(p) && p[0] == '/') {
                        *ret_pool = p;
                        *ret_machined = true;
                        return 0;
                }
                p = mfree(p);
        }
        p = strdup(POOL_DEFAULT_PATH);
        if (!p)
                return log_oom();
        *ret_pool = p;
        return 0;
}

int run_child_start(char **argv, int out_fd, int report_fd, pid_t *ret_pid) {
        _cleanup_close_ int null = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        int keep[3] = { out_fd, report_fd, null }, r;

        if (null < 0)
                return -errno;
        assert(strv_length(argv) >= 2 && streq(argv[1], "run"));
        /* Nothing buffered may be written twice, by us and by the child. */
        fflush(stdout);
        fflush(stderr);
        r = safe_fork("nspawnctl-test", keep, 3,
                      FORK_RESET_SIGNALS | FORK_DEATHSIG | FORK_NEW_SESSION | FORK_CLOSE_ALL_FDS, ret_pid);
        if (r < 0)
                return r;
        if (r == 0) {
                if (dup2(null, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
                    dup2(out_fd, STDERR_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                if (report_fd >= 0 && report_fd != 3 && dup2(report_fd, 3) < 0)
                        _exit(EXIT_FAILURE);
                if (report_fd == 3 && fd_cloexec(3, false) < 0)
                        _exit(EXIT_FAILURE);
                /* The child becomes the machine's runtime, `nspawnctl run` with these
                 * arguments, without an exec: this program and its libraries are loaded
                 * already, which is most of what starting `nspawnctl run` costs. (argv[0] is
                 * still our binary: the runtime hands over to its light supervisor by path.) */
                r = verb_run((int) strv_length(argv) - 1, argv + 1);
                fflush(NULL);
                _exit(r);
        }
        return 0;
}
