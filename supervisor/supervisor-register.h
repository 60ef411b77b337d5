/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "supervise.h"

/* Registers the box with systemd-machined (org.freedesktop.machine1) when a real one answers
 * for it on the system bus - not our own machined serving that name - so that machinectl
 * list/status show it on systemd hosts. Never fails the start: without a bus or without
 * systemd-machined it does nothing, and a refusal is logged once. machined unregisters the
 * box when its supervisor ends (machined/machined-register.c). */
void supervisor_register_machine1(const SuperviseConfig *c, pid_t leader);
