/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "btrfs.h"
#include "copy.h"
#include "util/chase.h"
#include "macro.h"
#include "util/util.h"

#define COPY_BUFFER_SIZE (256 * 1024)

typedef struct HardlinkEntry {
        dev_t dev;
        ino_t ino;
        char *path; /* of the first copy, relative to CopyContext.top_fd */
} HardlinkEntry;

typedef struct CopyContext {
        CopyFlags flags;
        int top_fd;
        HardlinkEntry *links;
        size_t n_links, n_allocated;
        bool privileged;
        /* UID_INVALID: each copy keeps its source's owner; else every copy gets owner:owner. */
        uid_t owner;
        /* For refusals: the source as the caller named it, and how much of a relative path
         * (which starts with the destination's top name) stands for it. */
        const char *src_display;
        size_t top_len;
        CopyRefusal *refusal;
} CopyContext;

void copy_refusal_done(CopyRefusal *r) {
        free(r->path);
        r->path = NULL;
        r->what = NULL;
}

static const char *special_file_type(mode_t m) {
        return S_ISFIFO(m)  ? "a fifo"
               : S_ISSOCK(m) ? "a socket"
               : S_ISCHR(m)  ? "a character device"
               : S_ISBLK(m)  ? "a block device"
                             : "not a regular file, directory or symlink";
}

static int refuse_special(CopyContext *c, const char *rel, mode_t mode) {
        if (c->refusal) {
                free(c->refusal->path);
                c->refusal->path = strjoin(c->src_display ?: "", rel + MIN(strlen(rel), c->top_len));
                c->refusal->what = special_file_type(mode);
        }
        return -EBADFD;
}

static void copy_context_done(CopyContext *c) {
        for (size_t i = 0; i < c->n_links; i++)
                free(c->links[i].path);
        free(c->links);
}

static bool reflink_unsupported(int e) {
        return e == EOPNOTSUPP || e == ENOTTY || e == EXDEV || e == EINVAL || e == ENOSYS ||
               e == EBADF || e == EPERM;
}

int copy_file_data(int in_fd, int out_fd, CopyFlags flags) {
        _cleanup_free_ char *buf = NULL;
        bool try_cfr = true;

        if (flags & COPY_REFLINK) {
                int r = btrfs_reflink(in_fd, out_fd);
                if (r >= 0)
                        return 0;
                errno = -r;
                /* Anything else than "cannot share here" is a real error. */
                if (!reflink_unsupported(errno))
                        return -errno;
        }

        for (;;) {
                ssize_t n;

                if (try_cfr) {
                        n = copy_file_range(in_fd, NULL, out_fd, NULL, COPY_BUFFER_SIZE * 16, 0);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                                    errno == EOPNOTSUPP || errno == EBADF) {
                                        try_cfr = false;
                                        continue;
                                }
                                return -errno;
                        }
                        if (n == 0)
                                return 0;
                        continue;
                }

                if (!buf) {
                        buf = malloc(COPY_BUFFER_SIZE);
                        if (!buf)
                                return -ENOMEM;
                }
                n = read(in_fd, buf, COPY_BUFFER_SIZE);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                int r = loop_write(out_fd, buf, n);
                if (r < 0)
                        return r;
        }
}

/* Copies all extended attributes (capabilities, ACLs, SELinux labels of a root fs). A
 * target file system without xattr support is not an error. */
static int copy_xattrs_fd(int in_fd, int out_fd) {
        _cleanup_free_ char *names = NULL, *value = NULL;
        ssize_t n;
        size_t value_size = 0;

        for (size_t size = 1024;; size *= 2) {
                free(names);
                names = malloc(size);
                if (!names)
                        return -ENOMEM;
                n = flistxattr(in_fd, names, size);
                if (n >= 0)
                        break;
                if (errno == ENOTSUP)
                        return 0;
                if (errno != ERANGE || size > 1024 * 1024)
                        return -errno;
        }

        for (char *p = names; p < names + n; p += strlen(p) + 1) {
                ssize_t m;

                for (;;) {
                        m = fgetxattr(in_fd, p, value, value_size);
                        if (m >= 0 && value_size > 0)
                                break;
                        if (m < 0 && errno != ERANGE)
                                return errno == ENODATA ? 0 : -errno;
                        value_size = m > 0 ? (size_t) m : value_size * 2 + 256;
                        free(value);
                        value = malloc(value_size);
                        if (!value)
                                return -ENOMEM;
                }
                if (fsetxattr(out_fd, p, value, m, 0) < 0 && errno != ENOTSUP)
                        return -errno;
        }
        return 0;
}

/* Ownership, mode and times, in this order: chown clears set-uid bits and anything
 * written changes mtime. */
static uid_t copy_uid(const CopyContext *c, const struct stat *st) {
        return c->owner != UID_INVALID ? c->owner : st->st_uid;
}

static gid_t copy_gid(const CopyContext *c, const struct stat *st) {
        return c->owner != UID_INVALID ? (gid_t) c->owner : st->st_gid;
}

static int copy_attributes_fd(CopyContext *c, int fd, const struct stat *st) {
        if (fchown(fd, copy_uid(c, st), copy_gid(c, st)) < 0 && (c->privileged || errno != EPERM))
                return -errno;
        if (fchmod(fd, st->st_mode & 07777) < 0)
                return -errno;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (futimens(fd, ts) < 0)
                return -errno;
        return 0;
}

static int copy_attributes_at(CopyContext *c, int dir_fd, const char *name, const struct stat *st) {
        if (fchownat(dir_fd, name, copy_uid(c, st), copy_gid(c, st), AT_SYMLINK_NOFOLLOW) < 0 &&
            (c->privileged || errno != EPERM))
                return -errno;
        if (!S_ISLNK(st->st_mode) && fchmodat(dir_fd, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (utimensat(dir_fd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static int path_join_rel(const char *a, const char *b, char **ret) {
        *ret = isempty(a) ? strdup(b) : strjoin(a, "/", b);
        return *ret ? 0 : -ENOMEM;
}

static int copy_object(CopyContext *c, int src_dfd, const char *src_name, int dst_dfd,
                       const char *dst_name, const char *rel);

static int copy_dir_contents(CopyContext *c, int src_fd, int dst_fd, const char *rel) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_fd(src_fd, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT(de, d) {
                _cleanup_free_ char *child_rel = NULL;

                r = path_join_rel(rel, de->d_name, &child_rel);
                if (r < 0)
                        return r;
                r = copy_object(c, dirfd(d), de->d_name, dst_fd, de->d_name, child_rel);
                if (r < 0)
                        return r;
        }
        return errno > 0 ? -errno : 0;
}

/* src_name NULL means src_dfd itself (possibly an O_PATH fd) is the object. */
static int copy_object(CopyContext *c, int src_dfd, const char *src_name, int dst_dfd,
                       const char *dst_name, const char *rel) {
        struct stat st;
        int r;

        if (src_name) {
                if (fstatat(src_dfd, src_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
        } else if (fstat(src_dfd, &st) < 0)
                return -errno;

        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int sfd = -EBADF, dfd = -EBADF;

                sfd = openat(src_dfd, src_name ?: ".",
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0)
                        return -errno;
                if (mkdirat(dst_dfd, dst_name, 0700) < 0)
                        return -errno;
                dfd = openat(dst_dfd, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return -errno;
                r = copy_dir_contents(c, sfd, dfd, rel);
                if (r < 0)
                        return r;
                r = copy_xattrs_fd(sfd, dfd);
                if (r < 0)
                        return r;
                return copy_attributes_fd(c, dfd, &st);
        }

        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
                for (size_t i = 0; i < c->n_links; i++)
                        if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino)
                                return RET_NERRNO(linkat(c->top_fd, c->links[i].path, dst_dfd,
                                                         dst_name, 0));
        }

        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int sfd = -EBADF, dfd = -EBADF;
                struct stat st2;

                if (src_name)
                        sfd = openat(src_dfd, src_name,
                                     O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                else
                        sfd = open(FORMAT_PROC_FD_PATH(src_dfd), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                if (sfd < 0)
                        return -errno;
                /* The entry might have been swapped since the stat above. */
                if (fstat(sfd, &st2) < 0)
                        return -errno;
                if (!S_ISREG(st2.st_mode) || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
                        return -EBUSY;
                dfd = openat(dst_dfd, dst_name,
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
                if (dfd < 0)
                        return -errno;
                r = copy_file_data(sfd, dfd, c->flags);
                if (r < 0)
                        return r;
                r = copy_xattrs_fd(sfd, dfd);
                if (r < 0)
                        return r;
                r = copy_attributes_fd(c, dfd, &st);
                if (r < 0)
                        return r;

                if (st.st_nlink > 1) {
                        if (c->n_links == c->n_allocated) {
                                size_t n = c->n_allocated ? c->n_allocated * 2 : 64;
                                HardlinkEntry *l = reallocarray(c->links, n, sizeof *l);
                                if (!l)
                                        return -ENOMEM;
                                c->links = l;
                                c->n_allocated = n;
                        }
                        char *p = strdup(rel);
                        if (!p)
                                return -ENOMEM;
                        c->links[c->n_links++] = (HardlinkEntry){ st.st_dev, st.st_ino, p };
                }
                return 0;
        }

        if (S_ISLNK(st.st_mode)) {
                _cleanup_free_ char *target = NULL;
                size_t size = st.st_size > 0 ? (size_t) st.st_size + 1 : 256;
                ssize_t n;

                for (;;) {
                        free(target);
                        target = malloc(size);
                        if (!target)
                                return -ENOMEM;
                        n = readlinkat(src_dfd, src_name ?: "", target, size);
                        if (n < 0)
                                return -errno;
                        if ((size_t) n < size)
                                break;
                        size *= 2;
                }
                target[n] = 0;
                if (symlinkat(target, dst_dfd, dst_name) < 0)
                        return -errno;
                return copy_attributes_at(c, dst_dfd, dst_name, &st);
        }

        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) ||
            S_ISSOCK(st.st_mode)) {
                if (c->flags & COPY_REFUSE_SPECIAL)
                        return refuse_special(c, rel, st.st_mode);
                if (mknodat(dst_dfd, dst_name, st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0)
                        return -errno;
                return copy_attributes_at(c, dst_dfd, dst_name, &st);
        }

        return -EBADF;
}

static int copy_tree_full(int src_dir_fd, const char *src_name, int dst_dir_fd, const char *dst_name,
                          CopyFlags flags, uid_t owner, const char *src_display, CopyRefusal *refusal) {
        CopyContext c = {
                .flags = flags,
                .top_fd = dst_dir_fd,
                .privileged = geteuid() == 0,
                .owner = owner,
                .src_display = src_display,
                .top_len = strlen(dst_name),
                .refusal = refusal,
        };
        _cleanup_free_ char *rel = NULL;
        int r;

        assert(dst_name);
        rel = strdup(dst_name);
        if (!rel)
                return -ENOMEM;
        if (flags & COPY_MERGE_TOP) {
                _cleanup_close_ int sfd = -EBADF, dfd = -EBADF;
                struct stat st;

                sfd = isempty(src_name) ? openat(src_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                        : openat(src_dir_fd, src_name,
                                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0)
                        return -errno;
                if (fstat(sfd, &st) < 0)
                        return -errno;
                dfd = openat(dst_dir_fd, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return -errno;
                r = copy_dir_contents(&c, sfd, dfd, rel);
                if (r >= 0)
                        r = copy_xattrs_fd(sfd, dfd);
                if (r >= 0)
                        r = copy_attributes_fd(&c, dfd, &st);
                copy_context_done(&c);
                return r;
        }
        r = copy_object(&c, src_dir_fd, isempty(src_name) ? NULL : src_name, dst_dir_fd, dst_name,
                        rel);
        copy_context_done(&c);
        return r;
}

int copy_tree_at(int src_dir_fd, const char *src_name, int dst_dir_fd, const char *dst_name,
                 CopyFlags flags) {
        return copy_tree_full(src_dir_fd, src_name, dst_dir_fd, dst_name, flags, UID_INVALID, NULL, NULL);
}

/* Removes what a failed copy made below dir_fd: never following a symlink, whatever was
 * swapped in meanwhile (a copy into a running machine's tree). */
static int remove_tree_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        struct stat st;
        int r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return RET_NERRNO(unlinkat(dir_fd, name, 0));
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = opendir_fd(fd, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT(de, d) {
                r = remove_tree_at(fd, de->d_name);
                if (r < 0)
                        return r;
        }
        if (errno > 0)
                return -errno;
        return RET_NERRNO(unlinkat(dir_fd, name, AT_REMOVEDIR));
}

/* copy-to and copy-from: the copy is made under a temporary name next to its target and
 * renamed into place when complete, so a refused special file, a full disk or any other
 * failure half way leaves nothing behind. */
static int copy_whole(int src_fd, int dst_dir_fd, const char *dst_name, uid_t owner,
                      const char *src_display, CopyRefusal *refusal) {
        char tmp[64], id[33];
        int r;

        if (faccessat(dst_dir_fd, dst_name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return -EEXIST;
        if (errno != ENOENT)
                return -errno;
        r = id128_random_hex(id);
        if (r < 0)
                return r;
        snprintf(tmp, sizeof tmp, ".#nspawnctl-copy-%.16s", id);

        r = copy_tree_full(src_fd, NULL, dst_dir_fd, tmp, COPY_REFUSE_SPECIAL, owner, src_display, refusal);
        if (r >= 0) {
                r = RET_NERRNO(renameat2(dst_dir_fd, tmp, dst_dir_fd, dst_name, RENAME_NOREPLACE));
                if (r == -EINVAL || r == -ENOSYS) {
                        /* A file system without RENAME_NOREPLACE: checked just before. */
                        if (faccessat(dst_dir_fd, dst_name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                                r = -EEXIST;
                        else
                                r = RET_NERRNO(renameat(dst_dir_fd, tmp, dst_dir_fd, dst_name));
                }
        }
        if (r < 0)
                (void) remove_tree_at(dst_dir_fd, tmp);
        return r;
}


int path_dup_strip(const char *path, char **ret) {
        size_t l;
        char *p;

        if (isempty(path))
                return -EINVAL;
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        l = strlen(p);
        while (l > 1 && p[l - 1] == '/')
                p[--l] = 0;
        *ret = p;
        return 0;
}

int path_split_last(const char *path, char **ret_dir, char **ret_name) {
        _cleanup_free_ char *p = NULL, *dir = NULL, *name = NULL;
        char *slash;
        int r;

        r = path_dup_strip(path, &p);
        if (r < 0)
                return r;

        slash = strrchr(p, '/');
        if (!slash) {
                dir = strdup(".");
                name = strdup(p);
        } else if (slash == p) {
                dir = strdup("/");
                name = strdup(p + 1);
        } else {
                *slash = 0;
                dir = strdup(p);
                name = strdup(slash + 1);
        }
        if (!dir || !name)
                return -ENOMEM;
        *ret_dir = TAKE_PTR(dir);
        *ret_name = TAKE_PTR(name);
        return 0;
}

static bool name_is_special(const char *name) {
        return isempty(name) || dot_or_dot_dot(name);
}

/* Paths in the tree stay inside it, and on its file system unless the tree is a running
 * machine's root, which has mounts of its own. */
static ChaseFlags copy_chase_flags(CopyFlags flags) {
        return CHASE_IN_ROOT | ((flags & COPY_CROSS_MOUNTS) ? 0 : CHASE_NO_XDEV);
}

int copy_to_tree(int root_fd, const char *host_path, const char *container_path, CopyFlags flags,
                 uid_t owner, CopyRefusal *refusal) {
        _cleanup_free_ char *host_dir = NULL, *host_name = NULL, *dir = NULL, *name = NULL;
        _cleanup_close_ int src_fd = -EBADF, target_fd = -EBADF;
        int r;

        r = path_split_last(host_path, &host_dir, &host_name);
        if (r < 0)
                return r;
        src_fd = open(host_path, O_PATH | O_CLOEXEC);
        if (src_fd < 0)
                return -errno;

        /* An existing directory (symlinks followed, but only inside the tree): copy into it. */
        r = target_fd = chase_open(root_fd, container_path, O_PATH | O_DIRECTORY, copy_chase_flags(flags));
        if (r >= 0) {
                if (name_is_special(host_name))
                        return -EINVAL;
                name = TAKE_PTR(host_name);
        } else if (r == -ENOENT || r == -ENOTDIR) {
                r = path_split_last(container_path, &dir, &name);
                if (r < 0)
                        return r;
                if (name_is_special(name))
                        return -EINVAL;
                r = target_fd = chase_open(root_fd, dir, O_PATH | O_DIRECTORY, copy_chase_flags(flags));
                if (r < 0)
                        return r;
        } else
                return r;

        return copy_whole(src_fd, target_fd, name, owner, host_path, refusal);
}

int copy_from_tree(int root_fd, const char *container_path, const char *host_path, CopyFlags flags,
                   uid_t owner, CopyRefusal *refusal) {
        _cleanup_free_ char *cdir = NULL, *cname = NULL, *dir = NULL, *name = NULL;
        _cleanup_close_ int src_fd = -EBADF, target_fd = -EBADF;
        struct stat st;
        int r;

        r = path_split_last(container_path, &cdir, &cname);
        if (r < 0)
                return r;
        r = src_fd = chase_open(root_fd, container_path, O_PATH, copy_chase_flags(flags));
        if (r < 0)
                return r;
        if (fstat(src_fd, &st) < 0)
                return -errno;
        /* Reading a device node of the tree could read a host disk; a fifo would block; the
         * host gets neither (nor one inside a directory: copy_whole()). */
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
                CopyContext c = { .src_display = container_path, .refusal = refusal };
                return refuse_special(&c, "", st.st_mode);
        }

        target_fd = open(host_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (target_fd >= 0) {
                if (name_is_special(cname))
                        return -EINVAL;
                name = TAKE_PTR(cname);
        } else if (errno == ENOENT || errno == ENOTDIR) {
                r = path_split_last(host_path, &dir, &name);
                if (r < 0)
                        return r;
                if (name_is_special(name))
                        return -EINVAL;
                target_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (target_fd < 0)
                        return -errno;
        } else
                return -errno;

        return copy_whole(src_fd, target_fd, name, owner, container_path, refusal);
}
