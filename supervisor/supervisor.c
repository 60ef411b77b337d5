/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl-supervisor: what machined starts for each machine (docs/supervisor.md). Its
 * arguments are a SupervisorStart (core/supervisor-contract.h): the machine's name and
 * image, nothing about how to run it - it loads the machine's settings itself, like
 * systemd-nspawn, sets the container up, reports on the report fd, and supervises the
 * machine for its whole life (as nspawnctl-supervisor-light once the container runs). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"
#include "settings-load.h"
#include "supervise.h"
#include "supervisor-contract.h"
#include "supervisor-register.h"
#include "util/strv.h"
#include "util/util.h"

/* What machined says about the network wins over the settings: on its managed network the
 * box's veth joins machined's bridge, and machined has set its Port= forwards up itself. */
static void network_from_start(const SupervisorStart *start, SuperviseConfig *c) {
        if (start->network_table)
                snprintf(c->network.nft_table, sizeof c->network.nft_table, "%s", start->network_table);
        if (!start->network_bridge)
                return;
        c->network.mode = NETWORK_BRIDGE;
        snprintf(c->network.bridge, sizeof c->network.bridge, "%s", start->network_bridge);
        c->network.ports = NULL;
        c->network.n_ports = 0;
        c->network.have_loopback6 = !IN6_IS_ADDR_UNSPECIFIED(&start->network_loopback6);
        memcpy(&c->network.loopback6.in6, &start->network_loopback6, sizeof start->network_loopback6);
        c->dns_stub = start->network_dns_stub;
}

static int fail(int report_fd, int r, const Error *e) {
        SupervisorReport report = {
                .type = SUPERVISOR_REPORT_FAILED,
                .failure = supervisor_failure_from_error(r),
                .error = -r,
        };

        snprintf(report.message, sizeof report.message, "%s", error_message(e));
        log_error("%s", report.message);
        (void) supervisor_report_send(report_fd, &report);
        return r == -EEXIST ? SUPERVISOR_EXIT_NAME_TAKEN : SUPERVISOR_EXIT_FAILURE;
}

int main(int argc, char *argv[]) {
        _cleanup_(settings_freep) Settings *settings = NULL;
        _cleanup_strv_free_ char **warnings = NULL, **again = NULL;
        _cleanup_(runtime_ids_done) RuntimeIds ids = {};
        _cleanup_(error_done) Error e = ERROR_NULL;
        SupervisorStart start;
        SuperviseConfig c;
        int r;

        log_set_prefix("nspawnctl-supervisor");
        if (supervisor_start_from_argv(argc, argv, &start) < 0) {
                log_error("nspawnctl-supervisor is started by machined, not by hand.");
                return SUPERVISOR_EXIT_USAGE;
        }
        if (start.report_fd >= 0 && fd_cloexec(start.report_fd, true) < 0)
                start.report_fd = -EBADF;
        /* A reboot starts the machine again with the same arguments, but machined's report
         * fd is long gone by then (and its number may be another fd's). */
        SupervisorStart restart = start;
        restart.report_fd = -EBADF;
        r = supervisor_start_to_argv(&restart, argv[0], &again);
        if (r < 0)
                return log_oom(), SUPERVISOR_EXIT_FAILURE;

        r = settings_load_for_machine(start.machine,
                                      &(const SettingsSearch) {
                                              .config_dir = start.config_dir,
                                              .state_dir = start.state_dir,
                                              .image = start.image,
                                      },
                                      &settings, &warnings, &e);
        if (r < 0)
                return fail(start.report_fd, r, &e);
        STRV_FOREACH(w, warnings) {
                SupervisorReport report = { .type = SUPERVISOR_REPORT_WARNING };
                snprintf(report.message, sizeof report.message, "%s", *w);
                log_warning("%s", *w);
                (void) supervisor_report_send(start.report_fd, &report);
        }
        if (!settings && settings_new(&settings) < 0)
                return fail(start.report_fd, -ENOMEM, &e);

        c = (SuperviseConfig) {
                .spawn = {
                        .directory = start.image,
                        .machine = start.machine,
                        .console = CONSOLE_PASSIVE,
                },
                /* machine1's RebootMachine means "boot it again": the machine comes back
                 * under the same supervisor. */
                .restart_on_reboot = true,
                .register_machine = true,
                .quiet = true,
                .state_dir = start.state_dir,
                .kill_timeout_usec = 10 * 1000000ULL,
                .ready_timeout_usec = 30 * 1000000ULL,
                .original_argv = again,
                .report_fd = start.report_fd,
                .on_started = supervisor_register_machine1,
        };
        /* A machine boots unless its settings say otherwise; then they must say what to run. */
        if (settings->boot < 0)
                settings->boot = settings->process_two <= 0;
        if (!settings->boot && strv_length(settings->parameters) == 0)
                return fail(start.report_fd,
                            error_set(&e, -EBADMSG, "Boot=no in the settings of %s needs Parameters= (the command to run).",
                                      start.machine),
                            &e);
        /* Unprivileged unless a trusted setting says otherwise (docs/security.md). */
        if (settings->private_users.mode < 0)
                settings->private_users = (PrivateUsers) { .mode = PRIVATE_USERS_PICK };
        settings_apply(settings, &c);
        c.restart_on_reboot = c.spawn.boot;
        network_from_start(&start, &c);

        r = runtime_prepare(&c, &ids, &e);
        if (r < 0)
                return fail(start.report_fd, r, &e);
        r = supervise(&c, &e);
        if (r < 0)
                return fail(start.report_fd, r, &e);
        return r;
}
