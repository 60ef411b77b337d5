/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Port= lines of a .nspawn file, written back by `nspawnctl port add|remove` so that a
 * restart keeps the forwards. Everything else in the file stays as the admin wrote it. */

#include <stddef.h>

#include "net-port.h"

/* Replaces every Port= of the [Network] section(s) of text with ports (in the first
 * [Network] section, which is appended when there is none). NULL text: an empty file. */
int settings_text_set_ports(const char *text, const PortForward *ports, size_t n_ports, char **ret);
/* The same on the file at path (settings_file_edit(): a missing file is created 0644). */
int settings_file_set_ports(const char *path, const PortForward *ports, size_t n_ports);
