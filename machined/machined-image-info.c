/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* machine1's image calls that machined's own API did not have: the files of an image
 * (GetImageHostname, GetImageMachineID, GetImageMachineInfo, GetImageOSRelease), disk limits
 * with btrfs quota groups (SetPoolLimit, SetImageLimit, PoolUsage, PoolLimit and the image
 * limit properties, core/btrfs-quota.h), CleanPool, and the methods of machine1's Image
 * objects. Image trees are guest data: files are read inside the tree, regular only,
 * bounded and non-blocking, and every value is escaped before it goes on the bus. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-id128.h>

#include "btrfs-quota.h"
#include "btrfs.h"
#include "copy.h"
#include "bus-path.h"
#include "guest-info.h"
#include "image.h"
#include "log.h"
#include "machined-api.h"
#include "machined.h"
#include "names.h"
#include "util/strv.h"
#include "util/util.h"

/* ---- reading files of an image ---- */

static int open_image_root(Manager *m, const char *name, int *ret, sd_bus_error *error) {
        _cleanup_(image_freep) Image *i = NULL;
        int r, fd;

        if (!image_name_is_valid(name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME, "Invalid image name '%s'.", name);
        r = image_get(m->pool, name, 0, &i);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "No image '%s'.", name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to read image '%s': %m", name);
        if (i->type == IMAGE_RAW)
                return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED,
                                         "Image '%s' is a raw disk image; its files cannot be read.", name);
        fd = open(i->path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return sd_bus_error_set_errnof(error, errno, "Failed to open image '%s': %m", name);
        *ret = fd;
        return 0;
}

/* Reads path of image name: 1 with *ret, 0 if the file does not exist. */
static int read_image_file(Manager *m, const char *name, const char *const *paths, char **ret,
                           sd_bus_error *error) {
        _cleanup_close_ int root = -EBADF;
        int r;

        r = open_image_root(m, name, &root, error);
        if (r < 0)
                return r;
        r = guest_read_first_at(root, paths, GUEST_FILE_MAX, 0, ret);
        if (r == -ENOENT)
                return 0;
        if (r == -EBADFD || r == -EFBIG || r == -EBADMSG)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                         "%s of image '%s' is no regular text file of at most %u bytes.",
                                         paths[0], name, GUEST_FILE_MAX);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to read %s of image '%s': %m", paths[0],
                                               name);
        return 1;
}

typedef enum ImageFile {
        IMAGE_FILE_HOSTNAME,
        IMAGE_FILE_MACHINE_ID,
        IMAGE_FILE_MACHINE_INFO,
        IMAGE_FILE_OS_RELEASE,
} ImageFile;

static int reply_image_file(sd_bus_message *message, Manager *m, const char *name, ImageFile what,
                            sd_bus_error *error) {
        static const char *const hostname[] = { "/etc/hostname", NULL };
        static const char *const machine_id[] = { "/etc/machine-id", NULL };
        static const char *const machine_info[] = { "/etc/machine-info", NULL };
        static const char *const os_release[] = { "/etc/os-release", "/usr/lib/os-release", NULL };
        static const char *const *const paths[] = { hostname, machine_id, machine_info, os_release };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **pairs = NULL;
        _cleanup_free_ char *text = NULL, *line = NULL;
        sd_id128_t id = SD_ID128_NULL;
        int r, found;

        found = read_image_file(m, name, paths[what], &text, error);
        if (found < 0)
                return found;
        switch (what) {
        case IMAGE_FILE_HOSTNAME:
                r = guest_first_line(found ? text : "", &line);
                if (r < 0)
                        return r;
                return sd_bus_reply_method_return(message, "s", line);
        case IMAGE_FILE_MACHINE_ID:
                /* machine1 gives 16 bytes, or none when the image has no (valid) id. */
                if (found) {
                        text[strcspn(text, "\n")] = 0;
                        if (sd_id128_from_string(text, &id) < 0)
                                id = SD_ID128_NULL;
                }
                r = sd_bus_message_new_method_return(message, &reply);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'y', id.bytes, sd_id128_is_null(id) ? 0 : 16);
                break;
        case IMAGE_FILE_MACHINE_INFO:
        case IMAGE_FILE_OS_RELEASE:
                if (!found && what == IMAGE_FILE_OS_RELEASE)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED,
                                                 "Image '%s' has no os-release file.", name);
                r = env_text_parse(found ? text : "", &pairs);
                if (r >= 0)
                        r = sd_bus_message_new_method_return(message, &reply);
                if (r >= 0)
                        r = bus_message_append_pairs(reply, pairs);
                break;
        }
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int by_image_name(sd_bus_message *message, Manager *m, ImageFile what, sd_bus_error *error) {
        const char *name;
        int r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        return reply_image_file(message, m, name, what, error);
}

static int method_get_image_hostname(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_image_name(message, userdata, IMAGE_FILE_HOSTNAME, error);
}

static int method_get_image_machine_id(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_image_name(message, userdata, IMAGE_FILE_MACHINE_ID, error);
}

static int method_get_image_machine_info(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_image_name(message, userdata, IMAGE_FILE_MACHINE_INFO, error);
}

static int method_get_image_os_release(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return by_image_name(message, userdata, IMAGE_FILE_OS_RELEASE, error);
}

/* ---- quota ---- */

/* The pool's directory, when it is on btrfs (-EOPNOTSUPP when not), and its quota group. */
static int open_pool_btrfs(Manager *m, int *ret_fd, uint64_t *ret_qgroup) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t id;
        int r;

        fd = open(m->pool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = btrfs_is_filesystem_fd(fd);
        if (r < 0)
                return r;
        if (r == 0)
                return -EOPNOTSUPP;
        r = btrfs_subvol_get_id_fd(fd, &id);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        if (ret_qgroup)
                *ret_qgroup = BTRFS_QGROUP_ID(1, id);
        return 0;
}

/* Adds the subvolume below dir_fd to the pool's group; 1 if it was new there. */
static int adopt_subvol(int dir_fd, const char *file, uint64_t qgroup) {
        _cleanup_close_ int fd = openat(dir_fd, file, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        uint64_t id;
        int r;

        if (fd < 0)
                return -errno;
        r = btrfs_is_subvol_fd(fd);
        if (r <= 0)
                return r;
        r = btrfs_subvol_get_id_fd(fd, &id);
        if (r < 0)
                return r;
        return btrfs_qgroup_assign_fd(fd, BTRFS_QGROUP_ID(0, id), qgroup);
}

/* Every subvolume of the pool (images, hidden bases, snapshots) into the pool's group. */
static int pool_adopt_all(Manager *m, int pool_fd, uint64_t qgroup) {
        Image **list = NULL;
        size_t n = 0;
        int r, changed = 0;

        r = image_list(m->pool, IMAGE_HIDDEN, &list, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                Image **snaps = NULL;
                size_t k = 0;

                if (list[i]->type != IMAGE_SUBVOLUME)
                        continue;
                r = adopt_subvol(pool_fd, list[i]->name, qgroup);
                if (r > 0)
                        changed = 1;
                if (list[i]->name[0] != '.' &&
                    image_list_snapshots(m->pool, list[i]->name, &snaps, &k) >= 0) {
                        for (size_t j = 0; j < k; j++) {
                                _cleanup_free_ char *dir = NULL, *base = NULL;
                                if (path_split_last(snaps[j]->path, &dir, &base) >= 0) {
                                        _cleanup_close_ int dfd =
                                                open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                                        if (dfd >= 0 && adopt_subvol(dfd, base, qgroup) > 0)
                                                changed = 1;
                                }
                        }
                        image_list_free(snaps, k);
                }
        }
        image_list_free(list, n);
        return changed;
}

void manager_pool_quota_adopt(Manager *m, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        BtrfsQuotaInfo info;
        uint64_t qgroup;

        /* Only once a pool limit was set: its group exists then. */
        if (open_pool_btrfs(m, &fd, &qgroup) < 0 || btrfs_qgroup_get_fd(fd, qgroup, &info) < 0)
                return;
        if (adopt_subvol(fd, name, qgroup) > 0)
                (void) btrfs_quota_rescan_fd(fd);
}

static int set_pool_limit(Manager *m, uint64_t limit) {
        _cleanup_close_ int fd = -EBADF;
        uint64_t qgroup, id;
        int r, changed;

        r = open_pool_btrfs(m, &fd, &qgroup);
        if (r < 0)
                return r;
        r = btrfs_quota_enable_fd(fd);
        if (r < 0)
                return r;
        r = btrfs_qgroup_create_fd(fd, qgroup);
        if (r < 0)
                return r;
        r = btrfs_subvol_get_id_fd(fd, &id);
        if (r < 0)
                return r;
        r = btrfs_qgroup_assign_fd(fd, BTRFS_QGROUP_ID(0, id), qgroup);
        if (r < 0)
                return r;
        changed = pool_adopt_all(m, fd, qgroup);
        if (changed < 0)
                return changed;
        if (r > 0 || changed > 0) {
                r = btrfs_quota_rescan_fd(fd);
                if (r < 0)
                        return r;
        }
        return btrfs_qgroup_set_limit_fd(fd, qgroup, limit);
}

static int set_image_limit(Manager *m, const char *name, uint64_t limit) {
        _cleanup_(image_freep) Image *i = NULL;
        _cleanup_close_ int pool_fd = -EBADF, fd = -EBADF;
        uint64_t id;
        int r;

        r = image_get(m->pool, name, 0, &i);
        if (r < 0)
                return r;
        if (i->type != IMAGE_SUBVOLUME)
                return -EOPNOTSUPP;
        r = open_pool_btrfs(m, &pool_fd, NULL);
        if (r < 0)
                return r;
        r = btrfs_quota_enable_fd(pool_fd);
        if (r < 0)
                return r;
        fd = openat(pool_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = btrfs_subvol_get_id_fd(fd, &id);
        if (r < 0)
                return r;
        return btrfs_qgroup_set_limit_fd(fd, BTRFS_QGROUP_ID(0, id), limit);
}

static const char *limit_error(int r) {
        return r == -EOPNOTSUPP ? "Quota is only supported on btrfs subvolumes (a pool on btrfs)." : NULL;
}

static int limit_start(sd_bus_message *message, Manager *m, const char *name, uint64_t limit,
                       sd_bus_error *error) {
        char msg[256];
        int fd, r;

        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        /* machine1: at least 4 KiB, or UINT64_MAX for no limit; a smaller limit is a typo. */
        if (limit < 4096)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "New limit is too small (at least 4K).");
        if (name) {
                _cleanup_(image_freep) Image *i = NULL;
                if (!image_name_is_valid(name))
                        return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME, "Invalid image name '%s'.",
                                                 name);
                r = image_get(m->pool, name, 0, &i);
                if (r == -ENOENT)
                        return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "No image '%s'.", name);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to read image '%s': %m", name);
                if (i->type != IMAGE_SUBVOLUME)
                        return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED, "%s",
                                                 limit_error(-EOPNOTSUPP));
        }
        /* Enabling quota waits for a rescan of the whole pool: in a worker. */
        r = machine_operation_fork(m, message, "nspawnctl-quota", &fd);
        if (r != 0)
                return r;
        r = name ? set_image_limit(m, name, limit) : set_pool_limit(m, limit);
        if (r < 0)
                snprintf(msg, sizeof msg, "%s", limit_error(r) ?: "Failed to set the limit");
        machine_operation_exit(fd, r, r < 0 && limit_error(r) ? msg : NULL);
        return 0;
}

static int method_set_pool_limit(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        uint64_t limit;
        int r = sd_bus_message_read(message, "t", &limit);
        if (r < 0)
                return r;
        return limit_start(message, userdata, NULL, limit, error);
}

static int method_set_image_limit(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        uint64_t limit;
        int r = sd_bus_message_read(message, "st", &name, &limit);
        if (r < 0)
                return r;
        return limit_start(message, userdata, name, limit, error);
}

static BtrfsQuotaInfo pool_quota(Manager *m) {
        BtrfsQuotaInfo info = BTRFS_QUOTA_INFO_NULL;
        _cleanup_close_ int fd = -EBADF;
        uint64_t qgroup;

        if (open_pool_btrfs(m, &fd, &qgroup) >= 0)
                (void) btrfs_qgroup_get_fd(fd, qgroup, &info);
        return info;
}

static int property_get_pool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        BtrfsQuotaInfo info = pool_quota(userdata);
        /* Like systemd-machined: UINT64_MAX while the pool has no quota group. */
        return sd_bus_message_append(reply, "t",
                                     streq(property, "PoolUsage") ? info.referenced : info.referenced_max);
}

static BtrfsQuotaInfo image_quota(Manager *m, const char *name) {
        BtrfsQuotaInfo info = BTRFS_QUOTA_INFO_NULL;
        _cleanup_close_ int pool_fd = -EBADF, fd = -EBADF;
        uint64_t id;

        if (open_pool_btrfs(m, &pool_fd, NULL) < 0)
                return info;
        fd = openat(pool_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && btrfs_is_subvol_fd(fd) > 0 && btrfs_subvol_get_id_fd(fd, &id) >= 0)
                (void) btrfs_qgroup_get_fd(fd, BTRFS_QGROUP_ID(0, id), &info);
        return info;
}

/* ---- CleanPool ---- */

typedef struct CleanRecord {
        char name[256];
        uint64_t usage;
} CleanRecord;

static int clean_pool_reply(sd_bus_message *message, int fd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        CleanRecord rec;
        ssize_t n;
        int r;

        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(st)");
        while (r >= 0 && (n = loop_read(fd, &rec, sizeof rec)) == (ssize_t) sizeof rec) {
                rec.name[sizeof rec.name - 1] = 0;
                r = sd_bus_message_append(reply, "(st)", rec.name, rec.usage);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static bool clean_in_use(const char *name, void *userdata) {
        return manager_find_machine(userdata, name) != NULL;
}

/* In the worker: removes what mode asks for, then the pool's leftovers (image_clean()). */
static int clean_pool(Manager *m, bool all, CleanRecord **ret, size_t *ret_n) {
        _cleanup_free_ CleanRecord *recs = NULL;
        Image **list = NULL;
        size_t n = 0, k = 0;
        int r;

        r = image_list(m->pool, IMAGE_HIDDEN, &list, &n);
        if (r < 0)
                return r;
        recs = calloc(n + 1, sizeof *recs);
        if (!recs) {
                image_list_free(list, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const char *name = list[i]->name;
                bool hidden = name[0] == '.';

                if (!hidden && !all)
                        continue;
                if (hidden) {
                        /* Template bases (.base-*): caches a create rebuilds; locked while a
                         * create uses one. */
                        _cleanup_close_ int pool_fd = -EBADF, lock = -EBADF;
                        r = image_pool_open(m->pool, &pool_fd, NULL);
                        if (r >= 0)
                                r = image_lock(pool_fd, name, &lock);
                        if (r >= 0)
                                r = image_tree_remove_at(pool_fd, name);
                } else
                        r = image_remove(m->pool, name, clean_in_use, m);
                if (r == -EBUSY)
                        continue; /* in use: kept, as systemd-machined does */
                if (r < 0) {
                        image_list_free(list, n);
                        return r;
                }
                snprintf(recs[k].name, sizeof recs[k].name, "%s", name);
                recs[k++].usage = UINT64_MAX;
        }
        image_list_free(list, n);
        (void) image_clean(m->pool);
        *ret = TAKE_PTR(recs);
        *ret_n = k;
        return 0;
}

static int method_clean_pool(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_free_ CleanRecord *recs = NULL;
        Manager *m = userdata;
        const char *mode;
        size_t n = 0;
        int fd, r;

        r = sd_bus_message_read(message, "s", &mode);
        if (r < 0)
                return r;
        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        if (!streq(mode, "all") && !streq(mode, "hidden"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Unknown mode '%s' (all or hidden).", mode);
        r = machine_operation_fork_full(m, message, "nspawnctl-clean", clean_pool_reply, &fd);
        if (r != 0)
                return r;
        r = clean_pool(m, streq(mode, "all"), &recs, &n);
        machine_operation_exit_full(fd, r, r < 0 ? "Failed to clean the pool" : NULL, recs,
                                    n * sizeof *recs);
        return 0;
}

/* ---- Image objects ---- */

static int image_object_name(sd_bus_message *message, char **ret) {
        return image_name_from_bus_path_any(sd_bus_message_get_path(message), ret);
}

#define WITH_IMAGE_NAME(message, name)                                                                      \
        _cleanup_free_ char *name = NULL;                                                                   \
        do {                                                                                                \
                int _r = image_object_name(message, &name);                                                 \
                if (_r < 0)                                                                                 \
                        return _r;                                                                          \
        } while (0)

static int method_image_remove(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        WITH_IMAGE_NAME(message, name);
        return bus_image_remove(message, userdata, name, error);
}

static int method_image_rename(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *new_name;
        int r;
        WITH_IMAGE_NAME(message, name);
        r = sd_bus_message_read(message, "s", &new_name);
        if (r < 0)
                return r;
        return bus_image_rename(message, userdata, name, new_name, error);
}

static int method_image_clone(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *new_name;
        int read_only, r;
        WITH_IMAGE_NAME(message, name);
        r = sd_bus_message_read(message, "sb", &new_name, &read_only);
        if (r < 0)
                return r;
        return bus_image_clone(message, userdata, name, new_name, read_only, error);
}

static int method_image_mark_read_only(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        int read_only, r;
        WITH_IMAGE_NAME(message, name);
        r = sd_bus_message_read(message, "b", &read_only);
        if (r < 0)
                return r;
        return bus_image_mark_read_only(message, userdata, name, read_only, error);
}

static int method_image_set_limit(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        uint64_t limit;
        int r;
        WITH_IMAGE_NAME(message, name);
        r = sd_bus_message_read(message, "t", &limit);
        if (r < 0)
                return r;
        return limit_start(message, userdata, name, limit, error);
}

static int image_file_method(sd_bus_message *message, Manager *m, ImageFile what, sd_bus_error *error) {
        WITH_IMAGE_NAME(message, name);
        return reply_image_file(message, m, name, what, error);
}

static int method_image_get_hostname(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return image_file_method(message, userdata, IMAGE_FILE_HOSTNAME, error);
}

static int method_image_get_machine_id(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return image_file_method(message, userdata, IMAGE_FILE_MACHINE_ID, error);
}

static int method_image_get_machine_info(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return image_file_method(message, userdata, IMAGE_FILE_MACHINE_INFO, error);
}

static int method_image_get_os_release(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return image_file_method(message, userdata, IMAGE_FILE_OS_RELEASE, error);
}

static int property_get_image_limit(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        BtrfsQuotaInfo info = BTRFS_QUOTA_INFO_NULL;

        if (image_name_from_bus_path_any(path, &name) >= 0 && image_name_is_valid(name))
                info = image_quota(userdata, name);
        if (streq(property, "Limit"))
                return sd_bus_message_append(reply, "t", info.referenced_max);
        if (streq(property, "UsageExclusive"))
                return sd_bus_message_append(reply, "t", info.exclusive);
        return sd_bus_message_append(reply, "t", info.exclusive_max);
}

static const sd_bus_vtable manager_image_info_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("PoolUsage", "t", property_get_pool, 0, 0),
        SD_BUS_PROPERTY("PoolLimit", "t", property_get_pool, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("GetImageHostname", SD_BUS_ARGS("s", name), SD_BUS_RESULT("s", hostname),
                                method_get_image_hostname, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImageMachineID", SD_BUS_ARGS("s", name), SD_BUS_RESULT("ay", id),
                                method_get_image_machine_id, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImageMachineInfo", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a{ss}", machine_info), method_get_image_machine_info,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImageOSRelease", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a{ss}", os_release), method_get_image_os_release,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetPoolLimit", SD_BUS_ARGS("t", size), SD_BUS_NO_RESULT,
                                method_set_pool_limit, 0),
        SD_BUS_METHOD_WITH_ARGS("SetImageLimit", SD_BUS_ARGS("s", name, "t", size), SD_BUS_NO_RESULT,
                                method_set_image_limit, 0),
        SD_BUS_METHOD_WITH_ARGS("CleanPool", SD_BUS_ARGS("s", mode), SD_BUS_RESULT("a(st)", images),
                                method_clean_pool, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable image_info_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Limit", "t", property_get_image_limit, 0, 0),
        SD_BUS_PROPERTY("UsageExclusive", "t", property_get_image_limit, 0, 0),
        SD_BUS_PROPERTY("LimitExclusive", "t", property_get_image_limit, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("Remove", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_image_remove, 0),
        SD_BUS_METHOD_WITH_ARGS("Rename", SD_BUS_ARGS("s", new_name), SD_BUS_NO_RESULT, method_image_rename,
                                0),
        SD_BUS_METHOD_WITH_ARGS("Clone", SD_BUS_ARGS("s", new_name, "b", read_only), SD_BUS_NO_RESULT,
                                method_image_clone, 0),
        SD_BUS_METHOD_WITH_ARGS("MarkReadOnly", SD_BUS_ARGS("b", read_only), SD_BUS_NO_RESULT,
                                method_image_mark_read_only, 0),
        SD_BUS_METHOD_WITH_ARGS("SetLimit", SD_BUS_ARGS("t", limit), SD_BUS_NO_RESULT,
                                method_image_set_limit, 0),
        SD_BUS_METHOD_WITH_ARGS("GetHostname", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", hostname),
                                method_image_get_hostname, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineID", SD_BUS_NO_ARGS, SD_BUS_RESULT("ay", id),
                                method_image_get_machine_id, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineInfo", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{ss}", machine_info),
                                method_image_get_machine_info, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetOSRelease", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{ss}", os_release),
                                method_image_get_os_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                             void **found, sd_bus_error *error) {
        _cleanup_(image_freep) Image *i = NULL;
        _cleanup_free_ char *name = NULL;
        Manager *m = userdata;

        if (image_name_from_bus_path_any(path, &name) < 0 || !image_name_is_valid(name) ||
            image_get(m->pool, name, 0, &i) < 0)
                return 0;
        *found = m;
        return 1;
}

int manager_add_image_info_bus_objects(Manager *m, sd_bus *bus, bool machine1) {
        int r;

        r = manager_add_vtable(m, bus, machine1, BUS_OBJECT_MANAGER, manager_image_info_vtable, NULL, m);
        if (r < 0)
                return r;
        return manager_add_vtable(m, bus, machine1, BUS_OBJECT_IMAGE, image_info_vtable, image_object_find,
                                  m);
}
