/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image verbs: thin clients of machined's image methods (machined/machined-image.c). create
 * runs in machined's worker too; its progress comes back as ImageProgress signals. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bus-util.h"
#include "image-create.h"
#include "image.h"
#include "log.h"
#include "machined-api.h"
#include "names.h"
#include "util/escape.h"
#include "util/util.h"
#include "verbs.h"

/* Imports, exports and copies of big trees take a while; machined serves others meanwhile. */
#define IMAGE_LONG_TIMEOUT_USEC (3600ULL * 1000000ULL)

static const char *arg_state_dir;
static bool arg_json, arg_read_only, arg_refresh;
static const char *arg_template = "debian-bookworm", *arg_mirror;

enum { ARG_STATE_DIR = 0x100, ARG_JSON, ARG_READ_ONLY, ARG_TEMPLATE, ARG_MIRROR, ARG_REFRESH };

typedef struct ImageVerb {
        const char *name;
        int min_args, max_args;
        const char *usage; /* the arguments */
        const char *help;
        unsigned options;  /* which of the extra options the verb takes */
} ImageVerb;

#define OPT_JSON (1u << 0)
#define OPT_READ_ONLY (1u << 1)
#define OPT_CREATE (1u << 2)

static const ImageVerb image_verbs[] = {
        { "list-images", 0, 0, "", "List the images of the pool.", OPT_JSON },
        { "image-status", 1, 1, "NAME", "Show an image's properties and its OS.", 0 },
        { "clone", 2, 2, "NAME NEW-NAME", "Clone an image (a snapshot on btrfs).", OPT_READ_ONLY },
        { "rename", 2, 2, "NAME NEW-NAME", "Rename an image (not while a machine runs it).", 0 },
        { "remove", 1, 64, "NAME...", "Remove images and their snapshots.", 0 },
        { "read-only", 1, 2, "NAME [yes|no]", "Mark an image read-only or writable.", 0 },
        { "snapshot", 2, 2, "NAME SNAPSHOT", "Take a read-only snapshot of an image.", 0 },
        { "list-snapshots", 1, 1, "NAME", "List the snapshots of an image.", OPT_JSON },
        { "restore", 2, 2, "NAME SNAPSHOT", "Put an image back to a snapshot (not while running).", 0 },
        { "remove-snapshot", 2, 2, "NAME SNAPSHOT", "Remove a snapshot.", 0 },
        { "export-tar", 2, 2, "NAME FILE", "Write an image to FILE (.tar, .tar.gz, .tar.xz, .tar.zst).", 0 },
        { "import-tar", 2, 2, "FILE NAME", "Make an image from a tar archive, after checking every member.", OPT_READ_ONLY },
        { "copy-to", 3, 3, "NAME HOST-PATH PATH", "Copy a host file or directory into an image.", 0 },
        { "copy-from", 3, 3, "NAME PATH HOST-PATH", "Copy a file or directory out of an image.", 0 },
        { "clean", 0, 0, "", "Remove leftovers of interrupted image operations.", 0 },
        { "create", 1, 1, "NAME", "Create an image from a template (debootstrap once, then snapshots).", OPT_CREATE | OPT_READ_ONLY },
};

static const ImageVerb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(image_verbs); i++)
                if (streq(image_verbs[i].name, name))
                        return &image_verbs[i];
        return NULL;
}

static int image_exit_code(void) {
        return bus_last_exit_code();
}

static void print_help(const ImageVerb *v) {
        printf("nspawnctl %s %s\n\n%s\n\n"
               "  -h --help             Show this help\n"
               "     --state-dir=DIR    Where machined's private socket is, when there is no\n"
               "                        system bus (default $NSPAWNCTL_STATE_DIR or /run/nspawnctl)\n",
               v->name, v->usage, v->help);
        if (v->options & OPT_JSON)
                printf("     --json             One JSON array, for scripts\n");
        if (v->options & OPT_READ_ONLY)
                printf("     --read-only        Make the new image read-only\n");
        if (v->options & OPT_CREATE)
                printf("     --template=NAME    The template (default debian-bookworm)\n"
                       "     --mirror=URL       Debian mirror (default: the host's apt sources)\n"
                       "     --refresh          Rebuild the template's base image first\n");
}

/* Returns 1 to go on, 0 after --help, or an exit code (negated) on a usage error. */
static int parse_options(const ImageVerb *v, int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "json", no_argument, NULL, ARG_JSON },
                { "read-only", no_argument, NULL, ARG_READ_ONLY },
                { "template", required_argument, NULL, ARG_TEMPLATE },
                { "mirror", required_argument, NULL, ARG_MIRROR },
                { "refresh", no_argument, NULL, ARG_REFRESH },
                {},
        };
        int c, n;

        optind = 0;
        /* Options anywhere, as the machine verbs take them; a path starting with '-' goes
         * after "--". */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                unsigned need = c == ARG_JSON                                           ? OPT_JSON
                                : c == ARG_READ_ONLY                                    ? OPT_READ_ONLY
                                : c == ARG_TEMPLATE || c == ARG_MIRROR || c == ARG_REFRESH ? OPT_CREATE
                                                                                        : 0;
                if (need && !(v->options & need)) {
                        log_error("%s does not take %s.", v->name, argv[optind - 1]);
                        return -EXIT_USAGE;
                }
                switch (c) {
                case 'h':
                        print_help(v);
                        return 0;
                case ARG_STATE_DIR:
                        if (bus_parse_state_dir(optarg, &arg_state_dir) < 0)
                                return -EXIT_USAGE;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_READ_ONLY:
                        arg_read_only = true;
                        break;
                case ARG_TEMPLATE:
                        if (!image_name_is_valid(optarg))
                                return log_error("Invalid template name '%s'.", optarg), -EXIT_USAGE;
                        arg_template = optarg;
                        break;
                case ARG_MIRROR:
                        if (!mirror_url_is_valid(optarg))
                                return log_error("--mirror= needs an http, https, ftp or file URL."),
                                       -EXIT_USAGE;
                        arg_mirror = optarg;
                        break;
                case ARG_REFRESH:
                        arg_refresh = true;
                        break;
                default:
                        return -EXIT_USAGE;
                }
        }
        n = argc - optind;
        if (n < v->min_args || n > v->max_args) {
                log_error("Usage: nspawnctl %s %s", v->name, v->usage);
                return -EXIT_USAGE;
        }
        return 1;
}

static int check_image_name(const char *name) {
        if (!image_name_is_valid(name)) {
                log_error("Invalid image name '%s'.", name);
                return -EXIT_USAGE;
        }
        return 0;
}

static void format_time(uint64_t usec, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000ULL);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "-");
}

static void format_bytes(uint64_t b, char *buf, size_t size) {
        static const char units[] = "BKMGT";
        double d = (double) b;
        size_t u = 0;

        if (b == UINT64_MAX) {
                snprintf(buf, size, "-");
                return;
        }
        while (d >= 1024 && u < sizeof units - 2) {
                d /= 1024;
                u++;
        }
        snprintf(buf, size, u == 0 ? "%.0f%c" : "%.1f%c", d, units[u]);
}

static int list_images(sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *type, *path;
        uint64_t crtime, mtime, usage;
        unsigned n = 0;
        int ro, r;

        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "ListImages", 0,
                              "list images", &reply, NULL);
        if (r < 0)
                return image_exit_code();
        r = sd_bus_message_enter_container(reply, 'a', "(ssbttto)");
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        if (arg_json)
                printf("[");
        else
                printf("%-24s %-10s %-3s %-19s %-19s %8s\n", "NAME", "TYPE", "RO", "CREATED",
                       "MODIFIED", "USAGE");
        while ((r = sd_bus_message_read(reply, "(ssbttto)", &name, &type, &ro, &crtime, &mtime,
                                        &usage, &path)) > 0) {
                char c[32], m[32], u[32];
                if (arg_json) {
                        printf("%s{\"name\":", n ? "," : "");
                        json_print_string(name);
                        printf(",\"type\":");
                        json_print_string(type);
                        printf(",\"read_only\":%s,\"created\":%llu,\"modified\":%llu,\"usage\":",
                               ro ? "true" : "false", (unsigned long long) crtime,
                               (unsigned long long) mtime);
                        if (usage == UINT64_MAX)
                                printf("null}");
                        else
                                printf("%llu}", (unsigned long long) usage);
                } else {
                        _cleanup_free_ char *en = escape_terminal(name, ESCAPE_UNLIMITED, 0),
                                            *et = escape_terminal(type, ESCAPE_UNLIMITED, 0);
                        format_time(crtime, c, sizeof c);
                        format_time(mtime, m, sizeof m);
                        format_bytes(usage, u, sizeof u);
                        printf("%-24s %-10s %-3s %-19s %-19s %8s\n", strna(en), strna(et), ro ? "yes" : "no",
                               c, m, u);
                }
                n++;
        }
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        if (arg_json)
                printf("]\n");
        else
                printf("\n%u image(s).\n", n);
        return EXIT_OK;
}

static int image_status(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *props = NULL;
        const char *path;
        int r;

        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "GetImage", 0,
                              "get image", &reply, "s", name);
        if (r < 0)
                return image_exit_code();
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        r = bus_call_machined(bus, path, "org.freedesktop.DBus.Properties", "GetAll", 0,
                              "get image properties", &props, "s", MACHINED_IMAGE_INTERFACE);
        if (r < 0)
                return image_exit_code();
        r = sd_bus_message_enter_container(props, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(props, 'e', "sv")) > 0) {
                const char *key, *contents, *s;
                char buf[64];
                uint64_t t;
                int b;

                r = sd_bus_message_read(props, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(props, NULL, &contents);
                if (r < 0)
                        break;
                if (streq(contents, "s")) {
                        r = sd_bus_message_read(props, "v", "s", &s);
                        if (r >= 0 && !isempty(s)) {
                                /* OSRelease is the guest's text. */
                                _cleanup_free_ char *e = escape_terminal(s, 1024, 0);
                                printf("%22s: %s\n", key, strna(e));
                        }
                } else if (streq(contents, "b")) {
                        r = sd_bus_message_read(props, "v", "b", &b);
                        if (r >= 0)
                                printf("%22s: %s\n", key, b ? "yes" : "no");
                } else if (streq(contents, "t")) {
                        r = sd_bus_message_read(props, "v", "t", &t);
                        if (r >= 0) {
                                if (streq(key, "Usage"))
                                        format_bytes(t, buf, sizeof buf);
                                else
                                        format_time(t, buf, sizeof buf);
                                printf("%22s: %s\n", key, buf);
                        }
                } else
                        r = sd_bus_message_skip(props, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(props);
        }
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        return EXIT_OK;
}

static int list_snapshots(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *snap, *type;
        uint64_t crtime, mtime;
        unsigned n = 0;
        int r;

        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                              "ListImageSnapshots", 0, "list snapshots", &reply, "s", name);
        if (r < 0)
                return image_exit_code();
        r = sd_bus_message_enter_container(reply, 'a', "(sstt)");
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        if (arg_json)
                printf("[");
        else
                printf("%-24s %-10s %-19s\n", "SNAPSHOT", "TYPE", "CREATED");
        while ((r = sd_bus_message_read(reply, "(sstt)", &snap, &type, &crtime, &mtime)) > 0) {
                char c[32];
                if (arg_json) {
                        printf("%s{\"name\":", n ? "," : "");
                        json_print_string(snap);
                        printf(",\"type\":");
                        json_print_string(type);
                        printf(",\"created\":%llu}", (unsigned long long) crtime);
                } else {
                        _cleanup_free_ char *es = escape_terminal(snap, ESCAPE_UNLIMITED, 0),
                                            *et = escape_terminal(type, ESCAPE_UNLIMITED, 0);
                        format_time(crtime, c, sizeof c);
                        printf("%-24s %-10s %-19s\n", strna(es), strna(et), c);
                }
                n++;
        }
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        if (arg_json)
                printf("]\n");
        return EXIT_OK;
}

/* An absolute, normalized-enough host path for machined, which runs elsewhere. */
static int absolute_host_path(const char *p, char **ret) {
        _cleanup_free_ char *cwd = NULL;

        if (isempty(p))
                return -EINVAL;
        if (p[0] == '/')
                *ret = strdup(p);
        else {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return -errno;
                *ret = strjoin(cwd, "/", p);
        }
        return *ret ? 0 : -ENOMEM;
}

typedef struct CreateCall {
        const char *name;
        bool tty;
        CreatePhase phase;     /* shown last */
        unsigned done, total;  /* of that phase, as last reported */
        sd_bus_message *reply; /* set when the call returned */
} CreateCall;

static void create_call_done(CreateCall *c) {
        c->reply = sd_bus_message_unref(c->reply);
}

/* The counts of the phase that ended: one line in a log, the rewritten line finished on a
 * terminal. */
static void create_phase_end(CreateCall *c) {
        if (c->phase == _CREATE_PHASE_INVALID)
                return;
        if (c->tty)
                putchar('\n');
        else if (c->done > 0 && c->total > 0)
                printf("  %u/%u packages\n", c->done, c->total);
        else if (c->done > 0)
                printf("  %u packages\n", c->done);
}

static int on_image_progress(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        CreateCall *c = userdata;
        const char *name, *phase_name;
        uint32_t done, total;
        CreatePhase phase;

        if (sd_bus_message_read(m, "ssuu", &name, &phase_name, &done, &total) < 0 ||
            !streq(name, c->name))
                return 0;
        phase = create_phase_from_string(phase_name);
        if (phase < 0)
                return 0;
        if (phase != c->phase) {
                create_phase_end(c);
                c->phase = phase;
                if (!c->tty)
                        printf("%s\n", phase_name);
        }
        c->done = done;
        c->total = total;
        /* On a terminal one line per phase, rewritten; in a log only what create_phase_end()
         * writes. */
        if (c->tty) {
                printf("\r%-12s", phase_name);
                if (done > 0 && total > 0)
                        printf(" %u/%u packages", done, total);
                else if (done > 0)
                        printf(" %u packages", done);
        }
        fflush(stdout);
        return 0;
}

static int on_create_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        CreateCall *c = userdata;

        c->reply = sd_bus_message_ref(m);
        return 0;
}

static int verb_create(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *match = NULL, *call = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(create_call_done) CreateCall c = {
                .name = name,
                .tty = isatty(STDOUT_FILENO),
                .phase = _CREATE_PHASE_INVALID,
        };
        const sd_bus_error *e;
        const char *mirror = arg_mirror ?: getenv("NSPAWNCTL_MIRROR");
        int r;

        if (!isempty(mirror) && !mirror_url_is_valid(mirror))
                return log_error("$NSPAWNCTL_MIRROR needs an http, https, ftp or file URL."), EXIT_USAGE;
        /* Subscribed before the call, so that no progress is missed. On the private socket
         * there is no bus name to match the sender by; only machined is at the other end. */
        r = sd_bus_match_signal(bus, &match, sd_bus_is_bus_client(bus) ? MACHINED_BUS_NAME : NULL,
                                MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "ImageProgress",
                                on_image_progress, &c);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &m, MACHINED_BUS_NAME, MACHINED_OBJECT_PATH,
                                                   MACHINED_MANAGER_INTERFACE, "CreateImage");
        if (r >= 0)
                r = sd_bus_message_append(m, "sssbb", name, arg_template, mirror ?: "",
                                          (int) arg_refresh, (int) arg_read_only);
        if (r >= 0)
                r = sd_bus_call_async(bus, &call, m, on_create_reply, &c, IMAGE_LONG_TIMEOUT_USEC);
        if (r < 0)
                return log_error_errno(r, "Failed to ask machined to create %s: %m", name), EXIT_FAIL;

        while (!c.reply) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        break;
        }
        create_phase_end(&c);
        fflush(stdout);
        if (!c.reply)
                return log_error_errno(r, "Lost machined while creating %s: %m", name), EXIT_NO_SERVICE;
        e = sd_bus_message_get_error(c.reply);
        if (e) {
                log_error("Failed to create %s: %s", name, e->message ?: e->name);
                return exit_status_from_bus_error(e, -EIO);
        }
        printf("Created image %s from template %s.\n", name, arg_template);
        return EXIT_OK;
}

int verb_image(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const ImageVerb *v = find_verb(argv[0]);
        char **a;
        int n, r;

        if (!v)
                return EXIT_USAGE;
        r = parse_options(v, argc, argv);
        if (r <= 0)
                return -r;
        a = argv + optind;
        n = argc - optind;

        /* Names are checked here too, for a clear message before anything is asked. */
        if (streq(v->name, "import-tar")) {
                if ((r = check_image_name(a[1])) < 0)
                        return -r;
        } else if (streq(v->name, "remove")) {
                for (int i = 0; i < n; i++)
                        if ((r = check_image_name(a[i])) < 0)
                                return -r;
        } else if (n > 0 && (r = check_image_name(a[0])) < 0)
                return -r;
        if ((streq(v->name, "clone") || streq(v->name, "rename") || streq(v->name, "snapshot") ||
             streq(v->name, "restore") || streq(v->name, "remove-snapshot")) &&
            (r = check_image_name(a[1])) < 0)
                return -r;
        if (streq(v->name, "read-only") && n == 2 && parse_boolean(a[1]) < 0)
                return log_error("read-only takes yes or no, not '%s'.", a[1]), EXIT_USAGE;

        if (bus_connect_machined(bus_state_dir(arg_state_dir), &bus) < 0)
                return bus_last_exit_code();
        if (streq(v->name, "create"))
                return verb_create(bus, a[0]);

#define CALL(member, what, timeout, types, ...)                                             \
        (bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, member,   \
                           timeout, what, NULL, types, __VA_ARGS__) < 0                     \
                 ? image_exit_code()                                                        \
                 : EXIT_OK)

        if (streq(v->name, "list-images"))
                return list_images(bus);
        if (streq(v->name, "image-status"))
                return image_status(bus, a[0]);
        if (streq(v->name, "list-snapshots"))
                return list_snapshots(bus, a[0]);
        if (streq(v->name, "clone"))
                return CALL("CloneImage", "clone image", IMAGE_LONG_TIMEOUT_USEC, "ssb", a[0], a[1],
                            (int) arg_read_only);
        if (streq(v->name, "rename"))
                return CALL("RenameImage", "rename image", 0, "ss", a[0], a[1]);
        if (streq(v->name, "remove")) {
                for (int i = 0; i < n; i++) {
                        r = CALL("RemoveImage", "remove image", IMAGE_LONG_TIMEOUT_USEC, "s", a[i]);
                        if (r != EXIT_OK)
                                return r;
                }
                return EXIT_OK;
        }
        if (streq(v->name, "read-only"))
                return CALL("MarkImageReadOnly", "change read-only", 0, "sb", a[0],
                            n == 2 ? parse_boolean(a[1]) : 1);
        if (streq(v->name, "snapshot"))
                return CALL("SnapshotImage", "snapshot image", IMAGE_LONG_TIMEOUT_USEC, "ss", a[0], a[1]);
        if (streq(v->name, "restore"))
                return CALL("RestoreImage", "restore image", IMAGE_LONG_TIMEOUT_USEC, "ss", a[0], a[1]);
        if (streq(v->name, "remove-snapshot"))
                return CALL("RemoveImageSnapshot", "remove snapshot", IMAGE_LONG_TIMEOUT_USEC, "ss",
                            a[0], a[1]);
        if (streq(v->name, "clean")) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                uint32_t removed = 0;
                r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                                      "CleanImages", 0, "clean the pool", &reply, NULL);
                if (r < 0)
                        return image_exit_code();
                (void) sd_bus_message_read(reply, "u", &removed);
                printf("Removed %u leftover(s).\n", removed);
                return EXIT_OK;
        }

        /* The rest pass host paths to machined: make them absolute here. */
        _cleanup_free_ char *host = NULL;
        const char *host_arg = streq(v->name, "export-tar") ? a[1]
                               : streq(v->name, "import-tar") ? a[0]
                               : streq(v->name, "copy-to")    ? a[1]
                                                              : a[2];
        r = absolute_host_path(host_arg, &host);
        if (r < 0)
                return log_error_errno(r, "Bad path '%s': %m", host_arg), EXIT_USAGE;
        if (streq(v->name, "export-tar"))
                return CALL("ExportImageTar", "export image", IMAGE_LONG_TIMEOUT_USEC, "ss", a[0], host);
        if (streq(v->name, "import-tar"))
                return CALL("ImportImageTar", "import image", IMAGE_LONG_TIMEOUT_USEC, "ssb", host, a[1],
                            (int) arg_read_only);
        if (streq(v->name, "copy-to"))
                return CALL("CopyToImage", "copy into the image", IMAGE_LONG_TIMEOUT_USEC, "sss", a[0],
                            host, a[2]);
        return CALL("CopyFromImage", "copy out of the image", IMAGE_LONG_TIMEOUT_USEC, "sss", a[0],
                    a[1], host);
}
