/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "userns.h"
#include "util/lock-file.h"
#include "util/process.h"
#include "util/util.h"

#define USER_DB_MAX (16U * 1024U * 1024U)

static const char *const private_users_mode_table[_PRIVATE_USERS_MODE_MAX] = {
        [PRIVATE_USERS_NO] = "no",
        [PRIVATE_USERS_YES] = "yes",
        [PRIVATE_USERS_PICK] = "pick",
        [PRIVATE_USERS_IDENTITY] = "identity",
        [PRIVATE_USERS_FIXED] = NULL, /* written as UID:COUNT */
};

/* Decimal digits only (no sign, no space), at most max. */
static int parse_u32(const char *s, size_t len, uint32_t max, uint32_t *ret) {
        uint64_t v = 0;

        if (len == 0 || len > 10)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        if (v > max)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int private_users_parse(const char *s, PrivateUsers *ret) {
        const char *colon;
        uint32_t shift, range = USERNS_RANGE_DEFAULT;
        int b;

        if (isempty(s))
                return -EINVAL;

        if (s[0] < '0' || s[0] > '9') {
                if (streq(s, "pick")) {
                        *ret = (PrivateUsers){ PRIVATE_USERS_PICK, 0, USERNS_RANGE_DEFAULT };
                        return 0;
                }
                if (streq(s, "identity")) {
                        *ret = (PrivateUsers){ PRIVATE_USERS_IDENTITY, 0, USERNS_RANGE_DEFAULT };
                        return 0;
                }
                /* Like nspawn, "1" and "0" are UIDs, so booleans are only ever words. */
                b = parse_boolean(s);
                if (b < 0)
                        return -EINVAL;
                *ret = (PrivateUsers){ b ? PRIVATE_USERS_YES : PRIVATE_USERS_NO, 0,
                        b ? USERNS_RANGE_DEFAULT : 0 };
                return 0;
        }

        colon = strchr(s, ':');
        /* UID 4294967295 is (uid_t) -1, "no UID": it may neither start nor end a range. */
        if (parse_u32(s, colon ? (size_t) (colon - s) : strlen(s), UINT32_MAX - 1, &shift) < 0)
                return -EINVAL;
        if (colon && parse_u32(colon + 1, strlen(colon + 1), UINT32_MAX, &range) < 0)
                return -EINVAL;
        if (range == 0 || (uint64_t) shift + range > UINT32_MAX)
                return -EINVAL;
        *ret = (PrivateUsers){ PRIVATE_USERS_FIXED, shift, range };
        return 0;
}

const char *private_users_to_string(const PrivateUsers *p, char buf[static PRIVATE_USERS_STRING_MAX]) {
        if (!p || p->mode < 0 || p->mode >= _PRIVATE_USERS_MODE_MAX)
                return NULL;
        if (p->mode != PRIVATE_USERS_FIXED)
                return private_users_mode_table[p->mode];
        snprintf(buf, PRIVATE_USERS_STRING_MAX, "%" PRIu32 ":%" PRIu32, (uint32_t) p->shift, p->range);
        return buf;
}

uid_t uid_range_candidate(const char *machine, unsigned i) {
        /* FNV-1a: stable across runs and builds, which is all a start slot needs. */
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (const unsigned char *c = (const unsigned char *) machine; *c; c++) {
                h ^= *c;
                h *= UINT64_C(0x100000001b3);
        }
        return USERNS_PICK_MIN + (uid_t) ((h + i) % USERNS_PICK_SLOTS) * USERNS_RANGE_DEFAULT;
}

bool user_db_has_id_in(const char *text, uid_t base, uint32_t n) {
        for (const char *line = text; line && *line;) {
                const char *end = strchrnul(line, '\n'), *f = line;
                uint32_t id;

                /* name:password:ID:... */
                for (int field = 0; field < 2 && f; field++) {
                        f = memchr(f, ':', (size_t) (end - f));
                        if (f)
                                f++;
                }
                if (f) {
                        const char *e = memchr(f, ':', (size_t) (end - f));
                        if (parse_u32(f, (size_t) ((e ?: end) - f), UINT32_MAX, &id) >= 0 && id >= base &&
                                (uint64_t) id < (uint64_t) base + n)
                                return true;
                }
                line = *end ? end + 1 : end;
        }
        return false;
}

int user_db_read(const char *path, char **ret) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        if (fd < 0)
                return -errno;
        return read_regular_fd(fd, USER_DB_MAX, ret);
}

char *uid_range_lock_path(const char *state_dir, uid_t base) {
        char b[16];

        snprintf(b, sizeof b, "%" PRIu32, (uint32_t) base);
        return strjoin(state_dir, "/uidranges/", b);
}

int uid_range_pick(const char *state_dir, const char *machine, const char *passwd, const char *group,
        uid_t *ret_base, int *ret_lock_fd) {
        _cleanup_free_ char *dir = strjoin(state_dir, "/uidranges");
        int r;

        if (!dir)
                return -ENOMEM;
        if ((mkdir(state_dir, 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
                return -errno;

        for (unsigned i = 0; i < USERNS_PICK_SLOTS; i++) {
                uid_t base = uid_range_candidate(machine, i);
                _cleanup_free_ char *path = NULL;

                /* A host user or group in the range could signal, trace or read what the
                 * container's users own. */
                if (user_db_has_id_in(passwd, base, USERNS_RANGE_DEFAULT) ||
                        user_db_has_id_in(group, base, USERNS_RANGE_DEFAULT))
                        continue;
                path = uid_range_lock_path(state_dir, base);
                if (!path)
                        return -ENOMEM;
                r = lock_file_try(path, ret_lock_fd);
                if (r == -EEXIST)
                        continue;
                if (r < 0)
                        return r;
                *ret_base = base;
                return 0;
        }
        return -EBUSY;
}

void uid_range_release(const char *state_dir, uid_t base, int fd) {
        _cleanup_free_ char *path = NULL;

        if (fd < 0)
                return;
        path = uid_range_lock_path(state_dir, base);
        lock_file_release(path, fd);
}

static int write_map(int proc_pid_fd, const char *file, uint32_t inside, uint32_t outside, uint32_t n) {
        char line[48];

        snprintf(line, sizeof line, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n", inside, outside, n);
        return write_string_file_at(proc_pid_fd, file, line);
}

int userns_write_maps(int proc_pid_fd, uid_t shift, uint32_t range) {
        int r = write_map(proc_pid_fd, "uid_map", 0, shift, range);
        return r < 0 ? r : write_map(proc_pid_fd, "gid_map", 0, shift, range);
}

int userns_new_fd(
        uid_t uid_inside, uid_t uid_outside, gid_t gid_inside, gid_t gid_outside, uint32_t n, int *ret_fd) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        _cleanup_close_ int dir = -EBADF, ns = -EBADF;
        struct clone_args args = { .flags = CLONE_NEWUSER, .exit_signal = SIGCHLD };
        char path[32];
        pid_t pid;
        int r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char c;
                /* Only its namespace is wanted: wait until the parent has it, then leave. */
                p[1] = safe_close(p[1]);
                (void) read(p[0], &c, 1);
                _exit(EXIT_SUCCESS);
        }
        p[0] = safe_close(p[0]);

        snprintf(path, sizeof path, "/proc/%d", (int) pid);
        dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                r = -errno;
        else if ((r = write_map(dir, "uid_map", uid_inside, uid_outside, n)) >= 0 &&
                (r = write_map(dir, "gid_map", gid_inside, gid_outside, n)) >= 0) {
                ns = openat(dir, "ns/user", O_RDONLY | O_CLOEXEC);
                if (ns < 0)
                        r = -errno;
        }
        p[1] = safe_close(p[1]);
        (void) wait_for_terminate(pid, NULL);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(ns);
        return 0;
}

int mount_clone_idmapped(int source_fd, bool recursive, int userns_fd, uint64_t attr_set, int *ret_fd) {
        unsigned rec = recursive ? AT_RECURSIVE : 0;
        struct mount_attr attr = {
                .attr_set = attr_set | (userns_fd >= 0 ? MOUNT_ATTR_IDMAP : 0),
                .userns_fd = userns_fd >= 0 ? (uint64_t) userns_fd : 0,
        };
        _cleanup_close_ int fd = -EBADF;

        fd = (int) syscall(
                SYS_open_tree, source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
        if (fd < 0)
                return -errno;
        if (attr.attr_set != 0 &&
                syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0)
                /* EINVAL for IDMAP: some file system in the tree cannot be ID-mapped. */
                return errno == EINVAL && userns_fd >= 0 ? -EOPNOTSUPP : -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int mount_new_detached(const char *fstype, const char *options, uint64_t attr_set, int *ret_fd) {
        _cleanup_close_ int fs = -EBADF, mnt = -EBADF;

        fs = (int) syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        for (const char *p = options; p && *p;) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *key = strndup(p, n);
                char *value;

                if (!key)
                        return -ENOMEM;
                value = strchr(key, '=');
                if (value)
                        *value++ = 0;
                unsigned cmd = value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG;
                if (n > 0 && syscall(SYS_fsconfig, fs, cmd, key, value, 0) < 0)
                        return -errno;
                p += n + (p[n] == ',');
        }
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr_set);
        if (mnt < 0)
                return -errno;
        *ret_fd = TAKE_FD(mnt);
        return 0;
}

int mount_move_onto(int tree_fd, int target_fd) {
        if (syscall(SYS_move_mount, tree_fd, "", target_fd, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int tmpfs_options_shift(const char *options, uid_t shift, uint32_t range, char **ret) {
        _cleanup_free_ char *out = NULL;
        bool have_uid = false, have_gid = false;
        size_t len = 0, size;

        /* A "uid=N" of at least 5 bytes grows to at most 14 ("uid=4294967295"), so three
         * times the input, plus the two options that may be added, is always enough. */
        size = 3 * (options ? strlen(options) : 0) + 2 * sizeof("uid=4294967295,");
        out = malloc(size);
        if (!out)
                return -ENOMEM;
        out[0] = 0;

        for (const char *p = options; p && *p;) {
                size_t n = strcspn(p, ",");
                bool is_uid = n >= 4 && strneq(p, "uid=", 4), is_gid = n >= 4 && strneq(p, "gid=", 4);
                uint32_t id;

                if (n > 0) {
                        if (len > 0)
                                out[len++] = ',';
                        if (is_uid || is_gid) {
                                if (parse_u32(p + 4, n - 4, UINT32_MAX, &id) < 0)
                                        return -EINVAL;
                                if (id >= range)
                                        return -ERANGE;
                                len += (size_t) snprintf(out + len, size - len, "%s=%" PRIu32,
                                        is_uid ? "uid" : "gid", (uint32_t) (shift + id));
                                have_uid |= is_uid;
                                have_gid |= is_gid;
                        } else {
                                memcpy(out + len, p, n);
                                len += n;
                                out[len] = 0;
                        }
                }
                p += n;
                if (*p == ',')
                        p++;
        }
        if (!have_uid)
                len += (size_t) snprintf(
                        out + len, size - len, "%suid=%" PRIu32, len ? "," : "", (uint32_t) shift);
        if (!have_gid)
                len += (size_t) snprintf(
                        out + len, size - len, "%sgid=%" PRIu32, len ? "," : "", (uint32_t) shift);
        *ret = TAKE_PTR(out);
        return 0;
}

int fs_become_uid(uid_t uid) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        (void) setfsgid(uid);
        (void) setfsuid(uid);
        /* Both calls answer with the previous value, never an error: ask again to know. */
        if ((uid_t) setfsuid((uid_t) -1) != uid || (gid_t) setfsgid((gid_t) -1) != (gid_t) uid)
                return -EPERM;
        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        d[0].effective = d[0].permitted;
        d[1].effective = d[1].permitted;
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}
