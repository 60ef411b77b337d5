/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "bus-path.h"
#include "machined-api.h"
#include "macro.h"

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

int machine_bus_path_full(bool machine1, const char *name, char **ret) {
        return sd_bus_path_encode(machine1 ? MACHINE1_MACHINE_PATH_PREFIX : MACHINED_MACHINE_PATH_PREFIX,
                                  name, ret);
}

int image_bus_path_full(bool machine1, const char *name, char **ret) {
        return sd_bus_path_encode(machine1 ? MACHINE1_IMAGE_PATH_PREFIX : MACHINED_IMAGE_PATH_PREFIX, name,
                                  ret);
}

static int decode_either(const char *path, const char *a, const char *b, char **ret) {
        int r = sd_bus_path_decode(path, a, ret);
        if (r == 0)
                r = sd_bus_path_decode(path, b, ret);
        return r < 0 ? r : r == 0 ? -ENOENT : 0;
}

int machine_name_from_bus_path(const char *path, char **ret) {
        return decode_either(path, MACHINED_MACHINE_PATH_PREFIX, MACHINE1_MACHINE_PATH_PREFIX, ret);
}

int image_name_from_bus_path_any(const char *path, char **ret) {
        return decode_either(path, MACHINED_IMAGE_PATH_PREFIX, MACHINE1_IMAGE_PATH_PREFIX, ret);
}

bool bus_path_is_machine1(const char *path) {
        size_t n = strlen(MACHINE1_OBJECT_PATH);
        return path && strncmp(path, MACHINE1_OBJECT_PATH, n) == 0 && (path[n] == 0 || path[n] == '/');
}

const char *bus_error_name_to_machine1(const char *name) {
        static const char *const table[][2] = {
                { BUS_ERROR_NO_SUCH_MACHINE, BUS_ERROR_MACHINE1_NO_SUCH_MACHINE },
                { BUS_ERROR_NO_SUCH_IMAGE, BUS_ERROR_MACHINE1_NO_SUCH_IMAGE },
                { BUS_ERROR_NO_MACHINE_FOR_PID, BUS_ERROR_MACHINE1_NO_MACHINE_FOR_PID },
                { BUS_ERROR_MACHINE_EXISTS, BUS_ERROR_MACHINE1_MACHINE_EXISTS },
                { BUS_ERROR_NO_SUCH_USER_MAPPING, BUS_ERROR_MACHINE1_NO_SUCH_USER_MAPPING },
                { BUS_ERROR_NO_SUCH_GROUP_MAPPING, BUS_ERROR_MACHINE1_NO_SUCH_GROUP_MAPPING },
        };
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(name, table[i][0]) == 0)
                        return table[i][1];
        return NULL;
}
