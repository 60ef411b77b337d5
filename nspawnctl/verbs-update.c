/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl update IMAGE: brings an image's packages up to date without ever leaving it
 * half upgraded. The upgrade runs in a throwaway machine on a snapshot of the image (a
 * btrfs snapshot, else a reflink copy) named as a pool temporary (".#IMAGE.tmpXXXXXX"); only
 * when it succeeded is the snapshot swapped with the image in one renameat2(RENAME_EXCHANGE)
 * and the old tree removed. A failure, Ctrl-C or kill -9 leaves the image as it was (and at
 * worst a temporary that `nspawnctl clean` removes). The upgrade's machine has the image's
 * name and the swap holds its name lock, so the image cannot be started meanwhile; a
 * running image is refused. The image's own lock in the pool excludes other image
 * operations throughout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus-util.h"
#include "image.h"
#include "log.h"
#include "names.h"
#include "settings.h"
#include "state-dir.h"
#include "util/process.h"
#include "util/strv.h"
#include "util/util.h"
#include "verbs-test.h"
#include "verbs.h"

/* Debian and derivatives; another distribution passes its own command after "--". */
#define DEFAULT_UPGRADE                                                                    \
        "export DEBIAN_FRONTEND=noninteractive; apt-get update && "                      \
        "apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade && " \
        "apt-get clean"

static void help(void) {
        printf("nspawnctl update [OPTIONS...] IMAGE [-- COMMAND [ARG...]]\n\n"
               "Upgrade an image's packages in a throwaway machine on a snapshot of it, then swap\n"
               "the snapshot in atomically; on failure the image stays as it was. Refused while\n"
               "the image runs. The machine uses the host's network (the mirror must be reachable).\n\n"
               "  -h --help            Show this help\n"
               "     --pool=DIR        The image pool (default: machined's, else /var/lib/machines)\n"
               "     --state-dir=DIR   Machine locks (default: /run/nspawnctl)\n"
               "\nCOMMAND replaces the default upgrade (apt-get update && apt-get -y upgrade && apt-get clean).\n"
               "Exit status: 0 updated; 1 the upgrade or the swap failed (image unchanged); 2 usage;\n"
               "3 no such image; 5 the image runs or another operation holds it; 7 not root.\n");
}

enum {
        ARG_POOL = 0x100,
        ARG_STATE_DIR,
};

/* Runs the upgrade in a machine named like the image (so that the image cannot be started
 * meanwhile: the name is taken, and the runtime's guard frees it even after kill -9).
 * Returns the command's exit status, or -ESRCH when the machine never ran (the runtime said
 * why on stderr). */
static int run_upgrade(const char *self, const char *tree, const char *machine, const char *state_dir,
                       char **command) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_close_pair_ int rep[2] = { -EBADF, -EBADF };
        char buf[PATH_MAX], report[256] = "";
        ssize_t n;
        pid_t pid;
        int status, r;

        FOREACH_STRING(s, self, "run", "-q", "--settings=no", "--console=pipe", "--as-pid2", "--report-fd=3")
                if (strv_extend(&argv, s) < 0)
                        return -ENOMEM;
        if (strv_consume(&argv, strjoin("--directory=", tree)) < 0 ||
            strv_consume(&argv, strjoin("--machine=", machine)) < 0 ||
            strv_consume(&argv, strjoin("--state-dir=", state_dir)) < 0)
                return -ENOMEM;
        /* Images made for booting point /etc/resolv.conf at systemd-resolved's files in
         * /run, which nothing fills in a machine that is not booted: the host's file goes
         * there (on the machine's own /run tmpfs, so the image is not touched). */
        if (realpath("/etc/resolv.conf", buf)) {
                FOREACH_STRING(dst, "/run/systemd/resolve/stub-resolv.conf", "/run/systemd/resolve/resolv.conf")
                        if (strv_consume(&argv, strjoin("--bind-ro=", buf, ":", dst)) < 0)
                                return -ENOMEM;
        }
        if (strv_extend(&argv, "--") < 0)
                return -ENOMEM;
        if (strv_length(command) > 0)
                r = strv_extend_strv(&argv, command);
        else {
                r = strv_extend(&argv, "/bin/sh");
                if (r >= 0)
                        r = strv_extend(&argv, "-c");
                if (r >= 0)
                        r = strv_extend(&argv, DEFAULT_UPGRADE);
        }
        if (r < 0)
                return r;

        if (pipe2(rep, O_CLOEXEC) < 0)
                return -errno;
        r = run_child_start(argv, STDOUT_FILENO, rep[1], &pid);
        if (r < 0)
                return r;
        rep[1] = safe_close(rep[1]);
        r = wait_for_terminate(pid, &status);
        if (r < 0)
                return r;
        n = read(rep[0], report, sizeof report - 1);
        if (n <= 0 || !startswith(report, "STARTED "))
                return -ESRCH;
        return status;
}

/* Whether the image's machine runs: its name lock is held. Taken and released at once
 * (the runtime takes it for the upgrade); for the swap it is taken again and kept. */
static int machine_running(const char *state_dir, const char *name, int *ret_lock) {
        int fd = -EBADF, r;

        r = machine_lock_acquire(state_dir, name, &fd);
        if (r == -EEXIST)
                return 1;
        if (r < 0)
                return r;
        if (ret_lock)
                *ret_lock = fd;
        else
                machine_lock_release(state_dir, name, fd);
        return 0;
}

int verb_update(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "pool", required_argument, NULL, ARG_POOL },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                {}
        };
        _cleanup_free_ char *pool = NULL, *pool_arg = NULL, *self = NULL, *file = NULL, *tree = NULL, *esc = NULL;
        _cleanup_close_ int pool_fd = -EBADF, image_lock_fd = -EBADF, machine_lock = -EBADF;
        _cleanup_(image_tmp_done) ImageTmp tmp = { .dir_fd = -EBADF };
        _cleanup_(image_freep) Image *img = NULL;
        const char *state_dir = NULL, *name;
        bool machined, btrfs;
        ImageType type;
        int opt, r, status;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_POOL:
                        if (isempty(optarg) || strnlen(optarg, PATH_MAX) >= PATH_MAX)
                                return log_error("--pool= needs a directory."), EXIT_USAGE;
                        free(pool_arg);
                        pool_arg = strdup(optarg);
                        if (!pool_arg)
                                return log_oom(), EXIT_FAIL;
                        break;
                case ARG_STATE_DIR:
                        if (!path_is_safe_absolute(optarg))
                                return log_error("Invalid --state-dir= path: must be absolute and normalized."), EXIT_USAGE;
                        state_dir = optarg;
                        break;
                case '?':
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc)
                return log_error("update needs an IMAGE. See 'nspawnctl update --help'."), EXIT_USAGE;
        name = argv[optind++];
        if (!image_name_is_valid(name)) {
                esc = cescape_for_message(name);
                return log_error("Invalid image name '%s'" MACHINE_NAME_HINT, strna(esc)), EXIT_USAGE;
        }
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        if (optind < argc && isempty(argv[optind]))
                return log_error("The command after -- is empty."), EXIT_USAGE;
        if (geteuid() != 0)
                return log_error("update needs root: it snapshots images and starts a container."), EXIT_PERMISSION;
        if (!state_dir)
                state_dir = bus_state_dir(NULL);

        r = pool_resolve(pool_arg, state_dir, &pool, &machined);
        if (r < 0)
                return EXIT_USAGE;
        r = self_exe(&self);
        if (r < 0)
                return log_error_errno(r, "Failed to find our own binary: %m"), EXIT_FAIL;
        r = image_get(pool, name, 0, &img);
        if (r == -ENOENT)
                return log_error("No image '%s' in the pool %s.", name, pool), EXIT_NOT_FOUND;
        if (r < 0)
                return log_error_errno(r, "Failed to look up image %s: %m", name), EXIT_FAIL;
        if (img->type == IMAGE_RAW)
                return log_error("Image %s is a raw disk image; update works on directory and subvolume images.", name),
                       EXIT_USAGE;

        r = state_dir_create(state_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", state_dir), EXIT_FAIL;
        r = machine_running(state_dir, name, NULL);
        if (r > 0)
                return log_error("Machine %s is running; power it off before updating its image.", name), EXIT_STATE;
        if (r < 0)
                return log_error_errno(r, "Failed to lock machine name %s: %m", name), EXIT_FAIL;

        r = image_pool_open(pool, &pool_fd, &btrfs);
        if (r < 0) {
                log_error_errno(r, "Failed to open the pool %s: %m", pool);
                goto finish;
        }
        r = image_lock(pool_fd, name, &image_lock_fd);
        if (r == -EBUSY) {
                log_error("Image %s is busy with another operation.", name);
                r = EXIT_STATE;
                goto finish_code;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to lock image %s: %m", name);
                goto finish;
        }
        r = image_find_at(pool_fd, name, &file, &type);
        if (r < 0) {
                log_error_errno(r, "Image %s: %m", name);
                goto finish;
        }

        tmp.dir_fd = pool_fd;
        printf("Snapshotting %s...\n", name);
        fflush(stdout);
        r = image_tree_duplicate(pool_fd, file, type, pool_fd, file, btrfs, false, &tmp);
        if (r < 0) {
                log_error_errno(r, "Failed to snapshot image %s: %m", name);
                goto finish;
        }
        tree = strjoin(pool, "/", tmp.name);
        if (!tree) {
                r = log_oom();
                goto finish;
        }

        status = run_upgrade(self, tree, name, state_dir, argv + optind);
        if (status == -ESRCH) {
                log_error("The upgrade machine for %s did not start; the image is unchanged.", name);
                goto finish;
        }
        if (status < 0) {
                log_error_errno(status, "Failed to run the upgrade: %m");
                goto finish;
        }
        if (status != 0) {
                log_error("The upgrade of %s failed (exit status %d); the image is unchanged.", name, status);
                r = EXIT_FAIL;
                goto finish_code;
        }

        /* Nobody may start the old tree while it is swapped out and removed. */
        r = machine_running(state_dir, name, &machine_lock);
        if (r != 0) {
                if (r > 0)
                        log_error("Machine %s was started meanwhile; the image is unchanged.", name);
                else
                        log_error_errno(r, "Failed to lock machine name %s: %m", name);
                r = r > 0 ? EXIT_STATE : EXIT_FAIL;
                goto finish_code;
        }
        /* The swap: one rename exchanges both names. An immutable directory cannot be
         * renamed, so a read-only image loses the flag for that moment (a read-only
         * subvolume can). */
        if (img->read_only && type == IMAGE_DIRECTORY) {
                r = image_tree_set_read_only_at(pool_fd, file, false);
                if (r < 0) {
                        log_error_errno(r, "Failed to make %s writable for the swap: %m", name);
                        goto finish;
                }
        } else if (img->read_only) {
                r = image_tree_set_read_only_at(pool_fd, tmp.name, true);
                if (r < 0) {
                        log_error_errno(r, "Failed to make the new %s read-only: %m", name);
                        goto finish;
                }
        }
        if (renameat2(pool_fd, tmp.name, pool_fd, file, RENAME_EXCHANGE) < 0) {
                r = -errno;
                if (img->read_only && type == IMAGE_DIRECTORY)
                        (void) image_tree_set_read_only_at(pool_fd, file, true);
                log_error_errno(r, "Failed to swap the updated %s in: %m", name);
                goto finish;
        }
        if (img->read_only && type == IMAGE_DIRECTORY) {
                r = image_tree_set_read_only_at(pool_fd, file, true);
                if (r < 0)
                        log_warning_errno(r, "Failed to make the updated %s read-only again: %m", name);
        }
        /* tmp now names the old tree: image_tmp_done() removes it. */
        image_tmp_done(&tmp);
        printf("Updated image %s.\n", name);
        r = EXIT_OK;
        goto finish_code;

finish:
        r = EXIT_FAIL;
finish_code:
        if (machine_lock >= 0)
                machine_lock_release(state_dir, name, TAKE_FD(machine_lock));
        return r;
}
