/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btrfs.h"
#include "copy.h"
#include "image-usage.h"
#include "image.h"
#include "names.h"
#include "os-release.h"
#include "util/util.h"

static const char *const image_type_table[_IMAGE_TYPE_MAX] = {
        [IMAGE_SUBVOLUME] = "subvolume",
        [IMAGE_DIRECTORY] = "directory",
        [IMAGE_RAW] = "raw",
};

DEFINE_STRING_TABLE_LOOKUP(image_type, ImageType, _IMAGE_TYPE_MAX);

Image *image_free(Image *i) {
        if (!i)
                return NULL;
        free(i->name);
        free(i->path);
        free(i);
        return NULL;
}

void image_list_free(Image **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                image_free(l[i]);
        free(l);
}

/* ---- names and layout ---- */

int image_tmp_name(const char *file, char **ret) {
        char id[33];
        int r;

        if (isempty(file) || strchr(file, '/'))
                return -EINVAL;
        r = id128_random_hex(id);
        if (r < 0)
                return r;
        id[6] = 0;
        *ret = strjoin(".#", file, ".tmp", id);
        return *ret ? 0 : -ENOMEM;
}

int image_tmp_name_parse(const char *tmp, char **ret_file) {
        size_t l;

        if (!tmp || !startswith(tmp, ".#"))
                return -EINVAL;
        l = strlen(tmp);
        /* ".#" + at least one char + ".tmp" + 6 random chars */
        if (l < 2 + 1 + 4 + 6 || !strneq(tmp + l - 10, ".tmp", 4))
                return -EINVAL;
        for (size_t i = l - 6; i < l; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", tmp[i]))
                        return -EINVAL;
        *ret_file = strndup(tmp + 2, l - 2 - 10);
        return *ret_file ? 0 : -ENOMEM;
}

int image_base_name(const char *template_name, char **ret) {
        if (!machine_name_is_valid(template_name))
                return -EINVAL;
        *ret = strjoin(".base-", template_name);
        return *ret ? 0 : -ENOMEM;
}

/* The lock of a pool file name: raw images share the lock of their image name. */
static int lock_name_of_file(const char *file, char **ret) {
        size_t l = strlen(file);

        if (l > 4 && endswith(file, ".raw"))
                *ret = strndup(file, l - 4);
        else
                *ret = strdup(file);
        return *ret ? 0 : -ENOMEM;
}

void image_tmp_done(ImageTmp *t) {
        if (t->name) {
                (void) image_tree_remove_at(t->dir_fd, t->name);
                free(t->name);
                t->name = NULL;
        }
}

/* ---- pool, locks, temporaries ---- */

int image_pool_open(const char *pool, int *ret_fd, bool *ret_btrfs) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (isempty(pool))
                return -EINVAL;
        fd = open(pool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = btrfs_is_filesystem_fd(fd);
        if (r < 0)
                return r;
        if (ret_btrfs)
                *ret_btrfs = r > 0;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int image_lock(int pool_fd, const char *name, int *ret_fd) {
        return image_lock_full(pool_fd, name, false, ret_fd);
}

int image_lock_full(int pool_fd, const char *name, bool wait, int *ret_fd) {
        _cleanup_free_ char *file = NULL;

        if (isempty(name) || strchr(name, '/'))
                return -EINVAL;
        file = strjoin(".#", name, ".lck");
        if (!file)
                return -ENOMEM;

        /* image_clean() unlinks lock files nobody holds; if that happened between our open
         * and flock, we hold a lock on a deleted file and must try again. */
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat a, b;

                fd = openat(pool_fd, file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                            0600);
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0)
                        return errno == EWOULDBLOCK ? -EBUSY : -errno;
                if (fstat(fd, &a) < 0)
                        return -errno;
                if (fstatat(pool_fd, file, &b, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                        continue;
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        return -EBUSY;
}

int image_tmp_make(int dir_fd, const char *file, bool btrfs, char **ret_tmp) {
        _cleanup_free_ char *tmp = NULL;
        int r;

        r = image_tmp_name(file, &tmp);
        if (r < 0)
                return r;
        if (btrfs)
                r = btrfs_subvol_make_at(dir_fd, tmp);
        else
                r = RET_NERRNO(mkdirat(dir_fd, tmp, 0700));
        if (r < 0)
                return r;
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

int image_tmp_commit(int dir_fd, const char *tmp, const char *file) {
        return RET_NERRNO(renameat2(dir_fd, tmp, dir_fd, file, RENAME_NOREPLACE));
}

/* ---- flags, removal ---- */

static int inode_flags_fd(int fd, int *ret) {
        int flags = 0;

        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
                return -errno;
        *ret = flags;
        return 0;
}

static int inode_set_immutable_fd(int fd, bool b) {
        int flags = 0, nflags, r;

        r = inode_flags_fd(fd, &flags);
        if (r < 0)
                return r;
        nflags = b ? flags | FS_IMMUTABLE_FL : flags & ~(FS_IMMUTABLE_FL | FS_APPEND_FL);
        if (nflags == flags)
                return 0;
        return RET_NERRNO(ioctl(fd, FS_IOC_SETFLAGS, &nflags));
}

static int open_tree_at(int dir_fd, const char *name, struct stat *ret_st) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* O_NONBLOCK: the entry could be a fifo in a hostile tree. */
        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return -EMEDIUMTYPE;
        if (ret_st)
                *ret_st = st;
        return TAKE_FD(fd);
}

static int rm_rf_children(int fd, dev_t dev) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_fd(fd, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT(de, d) {
                struct stat st;

                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (unlinkat(dirfd(d), de->d_name, 0) >= 0 || errno == ENOENT)
                                continue;
                        if (errno != EPERM || !S_ISREG(st.st_mode))
                                return -errno;
                        /* immutable (a read-only copy of a directory image) */
                        _cleanup_close_ int f = openat(dirfd(d), de->d_name,
                                                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                        if (f < 0)
                                return -errno;
                        r = inode_set_immutable_fd(f, false);
                        if (r < 0)
                                return r;
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                                return -errno;
                        continue;
                }
                if (st.st_ino == 256 && btrfs_is_subvol_at(dirfd(d), de->d_name) > 0) {
                        r = btrfs_subvol_remove_at(dirfd(d), de->d_name);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (st.st_dev != dev)
                        return -EBUSY; /* a mount point: not ours to empty */

                _cleanup_close_ int child = openat(dirfd(d), de->d_name,
                                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0)
                        return -errno;
                r = inode_set_immutable_fd(child, false);
                if (r < 0 && r != -ENOTTY && r != -EOPNOTSUPP)
                        return r;
                r = rm_rf_children(child, dev);
                if (r < 0)
                        return r;
                child = safe_close(child);
                if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0)
                        return -errno;
        }
        return errno > 0 ? -errno : 0;
}

int image_tree_remove_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        fd = open_tree_at(dir_fd, name, &st);
        if (fd == -EMEDIUMTYPE || fd == -ELOOP)
                return RET_NERRNO(unlinkat(dir_fd, name, 0));
        if (fd < 0)
                return fd;

        if (S_ISDIR(st.st_mode) && btrfs_is_subvol_fd(fd) > 0) {
                fd = safe_close(fd);
                return btrfs_subvol_remove_at(dir_fd, name);
        }
        /* Read-only directory and raw images carry the immutable flag. */
        r = inode_set_immutable_fd(fd, false);
        if (r < 0 && r != -ENOTTY && r != -EOPNOTSUPP)
                return r;
        if (S_ISREG(st.st_mode))
                return RET_NERRNO(unlinkat(dir_fd, name, 0));
        r = rm_rf_children(fd, st.st_dev);
        if (r < 0)
                return r;
        return RET_NERRNO(unlinkat(dir_fd, name, AT_REMOVEDIR));
}

int image_tree_set_read_only_at(int dir_fd, const char *name, bool b) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open_tree_at(dir_fd, name, &st);
        if (fd < 0)
                return fd;
        if (S_ISDIR(st.st_mode) && btrfs_is_subvol_fd(fd) > 0)
                return btrfs_subvol_set_read_only_fd(fd, b);
        return inode_set_immutable_fd(fd, b);
}

static int tree_read_only_fd(int fd, bool subvol) {
        int flags = 0, r;

        if (subvol) {
                r = btrfs_subvol_get_read_only_fd(fd);
                if (r != 0)
                        return r;
        }
        r = inode_flags_fd(fd, &flags);
        if (r == -ENOTTY || r == -EOPNOTSUPP)
                return 0;
        if (r < 0)
                return r;
        return !!(flags & FS_IMMUTABLE_FL);
}

int image_tree_is_read_only_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open_tree_at(dir_fd, name, &st);
        if (fd < 0)
                return fd;
        return tree_read_only_fd(fd, S_ISDIR(st.st_mode) && btrfs_is_subvol_fd(fd) > 0);
}

/* ---- image objects ---- */

/* Finds image name in dir_fd: the directory "name", else the raw file "name.raw". */
int image_find_at(int dir_fd, const char *name, char **ret_file, ImageType *ret_type) {
        _cleanup_free_ char *raw = NULL;
        struct stat st;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode)) {
                if (ret_type) {
                        int r = st.st_ino == 256 ? btrfs_is_subvol_at(dir_fd, name) : 0;
                        if (r < 0)
                                return r;
                        *ret_type = r > 0 ? IMAGE_SUBVOLUME : IMAGE_DIRECTORY;
                }
                if (ret_file && !(*ret_file = strdup(name)))
                        return -ENOMEM;
                return 0;
        }
        raw = strjoin(name, ".raw");
        if (!raw)
                return -ENOMEM;
        if (fstatat(dir_fd, raw, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode)) {
                if (ret_type)
                        *ret_type = IMAGE_RAW;
                if (ret_file)
                        *ret_file = TAKE_PTR(raw);
                return 0;
        }
        return -ENOENT;
}

int image_exists_at(int pool_fd, const char *name) {
        int r = image_find_at(pool_fd, name, NULL, NULL);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : 1;
}

void image_ref_done(ImageRef *ref) {
        ref->pool_fd = safe_close(ref->pool_fd);
        ref->lock_fd = safe_close(ref->lock_fd);
        ref->new_lock_fd = safe_close(ref->new_lock_fd);
        ref->file = mfree(ref->file);
}

int image_ref_open(const char *pool, const char *name, const char *new_name, ImageRef *ref) {
        int r;

        if (!image_name_is_valid(name) || (new_name && !image_name_is_valid(new_name)))
                return -EINVAL;
        if (new_name && streq(name, new_name))
                return -EEXIST;
        r = image_pool_open(pool, &ref->pool_fd, &ref->btrfs);
        if (r < 0)
                return r;
        r = image_lock(ref->pool_fd, name, &ref->lock_fd);
        if (r < 0)
                return r;
        if (new_name) {
                r = image_lock(ref->pool_fd, new_name, &ref->new_lock_fd);
                if (r < 0)
                        return r;
        }
        r = image_find_at(ref->pool_fd, name, &ref->file, &ref->type);
        if (r < 0)
                return r;
        if (!new_name)
                return 0;
        r = image_exists_at(ref->pool_fd, new_name);
        if (r < 0)
                return r;
        return r > 0 ? -EEXIST : 0;
}

int image_pool_open_new(const char *pool, const char *name, int *ret_pool_fd, bool *ret_btrfs,
                        int *ret_lock_fd) {
        _cleanup_close_ int fd = -EBADF, lock = -EBADF;
        int r;

        r = image_pool_open(pool, &fd, ret_btrfs);
        if (r < 0)
                return r;
        r = image_lock(fd, name, &lock);
        if (r < 0)
                return r;
        r = image_exists_at(fd, name);
        if (r < 0)
                return r;
        if (r > 0)
                return -EEXIST;
        *ret_pool_fd = TAKE_FD(fd);
        *ret_lock_fd = TAKE_FD(lock);
        return 0;
}

/* The pool file of image name when it is of type: "NAME.raw" for raw images. */
static int image_file_name(const char *name, ImageType type, char **ret) {
        *ret = type == IMAGE_RAW ? strjoin(name, ".raw") : strdup(name);
        return *ret ? 0 : -ENOMEM;
}

static uint64_t timespec_usec(const struct statx_timestamp *t) {
        return (uint64_t) t->tv_sec * 1000000 + t->tv_nsec / 1000;
}

/* Makes an Image for the entry file below dir_fd (a pool or a snapshot directory). */
static int image_make(int dir_fd, const char *dir_path, const char *file, ImageFlags flags,
                      Image **ret) {
        _cleanup_(image_freep) Image *i = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct statx sx;
        struct stat st;
        int r;

        fd = open_tree_at(dir_fd, file, &st);
        if (fd < 0)
                return fd;

        i = calloc(1, sizeof *i);
        if (!i)
                return -ENOMEM;
        if (S_ISDIR(st.st_mode)) {
                r = btrfs_is_subvol_fd(fd);
                if (r < 0)
                        return r;
                i->type = r > 0 ? IMAGE_SUBVOLUME : IMAGE_DIRECTORY;
                i->name = strdup(file);
        } else {
                size_t l = strlen(file);
                if (l <= 4 || !endswith(file, ".raw"))
                        return -EMEDIUMTYPE;
                i->type = IMAGE_RAW;
                i->name = strndup(file, l - 4);
        }
        i->path = strjoin(dir_path, "/", file);
        if (!i->name || !i->path)
                return -ENOMEM;

        r = tree_read_only_fd(fd, i->type == IMAGE_SUBVOLUME);
        if (r < 0)
                return r;
        i->read_only = r > 0;

        if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME | STATX_MTIME, &sx) >= 0) {
                if (sx.stx_mask & STATX_BTIME)
                        i->crtime = timespec_usec(&sx.stx_btime);
                i->mtime = timespec_usec(&sx.stx_mtime);
        }
        if (i->type == IMAGE_SUBVOLUME)
                (void) btrfs_subvol_get_crtime_fd(fd, &i->crtime);

        i->usage = UINT64_MAX;
        if (flags & IMAGE_USAGE) {
                r = image_tree_usage_fd(fd, &st, &i->usage);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(i);
        return 0;
}

static int image_cmp(const void *a, const void *b) {
        return strcmp((*(Image *const *) a)->name, (*(Image *const *) b)->name);
}

/* Lists the images in dir_fd; hidden ones (".base-*") only if asked, temporaries and
 * internal entries (".#*", ".snapshots") never. */
static int image_list_dir(int dir_fd, const char *dir_path, ImageFlags flags, Image ***ret,
                          size_t *ret_n) {
        _cleanup_(closedirp) DIR *d = NULL;
        Image **list = NULL;
        size_t n = 0, allocated = 0;
        int r = 0;

        r = opendir_fd(dir_fd, &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                Image *i = NULL;

                if (de->d_name[0] == '.') {
                        if (!(flags & IMAGE_HIDDEN) || streq(de->d_name, ".") ||
                            streq(de->d_name, "..") || startswith(de->d_name, ".#") ||
                            streq(de->d_name, IMAGE_SNAPSHOTS_DIR))
                                continue;
                }
                r = image_make(dir_fd, dir_path, de->d_name, flags, &i);
                if (r == -EMEDIUMTYPE || r == -ENOENT || r == -ELOOP)
                        continue; /* not an image, or gone meanwhile */
                if (r < 0)
                        goto fail;
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        Image **l = reallocarray(list, a, sizeof *l);
                        if (!l) {
                                image_free(i);
                                r = -ENOMEM;
                                goto fail;
                        }
                        list = l;
                        allocated = a;
                }
                list[n++] = i;
        }
        if (errno > 0) {
                r = -errno;
                goto fail;
        }
        if (n > 0)
                qsort(list, n, sizeof *list, image_cmp);
        *ret = list;
        *ret_n = n;
        return 0;
fail:
        image_list_free(list, n);
        return r;
}

int image_list(const char *pool, ImageFlags flags, Image ***ret, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = image_pool_open(pool, &fd, NULL);
        if (r < 0)
                return r;
        return image_list_dir(fd, pool, flags, ret, ret_n);
}

/* The pool opened and name found in it, without taking the image's lock: for looking only. */
static int image_pool_find(const char *pool, const char *name, int *ret_pool_fd, char **ret_file) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!image_name_is_valid(name))
                return -EINVAL;
        r = image_pool_open(pool, &fd, NULL);
        if (r < 0)
                return r;
        r = image_find_at(fd, name, ret_file, NULL);
        if (r < 0)
                return r;
        *ret_pool_fd = TAKE_FD(fd);
        return 0;
}

int image_get(const char *pool, const char *name, ImageFlags flags, Image **ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *file = NULL;
        int r;

        r = image_pool_find(pool, name, &fd, &file);
        if (r < 0)
                return r;
        return image_make(fd, pool, file, flags, ret);
}

/* ---- operations ---- */

/* Copies (reflinking where possible) or snapshots the tree src below src_dir_fd into a new
 * temporary in dst_dir_fd named after dst_file. */
int image_tree_duplicate(int src_dir_fd, const char *src_file, ImageType type, int dst_dir_fd,
                          const char *dst_file, bool btrfs, bool read_only, ImageTmp *tmp) {
        int r;

        if (type == IMAGE_RAW) {
                _cleanup_close_ int in = -EBADF, out = -EBADF;
                struct stat st;

                r = image_tmp_name(dst_file, &tmp->name);
                if (r < 0)
                        return r;
                in = openat(src_dir_fd, src_file, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (in < 0)
                        return -errno;
                if (fstat(in, &st) < 0)
                        return -errno;
                out = openat(dst_dir_fd, tmp->name,
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
                if (out < 0) {
                        free(tmp->name);
                        tmp->name = NULL;
                        return -errno;
                }
                r = copy_file_data(in, out, COPY_REFLINK);
                if (r < 0)
                        return r;
                if (fchmod(out, st.st_mode & 07777) < 0)
                        return -errno;
        } else if (btrfs && type == IMAGE_SUBVOLUME) {
                r = image_tmp_name(dst_file, &tmp->name);
                if (r < 0)
                        return r;
                r = btrfs_subvol_snapshot_at(src_dir_fd, src_file, dst_dir_fd, tmp->name,
                                             read_only ? BTRFS_SNAPSHOT_READ_ONLY : 0);
                if (r < 0) {
                        free(tmp->name);
                        tmp->name = NULL;
                        return r;
                }
                return 0;
        } else {
                r = image_tmp_make(dst_dir_fd, dst_file, btrfs, &tmp->name);
                if (r < 0)
                        return r;
                r = copy_tree_at(src_dir_fd, src_file, dst_dir_fd, tmp->name,
                                 COPY_REFLINK | COPY_MERGE_TOP);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Renames the finished temporary into place, read-only if asked. A subvolume is flagged
 * before (a read-only subvolume can still be renamed); an immutable directory or file
 * cannot be renamed, so it gets the flag right after. */
int image_tmp_finish(int dir_fd, ImageTmp *tmp, const char *file, bool read_only) {
        int r;

        if (read_only && btrfs_is_subvol_at(dir_fd, tmp->name) > 0) {
                r = image_tree_set_read_only_at(dir_fd, tmp->name, true);
                if (r < 0)
                        return r;
                read_only = false;
        }
        r = image_tmp_commit(dir_fd, tmp->name, file);
        if (r < 0)
                return r;
        free(TAKE_PTR(tmp->name));
        if (read_only)
                return image_tree_set_read_only_at(dir_fd, file, true);
        return 0;
}

int image_clone(const char *pool, const char *src, const char *dst, ImageFlags flags) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        _cleanup_(image_tmp_done) ImageTmp tmp = { .dir_fd = -EBADF };
        _cleanup_free_ char *dst_file = NULL;
        int r;

        r = image_ref_open(pool, src, dst, &ref);
        if (r < 0)
                return r;
        tmp.dir_fd = ref.pool_fd;
        r = image_file_name(dst, ref.type, &dst_file);
        if (r < 0)
                return r;
        r = image_tree_duplicate(ref.pool_fd, ref.file, ref.type, ref.pool_fd, dst_file, ref.btrfs,
                                 flags & IMAGE_READ_ONLY, &tmp);
        if (r < 0)
                return r;
        return image_tmp_finish(ref.pool_fd, &tmp, dst_file, flags & IMAGE_READ_ONLY);
}

static int snapshots_dir_open(int pool_fd, const char *name, bool create, int *ret_fd) {
        _cleanup_close_ int top = -EBADF;
        int fd;

        if (create && mkdirat(pool_fd, IMAGE_SNAPSHOTS_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        top = openat(pool_fd, IMAGE_SNAPSHOTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                return -errno;
        if (create && mkdirat(top, name, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int image_rename(const char *pool, const char *old_name, const char *new_name,
                 ImageInUseFunc in_use, void *userdata) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        _cleanup_close_ int snaps = -EBADF;
        _cleanup_free_ char *new_file = NULL;
        bool moved_snapshots = false;
        int r, ro = 0;

        r = image_ref_open(pool, old_name, new_name, &ref);
        if (r < 0)
                return r;
        if (in_use && in_use(old_name, userdata))
                return -EBUSY;
        r = image_file_name(new_name, ref.type, &new_file);
        if (r < 0)
                return r;

        /* Snapshots move first, so a failure of the image rename can put them back. */
        snaps = openat(ref.pool_fd, IMAGE_SNAPSHOTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (snaps >= 0) {
                if (renameat2(snaps, old_name, snaps, new_name, RENAME_NOREPLACE) >= 0)
                        moved_snapshots = true;
                else if (errno != ENOENT)
                        return -errno;
        }

        /* An immutable directory cannot be renamed; a read-only subvolume can. */
        if (ref.type != IMAGE_SUBVOLUME) {
                ro = image_tree_is_read_only_at(ref.pool_fd, ref.file);
                if (ro > 0) {
                        r = image_tree_set_read_only_at(ref.pool_fd, ref.file, false);
                        if (r < 0)
                                goto fail;
                }
        }
        if (renameat2(ref.pool_fd, ref.file, ref.pool_fd, new_file, RENAME_NOREPLACE) < 0) {
                r = -errno;
                if (ro > 0)
                        (void) image_tree_set_read_only_at(ref.pool_fd, ref.file, true);
                goto fail;
        }
        if (ro > 0)
                (void) image_tree_set_read_only_at(ref.pool_fd, new_file, true);
        return 0;
fail:
        if (moved_snapshots)
                (void) renameat2(snaps, new_name, snaps, old_name, RENAME_NOREPLACE);
        return r;
}

/* Moves file out of the way to a temporary name before deleting it, so that an
 * interrupted removal leaves a hidden leftover for image_clean(), not a half image. */
static int tree_remove_via_tmp(int dir_fd, const char *file) {
        _cleanup_free_ char *tmp = NULL;
        int r;

        r = image_tmp_name(file, &tmp);
        if (r < 0)
                return r;
        if (renameat2(dir_fd, file, dir_fd, tmp, RENAME_NOREPLACE) < 0) {
                if (errno != EPERM)
                        return -errno;
                /* immutable: it goes anyway, so clear the flag first */
                r = image_tree_set_read_only_at(dir_fd, file, false);
                if (r < 0)
                        return r;
                if (renameat2(dir_fd, file, dir_fd, tmp, RENAME_NOREPLACE) < 0)
                        return -errno;
        }
        return image_tree_remove_at(dir_fd, tmp);
}

static int snapshots_remove_all(int pool_fd, const char *name) {
        _cleanup_close_ int top = -EBADF;
        int r;

        top = openat(pool_fd, IMAGE_SNAPSHOTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                return errno == ENOENT ? 0 : -errno;
        r = image_tree_remove_at(top, name);
        return r == -ENOENT ? 0 : r;
}

int image_remove(const char *pool, const char *name, ImageInUseFunc in_use, void *userdata) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        int r;

        r = image_ref_open(pool, name, NULL, &ref);
        if (r < 0)
                return r;
        if (in_use && in_use(name, userdata))
                return -EBUSY;
        r = tree_remove_via_tmp(ref.pool_fd, ref.file);
        if (r < 0)
                return r;
        return snapshots_remove_all(ref.pool_fd, name);
}

int image_set_read_only(const char *pool, const char *name, bool b) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        int r;

        r = image_ref_open(pool, name, NULL, &ref);
        if (r < 0)
                return r;
        return image_tree_set_read_only_at(ref.pool_fd, ref.file, b);
}

int image_os_release(const char *pool, const char *name, char **ret) {
        _cleanup_close_ int fd = -EBADF, root = -EBADF;
        int r;

        if (!image_name_is_valid(name))
                return -EINVAL;
        r = image_pool_open(pool, &fd, NULL);
        if (r < 0)
                return r;
        root = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return -errno;
        return os_release_pretty_name_at(root, ret);
}

/* ---- snapshots ---- */

int image_snapshot(const char *pool, const char *name, const char *snap) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        _cleanup_close_ int snaps = -EBADF;
        _cleanup_(image_tmp_done) ImageTmp tmp = { .dir_fd = -EBADF };
        int r;

        if (!image_name_is_valid(snap))
                return -EINVAL;
        r = image_ref_open(pool, name, NULL, &ref);
        if (r < 0)
                return r;
        if (ref.type == IMAGE_RAW)
                return -EOPNOTSUPP;
        r = snapshots_dir_open(ref.pool_fd, name, true, &snaps);
        if (r < 0)
                return r;
        tmp.dir_fd = snaps;
        if (faccessat(snaps, snap, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return -EEXIST;
        r = image_tree_duplicate(ref.pool_fd, ref.file, ref.type, snaps, snap, ref.btrfs, true, &tmp);
        if (r < 0)
                return r;
        return image_tmp_finish(snaps, &tmp, snap, true);
}

int image_list_snapshots(const char *pool, const char *name, Image ***ret, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF, snaps = -EBADF;
        _cleanup_free_ char *path = NULL;
        int r;

        r = image_pool_find(pool, name, &fd, NULL);
        if (r < 0)
                return r;
        r = snapshots_dir_open(fd, name, false, &snaps);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        path = strjoin(pool, "/" IMAGE_SNAPSHOTS_DIR "/", name);
        if (!path)
                return -ENOMEM;
        return image_list_dir(snaps, path, 0, ret, ret_n);
}

int image_restore(const char *pool, const char *name, const char *snap, ImageInUseFunc in_use,
                  void *userdata) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        _cleanup_close_ int snaps = -EBADF;
        _cleanup_(image_tmp_done) ImageTmp tmp = { .dir_fd = -EBADF };
        ImageType snap_type;
        int r, ro;

        if (!image_name_is_valid(snap))
                return -EINVAL;
        r = image_ref_open(pool, name, NULL, &ref);
        if (r < 0)
                return r;
        tmp.dir_fd = ref.pool_fd;
        if (ref.type == IMAGE_RAW)
                return -EOPNOTSUPP;
        if (in_use && in_use(name, userdata))
                return -EBUSY;
        r = snapshots_dir_open(ref.pool_fd, name, false, &snaps);
        if (r < 0)
                return r;
        r = image_find_at(snaps, snap, NULL, &snap_type);
        if (r < 0)
                return r;
        if (snap_type == IMAGE_RAW)
                return -ENOENT;
        ro = image_tree_is_read_only_at(ref.pool_fd, ref.file);
        if (ro < 0)
                return ro;

        /* A writable copy of the snapshot under a temporary name, then swapped with the
         * image in one atomic rename: the image is either all old or all restored. */
        r = image_tree_duplicate(snaps, snap, snap_type, ref.pool_fd, ref.file, ref.btrfs, false, &tmp);
        if (r < 0)
                return r;
        if (ro > 0 && ref.type != IMAGE_SUBVOLUME) {
                r = image_tree_set_read_only_at(ref.pool_fd, ref.file, false);
                if (r < 0)
                        return r;
        }
        if (renameat2(ref.pool_fd, tmp.name, ref.pool_fd, ref.file, RENAME_EXCHANGE) < 0) {
                r = -errno;
                if (ro > 0 && ref.type != IMAGE_SUBVOLUME)
                        (void) image_tree_set_read_only_at(ref.pool_fd, ref.file, true);
                return r;
        }
        /* tmp now names the old tree, which the cleanup removes. */
        if (ro > 0) {
                r = image_tree_set_read_only_at(ref.pool_fd, ref.file, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

int image_remove_snapshot(const char *pool, const char *name, const char *snap) {
        _cleanup_close_ int fd = -EBADF, lock = -EBADF, snaps = -EBADF;
        int r;

        if (!image_name_is_valid(name) || !image_name_is_valid(snap))
                return -EINVAL;
        r = image_pool_open(pool, &fd, NULL);
        if (r < 0)
                return r;
        r = image_lock(fd, name, &lock);
        if (r < 0)
                return r;
        r = snapshots_dir_open(fd, name, false, &snaps);
        if (r < 0)
                return r;
        r = image_find_at(snaps, snap, NULL, NULL);
        if (r < 0)
                return r;
        return tree_remove_via_tmp(snaps, snap);
}

/* ---- clean ---- */

/* Removes ".#*.tmp*" leftovers in dir_fd whose owner (lock) is free; with lock_fd >= 0
 * the caller already holds the one lock that covers everything in dir_fd. */
static int clean_dir(int pool_fd, int dir_fd, int held_lock) {
        _cleanup_(closedirp) DIR *d = NULL;
        int n = 0, r;

        r = opendir_fd(dir_fd, &d);
        if (r < 0)
                return r;
        /* Temporaries first: taking their locks may create lock files, which the second
         * pass then removes. */
        for (int pass = 0; pass < 2; pass++) {
                rewinddir(d);
                for (struct dirent *de; (errno = 0, de = readdir(d));) {
                        _cleanup_free_ char *file = NULL, *lock_name = NULL;
                        _cleanup_close_ int lock = -EBADF;
                        size_t l = strlen(de->d_name);

                        if (!startswith(de->d_name, ".#"))
                                continue;

                        if (pass == 1) {
                                if (held_lock >= 0 || l <= 6 || !endswith(de->d_name, ".lck"))
                                        continue;
                                lock_name = strndup(de->d_name + 2, l - 6);
                                if (!lock_name)
                                        return -ENOMEM;
                                /* Held: in use. Free: unlink while holding it (see image_lock()). */
                                if (image_lock(pool_fd, lock_name, &lock) < 0)
                                        continue;
                                if (unlinkat(dir_fd, de->d_name, 0) >= 0)
                                        n++;
                                continue;
                        }

                        if (image_tmp_name_parse(de->d_name, &file) < 0)
                                continue;
                        if (held_lock < 0) {
                                r = lock_name_of_file(file, &lock_name);
                                if (r < 0)
                                        return r;
                                if (image_lock(pool_fd, lock_name, &lock) < 0)
                                        continue; /* being built right now */
                        }
                        r = image_tree_remove_at(dir_fd, de->d_name);
                        if (r == -EBUSY)
                                continue; /* something is mounted in it: leave it, clean the rest */
                        if (r < 0 && r != -ENOENT)
                                return r;
                        n++;
                }
                if (errno > 0)
                        return -errno;
        }
        return n;
}

int image_clean(const char *pool) {
        _cleanup_close_ int fd = -EBADF, top = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        int n = 0, r;

        r = image_pool_open(pool, &fd, NULL);
        if (r < 0)
                return r;

        top = openat(fd, IMAGE_SNAPSHOTS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0 && errno != ENOENT)
                return -errno;
        if (top >= 0) {
                r = opendir_fd(top, &d);
                if (r < 0)
                        return r;
                for (struct dirent *de; (errno = 0, de = readdir(d));) {
                        _cleanup_close_ int lock = -EBADF, snaps = -EBADF;

                        if (de->d_name[0] == '.' || !image_name_is_valid(de->d_name))
                                continue;
                        if (image_lock(fd, de->d_name, &lock) < 0)
                                continue;
                        r = image_exists_at(fd, de->d_name);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                /* the image is gone: an interrupted remove */
                                r = image_tree_remove_at(top, de->d_name);
                                if (r < 0)
                                        return r;
                                n++;
                                continue;
                        }
                        snaps = openat(top, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (snaps < 0)
                                continue;
                        r = clean_dir(fd, snaps, lock);
                        if (r < 0)
                                return r;
                        n += r;
                }
        }

        r = clean_dir(fd, fd, -EBADF);
        if (r < 0)
                return r;
        return n + r;
}
