/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SetMachineLimits: resource limits of a machine changed while it runs and, unless only
 * for this run, kept in its settings file so the next start has them too; and the usage
 * properties of a machine (docs/resources.md). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup-limits.h"
#include "log.h"
#include "machined-api.h"
#include "machined.h"
#include "names.h"
#include "settings-load.h"
#include "settings-resources.h"
#include "util/strv.h"
#include "util/util.h"

/* Where the limits are kept: the machine's settings file, or a new one in the trusted
 * directory. A limit that the file's place would not honour is refused rather than
 * written to be ignored. */
static int limits_file(Manager *m, const char *name, const CGroupLimits *l, char **ret,
                       sd_bus_error *error) {
        _cleanup_free_ char *path = NULL, *image = strjoin(m->pool, "/", name);
        SettingsTrust trust = SETTINGS_TRUSTED;
        int r;

        if (!image)
                return -ENOMEM;
        /* The same search the supervisor does when the machine starts. */
        r = settings_find(name, &(const SettingsSearch) { .config_dir = m->config_dir, .state_dir = m->state_dir,
                                                          .image = image },
                          &path, &trust);
        if (r == -EBADFD)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_SETTINGS,
                                         "The settings file %s.nspawn of '%s' is not a regular file.", name, name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot look for settings of %s: %m", name);
        if (r == 0) {
                if (mkdir(m->config_dir, 0755) < 0 && errno != EEXIST)
                        return sd_bus_error_set_errnof(error, errno, "Cannot create %s: %m", m->config_dir);
                path = strjoin(m->config_dir, "/", name, ".nspawn");
                if (!path)
                        return -ENOMEM;
        } else if (trust != SETTINGS_TRUSTED && l->set[CGROUP_LIMIT_TASKS_MAX] &&
                   l->value[CGROUP_LIMIT_TASKS_MAX] > CGROUP_TASKS_MAX_DEFAULT)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "%s is next to the image, where TasksMax= above %d is ignored; "
                                         "set it in %s/%s.nspawn, or with --runtime.",
                                         path, CGROUP_TASKS_MAX_DEFAULT, m->config_dir, name);
        *ret = TAKE_PTR(path);
        return 0;
}

static int method_set_machine_limits(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **assignments = NULL;
        _cleanup_free_ char *path = NULL;
        CGroupLimits l = {}, live;
        Manager *m = userdata;
        Machine *machine;
        const char *name;
        int runtime, r;

        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(message, "sb", &name, &runtime);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(message, &assignments);
        if (r < 0)
                return r;
        r = bus_check_machine_name(name, error);
        if (r < 0)
                return r;
        if (strv_length(assignments) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No limit given.");
        STRV_FOREACH(a, assignments) {
                r = cgroup_limits_set_assignment(&l, *a);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 r == -ENOENT ? "Unknown limit '%s'." : "Invalid limit '%s'.", *a);
                if (!strchr(*a, '=')[1] && runtime)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "'%s' only unsets a kept limit: not with runtime.", *a);
        }
        /* "NAME=" unsets: the running machine goes back to the default. */
        live = l;
        STRV_FOREACH(a, assignments)
                if (!strchr(*a, '=')[1]) {
                        _cleanup_free_ char *n = strndup(*a, strlen(*a) - 1);
                        CGroupLimitType t = cgroup_limit_type_from_string(n);
                        if (t >= 0) {
                                live.set[t] = true;
                                live.value[t] = cgroup_limit_default(t);
                        }
                }

        machine = manager_find_machine(m, name);
        if (!machine && runtime)
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING, "Machine '%s' is not running.", name);
        if (!runtime) {
                r = limits_file(m, name, &l, &path, error);
                if (r < 0)
                        return r;
        }
        if (machine && !isempty(machine->rec.cgroup)) {
                CGroupLimitType failed = _CGROUP_LIMIT_TYPE_INVALID;
                const char *reason = NULL;

                r = cgroup_limits_apply(NULL, machine->rec.cgroup, &live, &failed, &reason);
                if (r == -ENOENT)
                        return sd_bus_error_setf(error, BUS_ERROR_MACHINE_NOT_RUNNING, "Machine '%s' is not running.", name);
                if (r < 0 && reason)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED, "Cannot apply %s=: %s.",
                                                 cgroup_limit_type_to_string(failed), reason);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to apply %s= to %s: %m",
                                                       strna(cgroup_limit_type_to_string(failed)), name);
        } else {
                /* Not running: at least make sure this host could apply them at start. */
                CGroupLimitType failed = _CGROUP_LIMIT_TYPE_INVALID;
                const char *reason = NULL;
                r = cgroup_limits_check(NULL, &l, &failed, &reason);
                if (r < 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED, "Cannot apply %s=: %s.",
                                                 strna(cgroup_limit_type_to_string(failed)), strna(reason));
        }
        if (path) {
                r = settings_file_set_resources(path, assignments);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to keep the limits in %s: %m", path);
        }
        log_info("%zu limit(s) of machine %s set%s.", strv_length(assignments), name,
                 runtime ? " for this run" : "");
        return sd_bus_reply_method_return(message, NULL);
}

/* The usage properties of a machine, read from its cgroup on each Get (UINT64_MAX where the
 * host cannot tell, as systemd's unit properties). */
static int property_get_usage(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Machine *machine = userdata;
        CGroupUsage u = { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
        uint64_t v;

        if (!isempty(machine->rec.cgroup))
                (void) cgroup_usage_read(machine->rec.cgroup, &u);
        v = streq(property, "MemoryCurrent")  ? u.memory_current
            : streq(property, "MemoryPeak")   ? u.memory_peak
            : streq(property, "CPUUsageNSec") ? u.cpu_usage_nsec
            : streq(property, "TasksCurrent") ? u.tasks_current
                                              : u.oom_kills;
        return sd_bus_message_append(reply, "t", v);
}

static const sd_bus_vtable machine_usage_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("MemoryCurrent", "t", property_get_usage, 0, 0),
        SD_BUS_PROPERTY("MemoryPeak", "t", property_get_usage, 0, 0),
        SD_BUS_PROPERTY("CPUUsageNSec", "t", property_get_usage, 0, 0),
        SD_BUS_PROPERTY("TasksCurrent", "t", property_get_usage, 0, 0),
        SD_BUS_PROPERTY("OOMKills", "t", property_get_usage, 0, 0),
        SD_BUS_VTABLE_END,
};

static int machine_usage_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                              void **found, sd_bus_error *error) {
        Machine *machine = manager_find_machine_by_path(userdata, path);
        if (!machine)
                return 0;
        *found = machine;
        return 1;
}

static const sd_bus_vtable limits_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("SetMachineLimits", SD_BUS_ARGS("s", name, "b", runtime, "as", limits),
                                SD_BUS_NO_RESULT, method_set_machine_limits, 0),
        SD_BUS_VTABLE_END,
};

int manager_add_limits_bus_objects(Manager *m, sd_bus *bus) {
        int r;

        /* Further vtables for the Manager and Machine interfaces: sd-bus merges them. */
        r = sd_bus_add_object_vtable(bus, NULL, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                                     limits_vtable, m);
        if (r < 0)
                return r;
        return sd_bus_add_fallback_vtable(bus, NULL, MACHINED_MACHINE_PATH_PREFIX,
                                          MACHINED_MACHINE_INTERFACE, machine_usage_vtable,
                                          machine_usage_find, m);
}
