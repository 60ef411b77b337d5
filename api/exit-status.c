/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "exit-status.h"
#include "machined-api.h"
#include "macro.h"

static const struct {
        const char *name;
        ExitStatus status;
} bus_error_table[] = {
        { BUS_ERROR_NO_SUCH_MACHINE, EXIT_NOT_FOUND },
        { BUS_ERROR_NO_SUCH_IMAGE, EXIT_NOT_FOUND },
        { BUS_ERROR_NO_MACHINE_FOR_PID, EXIT_NOT_FOUND },
        { BUS_ERROR_MACHINE_EXISTS, EXIT_EXISTS },
        { BUS_ERROR_IMAGE_EXISTS, EXIT_EXISTS },
        { BUS_ERROR_IMAGE_BUSY, EXIT_STATE },
        { BUS_ERROR_MACHINE_NOT_RUNNING, EXIT_STATE },
        { BUS_ERROR_MACHINE_NOT_STOPPED, EXIT_STATE },
        { BUS_ERROR_INVALID_NAME, EXIT_USAGE },
        { BUS_ERROR_PORT_IN_USE, EXIT_EXISTS },
        { BUS_ERROR_NO_SUCH_PORT_FORWARD, EXIT_NOT_FOUND },
        { BUS_ERROR_NETWORK_FAILED, EXIT_FAIL },
        { BUS_ERROR_NOT_PERMITTED, EXIT_PERMISSION },
        { SD_BUS_ERROR_ACCESS_DENIED, EXIT_PERMISSION },
        { SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, EXIT_PERMISSION },
        { SD_BUS_ERROR_SERVICE_UNKNOWN, EXIT_NO_SERVICE },
        { SD_BUS_ERROR_NAME_HAS_NO_OWNER, EXIT_NO_SERVICE },
        { SD_BUS_ERROR_NO_REPLY, EXIT_NO_SERVICE },
        { SD_BUS_ERROR_DISCONNECTED, EXIT_NO_SERVICE },
        { SD_BUS_ERROR_INVALID_ARGS, EXIT_USAGE },
};

ExitStatus exit_status_from_errno(int r) {
        switch (r) {
        case -EACCES:
        case -EPERM:
                return EXIT_PERMISSION;
        case -ECONNRESET:
        case -ENOTCONN:
        case -ETIMEDOUT:
        case -EHOSTDOWN:
        case -ECONNREFUSED:
                return EXIT_NO_SERVICE;
        case -EINVAL:
                return EXIT_USAGE;
        default:
                return EXIT_FAIL;
        }
}

ExitStatus exit_status_from_bus_error(const sd_bus_error *error, int r) {
        if (error && sd_bus_error_is_set(error)) {
                for (size_t i = 0; i < ELEMENTSOF(bus_error_table); i++)
                        if (sd_bus_error_has_name(error, bus_error_table[i].name))
                                return bus_error_table[i].status;
                return EXIT_FAIL;
        }
        return r == -EINVAL ? EXIT_FAIL : exit_status_from_errno(r);
}
