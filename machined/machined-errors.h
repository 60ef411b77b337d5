/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Every error name machined replies with, in one place: the service uses them with
 * sd_bus_error_setf(), nspawnctl maps them to exit codes. */

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
/* networking (machined-network.c) */
#define BUS_ERROR_NETWORK_FAILED "org.nspawnctl.machined1.NetworkFailed"
#define BUS_ERROR_PORT_IN_USE "org.nspawnctl.machined1.PortInUse"
#define BUS_ERROR_NO_SUCH_PORT_FORWARD "org.nspawnctl.machined1.NoSuchPortForward"
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
