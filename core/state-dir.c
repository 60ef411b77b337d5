/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state-dir.h"
#include "util/lock-file.h"
#include "util/util.h"

static const char *const machine_file_dir[_MACHINE_FILE_MAX] = {
        [MACHINE_RECORD] = "/machines/",
        [MACHINE_LOCK] = "/locks/",
        [MACHINE_CONSOLE] = "/console/",
        [MACHINE_CONSOLE_LOG] = "/logs/",
};

char *machine_state_path(const char *state_dir, const char *name, MachineFile kind) {
        return strjoin(state_dir, machine_file_dir[kind], name, kind == MACHINE_CONSOLE_LOG ? ".console" : "");
}

char *state_seccomp_dir(const char *state_dir) {
        return strjoin(state_dir, "/seccomp");
}

int state_dir_create(const char *state_dir) {
        if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        for (int k = 0; k < _MACHINE_FILE_MAX; k++) {
                _cleanup_free_ char *d = strjoin(state_dir, machine_file_dir[k]);
                if (!d)
                        return -ENOMEM;
                if (mkdir(d, k == MACHINE_CONSOLE || k == MACHINE_CONSOLE_LOG ? 0700 : 0755) < 0 && errno != EEXIST)
                        return -errno;
        }
        return 0;
}

static int lock_adopt(const char *path, int *ret_fd) {
        const char *e = getenv("NSPAWNCTL_LOCK_FD");
        struct stat a, b;
        int fd;

        if (!e)
                return 0;
        (void) unsetenv("NSPAWNCTL_LOCK_FD");
        if (safe_atoi(e, &fd) < 0 || fd < 3 || fstat(fd, &a) < 0)
                return 0;
        if (stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev ||
            flock(fd, LOCK_EX | LOCK_NB) < 0 || fd_cloexec(fd, true) < 0) {
                safe_close(fd);
                return 0;
        }
        *ret_fd = fd;
        return 1;
}

int machine_lock_acquire(const char *state_dir, const char *name, int *ret_fd) {
        _cleanup_free_ char *path = machine_state_path(state_dir, name, MACHINE_LOCK);
        int r;

        if (!path)
                return -ENOMEM;
        r = state_dir_create(state_dir);
        if (r < 0)
                return r;
        if (lock_adopt(path, ret_fd) > 0)
                return 0;
        return lock_file_try(path, ret_fd);
}

void machine_lock_release(const char *state_dir, const char *name, int fd) {
        _cleanup_free_ char *path = machine_state_path(state_dir, name, MACHINE_LOCK);

        lock_file_release(path, fd);
}

void machine_state_remove(const char *state_dir, const char *name) {
        for (MachineFile k = 0; k < _MACHINE_FILE_MAX; k++) {
                _cleanup_free_ char *p = NULL;
                /* The lock is released by its holder (machine_lock_release()); the console log
                 * stays to tell why a machine ended (machined prunes old logs). */
                if (k == MACHINE_LOCK || k == MACHINE_CONSOLE_LOG)
                        continue;
                p = machine_state_path(state_dir, name, k);
                if (p)
                        (void) unlink(p);
        }
}
