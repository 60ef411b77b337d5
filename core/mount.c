/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mount.h"
#include "util/chase.h"
#include "util/util.h"

int mount_nofollow(const char *source, const char *target, const char *fstype,
                   unsigned long flags, const char *options) {
        /* mount(2) itself: the targets are /proc/self/fd/N magic links, taken as they are,
         * and the options only ever the file system's own (mode=, size=, lowerdir=, ...).
         * A libmount context added nothing to that (no fstab, mtab, helpers or
         * canonicalisation here) but its load: libmount, libblkid, libselinux and libpcre2
         * at every exec of the CLI, 1.1 ms of a container's start on the test VM. */
        if (mount(source ?: "none", target, fstype, flags, options) < 0)
                return -errno;
        return 0;
}

int mount_fd_setattr(int fd, bool recursive, uint64_t attr_set, uint64_t attr_clr) {
        struct mount_attr attr = { .attr_set = attr_set, .attr_clr = attr_clr };

        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
                    &attr, sizeof attr) < 0)
                return -errno;
        return 0;
}

int mount_fd_propagation(int fd, unsigned long propagation) {
        struct mount_attr attr = { .propagation = propagation };

        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                return -errno;
        return 0;
}


/* Creates what is missing of path below its deepest existing ancestor, usually its parent:
 * each level costs system calls (openat2 and close), which are dear on a virtual machine.
 * Every parent is opened through openat2(RESOLVE_IN_ROOT), and the child made with
 * mkdirat()/openat(O_EXCL|O_NOFOLLOW) relative to that fd, which never follows a symlink
 * at the new name. Iterative: the depth of a path is the caller's input. */
static int create_missing(int root_fd, const char *path, ChaseFlags resolve, bool last_is_file) {
        _cleanup_close_ int dfd = -EBADF;
        char buf[PATH_MAX];
        size_t len = strlen(path), at;

        while (len > 1 && path[len - 1] == '/')
                len--;
        if (len >= sizeof buf)
                return -ENAMETOOLONG;
        memcpy(buf, path, len);
        buf[len] = 0;

        /* Up to the deepest ancestor that exists; buf[at] is the '/' after it. */
        for (at = len;;) {
                char *slash = memrchr(buf, '/', at);
                if (!slash)
                        return -EINVAL;
                at = (size_t) (slash - buf);
                if (at == 0) {
                        dfd = chase_open(root_fd, "/", O_DIRECTORY | O_RDONLY, resolve);
                        break;
                }
                buf[at] = 0;
                dfd = chase_open(root_fd, buf, O_DIRECTORY | O_RDONLY, resolve);
                buf[at] = '/';
                if (dfd != -ENOENT)
                        break;
        }
        if (dfd < 0)
                return dfd;

        /* Then down again, one level at a time. */
        while (at < len) {
                const char *name = buf + at + 1;
                size_t end = at + 1 + strcspn(name, "/");

                buf[end] = 0;
                if (end - at - 1 > NAME_MAX)
                        return -ENAMETOOLONG;
                if (end == at + 1)
                        ; /* "//" */
                else if (end == len && last_is_file) {
                        int f = openat(dfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
                        if (f < 0 && errno != EEXIST)
                                return -errno;
                        safe_close(f);
                } else if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (end < len) {
                        safe_close(dfd);
                        dfd = chase_open(root_fd, buf, O_DIRECTORY | O_RDONLY, resolve);
                        buf[end] = '/';
                        if (dfd < 0)
                                return dfd;
                }
                at = end;
        }
        return 0;
}

static int open_nofollow_checked(int root_fd, const char *path, ChaseFlags resolve, int *ret_fd) {
        struct stat st;
        int fd;

        /* A mount target that is a symlink is the classic race: refuse it. Where no symlink
         * may be in the path at all, openat2() does that for the last component too (without
         * O_NOFOLLOW it fails with ELOOP); otherwise O_PATH|O_NOFOLLOW opens a final symlink
         * itself, and fstat() tells. */
        if (resolve & CHASE_NO_SYMLINKS) {
                fd = chase_open(root_fd, path, O_PATH, resolve);
                if (fd < 0)
                        return fd;
        } else {
                fd = chase_open(root_fd, path, O_PATH | O_NOFOLLOW, resolve);
                if (fd < 0)
                        return fd;
                if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
                        safe_close(fd);
                        return -ELOOP;
                }
        }
        *ret_fd = fd;
        return 0;
}

int open_in_root(int root_fd, const char *path, InRootFlags flags, int *ret_fd) {
        ChaseFlags resolve = CHASE_IN_ROOT | ((flags & IN_ROOT_NO_SYMLINKS) ? CHASE_NO_SYMLINKS : 0);
        int r;

        if (!path || path[0] != '/')
                return -EINVAL;

        r = open_nofollow_checked(root_fd, path, resolve, ret_fd);
        if (r != -ENOENT || !(flags & (IN_ROOT_MKDIR | IN_ROOT_MKFILE)))
                return r;
        r = create_missing(root_fd, path, resolve, flags & IN_ROOT_MKFILE);
        if (r < 0)
                return r;
        return open_nofollow_checked(root_fd, path, resolve, ret_fd);
}

int mount_in_root(int root_fd, const char *path, InRootFlags flags, const char *source,
                  const char *fstype, unsigned long mflags, const char *options) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = open_in_root(root_fd, path, flags | IN_ROOT_MKDIR, &fd);
        if (r < 0)
                return r;
        return mount_nofollow(source, FORMAT_PROC_FD_PATH(fd), fstype, mflags, options);
}

int bind_fd_in_root(int root_fd, int source_fd, const char *path, InRootFlags flags,
                    bool recursive, bool read_only) {
        _cleanup_close_ int fd = -EBADF, mnt = -EBADF;
        struct stat st;
        int r;

        if (fstat(source_fd, &st) < 0)
                return -errno;
        r = open_in_root(root_fd, path, flags | (S_ISDIR(st.st_mode) ? IN_ROOT_MKDIR : IN_ROOT_MKFILE), &fd);
        if (r < 0)
                return r;
        r = mount_nofollow(FORMAT_PROC_FD_PATH(source_fd), FORMAT_PROC_FD_PATH(fd), NULL,
                           MS_BIND | (recursive ? MS_REC : 0), NULL);
        if (r < 0)
                return r;
        /* Re-open the target: the fd we hold points at the covered directory, not at the
         * new mount on top of it. A bound device node (the /dev/null of a mask) must stay
         * openable; anything else never provides devices or setuid binaries. */
        r = open_in_root(root_fd, path, flags, &mnt);
        if (r < 0)
                return r;
        return mount_fd_setattr(mnt, recursive,
                                (read_only ? MOUNT_ATTR_RDONLY : 0) | MOUNT_ATTR_NOSUID |
                                        (S_ISCHR(st.st_mode) ? 0 : MOUNT_ATTR_NODEV),
                                0);
}

int remount_ro_in_root(int root_fd, const char *path) {
        _cleanup_close_ int fd = -EBADF, mnt = -EBADF;
        const char *target;
        int r;

        r = open_in_root(root_fd, path, IN_ROOT_NO_SYMLINKS, &fd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        target = FORMAT_PROC_FD_PATH(fd);
        r = mount_nofollow(target, target, NULL, MS_BIND | MS_REC, NULL);
        if (r < 0)
                return r;
        r = open_in_root(root_fd, path, IN_ROOT_NO_SYMLINKS, &mnt);
        if (r < 0)
                return r;
        return mount_fd_setattr(mnt, true, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0);
}
