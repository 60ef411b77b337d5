/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>

/* Whether machined also serves org.freedesktop.machine1 (machined --machine1=, Machine1= in
 * machined.conf): "auto" where nobody owns the name and no systemd-machined can be activated
 * for it, "yes" always (queued behind an owner), "no" never. */
typedef enum Machine1Mode {
        MACHINE1_AUTO,
        MACHINE1_YES,
        MACHINE1_NO,
        _MACHINE1_MODE_MAX,
        _MACHINE1_MODE_INVALID = -EINVAL,
} Machine1Mode;

const char *machine1_mode_to_string(Machine1Mode m);
Machine1Mode machine1_mode_from_string(const char *s);
