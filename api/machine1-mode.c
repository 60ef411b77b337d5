/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "machine1-mode.h"
#include "util/util.h"

static const char *const machine1_mode_table[_MACHINE1_MODE_MAX] = {
        [MACHINE1_AUTO] = "auto",
        [MACHINE1_YES] = "yes",
        [MACHINE1_NO] = "no",
};

DEFINE_STRING_TABLE_LOOKUP(machine1_mode, Machine1Mode, _MACHINE1_MODE_MAX);
