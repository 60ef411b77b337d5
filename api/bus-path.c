/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include <systemd/sd-bus.h>

#include "bus-path.h"
#include "machined-api.h"

int machine_bus_path(const char *name, char **ret) {
        return sd_bus_path_encode(MACHINED_MACHINE_PATH_PREFIX, name, ret);
}

int image_bus_path(const char *name, char **ret) {
        return sd_bus_path_encode(MACHINED_IMAGE_PATH_PREFIX, name, ret);
}

int image_name_from_bus_path(const char *path, char **ret) {
        int r = sd_bus_path_decode(path, MACHINED_IMAGE_PATH_PREFIX, ret);
        return r < 0 ? r : r == 0 ? -ENOENT : 0;
}
