/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "copy.h"
#include "exec-util.h"
#include "image-create.h"
#include "util/chase.h"
#include "names.h"
#include "template.h"
#include "util/strv.h"
#include "util/util.h"

static const char *const create_phase_table[_CREATE_PHASE_MAX] = {
        [CREATE_PHASE_PREPARING] = "preparing",
        [CREATE_PHASE_RETRIEVING] = "retrieving",
        [CREATE_PHASE_EXTRACTING] = "extracting",
        [CREATE_PHASE_UNPACKING] = "unpacking",
        [CREATE_PHASE_CONFIGURING] = "configuring",
        [CREATE_PHASE_POST_SETUP] = "post-setup",
        [CREATE_PHASE_SNAPSHOT] = "snapshot",
        [CREATE_PHASE_IMPORTING] = "importing",
        [CREATE_PHASE_EXPORTING] = "exporting",
};

DEFINE_STRING_TABLE_LOOKUP(create_phase, CreatePhase, _CREATE_PHASE_MAX);

bool mirror_url_is_valid(const char *url) {
        if (isempty(url) || strlen(url) > 4096 || !utf8_is_valid(url))
                return false;
        if (!startswith(url, "http://") && !startswith(url, "https://") &&
            !startswith(url, "ftp://") && !startswith(url, "file:/"))
                return false;
        /* One argument for debootstrap: no blanks or control characters in it. */
        for (const unsigned char *p = (const unsigned char *) url; *p; p++)
                if (*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

/* debootstrap (without --debian-installer) says "I: Retrieving PKG VERSION",
 * "I: Extracting PKG...", "I: Unpacking PKG...", "I: Configuring PKG..." once per package,
 * and prints no totals. The packages retrieved are the ones installed, so their count is the
 * total of the later phases. Unpacking and configuring happen in two rounds (required, then
 * base); the counts run on across both. */
int create_progress_parse_line(CreateProgressParser *p, const char *line, CreateProgress *ret) {
        static const struct {
                const char *prefix;
                CreatePhase phase;
        } table[] = {
                { "I: Retrieving ", CREATE_PHASE_RETRIEVING },
                { "I: Extracting ", CREATE_PHASE_EXTRACTING },
                { "I: Unpacking ", CREATE_PHASE_UNPACKING },
                { "I: Configuring ", CREATE_PHASE_CONFIGURING },
        };
        const char *rest = NULL;
        CreatePhase phase = _CREATE_PHASE_INVALID;
        unsigned *counter;
        size_t l;

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (startswith(line, table[i].prefix)) {
                        rest = line + strlen(table[i].prefix);
                        phase = table[i].phase;
                        break;
                }
        if (!rest)
                return 0;

        /* Not packages: "Retrieving InRelease", "Retrieving Packages", "Unpacking the base
         * system...", "Configuring the base system...", "Unpacking required packages...". */
        /* "libc6:amd64..." -> "libc6" */
        l = strcspn(rest, " :\n");
        while (l > 0 && rest[l - 1] == '.')
                l--;
        if (l == 0 || l >= sizeof p->package || strneq(rest, "the ", 4) ||
            startswith(rest, "required packages") || startswith(rest, "base packages"))
                return 0;
        /* Package names are lower case; index files and phrases are not. */
        for (size_t i = 0; i < l; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789+-.", rest[i]))
                        return 0;

        memcpy(p->package, rest, l);
        p->package[l] = 0;
        counter = phase == CREATE_PHASE_RETRIEVING   ? &p->retrieved
                  : phase == CREATE_PHASE_EXTRACTING ? &p->extracted
                  : phase == CREATE_PHASE_UNPACKING  ? &p->unpacked
                                                     : &p->configured;
        (*counter)++;
        p->phase = phase;
        *ret = (CreateProgress){
                .phase = phase,
                .current = *counter,
                /* debootstrap unpacks and configures a few packages it did not retrieve
                 * (dpkg and friends once more in the second round): the count must not run
                 * past the total ("111/110"), so the total grows with it. */
                .total = phase == CREATE_PHASE_RETRIEVING ? 0 : MAX(p->retrieved, *counter),
                .package = p->package,
        };
        return 1;
}

static void report(CreateProgressFunc progress, void *userdata, CreatePhase phase) {
        if (progress)
                progress(&(CreateProgress){ .phase = phase }, userdata);
}

static int run_debootstrap(char **argv, const char *target, CreateProgressFunc progress, void *userdata,
                           Error *e) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        _cleanup_free_ char *line = NULL, *last = NULL, *last_error = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        CreateProgressParser parser = {};
        size_t allocated = 0;
        pid_t pid;
        int r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        char *env[] = { (char *) "DEBIAN_FRONTEND=noninteractive", NULL };
        const int fds[3] = { EXEC_FD_NULL, p[1], p[1] };
        r = exec_spawn_in_tree(argv, env, fds, target, &pid);
        if (r < 0)
                return r;
        p[1] = safe_close(p[1]);
        f = fdopen(p[0], "r");
        if (!f) {
                r = -errno;
                (void) exec_wait(pid, NULL);
                return r;
        }
        p[0] = -EBADF;

        while (getline(&line, &allocated, f) > 0) {
                CreateProgress cp;

                line[strcspn(line, "\n")] = 0;
                if (create_progress_parse_line(&parser, line, &cp) > 0 && progress)
                        progress(&cp, userdata);
                /* Keep what explains a failure, not the whole log. */
                if (startswith(line, "E: ")) {
                        free(last_error);
                        last_error = strdup(line + 3);
                } else if (!isempty(line)) {
                        free(last);
                        last = strdup(line);
                }
        }
        r = exec_wait(pid, NULL);
        if (r < 0)
                return error_set(e, r, "debootstrap failed: %s", last_error ?: last ?: "no output");
        return r;
}

static int clean_apt_archives(int root_fd) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = fd = chase_open(root_fd, "/var/cache/apt/archives", O_RDONLY | O_DIRECTORY, CHASE_IN_ROOT | CHASE_NO_XDEV);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -EBADF;
        for (struct dirent *de; (errno = 0, de = readdir(d));)
                if (de->d_type == DT_REG && endswith(de->d_name, ".deb"))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        return 0;
}

static int resolve_mirror(const char *mirror, char **ret) {
        const char *e;

        if (!isempty(mirror))
                *ret = strdup(mirror);
        else if (!isempty(e = getenv("NSPAWNCTL_MIRROR")))
                *ret = strdup(e);
        else
                return host_apt_mirror(ret);
        return *ret ? 0 : -ENOMEM;
}

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(struct libmnt_table *, mnt_unref_table, mnt_unref_tablep);
DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(struct libmnt_iter *, mnt_free_iter, mnt_free_iterp);

/* debootstrap mounts /proc (and more) inside its target and a killed one leaves them: detach
 * everything below path, so that the temporary can be removed. */
static int umount_below(const char *path) {
        _cleanup_(mnt_unref_tablep) struct libmnt_table *t = NULL;
        _cleanup_(mnt_free_iterp) struct libmnt_iter *it = NULL;
        _cleanup_free_ char *prefix = NULL;
        struct libmnt_fs *fs;
        int r;

        /* mountinfo has canonical paths; the pool path may be relative */
        _cleanup_free_ char *canonical = realpath(path, NULL);
        if (!canonical)
                return -errno;
        prefix = strjoin(canonical, "/");
        t = mnt_new_table();
        it = mnt_new_iter(MNT_ITER_BACKWARD); /* innermost (latest) first */
        if (!prefix || !t || !it)
                return -ENOMEM;
        r = mnt_table_parse_mtab(t, NULL);
        if (r < 0)
                return r;
        while (mnt_table_next_fs(t, it, &fs) == 0) {
                const char *target = mnt_fs_get_target(fs);
                if (target && startswith(target, prefix))
                        (void) umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW);
        }
        return 0;
}

/* A failed post-setup is a failed tool, whatever errno it had (-ENOENT for a tree without
 * systemd-networkd is no missing image): -EPROTO, with the reason in one line. */
static int post_setup_failed(int r, Error *e) {
        return error_set(e, -EPROTO, "the template's post-setup failed: %s",
                         r == -ENOENT ? "the tree lacks what the template sets up "
                                        "(systemd-networkd, systemd-resolved)"
                                      : strerror(-r));
}

/* Builds the base of template t into a temporary and puts it in place as base: renamed, or
 * swapped with the previous base which is then removed (a refresh). */
static int base_build(int pool_fd, const char *pool, bool btrfs, const Template *t,
                      const char *base, const char *mirror, CreateProgressFunc progress,
                      void *userdata, Error *e) {
        _cleanup_(image_tmp_done) ImageTmp tmp = { .dir_fd = pool_fd };
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *target = NULL, *m = NULL;
        _cleanup_close_ int root = -EBADF;
        int r;

        r = resolve_mirror(mirror, &m);
        if (r < 0)
                return error_set(e, r, "no Debian mirror in the host's apt sources; pass one");
        report(progress, userdata, CREATE_PHASE_PREPARING);
        r = image_tmp_make(pool_fd, base, btrfs, &tmp.name);
        if (r < 0)
                return r;
        target = strjoin(pool, "/", tmp.name);
        if (!target)
                return -ENOMEM;
        r = template_debootstrap_argv(t, target, m, &argv);
        if (r < 0)
                return r;
        r = run_debootstrap(argv, target, progress, userdata, e);
        (void) umount_below(target);
        if (r < 0)
                return r;

        report(progress, userdata, CREATE_PHASE_POST_SETUP);
        root = openat(pool_fd, tmp.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return -errno;
        r = template_post_setup(t, root, t->name);
        if (r < 0)
                return post_setup_failed(r, e);
        r = clean_apt_archives(root);
        if (r < 0)
                return r;
        root = safe_close(root);

        r = image_exists_at(pool_fd, base);
        if (r < 0)
                return r;
        if (r == 0)
                return image_tmp_finish(pool_fd, &tmp, base, true);

        /* Refresh: one atomic swap, then the old base goes with the temporary name. */
        r = image_tree_set_read_only_at(pool_fd, tmp.name, true);
        if (r < 0)
                return r;
        r = image_tree_set_read_only_at(pool_fd, base, false);
        if (r < 0)
                return r;
        if (renameat2(pool_fd, tmp.name, pool_fd, base, RENAME_EXCHANGE) < 0) {
                r = -errno;
                (void) image_tree_set_read_only_at(pool_fd, base, true);
                return r;
        }
        return 0;
}

/* The create itself, with the pool open and the new name locked: everything it makes is a
 * temporary removed on failure, before the caller drops the locks and closes the pool. */
static int create_locked(int fd, bool btrfs, const char *pool, const char *name, const Template *t,
                         const char *base, const char *mirror, ImageCreateFlags flags,
                         CreateProgressFunc progress, void *userdata, Error *e) {
        _cleanup_(image_tmp_done) ImageTmp tmp = { .dir_fd = fd };
        _cleanup_close_ int root = -EBADF;
        _cleanup_free_ char *base_file = NULL;
        ImageType base_type;
        int base_lock = -EBADF, r;

        /* A second create of the same template waits for the first one's base. */
        r = image_lock_full(fd, base, true, &base_lock);
        if (r < 0)
                return r;
        r = image_exists_at(fd, base);
        if (r == 0 || (r > 0 && (flags & IMAGE_CREATE_REFRESH)))
                r = base_build(fd, pool, btrfs, t, base, mirror, progress, userdata, e);
        if (r >= 0) {
                report(progress, userdata, CREATE_PHASE_SNAPSHOT);
                r = image_find_at(fd, base, &base_file, &base_type);
        }
        if (r >= 0)
                r = image_tree_duplicate(fd, base_file, base_type, fd, name, btrfs, false, &tmp);
        image_lock_release(fd, base, &base_lock);
        if (r < 0)
                return r;

        /* The base was set up for the template's name; this image gets its own. */
        root = openat(fd, tmp.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return -errno;
        r = template_post_setup(t, root, name);
        if (r < 0)
                return post_setup_failed(r, e);
        root = safe_close(root);
        return image_tmp_finish(fd, &tmp, name, flags & IMAGE_CREATE_READ_ONLY);
}

int image_create_from_template(const char *pool, const char *name, const char *template_name,
                               const char *const *search_dirs, const char *mirror,
                               ImageCreateFlags flags, CreateProgressFunc progress,
                               void *userdata, Error *e) {
        _cleanup_(template_freep) Template *t = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *base = NULL;
        int lock = -EBADF;
        bool btrfs;
        int r;

        if (!image_name_is_valid(name))
                return -EINVAL;
        r = image_base_name(template_name, &base);
        if (r < 0)
                return r;
        r = template_load(template_name, search_dirs ?: template_default_search_dirs(), &t, e);
        if (r < 0)
                return r;

        r = image_pool_open_new(pool, name, &fd, &btrfs, &lock);
        if (r < 0)
                return r;
        r = create_locked(fd, btrfs, pool, name, t, base, mirror, flags, progress, userdata, e);
        image_lock_release(fd, name, &lock);
        return r;
}
