/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The autostart list: CONFIG_DIR/autostart, the machines started at host boot where no
 * systemd does it (units/nspawnctl-machined.init reads it: one name a line, '#' comments).
 * machined writes it (SetImageAutostart); this module owns the format both ways. */

#include <stdbool.h>

/* The names in the file, in order, without duplicates; no file is an empty list. Lines that
 * are no valid machine name are skipped. */
int autostart_read(const char *path, char ***ret);
/* Replaces the file atomically with names. */
int autostart_write(const char *path, char *const *names);
/* Adds or removes name, keeping the order of the others. Returns 1 when the file changed. */
int autostart_set(const char *path, const char *name, bool enable);
