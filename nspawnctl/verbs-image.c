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
#include "util/strv.h"
#include "util/util.h"
#include "verbs.h"

/* Imports, exports and copies of big trees take a while; machined serves others meanwhile. */
#define IMAGE_LONG_TIMEOUT_USEC (3600ULL * 1000000ULL)

/* The options of the image verbs, parsed once and passed down. */
typedef struct ImageOptions {
        const char *state_dir;
        bool json, no_legend, read_only, refresh;
        const char *template_name, *mirror;
} ImageOptions;
#define IMAGE_OPTIONS_DEFAULT { .template_name = "debian-bookworm" }

enum { ARG_STATE_DIR = 0x100, ARG_JSON, ARG_READ_ONLY, ARG_TEMPLATE, ARG_MIRROR, ARG_REFRESH, ARG_NO_LEGEND };

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
#define OPT_NO_LEGEND (1u << 3)

static const ImageVerb image_verbs[] = {
        { "list-images", 0, 0, "", "List the images of the pool.", OPT_JSON | OPT_NO_LEGEND },
        { "list-templates", 0, 0, "", "List the templates images can be created from.",
          OPT_JSON | OPT_NO_LEGEND },
        { "image-status", 1, 1, "NAME", "Show an image's properties and its OS.", OPT_JSON },
        { "clone", 2, 2, "NAME NEW-NAME", "Clone an image (a snapshot on btrfs).", OPT_READ_ONLY },
        { "rename", 2, 2, "NAME NEW-NAME", "Rename an image (not while a machine runs it).", 0 },
        { "remove", 1, 64, "NAME...", "Remove images and their snapshots.", 0 },
        { "read-only", 1, 2, "NAME [yes|no]", "Mark an image read-only or writable.", 0 },
        { "snapshot", 2, 2, "NAME SNAPSHOT", "Take a read-only snapshot of an image.", 0 },
        { "list-snapshots", 1, 1, "NAME", "List the snapshots of an image.", OPT_JSON | OPT_NO_LEGEND },
        { "restore", 2, 2, "NAME SNAPSHOT", "Put an image back to a snapshot (not while running).", 0 },
        { "remove-snapshot", 2, 2, "NAME SNAPSHOT", "Remove a snapshot.", 0 },
        { "export-tar", 2, 2, "NAME FILE", "Write an image to FILE (.tar, .tar.gz, .tar.xz, .tar.zst).", 0 },
        { "import-tar", 2, 2, "FILE NAME", "Make an image from a tar archive, after checking every member.", OPT_READ_ONLY },
        { "copy-to", 3, 3, "NAME HOST-PATH PATH", "Copy a host file or directory into an image.", 0 },
        { "copy-from", 3, 3, "NAME PATH HOST-PATH", "Copy a file or directory out of an image.", 0 },
        { "clean", 0, 0, "", "Remove leftovers of interrupted image operations.", OPT_JSON },
        { "create", 1, 1, "NAME", "Create an image from a template (debootstrap once, then snapshots).", OPT_CREATE | OPT_READ_ONLY },
};

static const ImageVerb *find_verb(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(image_verbs); i++)
                if (streq(image_verbs[i].name, name))
                        return &image_verbs[i];
        return NULL;
}

static void print_help(const ImageVerb *v) {
        printf("nspawnctl %s %s\n\n%s\n\n"
               "  -h --help             Show this help\n"
               "     --state-dir=DIR    Where machined's private socket is, when there is no\n"
               "                        system bus (default $NSPAWNCTL_STATE_DIR or /run/nspawnctl)\n",
               v->name, v->usage, v->help);
        if (v->options & OPT_JSON)
                printf("     --json             %s, for scripts\n",
                       streq(v->name, "image-status") || streq(v->name, "clean") ? "One JSON object"
                                                                                  : "One JSON array");
        if (v->options & OPT_NO_LEGEND)
                printf("     --no-legend        No header and footer lines\n");
        if (v->options & OPT_READ_ONLY)
                printf("     --read-only        Make the new image read-only\n");
        if (v->options & OPT_CREATE)
                printf("     --template=NAME    The template (default debian-bookworm)\n"
                       "     --mirror=URL       Debian mirror (default: the host's apt sources)\n"
                       "     --refresh          Rebuild the template's base image first\n");
}

/* Returns 1 to go on, 0 after --help, or an exit code (negated) on a usage error. */
static int parse_options(const ImageVerb *v, int argc, char *argv[], ImageOptions *o) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "json", no_argument, NULL, ARG_JSON },
                { "read-only", no_argument, NULL, ARG_READ_ONLY },
                { "template", required_argument, NULL, ARG_TEMPLATE },
                { "mirror", required_argument, NULL, ARG_MIRROR },
                { "refresh", no_argument, NULL, ARG_REFRESH },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                {},
        };
        int c, n;

        optind = 0;
        /* Options anywhere, as the machine verbs take them; a path starting with '-' goes
         * after "--". */
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                unsigned need = c == ARG_JSON                                              ? OPT_JSON
                                : c == ARG_NO_LEGEND                                       ? OPT_NO_LEGEND
                                : c == ARG_READ_ONLY                                       ? OPT_READ_ONLY
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
                        if (bus_parse_state_dir(optarg, &o->state_dir) < 0)
                                return -EXIT_USAGE;
                        break;
                case ARG_JSON:
                        o->json = true;
                        break;
                case ARG_READ_ONLY:
                        o->read_only = true;
                        break;
                case ARG_TEMPLATE:
                        if (!image_name_is_valid(optarg))
                                return log_error("Invalid template name '%s'.", optarg), -EXIT_USAGE;
                        o->template_name = optarg;
                        break;
                case ARG_MIRROR:
                        if (!mirror_url_is_valid(optarg))
                                return log_error("--mirror= needs an http, https, ftp or file URL."),
                                       -EXIT_USAGE;
                        o->mirror = optarg;
                        break;
                case ARG_REFRESH:
                        o->refresh = true;
                        break;
                case ARG_NO_LEGEND:
                        o->no_legend = true;
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

/* The listings below: calls the manager's member (with name as its argument unless NULL)
 * and enters the reply's array of element. 0, or the ExitStatus of the failure (logged). */
static int list_call(sd_bus *bus, const char *member, const char *what, const char *name, const char *element,
                     sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, member, 0, what, &reply,
                              name ? "s" : NULL, name);
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', element);
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

/* Ends a listing whose last read returned r, after n items: "]", or "N noun(s)." under the
 * table (none when noun is NULL). */
static int list_end(int r, unsigned n, const char *noun, const ImageOptions *o) {
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        if (o->json)
                printf("]\n");
        else if (!o->no_legend && noun)
                printf("\n%u %s(s).\n", n, noun);
        return EXIT_OK;
}

static int list_images(sd_bus *bus, const ImageOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *type, *path;
        uint64_t crtime, mtime, usage;
        unsigned n = 0;
        int ro, r;

        r = list_call(bus, "ListImages", "list images", NULL, "(ssbttto)", &reply);
        if (r > 0)
                return r;
        if (o->json)
                printf("[");
        else if (!o->no_legend)
                printf("%-24s %-10s %-3s %-19s %-19s %8s\n", "NAME", "TYPE", "RO", "CREATED",
                       "MODIFIED", "USAGE");
        while ((r = sd_bus_message_read(reply, "(ssbttto)", &name, &type, &ro, &crtime, &mtime,
                                        &usage, &path)) > 0) {
                char c[32], m[32], u[32];
                if (o->json) {
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
        return list_end(r, n, "image", o);
}

/* "CreationTimestamp" -> "creation_timestamp", "OSRelease" -> "os_release". */
static void print_json_key(const char *key) {
        putchar('"');
        for (const char *c = key; *c; c++) {
                bool upper = *c >= 'A' && *c <= 'Z';
                bool after_lower = c != key && c[-1] >= 'a' && c[-1] <= 'z';
                bool acronym_end = c != key && c[-1] >= 'A' && c[-1] <= 'Z' && c[1] >= 'a' && c[1] <= 'z';
                if (upper && (after_lower || acronym_end))
                        putchar('_');
                putchar(upper ? *c - 'A' + 'a' : *c);
        }
        fputs("\":", stdout);
}

static int image_status(sd_bus *bus, const char *name, const ImageOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *props = NULL;
        const char *path;
        unsigned n = 0;
        int r;

        r = bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "GetImage", 0,
                              "get image", &reply, "s", name);
        if (r > 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        r = bus_call_machined(bus, path, "org.freedesktop.DBus.Properties", "GetAll", 0,
                              "get image properties", &props, "s", MACHINED_IMAGE_INTERFACE);
        if (r > 0)
                return r;
        if (o->json)
                putchar('{');
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
                if (o->json && (streq(contents, "s") || streq(contents, "b") || streq(contents, "t") ||
                                streq(contents, "as"))) {
                        printf("%s", n++ ? "," : "");
                        print_json_key(key);
                }
                if (streq(contents, "s")) {
                        r = sd_bus_message_read(props, "v", "s", &s);
                        if (r >= 0 && o->json)
                                json_print_string(s);
                        else if (r >= 0 && !isempty(s)) {
                                /* OSRelease is the guest's text. */
                                _cleanup_free_ char *e = escape_terminal(s, 1024, 0);
                                printf("%22s: %s\n", key, strna(e));
                        }
                } else if (streq(contents, "b")) {
                        r = sd_bus_message_read(props, "v", "b", &b);
                        if (r >= 0)
                                printf(o->json ? "%s" : "%22s: %s\n", o->json ? (b ? "true" : "false") : key,
                                       b ? "yes" : "no");
                } else if (streq(contents, "t")) {
                        r = sd_bus_message_read(props, "v", "t", &t);
                        if (r >= 0 && o->json) {
                                if (t == UINT64_MAX)
                                        printf("null");
                                else
                                        printf("%llu", (unsigned long long) t);
                        } else if (r >= 0) {
                                if (streq(key, "Usage"))
                                        format_bytes(t, buf, sizeof buf);
                                else
                                        format_time(t, buf, sizeof buf);
                                printf("%22s: %s\n", key, buf);
                        }
                } else if (streq(contents, "as")) {
                        _cleanup_strv_free_ char **l = NULL;
                        r = sd_bus_message_enter_container(props, 'v', "as");
                        if (r >= 0)
                                r = sd_bus_message_read_strv(props, &l);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(props);
                        if (r >= 0 && o->json) {
                                putchar('[');
                                STRV_FOREACH(i, l) {
                                        printf("%s", i == l ? "" : ",");
                                        json_print_string(*i);
                                }
                                putchar(']');
                        } else if (r >= 0)
                                STRV_FOREACH(i, l) {
                                        _cleanup_free_ char *e = escape_terminal(*i, 1024, 0);
                                        printf("%22s  %s\n", i == l ? key : "", strna(e));
                                }
                } else
                        r = sd_bus_message_skip(props, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(props);
        }
        if (r < 0)
                return log_error_errno(r, "Bad reply: %m"), EXIT_FAIL;
        if (o->json)
                printf("}\n");
        return EXIT_OK;
}

static int list_snapshots(sd_bus *bus, const char *name, const ImageOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *snap, *type;
        uint64_t crtime, mtime;
        unsigned n = 0;
        int r;

        r = list_call(bus, "ListImageSnapshots", "list snapshots", name, "(sstt)", &reply);
        if (r > 0)
                return r;
        if (o->json)
                printf("[");
        else if (!o->no_legend)
                printf("%-24s %-10s %-19s\n", "SNAPSHOT", "TYPE", "CREATED");
        while ((r = sd_bus_message_read(reply, "(sstt)", &snap, &type, &crtime, &mtime)) > 0) {
                char c[32];
                if (o->json) {
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
        return list_end(r, n, NULL, o);
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

/* A long call whose progress machined tells as ImageProgress signals: create (phases and
 * package counts, also in a log), import-tar and export-tar (bytes and rate, only on a
 * terminal). */
typedef struct ProgressCall {
        const char *name;
        bool tty;
        CreatePhase phase;     /* shown last */
        unsigned done, total;  /* of that phase, as last reported */
        uint64_t since_usec;   /* when the phase began, for the rate */
        sd_bus_message *reply; /* set when the call returned */
} ProgressCall;

static void progress_call_done(ProgressCall *c) {
        c->reply = sd_bus_message_unref(c->reply);
}

static bool phase_is_tar(CreatePhase p) {
        return p == CREATE_PHASE_IMPORTING || p == CREATE_PHASE_EXPORTING;
}

/* The counts of the phase that ended: one line in a log, the rewritten line finished on a
 * terminal. */
static void progress_phase_end(ProgressCall *c) {
        if (c->phase == _CREATE_PHASE_INVALID)
                return;
        if (c->tty)
                putchar('\n');
        else if (phase_is_tar(c->phase))
                ; /* quiet when piped */
        else if (c->done > 0 && c->total > 0)
                printf("  %u/%u packages\n", c->done, c->total);
        else if (c->done > 0)
                printf("  %u packages\n", c->done);
}

/* "123.4 MiB of 400.0 MiB, 45.6 MiB/s" */
static void print_tar_progress(const ProgressCall *c) {
        char done[32], total[32], rate[32];
        uint64_t elapsed = now_usec(CLOCK_MONOTONIC) - c->since_usec;

        format_bytes((uint64_t) c->done * 1024, done, sizeof done);
        printf("\r%-12s %s", create_phase_to_string(c->phase), done);
        if (c->total > 0) {
                format_bytes((uint64_t) c->total * 1024, total, sizeof total);
                printf(" of %s", total);
        }
        if (elapsed >= 100000) {
                format_bytes((uint64_t) ((double) c->done * 1024 * 1000000.0 / (double) elapsed), rate,
                             sizeof rate);
                printf(", %s/s", rate);
        }
        fputs("\033[K", stdout);
}

static int on_image_progress(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ProgressCall *c = userdata;
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
                progress_phase_end(c);
                c->phase = phase;
                c->since_usec = now_usec(CLOCK_MONOTONIC);
                if (!c->tty && !phase_is_tar(phase))
                        printf("%s\n", phase_name);
        }
        c->done = done;
        c->total = total;
        /* On a terminal one line per phase, rewritten; in a log only what
         * progress_phase_end() writes. */
        if (c->tty && phase_is_tar(phase))
                print_tar_progress(c);
        else if (c->tty) {
                printf("\r%-12s", phase_name);
                if (done > 0 && total > 0)
                        printf(" %u/%u packages", done, total);
                else if (done > 0)
                        printf(" %u packages", done);
        }
        fflush(stdout);
        return 0;
}

static int on_progress_call_reply(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ProgressCall *c = userdata;

        c->reply = sd_bus_message_ref(m);
        return 0;
}

/* Sends m and follows name's progress until the reply. Returns 0 with c->reply set, or the
 * ExitStatus of the failure (logged as "Failed to WHAT: ..."). */
static int progress_call(sd_bus *bus, sd_bus_message *m, const char *what, ProgressCall *c) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *match = NULL, *call = NULL;
        const sd_bus_error *e;
        int r;

        c->phase = _CREATE_PHASE_INVALID;
        /* Subscribed before the call, so that no progress is missed. On the private socket
         * there is no bus name to match the sender by; only machined is at the other end. */
        r = sd_bus_match_signal(bus, &match, sd_bus_is_bus_client(bus) ? MACHINED_BUS_NAME : NULL,
                                MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "ImageProgress",
                                on_image_progress, c);
        if (r >= 0)
                r = sd_bus_call_async(bus, &call, m, on_progress_call_reply, c, IMAGE_LONG_TIMEOUT_USEC);
        if (r < 0)
                return log_error_errno(r, "Failed to %s: %m", what), EXIT_FAIL;

        while (!c->reply) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                r = sd_bus_wait(bus, UINT64_MAX);
                if (r < 0)
                        break;
        }
        progress_phase_end(c);
        fflush(stdout);
        if (!c->reply)
                return log_error_errno(r, "Lost machined: failed to %s: %m", what), EXIT_NO_SERVICE;
        e = sd_bus_message_get_error(c->reply);
        if (e) {
                log_error("Failed to %s: %s", what, e->message ?: e->name);
                return exit_status_from_bus_error(e, -EIO);
        }
        return 0;
}

static int new_manager_call(sd_bus *bus, const char *member, sd_bus_message **ret) {
        return sd_bus_message_new_method_call(bus, ret, MACHINED_BUS_NAME, MACHINED_OBJECT_PATH,
                                              MACHINED_MANAGER_INTERFACE, member);
}

static int verb_create(sd_bus *bus, const char *name, const ImageOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(progress_call_done) ProgressCall c = { .name = name, .tty = isatty(STDOUT_FILENO) };
        _cleanup_free_ char *what = strjoin("create ", name);
        const char *mirror = o->mirror ?: getenv("NSPAWNCTL_MIRROR");
        int r;

        if (!what)
                return log_oom(), EXIT_FAIL;
        if (!isempty(mirror) && !mirror_url_is_valid(mirror))
                return log_error("$NSPAWNCTL_MIRROR needs an http, https, ftp or file URL."), EXIT_USAGE;
        r = new_manager_call(bus, "CreateImage", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sssbb", name, o->template_name, mirror ?: "",
                                          (int) o->refresh, (int) o->read_only);
        if (r < 0)
                return log_error_errno(r, "Failed to ask machined to create %s: %m", name), EXIT_FAIL;
        r = progress_call(bus, m, what, &c);
        if (r > 0)
                return r;
        printf("Created image %s from template %s.\n", name, o->template_name);
        return EXIT_OK;
}

/* export-tar and import-tar: bytes and rate on a terminal, nothing when piped. */
static int tar_call(sd_bus *bus, bool import, const char *name, const char *host_path, const ImageOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(progress_call_done) ProgressCall c = {
                .name = name,
                .tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO),
        };
        uint32_t skipped = 0;
        int r;

        r = new_manager_call(bus, import ? "ImportImageTar" : "ExportImageTar", &m);
        if (r >= 0)
                r = import ? sd_bus_message_append(m, "ssb", host_path, name, (int) o->read_only)
                           : sd_bus_message_append(m, "ss", name, host_path);
        if (r < 0)
                return log_error_errno(r, "Failed to build the call: %m"), EXIT_FAIL;
        r = progress_call(bus, m, import ? "import image" : "export image", &c);
        if (r > 0)
                return r;
        if (import && sd_bus_message_read(c.reply, "u", &skipped) > 0 && skipped > 0)
                log_warning("Skipped %u device node%s of the archive: the machine's /dev is made at start.",
                            skipped, skipped == 1 ? "" : "s");
        return EXIT_OK;
}

/* snapshot and export-tar of a running box: the copy is what its disk holds at one moment,
 * as with a power cut; a note says so (machinectl likewise copies a running machine). */
static void note_if_running(sd_bus *bus, const char *name, const char *what) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

        if (bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, "GetMachine", 0, NULL, &reply,
                              "s", name) == 0)
                log_notice("Note: machine %s is running; the %s is its disk as it is at this moment, which may be "
                           "inconsistent for programs writing meanwhile (poweroff first for a clean one).",
                           name, what);
}

/* The templates machined can create from. */
static int list_templates(sd_bus *bus, const ImageOptions *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *description, *path;
        unsigned n = 0;
        int r;

        r = list_call(bus, "ListTemplates", "list templates", NULL, "(sss)", &reply);
        if (r > 0)
                return r;
        if (o->json)
                printf("[");
        else if (!o->no_legend)
                printf("%-24s %s\n", "TEMPLATE", "DESCRIPTION");
        while ((r = sd_bus_message_read(reply, "(sss)", &name, &description, &path)) > 0) {
                if (o->json) {
                        printf("%s{\"name\":", n ? "," : "");
                        json_print_string(name);
                        printf(",\"description\":");
                        json_print_string(description);
                        printf(",\"path\":");
                        json_print_string(path);
                        printf("}");
                } else {
                        _cleanup_free_ char *en = escape_terminal(name, ESCAPE_UNLIMITED, 0),
                                            *ed = escape_terminal(description, 200, 0);
                        printf("%-24s %s\n", strna(en), strna(ed));
                }
                n++;
        }
        return list_end(r, n, "template", o);
}

int verb_image(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const ImageVerb *v = find_verb(argv[0]);
        ImageOptions o = IMAGE_OPTIONS_DEFAULT;
        char **a;
        int n, r;

        if (!v)
                return EXIT_USAGE;
        r = parse_options(v, argc, argv, &o);
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

        r = bus_connect_machined(bus_state_dir(o.state_dir), &bus);
        if (r > 0)
                return r;
        if (streq(v->name, "create"))
                return verb_create(bus, a[0], &o);

#define CALL(member, what, timeout, types, ...)                                             \
        bus_call_machined(bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE, member, timeout, \
                          what, NULL, types, __VA_ARGS__)

        if (streq(v->name, "list-images"))
                return list_images(bus, &o);
        if (streq(v->name, "list-templates"))
                return list_templates(bus, &o);
        if (streq(v->name, "image-status"))
                return image_status(bus, a[0], &o);
        if (streq(v->name, "list-snapshots"))
                return list_snapshots(bus, a[0], &o);
        if (streq(v->name, "clone"))
                return CALL("CloneImage", "clone image", IMAGE_LONG_TIMEOUT_USEC, "ssb", a[0], a[1],
                            (int) o.read_only);
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
        if (streq(v->name, "snapshot")) {
                note_if_running(bus, a[0], "snapshot");
                return CALL("SnapshotImage", "snapshot image", IMAGE_LONG_TIMEOUT_USEC, "ss", a[0], a[1]);
        }
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
                if (r > 0)
                        return r;
                (void) sd_bus_message_read(reply, "u", &removed);
                if (o.json)
                        printf("{\"removed\":%u}\n", removed);
                else
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
        if (streq(v->name, "export-tar")) {
                note_if_running(bus, a[0], "archive");
                return tar_call(bus, /* import= */ false, a[0], host, &o);
        }
        if (streq(v->name, "import-tar"))
                return tar_call(bus, /* import= */ true, a[1], host, &o);
        if (streq(v->name, "copy-to"))
                return CALL("CopyToImage", "copy into the image", IMAGE_LONG_TIMEOUT_USEC, "sss", a[0],
                            host, a[2]);
        return CALL("CopyFromImage", "copy out of the image", IMAGE_LONG_TIMEOUT_USEC, "sss", a[0],
                    a[1], host);
}
