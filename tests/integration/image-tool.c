/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A thin command line over the core image API, for the integration tests until machined
 * serves it over D-Bus. Exit status: 0 ok, 1 failure, 2 usage, 3 no such image, 4 name
 * taken, 5 busy or in use, 7 refused (unsafe archive). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "image-create.h"
#include "image-tar.h"
#include "image.h"
#include "log.h"
#include "names.h"
#include "pool.h"
#include "util/strv.h"
#include "util/util.h"

static char **arg_in_use = NULL;
static bool arg_read_only = false;
static bool arg_all = false;
static bool arg_usage = false;
static bool arg_refresh = false;
static const char *arg_mirror = NULL;

static bool in_use(const char *name, void *userdata) {
        return strv_contains(arg_in_use, name);
}

static int exit_code(int r) {
        switch (r) {
        case -ENOENT:
                return 3;
        case -EEXIST:
                return 4;
        case -EBUSY:
                return 5;
        case -EPERM:
                return 7;
        default:
                return 1;
        }
}

static int fail(int r, const char *what) {
        log_error_errno(r, "%s: %m", what);
        return exit_code(r);
}

static void print_image(const Image *i) {
        char created[32] = "-";
        time_t t = (time_t) (i->crtime / 1000000);
        struct tm tm;

        if (i->crtime > 0 && gmtime_r(&t, &tm))
                strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%s\t%s\t%s\t%s", i->name, image_type_to_string(i->type),
               i->read_only ? "ro" : "rw", created);
        if (i->usage != UINT64_MAX)
                printf("\t%llu", (unsigned long long) i->usage);
        printf("\n");
}

/* One line per phase with its final count, not one per package. */
static void progress(const CreateProgress *p, void *userdata) {
        static CreatePhase phase = _CREATE_PHASE_INVALID;
        static CreateProgress last;

        if (p->phase != phase) {
                if (last.current > 0)
                        printf("  %u packages\n", last.current);
                printf("%s%s\n", create_phase_to_string(p->phase),
                       p->total > 0 ? "" : p->phase == CREATE_PHASE_RETRIEVING ? "..." : "");
                phase = p->phase;
        }
        last = *p;
        if (p->current > 0 && p->total > 0 && p->current == p->total)
                printf("  %u/%u packages\n", p->current, p->total), last.current = 0;
        fflush(stdout);
}

static int open_image_root(const char *pool, const char *name, int *ret) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!image_name_is_valid(name))
                return -EINVAL;
        r = image_pool_open(pool, &fd, NULL);
        if (r < 0)
                return r;
        *ret = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return *ret < 0 ? -errno : 0;
}

static int usage(void) {
        fprintf(stderr,
                "image-tool [--in-use NAME] [--read-only] [--all] [--usage] COMMAND POOL ...\n"
                "  setup POOL [SIZE_MB] | teardown POOL | info POOL | grow POOL [MAX_MB]\n"
                "  list POOL | show POOL NAME | clone POOL SRC DST | rename POOL OLD NEW\n"
                "  remove POOL NAME... | read-only POOL NAME [yes|no] | clean POOL\n"
                "  snapshot POOL NAME SNAP | list-snapshots POOL NAME\n"
                "  restore POOL NAME SNAP | remove-snapshot POOL NAME SNAP\n"
                "  export-tar POOL NAME FILE | import-tar POOL FILE NAME | check-tar FILE\n"
                "  copy-to POOL NAME HOST-PATH PATH | copy-from POOL NAME PATH HOST-PATH\n"
                "  [--refresh] [--mirror URL] create POOL NAME TEMPLATE\n"
                "  lock POOL NAME SECONDS\n");
        return 2;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "in-use", required_argument, NULL, 'u' },
                { "read-only", no_argument, NULL, 'r' },
                { "all", no_argument, NULL, 'a' },
                { "usage", no_argument, NULL, 's' },
                { "refresh", no_argument, NULL, 'R' },
                { "mirror", required_argument, NULL, 'm' },
                {},
        };
        const char *verb, *pool;
        int c, r, n;

        log_set_prefix("image-tool");
        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'u':
                        if (strv_extend(&arg_in_use, optarg) < 0)
                                return 1;
                        break;
                case 'r':
                        arg_read_only = true;
                        break;
                case 'a':
                        arg_all = true;
                        break;
                case 's':
                        arg_usage = true;
                        break;
                case 'R':
                        arg_refresh = true;
                        break;
                case 'm':
                        arg_mirror = optarg;
                        break;
                default:
                        return usage();
                }
        argv += optind;
        argc -= optind;
        if (argc < 2)
                return usage();
        verb = argv[0];
        pool = argv[1];
        n = argc - 2;
        char **a = argv + 2;

        if (streq(verb, "check-tar")) {
                _cleanup_close_ int fd = open(pool, O_RDONLY | O_CLOEXEC);
                TarRefusal refusal = {};
                if (fd < 0)
                        return fail(-errno, pool);
                r = tar_walk(fd, NULL, NULL, &refusal);
                if (r == -EPERM)
                        log_error("Refused '%s': %s", refusal.path, refusal.reason);
                tar_refusal_done(&refusal);
                return r < 0 ? exit_code(r) : 0;
        }
        if (streq(verb, "setup")) {
                uint64_t mb = 0;
                if (n > 0 && safe_atou64(a[0], &mb) < 0)
                        return usage();
                r = pool_setup(pool, mb << 20);
                if (r < 0)
                        return fail(r, "pool setup");
                printf("%s\n", r > 0 ? "btrfs" : "plain");
                return 0;
        }
        if (streq(verb, "teardown")) {
                r = pool_teardown(pool);
                return r < 0 ? fail(r, "pool teardown") : 0;
        }
        if (streq(verb, "info")) {
                _cleanup_(pool_info_done) PoolInfo info = {};
                r = pool_get_info(pool, &info);
                if (r < 0)
                        return fail(r, "pool info");
                printf("path=%s\nbtrfs=%s\nloop_backed=%s\nbacking_file=%s\ndevice=%s\n"
                       "fstype=%s\nsize=%llu\navailable=%llu\nclone=%s\n",
                       info.path, info.btrfs ? "yes" : "no", info.loop_backed ? "yes" : "no",
                       strna(info.backing_file), strna(info.device), strna(info.fstype),
                       (unsigned long long) info.size, (unsigned long long) info.available,
                       info.btrfs ? "snapshot" : "reflink-or-copy");
                return 0;
        }
        if (streq(verb, "grow")) {
                uint64_t mb = 0;
                if (n > 0 && safe_atou64(a[0], &mb) < 0)
                        return usage();
                r = pool_grow_if_needed(pool, mb << 20);
                if (r < 0)
                        return fail(r, "pool grow");
                printf("%s\n", r > 0 ? "grown" : "unchanged");
                return 0;
        }
        if (streq(verb, "list")) {
                Image **list = NULL;
                size_t k = 0;
                r = image_list(pool, (arg_all ? IMAGE_HIDDEN : 0) | (arg_usage ? IMAGE_USAGE : 0),
                               &list, &k);
                if (r < 0)
                        return fail(r, "list");
                for (size_t i = 0; i < k; i++)
                        print_image(list[i]);
                image_list_free(list, k);
                return 0;
        }
        if (streq(verb, "show") && n == 1) {
                _cleanup_(image_freep) Image *i = NULL;
                _cleanup_free_ char *os = NULL;
                r = image_get(pool, a[0], arg_usage ? IMAGE_USAGE : 0, &i);
                if (r < 0)
                        return fail(r, a[0]);
                print_image(i);
                if (image_os_release(pool, a[0], &os) >= 0)
                        printf("os=%s\n", os);
                return 0;
        }
        if (streq(verb, "clone") && n == 2) {
                r = image_clone(pool, a[0], a[1], arg_read_only ? IMAGE_READ_ONLY : 0);
                return r < 0 ? fail(r, "clone") : 0;
        }
        if (streq(verb, "rename") && n == 2) {
                r = image_rename(pool, a[0], a[1], in_use, NULL);
                return r < 0 ? fail(r, "rename") : 0;
        }
        if (streq(verb, "remove") && n >= 1) {
                for (int i = 0; i < n; i++) {
                        r = image_remove(pool, a[i], in_use, NULL);
                        if (r < 0)
                                return fail(r, a[i]);
                }
                return 0;
        }
        if (streq(verb, "read-only") && (n == 1 || n == 2)) {
                int b = n == 2 ? parse_boolean(a[1]) : 1;
                if (b < 0)
                        return usage();
                r = image_set_read_only(pool, a[0], b);
                return r < 0 ? fail(r, "read-only") : 0;
        }
        if (streq(verb, "clean")) {
                r = image_clean(pool);
                if (r < 0)
                        return fail(r, "clean");
                printf("removed %d\n", r);
                return 0;
        }
        if (streq(verb, "snapshot") && n == 2) {
                r = image_snapshot(pool, a[0], a[1]);
                return r < 0 ? fail(r, "snapshot") : 0;
        }
        if (streq(verb, "list-snapshots") && n == 1) {
                Image **list = NULL;
                size_t k = 0;
                r = image_list_snapshots(pool, a[0], &list, &k);
                if (r < 0)
                        return fail(r, "list-snapshots");
                for (size_t i = 0; i < k; i++)
                        print_image(list[i]);
                image_list_free(list, k);
                return 0;
        }
        if (streq(verb, "restore") && n == 2) {
                r = image_restore(pool, a[0], a[1], in_use, NULL);
                return r < 0 ? fail(r, "restore") : 0;
        }
        if (streq(verb, "remove-snapshot") && n == 2) {
                r = image_remove_snapshot(pool, a[0], a[1]);
                return r < 0 ? fail(r, "remove-snapshot") : 0;
        }
        if (streq(verb, "export-tar") && n == 2) {
                r = image_export_tar(pool, a[0], a[1], NULL, NULL);
                return r < 0 ? fail(r, "export-tar") : 0;
        }
        if (streq(verb, "import-tar") && n == 2) {
                TarRefusal refusal = {};
                r = image_import_tar(pool, a[0], a[1], arg_read_only ? IMAGE_READ_ONLY : 0, NULL, NULL, NULL,
                                     &refusal);
                if (r == -EPERM && refusal.reason)
                        log_error("Refused archive member '%s': %s", refusal.path, refusal.reason);
                tar_refusal_done(&refusal);
                return r < 0 ? fail(r, "import-tar") : 0;
        }
        if ((streq(verb, "copy-to") || streq(verb, "copy-from")) && n == 3) {
                _cleanup_close_ int root = -EBADF;
                r = open_image_root(pool, a[0], &root);
                if (r < 0)
                        return fail(r, a[0]);
                CopyRefusal refusal = {};
                r = streq(verb, "copy-to") ? copy_to_tree(root, a[1], a[2], 0, UID_INVALID, &refusal)
                                           : copy_from_tree(root, a[1], a[2], 0, UID_INVALID, &refusal);
                if (r == -EBADFD && refusal.what) {
                        log_error("Refusing to copy %s: it is %s.", refusal.path, refusal.what);
                        copy_refusal_done(&refusal);
                        return 1;
                }
                return r < 0 ? fail(r, verb) : 0;
        }
        if (streq(verb, "create") && n == 2) {
                _cleanup_(error_done) Error error = ERROR_NULL;
                r = image_create_from_template(
                        pool, a[0], a[1], NULL, arg_mirror,
                        (arg_refresh ? IMAGE_CREATE_REFRESH : 0) | (arg_read_only ? IMAGE_CREATE_READ_ONLY : 0),
                        progress, NULL, &error);
                if (r < 0 && error.message)
                        log_error("%s", error.message);
                return r < 0 ? fail(r, "create") : 0;
        }
        if (streq(verb, "lock") && n == 2) {
                _cleanup_close_ int fd = -EBADF, lock = -EBADF;
                int secs;
                if (safe_atoi(a[1], &secs) < 0)
                        return usage();
                r = image_pool_open(pool, &fd, NULL);
                if (r < 0)
                        return fail(r, pool);
                r = image_lock(fd, a[0], &lock);
                if (r < 0)
                        return fail(r, "lock");
                printf("locked\n");
                fflush(stdout);
                sleep((unsigned) secs);
                return 0;
        }
        return usage();
}
