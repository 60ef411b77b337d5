/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* machine1's methods about one running machine - GetMachineOSRelease, GetMachineAddresses,
 * GetMachineUIDShift, OpenMachinePTY - on the Manager (by name) and on the Machine objects,
 * with the Unit and NetworkInterfaces properties. Everything is read through the machine's
 * init (core/machine-ns.h): its root as the guest sees it, its network namespace, its uid_map.
 * What comes from the guest is hostile: os-release is read bounded, as a regular file and
 * non-blocking, and every value is escaped (core/guest-file.h) before it goes on the bus. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "bus-path.h"
#include "copy.h"
#include "guest-info.h"
#include "log.h"
#include "machine-ns.h"
#include "machined-api.h"
#include "machined.h"
#include "names.h"
#include "netns-addr.h"
#include "pty.h"
#include "util/strv.h"
#include "util/chase.h"
#include "util/util.h"

int bus_find_running_machine(Manager *m, sd_bus_message *message, const char *name, bool need_root,
                             Machine **ret, sd_bus_error *error) {
        Machine *machine;
        int r;

        if (need_root) {
                r = bus_check_root(message, error);
                if (r < 0)
                        return r;
        }
        r = manager_find_machine_or_error(m, name, &machine, error);
        if (r < 0)
                return r;
        if (machine == m->host) {
                *ret = machine;
                return 0;
        }
        if (machine->rec.leader == 0)
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING,
                                         "Machine '%s' has no init process yet.", name);
        *ret = machine;
        return 0;
}

static int reply_gone(sd_bus_error *error, Machine *machine, int r, const char *what) {
        if (r == -ESRCH)
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING,
                                         "Machine '%s' is not running.", machine->rec.name);
        return sd_bus_error_set_errnof(error, r, "Failed to %s of machine '%s': %m", what,
                                       machine->rec.name);
}

/* The machine's root: for the host, ours. */
static int open_root(Machine *machine, int *ret) {
        if (machine_is_host(machine)) {
                *ret = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                return *ret < 0 ? -errno : 0;
        }
        return machine_open_root((pid_t) machine->rec.leader, machine->rec.leader_start, ret);
}

static int open_netns(Machine *machine, int *ret) {
        if (machine_is_host(machine)) {
                *ret = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                return *ret < 0 ? -errno : 0;
        }
        return machine_open_ns((pid_t) machine->rec.leader, machine->rec.leader_start, "net", ret);
}

/* ---- os-release ---- */

int bus_message_append_pairs(sd_bus_message *m, char **pairs) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{ss}");
        for (size_t i = 0; r >= 0 && pairs && pairs[i] && pairs[i + 1]; i += 2)
                r = sd_bus_message_append(m, "{ss}", pairs[i], pairs[i + 1]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int machine_os_release(sd_bus_message *message, Machine *machine, sd_bus_error *error) {
        static const char *const paths[] = { "/etc/os-release", "/usr/lib/os-release", NULL };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **pairs = NULL;
        _cleanup_close_ int root = -EBADF;
        _cleanup_free_ char *text = NULL;
        int r;

        r = open_root(machine, &root);
        if (r < 0)
                return reply_gone(error, machine, r, "open the root");
        r = guest_read_first_at(root, paths, GUEST_FILE_MAX, GUEST_CROSS_MOUNTS, &text);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Machine '%s' has no os-release file.",
                                         machine->rec.name);
        if (r == -EBADFD || r == -EFBIG || r == -EBADMSG)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_FAILED,
                        "The os-release file of machine '%s' is no regular text file of at most %u bytes.",
                        machine->rec.name, GUEST_FILE_MAX);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r,
                                               "Failed to read the os-release file of machine '%s': %m",
                                               machine->rec.name);
        r = env_text_parse(text, &pairs);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = bus_message_append_pairs(reply, pairs);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- addresses ---- */

static int machine_addresses(sd_bus_message *message, Machine *machine, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ NetnsAddress *list = NULL;
        _cleanup_close_ int netns = -EBADF;
        int n, r;

        r = open_netns(machine, &netns);
        if (r < 0)
                return reply_gone(error, machine, r, "open the network namespace");
        n = netns_list_addresses(netns, &list);
        if (n < 0)
                return sd_bus_error_set_errnof(error, n, "Failed to list the addresses of machine '%s': %m",
                                               machine->rec.name);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(iay)");
        for (int i = 0; r >= 0 && i < n; i++) {
                r = sd_bus_message_open_container(reply, 'r', "iay");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "i", list[i].family);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'y', list[i].bytes,
                                                        list[i].family == AF_INET ? 4 : 16);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- UID shift ---- */

static int machine_uid_shift_reply(sd_bus_message *message, Machine *machine, sd_bus_error *error) {
        uint32_t shift = 0;
        int r;

        if (machine_is_host(machine))
                return sd_bus_reply_method_return(message, "u", (uint32_t) 0);
        /* With a user namespace (core/userns.c) the kernel's uid_map says the shift; without,
         * the map is the identity and the shift is 0. */
        r = machine_uid_shift((pid_t) machine->rec.leader, machine->rec.leader_start, &shift);
        if (r == -EBADR)
                return sd_bus_error_setf(
                        error, SD_BUS_ERROR_NOT_SUPPORTED,
                        "Machine '%s' uses a complex UID/GID mapping, cannot determine shift.",
                        machine->rec.name);
        if (r < 0)
                return reply_gone(error, machine, r, "read the UID mapping");
        return sd_bus_reply_method_return(message, "u", shift);
}

/* ---- PTY ---- */

static int machine_open_pty(sd_bus_message *message, Machine *machine, sd_bus_error *error) {
        _cleanup_close_ int root = -EBADF, pts = -EBADF, master = -EBADF, slave = -EBADF;
        struct statfs sfs;
        char path[32];
        unsigned n;
        int r;

        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        if (machine_is_host(machine))
                return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED,
                                         "machined opens no PTYs on the host.");
        r = open_root(machine, &root);
        if (r < 0)
                return reply_gone(error, machine, r, "open the root");
        /* The machine's own devpts, as its root may have arranged it: only a devpts file
         * system reached inside the root is used. */
        r = pts = chase_open(root, "/dev/pts", O_PATH | O_DIRECTORY, CHASE_IN_ROOT);
        if (r >= 0 && (fstatfs(pts, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC))
                r = -EMEDIUMTYPE;
        if (r >= 0)
                r = pty_open_in(pts, &master, &slave);
        if (r >= 0 && ioctl(master, TIOCGPTN, &n) < 0)
                r = -errno;
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to open a PTY in machine '%s': %m",
                                               machine->rec.name);
        snprintf(path, sizeof path, "/dev/pts/%u", n);
        return sd_bus_reply_method_return(message, "hs", master, path);
}

/* ---- root directory ---- */

static int machine_open_root_dir(sd_bus_message *message, Machine *machine, sd_bus_error *error) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        if (machine_is_host(machine)) {
                fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = fd < 0 ? -errno : 0;
        } else
                r = machine_open_root_directory((pid_t) machine->rec.leader, machine->rec.leader_start, &fd);
        if (r < 0)
                return reply_gone(error, machine, r, "open the root directory");
        return sd_bus_reply_method_return(message, "h", fd);
}

/* ---- uid/gid mappings ---- */

static int map_from_machine(sd_bus_message *message, Manager *m, bool gid, sd_bus_error *error) {
        _cleanup_free_ char *map = NULL;
        Machine *machine;
        const char *name;
        uint32_t inner, outer;
        int r;

        r = sd_bus_message_read(message, "su", &name, &inner);
        if (r < 0)
                return r;
        r = bus_find_running_machine(m, message, name, false, &machine, error);
        if (r < 0)
                return r;
        if (machine_is_host(machine))
                return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED, "Not supported for the host.");
        r = machine_read_id_map((pid_t) machine->rec.leader, machine->rec.leader_start, gid, &map);
        if (r < 0)
                return reply_gone(error, machine, r, gid ? "read the GID mapping" : "read the UID mapping");
        r = id_map_translate(map, inner, true, &outer);
        if (r == -ESRCH)
                return sd_bus_error_setf(
                        error, gid ? BUS_ERROR_NO_SUCH_GROUP_MAPPING : BUS_ERROR_NO_SUCH_USER_MAPPING,
                        "Machine '%s' has no matching %s mappings.", name, gid ? "group" : "user");
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "u", outer);
}

static int method_map_from_machine_user(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return map_from_machine(message, userdata, false, error);
}

static int method_map_from_machine_group(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return map_from_machine(message, userdata, true, error);
}

/* Which machine a host uid (gid) belongs to: only machines with a user namespace of their
 * own have any (without one every id is the host's). */
static int map_to_machine(sd_bus_message *message, Manager *m, bool gid, sd_bus_error *error) {
        uint32_t outer;
        int r;

        r = sd_bus_message_read(message, "u", &outer);
        if (r < 0)
                return r;
        LIST_FOREACH(i, m->machines) {
                _cleanup_free_ char *map = NULL, *path = NULL;
                uint32_t shift, inner;

                if (i->rec.leader == 0 ||
                    machine_uid_shift((pid_t) i->rec.leader, i->rec.leader_start, &shift) < 0 || shift == 0)
                        continue;
                if (machine_read_id_map((pid_t) i->rec.leader, i->rec.leader_start, gid, &map) < 0 ||
                    id_map_translate(map, outer, false, &inner) < 0)
                        continue;
                r = machine_bus_path_full(bus_message_is_machine1(message), i->rec.name, &path);
                if (r < 0)
                        return r;
                return sd_bus_reply_method_return(message, "sou", i->rec.name, path, inner);
        }
        return sd_bus_error_setf(error,
                                 gid ? BUS_ERROR_NO_SUCH_GROUP_MAPPING : BUS_ERROR_NO_SUCH_USER_MAPPING,
                                 "No machine maps host %s %" PRIu32 ".", gid ? "GID" : "UID", outer);
}

static int method_map_to_machine_user(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return map_to_machine(message, userdata, false, error);
}

static int method_map_to_machine_group(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return map_to_machine(message, userdata, true, error);
}

/* ---- Manager methods (by name) ---- */

typedef int (*MachineOp)(sd_bus_message *message, Machine *machine, sd_bus_error *error);

static int by_name(sd_bus_message *message, Manager *m, MachineOp op, sd_bus_error *error) {
        Machine *machine;
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        r = bus_find_running_machine(m, message, name, false, &machine, error);
        if (r < 0)
                return r;
        return op(message, machine, error);
}

static int method_get_machine_os_release(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_name(message, userdata, machine_os_release, error);
}

static int method_get_machine_addresses(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_name(message, userdata, machine_addresses, error);
}

static int method_get_machine_uid_shift(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_name(message, userdata, machine_uid_shift_reply, error);
}

static int method_open_machine_pty(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_name(message, userdata, machine_open_pty, error);
}

static int method_open_machine_root_directory(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_name(message, userdata, machine_open_root_dir, error);
}

/* ---- Machine object methods ---- */

static int object_running(Machine *machine, sd_bus_error *error) {
        if (!machine_is_host(machine) && machine->rec.leader == 0)
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING,
                                         "Machine '%s' has no init process yet.", machine->rec.name);
        return 0;
}

static int object_op(sd_bus_message *message, Machine *machine, MachineOp op, sd_bus_error *error) {
        int r = object_running(machine, error);
        return r < 0 ? r : op(message, machine, error);
}

static int method_get_os_release(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_op(message, userdata, machine_os_release, error);
}

static int method_get_addresses(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_op(message, userdata, machine_addresses, error);
}

static int method_get_uid_shift(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_op(message, userdata, machine_uid_shift_reply, error);
}

static int method_open_pty(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_op(message, userdata, machine_open_pty, error);
}

static int method_open_root_directory(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return object_op(message, userdata, machine_open_root_dir, error);
}

static int method_open_login(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Machine *machine = userdata;
        return bus_machine_open_login(message, machine->manager, machine->rec.name, error);
}

static int method_open_shell(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Machine *machine = userdata;
        return bus_machine_open_shell(message, machine->manager, machine->rec.name, error);
}

/* ---- properties ---- */

static int property_get_unit(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        /* machine1's Unit is the systemd unit whose cgroup holds the machine. Ours are in their
         * own cgroup (/nspawnctl/NAME), which is no unit's: empty, as systemd-machined shows
         * for machines it does not know the unit of. */
        return sd_bus_message_append(reply, "s", "");
}

static int property_get_network_interfaces(sd_bus *bus, const char *path, const char *interface,
                                           const char *property, sd_bus_message *reply, void *userdata,
                                           sd_bus_error *error) {
        _cleanup_free_ int *ifindices = NULL;
        _cleanup_close_ int netns = -EBADF;
        Machine *machine = userdata;
        int n = 0;

        /* The host's ends of the machine's links (veth): whatever network setup made them. A
         * machine that shares the host's namespace, or that is gone, has none. */
        if (!machine_is_host(machine) && machine->rec.leader > 0 && open_netns(machine, &netns) >= 0) {
                n = netns_host_peer_ifindices(netns, &ifindices);
                if (n < 0)
                        n = 0;
        }
        return sd_bus_message_append_array(reply, 'i', ifindices, (size_t) n * sizeof(int));
}

static const sd_bus_vtable manager_machine_info_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetMachineAddresses", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a(iay)", addresses), method_get_machine_addresses,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineOSRelease", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a{ss}", fields), method_get_machine_os_release,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineUIDShift", SD_BUS_ARGS("s", name), SD_BUS_RESULT("u", shift),
                                method_get_machine_uid_shift, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenMachinePTY", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("h", pty, "s", pty_path), method_open_machine_pty, 0),
        SD_BUS_METHOD_WITH_ARGS("OpenMachineRootDirectory", SD_BUS_ARGS("s", name), SD_BUS_RESULT("h", fd),
                                method_open_machine_root_directory, 0),
        SD_BUS_METHOD_WITH_ARGS("MapFromMachineUser", SD_BUS_ARGS("s", name, "u", uid_inner),
                                SD_BUS_RESULT("u", uid_outer), method_map_from_machine_user,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapToMachineUser", SD_BUS_ARGS("u", uid_outer),
                                SD_BUS_RESULT("s", machine_name, "o", machine_path, "u", uid_inner),
                                method_map_to_machine_user, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapFromMachineGroup", SD_BUS_ARGS("s", name, "u", gid_inner),
                                SD_BUS_RESULT("u", gid_outer), method_map_from_machine_group,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MapToMachineGroup", SD_BUS_ARGS("u", gid_outer),
                                SD_BUS_RESULT("s", machine_name, "o", machine_path, "u", gid_inner),
                                method_map_to_machine_group, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable machine_info_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Unit", "s", property_get_unit, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NetworkInterfaces", "ai", property_get_network_interfaces, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("GetAddresses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(iay)", addresses),
                                method_get_addresses, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetOSRelease", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{ss}", fields),
                                method_get_os_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUIDShift", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", shift),
                                method_get_uid_shift, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenPTY", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", pty, "s", pty_path),
                                method_open_pty, 0),
        SD_BUS_METHOD_WITH_ARGS("OpenRootDirectory", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", fd),
                                method_open_root_directory, 0),
        SD_BUS_METHOD_WITH_ARGS("OpenLogin", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", pty, "s", pty_path),
                                method_open_login, 0),
        SD_BUS_METHOD_WITH_ARGS("OpenShell",
                                SD_BUS_ARGS("s", user, "s", path, "as", args, "as", environment),
                                SD_BUS_RESULT("h", pty, "s", pty_path), method_open_shell, 0),
        SD_BUS_VTABLE_END,
};

int manager_add_machine_info_bus_objects(Manager *m, sd_bus *bus, bool machine1) {
        int r;

        r = manager_add_vtable(m, bus, machine1, BUS_OBJECT_MANAGER, manager_machine_info_vtable, NULL, m);
        if (r < 0)
                return r;
        return manager_add_vtable(m, bus, machine1, BUS_OBJECT_MACHINE, machine_info_vtable,
                                  bus_machine_object_find, m);
}
