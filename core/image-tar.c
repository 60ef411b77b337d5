/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy.h"
#include "exec-util.h"
#include "image-tar.h"
#include "names.h"
#include "util/strv.h"
#include "util/util.h"

static const char *const tar_compression_table[_TAR_COMPRESSION_MAX] = {
        [TAR_COMPRESSION_NONE] = "none",
        [TAR_COMPRESSION_GZIP] = "gzip",
        [TAR_COMPRESSION_XZ] = "xz",
        [TAR_COMPRESSION_ZSTD] = "zstd",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(tar_compression, TarCompression, _TAR_COMPRESSION_MAX);

TarCompression tar_compression_from_filename(const char *filename) {
        static const struct {
                const char *suffix;
                TarCompression c;
        } table[] = {
                { ".tar", TAR_COMPRESSION_NONE },     { ".tar.gz", TAR_COMPRESSION_GZIP },
                { ".tgz", TAR_COMPRESSION_GZIP },     { ".tar.xz", TAR_COMPRESSION_XZ },
                { ".txz", TAR_COMPRESSION_XZ },       { ".tar.zst", TAR_COMPRESSION_ZSTD },
                { ".tzst", TAR_COMPRESSION_ZSTD },    { ".tar.zstd", TAR_COMPRESSION_ZSTD },
        };

        if (!filename)
                return _TAR_COMPRESSION_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (endswith(filename, table[i].suffix) && strlen(filename) > strlen(table[i].suffix))
                        return table[i].c;
        return _TAR_COMPRESSION_INVALID;
}

/* ---- running tar and the compressors ---- */

static const char *const decompress_argv[_TAR_COMPRESSION_MAX][3] = {
        [TAR_COMPRESSION_GZIP] = { "gzip", "-dc", NULL },
        [TAR_COMPRESSION_XZ] = { "xz", "-dc", NULL },
        [TAR_COMPRESSION_ZSTD] = { "zstd", "-dcq", NULL },
};
static const char *const compress_argv[_TAR_COMPRESSION_MAX][3] = {
        [TAR_COMPRESSION_GZIP] = { "gzip", "-c", NULL },
        [TAR_COMPRESSION_XZ] = { "xz", "-c", NULL },
        [TAR_COMPRESSION_ZSTD] = { "zstd", "-cq", NULL },
};

/* The archive's plain tar stream: the file itself, or a decompressor's output. */
static int open_tar_stream(int archive_fd, TarCompression c, int *ret_fd, pid_t *ret_pid) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        int r;

        if (lseek(archive_fd, 0, SEEK_SET) < 0)
                return -errno;
        if (c == TAR_COMPRESSION_NONE) {
                int fd = fcntl(archive_fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
                *ret_fd = fd;
                *ret_pid = 0;
                return 0;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        const int fds[3] = { archive_fd, p[1], EXEC_FD_INHERIT };
        r = exec_spawn((char *const *) decompress_argv[c], NULL, fds, ret_pid);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(p[0]);
        return 0;
}

/* Reaps the decompressor. If the whole stream was wanted, its exit status counts: a
 * corrupt compressed file must not pass as a short archive. */
static int finish_tar_stream(int *fd, pid_t pid, bool complete) {
        char buf[4096];

        if (pid <= 0) {
                *fd = safe_close(*fd);
                return 0;
        }
        if (complete) {
                while (read(*fd, buf, sizeof buf) > 0)
                        ;
        } else
                (void) kill(pid, SIGTERM);
        *fd = safe_close(*fd);
        int r = exec_wait(pid, NULL);
        return complete && r < 0 ? -EBADMSG : 0;
}

static TarCompression sniff_compression(int fd) {
        unsigned char m[6] = {};

        if (pread(fd, m, sizeof m, 0) < (ssize_t) sizeof m)
                return TAR_COMPRESSION_NONE;
        if (m[0] == 0x1f && m[1] == 0x8b)
                return TAR_COMPRESSION_GZIP;
        if (memcmp(m, "\xfd" "7zXZ\0", 6) == 0)
                return TAR_COMPRESSION_XZ;
        if (memcmp(m, "\x28\xb5\x2f\xfd", 4) == 0)
                return TAR_COMPRESSION_ZSTD;
        return TAR_COMPRESSION_NONE;
}

static int send_all(const void *buf, size_t n, void *userdata) {
        /* A socket, so that a dead tar gives EPIPE without raising SIGPIPE in us. */
        return loop_send(*(int *) userdata, buf, n, MSG_NOSIGNAL);
}

/* Progress is told at most every this many bytes. */
#define TAR_PROGRESS_STEP (4U << 20)

typedef struct TarSend {
        int fd;
        uint64_t bytes, total, told;
        TarProgressFunc progress;
        void *userdata;
} TarSend;

static void tar_send_tell(TarSend *t, bool final) {
        if (!t->progress || (!final && t->bytes - t->told < TAR_PROGRESS_STEP))
                return;
        t->told = t->bytes;
        t->progress(t->bytes, t->total, t->userdata);
}

static int send_counted(const void *buf, size_t n, void *userdata) {
        TarSend *t = userdata;
        int r;

        r = send_all(buf, n, &t->fd);
        if (r < 0)
                return r;
        t->bytes += n;
        tar_send_tell(t, false);
        return 0;
}

static int check_archive(int archive_fd, TarCompression c, TarRefusal *refusal) {
        _cleanup_close_ int fd = -EBADF;
        pid_t pid;
        int r, k;

        r = open_tar_stream(archive_fd, c, &fd, &pid);
        if (r < 0)
                return r;
        r = tar_walk_full(fd, TAR_WALK_SKIP_DEVICES, NULL, NULL, refusal, NULL);
        k = finish_tar_stream(&fd, pid, r >= 0);
        return r < 0 ? r : k;
}

/* A full pool shows up as a failing tar; tell it apart for the caller. */
static int tar_failure_errno(int dir_fd) {
        struct statvfs sv;

        if (fstatvfs(dir_fd, &sv) >= 0 && (uint64_t) sv.f_bavail * sv.f_frsize < (UINT64_C(32) << 20))
                return -ENOSPC;
        return -EPROTO;
}

static int extract_archive(int archive_fd, TarCompression c, const char *target, int pool_fd, TarSend *send,
                           unsigned *ret_skipped, TarRefusal *refusal) {
        _cleanup_close_pair_ int sv[2] = { -EBADF, -EBADF };
        _cleanup_close_ int in = -EBADF;
        pid_t tar_pid, pid;
        int r, k;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        char *argv[] = { (char *) "tar", (char *) "--numeric-owner", (char *) "--xattrs",
                         (char *) "--xattrs-include=*", (char *) "-xpf", (char *) "-",
                         (char *) "-C", (char *) target, NULL };
        const int fds[3] = { sv[1], EXEC_FD_NULL, EXEC_FD_INHERIT };
        r = exec_spawn(argv, NULL, fds, &tar_pid);
        if (r < 0)
                return r;
        sv[1] = safe_close(sv[1]);
        send->fd = sv[0];

        r = open_tar_stream(archive_fd, c, &in, &pid);
        if (r >= 0) {
                r = tar_walk_full(in, TAR_WALK_SKIP_DEVICES, send_counted, send, refusal, ret_skipped);
                k = finish_tar_stream(&in, pid, r >= 0);
                if (r >= 0)
                        r = k;
        }
        if (r < 0) {
                /* Refused or damaged half way: tar must not finish what it has. */
                (void) kill(tar_pid, SIGKILL);
                (void) exec_wait(tar_pid, NULL);
                return r == -EPIPE ? tar_failure_errno(pool_fd) : r;
        }
        sv[0] = safe_close(sv[0]);
        r = exec_wait(tar_pid, NULL);
        if (r < 0)
                return tar_failure_errno(pool_fd);
        tar_send_tell(send, true);
        return 0;
}

/* The import itself, with the pool open and the name locked: what it makes is a temporary,
 * removed on failure before the caller drops the lock. */
static int import_locked(int fd, bool btrfs, const char *pool, int archive, TarCompression c, const char *name,
                         ImageFlags flags, TarSend *send, unsigned *ret_skipped, TarRefusal *refusal) {
        _cleanup_(image_tmp_done) ImageTmp tmp = { .dir_fd = fd };
        _cleanup_free_ char *target = NULL;
        int r;

        /* A refused archive creates nothing at all, not even a temporary. */
        r = check_archive(archive, c, refusal);
        if (r < 0)
                return r;

        r = image_tmp_make(fd, name, btrfs, &tmp.name);
        if (r < 0)
                return r;
        target = strjoin(pool, "/", tmp.name);
        if (!target)
                return -ENOMEM;
        r = extract_archive(archive, c, target, fd, send, ret_skipped, refusal);
        if (r < 0)
                return r;
        return image_tmp_finish(fd, &tmp, name, flags & IMAGE_READ_ONLY);
}

int image_import_tar(const char *pool, const char *path, const char *name, ImageFlags flags,
                     TarProgressFunc progress, void *userdata, unsigned *ret_skipped_devices,
                     TarRefusal *refusal) {
        _cleanup_close_ int archive = -EBADF, fd = -EBADF;
        TarCompression c;
        struct stat st;
        int lock = -EBADF;
        bool btrfs;
        int r;

        if (!image_name_is_valid(name))
                return -EINVAL;
        archive = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        if (archive < 0)
                return -errno;
        if (fstat(archive, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        c = tar_compression_from_filename(path);
        if (c < 0)
                c = sniff_compression(archive);

        r = image_pool_open_new(pool, name, &fd, &btrfs, &lock);
        if (r < 0)
                return r;
        TarSend send = {
                .total = c == TAR_COMPRESSION_NONE ? (uint64_t) st.st_size : 0,
                .progress = progress,
                .userdata = userdata,
        };
        r = import_locked(fd, btrfs, pool, archive, c, name, flags, &send, ret_skipped_devices, refusal);
        image_lock_release(fd, name, &lock);
        return r;
}

/* Writes "./PATH\n" for every device node, fifo and socket below fd to out. */
static int list_special_files(int fd, const char *prefix, FILE *out) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_fd(fd, &d);
        if (r < 0)
                return r;
        FOREACH_DIRENT(de, d) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (de->d_type == DT_REG || de->d_type == DT_LNK)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                path = strjoin(prefix, "/", de->d_name);
                if (!path)
                        return -ENOMEM;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int child = openat(dirfd(d), de->d_name,
                                                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (child < 0)
                                return -errno;
                        r = list_special_files(child, path, out);
                        if (r < 0)
                                return r;
                } else if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
                        /* The exclude list is line based. */
                        if (strchr(path, '\n'))
                                return -EBADMSG;
                        fprintf(out, "%s\n", path);
                }
        }
        return errno > 0 ? -errno : 0;
}

/* The archive leaves out device nodes, fifos and sockets: import refuses them, and the
 * runtime makes /dev itself, so an exported image can always be imported again. */
static int make_exclude_list(int pool_fd, const char *name, int *ret_fd) {
        _cleanup_close_ int root = -EBADF, mfd = -EBADF;
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        root = openat(pool_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return -errno;
        mfd = memfd_create("tar-exclude", MFD_CLOEXEC);
        if (mfd < 0)
                return -errno;
        int dup_fd = fcntl(mfd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        f = fdopen(dup_fd, "w");
        if (!f) {
                safe_close(dup_fd);
                return -errno;
        }
        r = list_special_files(root, ".", f);
        if (r < 0)
                return r;
        if (fflush(f) != 0)
                return -EIO;
        if (lseek(mfd, 0, SEEK_SET) < 0)
                return -errno;
        *ret_fd = TAKE_FD(mfd);
        return 0;
}

/* Copies what tar (or its compressor) writes into out, telling the progress on the way. */
static int export_relay(int from, int out, TarProgressFunc progress, void *userdata) {
        TarSend t = { .progress = progress, .userdata = userdata };
        char buf[65536];
        int r;

        for (;;) {
                ssize_t n = read(from, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                r = loop_write(out, buf, n);
                if (r < 0)
                        return r;
                t.bytes += n;
                tar_send_tell(&t, false);
        }
        tar_send_tell(&t, true);
        return 0;
}

int image_export_tar(const char *pool, const char *name, const char *path, TarProgressFunc progress,
                     void *userdata) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        _cleanup_close_ int dir_fd = -EBADF, out = -EBADF, exclude = -EBADF;
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF }, rp[2] = { -EBADF, -EBADF };
        _cleanup_free_ char *dir = NULL, *base = NULL, *source = NULL;
        TarCompression c;
        pid_t tar_pid, comp_pid = 0;
        int r, k;

        if (!image_name_is_valid(name))
                return -EINVAL;
        c = tar_compression_from_filename(path);
        if (c < 0)
                return c;
        /* image_find_at() only takes a real directory (lstat), so tar -C below cannot be
         * sent elsewhere by a symlink in the pool. */
        r = image_ref_open(pool, name, NULL, &ref);
        if (r < 0)
                return r;
        if (ref.type == IMAGE_RAW)
                return -EOPNOTSUPP; /* nothing to tar */

        r = path_split_last(path, &dir, &base);
        if (r < 0)
                return r;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        if (faccessat(dir_fd, base, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return -EEXIST;
        /* Nameless until complete: an interrupted export leaves no truncated archive. */
        out = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;

        r = make_exclude_list(ref.pool_fd, name, &exclude);
        if (r < 0)
                return r;
        source = strjoin(pool, "/", name);
        if (!source)
                return -ENOMEM;
        char *argv[] = { (char *) "tar", (char *) "--numeric-owner", (char *) "--xattrs",
                         (char *) "--xattrs-include=*", (char *) "--sort=name",
                         (char *) "--anchored", (char *) "--no-wildcards",
                         (char *) "--exclude-from=/dev/stdin", (char *) "-cpf", (char *) "-",
                         (char *) "-C", source, (char *) ".", NULL };
        /* The archive passes through us on its way to out, counted for the progress. */
        if (pipe2(rp, O_CLOEXEC) < 0)
                return -errno;
        if (c == TAR_COMPRESSION_NONE) {
                const int fds[3] = { exclude, rp[1], EXEC_FD_INHERIT };
                r = exec_spawn(argv, NULL, fds, &tar_pid);
                if (r < 0)
                        return r;
        } else {
                if (pipe2(p, O_CLOEXEC) < 0)
                        return -errno;
                const int tar_fds[3] = { exclude, p[1], EXEC_FD_INHERIT };
                r = exec_spawn(argv, NULL, tar_fds, &tar_pid);
                if (r < 0)
                        return r;
                const int comp_fds[3] = { p[0], rp[1], EXEC_FD_INHERIT };
                r = exec_spawn((char *const *) compress_argv[c], NULL, comp_fds, &comp_pid);
                if (r < 0) {
                        (void) kill(tar_pid, SIGKILL);
                        (void) exec_wait(tar_pid, NULL);
                        return r;
                }
                p[0] = safe_close(p[0]);
                p[1] = safe_close(p[1]);
        }
        rp[1] = safe_close(rp[1]);
        int relay = export_relay(rp[0], out, progress, userdata);
        rp[0] = safe_close(rp[0]);
        if (relay < 0) {
                (void) kill(tar_pid, SIGKILL);
                if (comp_pid > 0)
                        (void) kill(comp_pid, SIGKILL);
        }
        r = exec_wait(tar_pid, NULL);
        k = comp_pid > 0 ? exec_wait(comp_pid, NULL) : 0;
        if (relay < 0)
                return relay;
        if (r < 0 || k < 0)
                return tar_failure_errno(dir_fd);
        if (fsync(out) < 0)
                return -errno;

        if (linkat(AT_FDCWD, FORMAT_PROC_FD_PATH(out), dir_fd, base, AT_SYMLINK_FOLLOW) < 0)
                return -errno;
        return 0;
}
