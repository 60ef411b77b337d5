/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one table from machined's errors to nspawnctl's exit statuses (api/exit-status.c). */
#include <errno.h>

#include "exit-status.h"
#include "machined-api.h"
#include "tests.h"
#include "util/util.h"

TEST(bus_error_table) {
        static const struct {
                const char *name;
                ExitStatus status;
        } rows[] = {
                { BUS_ERROR_NO_SUCH_MACHINE, EXIT_NOT_FOUND },
                { BUS_ERROR_NO_SUCH_IMAGE, EXIT_NOT_FOUND },
                { BUS_ERROR_MACHINE_EXISTS, EXIT_EXISTS },
                { BUS_ERROR_MACHINE_NOT_RUNNING, EXIT_STATE },
                { BUS_ERROR_INVALID_NAME, EXIT_USAGE },
                { BUS_ERROR_NOT_PERMITTED, EXIT_PERMISSION },
                /* the network's: a host port taken is a name taken, a forward that is not
                 * there is not found, a network that cannot be set up a failure */
                { BUS_ERROR_PORT_IN_USE, EXIT_EXISTS },
                { BUS_ERROR_NO_SUCH_PORT_FORWARD, EXIT_NOT_FOUND },
                { BUS_ERROR_NETWORK_FAILED, EXIT_FAIL },
                { SD_BUS_ERROR_INVALID_ARGS, EXIT_USAGE },
                { "org.example.Unknown", EXIT_FAIL },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                sd_bus_error e = SD_BUS_ERROR_MAKE_CONST(rows[i].name, "x");
                ASSERT_EQ(exit_status_from_bus_error(&e, -EIO), rows[i].status);
        }
        ASSERT_EQ(exit_status_from_bus_error(NULL, -EACCES), EXIT_PERMISSION);
        ASSERT_EQ(exit_status_from_bus_error(NULL, -ECONNREFUSED), EXIT_NO_SERVICE);
}
