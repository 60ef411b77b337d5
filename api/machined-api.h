/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* machined's D-Bus API in names: the bus name, object paths, interfaces and every error
 * name it replies with. The layer under both the service (which sets the errors) and the CLI
 * (which maps them to exit codes, api/exit-status.h); neither includes the other's files. */

#define MACHINED_BUS_NAME "org.nspawnctl.machined1"
#define MACHINED_OBJECT_PATH "/org/nspawnctl/machined1"
#define MACHINED_MACHINE_PATH_PREFIX "/org/nspawnctl/machined1/machine"
#define MACHINED_MANAGER_INTERFACE "org.nspawnctl.machined1.Manager"
#define MACHINED_MACHINE_INTERFACE "org.nspawnctl.machined1.Machine"

#define BUS_ERROR_NO_SUCH_MACHINE "org.nspawnctl.machined1.NoSuchMachine"
#define BUS_ERROR_NO_SUCH_IMAGE "org.nspawnctl.machined1.NoSuchImage"
#define BUS_ERROR_NO_MACHINE_FOR_PID "org.nspawnctl.machined1.NoMachineForPID"
#define BUS_ERROR_MACHINE_EXISTS "org.nspawnctl.machined1.MachineExists"
#define BUS_ERROR_INVALID_NAME "org.nspawnctl.machined1.InvalidName"
#define BUS_ERROR_MACHINE_NOT_RUNNING "org.nspawnctl.machined1.MachineNotRunning"
#define BUS_ERROR_IMAGE_HAS_NO_INIT "org.nspawnctl.machined1.ImageHasNoInit"
#define BUS_ERROR_BAD_SETTINGS "org.nspawnctl.machined1.BadSettings"
#define BUS_ERROR_NOT_PERMITTED "org.nspawnctl.machined1.NotPermitted"
#define BUS_ERROR_START_FAILED "org.nspawnctl.machined1.StartFailed"
#define BUS_ERROR_START_TIMEOUT "org.nspawnctl.machined1.StartTimeout"
#define BUS_ERROR_NOT_SUPPORTED "org.nspawnctl.machined1.NotSupported"
/* StartMachine of a machine that runs (the name taken by another supervisor is MachineExists). */
#define BUS_ERROR_MACHINE_NOT_STOPPED "org.nspawnctl.machined1.MachineNotStopped"

/* StartMachineWithFlags() */
#define START_MACHINE_NO_WAIT (UINT64_C(1) << 0) /* reply once it runs, not once it is ready */
#define _START_MACHINE_FLAGS_ALL START_MACHINE_NO_WAIT
/* images (machined-image.c) */
#define MACHINED_IMAGE_PATH_PREFIX "/org/nspawnctl/machined1/image"
#define MACHINED_IMAGE_INTERFACE "org.nspawnctl.machined1.Image"
#define BUS_ERROR_IMAGE_EXISTS "org.nspawnctl.machined1.ImageExists"
#define BUS_ERROR_IMAGE_BUSY "org.nspawnctl.machined1.ImageBusy"
#define BUS_ERROR_UNSAFE_ARCHIVE "org.nspawnctl.machined1.UnsafeArchive"
/* login and shell (machined-login.c) */
#define BUS_ERROR_NO_SUCH_USER "org.nspawnctl.machined1.NoSuchUser"
#define BUS_ERROR_NO_SUCH_DIRECTORY "org.nspawnctl.machined1.NoSuchDirectory"
#define BUS_ERROR_COMMAND_NOT_FOUND "org.nspawnctl.machined1.CommandNotFound"
#define BUS_ERROR_CANNOT_EXECUTE "org.nspawnctl.machined1.CannotExecute"
/* uid/gid mappings (machined-machine-info.c) */
#define BUS_ERROR_NO_SUCH_USER_MAPPING "org.nspawnctl.machined1.NoSuchUserMapping"
#define BUS_ERROR_NO_SUCH_GROUP_MAPPING "org.nspawnctl.machined1.NoSuchGroupMapping"
/* machine1 (machined-machine1.c): where nobody else owns it, machined also serves systemd's
 * org.freedesktop.machine1 with the same objects, so the real machinectl and other machine1
 * clients drive it. Error names that machine1 has are replied under its name there; the
 * ones it does not have keep ours. */
#define MACHINE1_BUS_NAME "org.freedesktop.machine1"
#define MACHINE1_OBJECT_PATH "/org/freedesktop/machine1"
#define MACHINE1_MACHINE_PATH_PREFIX "/org/freedesktop/machine1/machine"
#define MACHINE1_IMAGE_PATH_PREFIX "/org/freedesktop/machine1/image"
#define MACHINE1_MANAGER_INTERFACE "org.freedesktop.machine1.Manager"
#define MACHINE1_MACHINE_INTERFACE "org.freedesktop.machine1.Machine"
#define MACHINE1_IMAGE_INTERFACE "org.freedesktop.machine1.Image"
#define BUS_ERROR_MACHINE1_NO_SUCH_MACHINE "org.freedesktop.machine1.NoSuchMachine"
#define BUS_ERROR_MACHINE1_NO_SUCH_IMAGE "org.freedesktop.machine1.NoSuchImage"
#define BUS_ERROR_MACHINE1_NO_MACHINE_FOR_PID "org.freedesktop.machine1.NoMachineForPID"
#define BUS_ERROR_MACHINE1_MACHINE_EXISTS "org.freedesktop.machine1.MachineExists"
#define BUS_ERROR_MACHINE1_NO_PRIVATE_NETWORK "org.freedesktop.machine1.NoPrivateNetwork"
#define BUS_ERROR_MACHINE1_NO_SUCH_USER_MAPPING "org.freedesktop.machine1.NoSuchUserMapping"
#define BUS_ERROR_MACHINE1_NO_SUCH_GROUP_MAPPING "org.freedesktop.machine1.NoSuchGroupMapping"
/* The service name under which nspawnctl registers its boxes with systemd-machined. */
#define MACHINE1_SERVICE_NSPAWNCTL "nspawnctl"
