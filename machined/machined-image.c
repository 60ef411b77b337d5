/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Images over D-Bus: Manager methods shaped like machine1's image calls, and one object
 * per image under MACHINED_IMAGE_PATH_PREFIX. Everything is read from the pool when asked,
 * except the usage ListImages reports, which is remembered per image until the image
 * changes (core/image-usage.h): a walk of every tree on every list would not scale.
 * Operations that can take long (create, a copy instead of a snapshot, tar, removal of a big
 * directory tree) run in a forked worker, so the bus keeps being served; the method replies
 * when it finishes. A worker may report progress on the way (create: package counts), which
 * goes out as the ImageProgress signal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy.h"
#include "image-create.h"
#include "image-tar.h"
#include "image-usage.h"
#include "image.h"
#include "machined-errors.h"
#include "machined.h"
#include "names.h"
#include "pool.h"
#include "template.h"
#include "util/escape.h"
#include "util/strv.h"
#include "util/util.h"

#define strempty(s) ((s) ?: "")

/* ---- errors ---- */

static int reply_errno(sd_bus_error *error, int r, const char *name, const char *detail) {
        switch (r) {
        case -EINVAL:
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME, "Invalid image name '%s'.",
                                         strna(name));
        case -ENOENT:
                if (detail)
                        return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "%s", detail);
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "No image '%s'.", strna(name));
        case -EEXIST:
                return sd_bus_error_setf(error, BUS_ERROR_IMAGE_EXISTS, "An image '%s' exists already.",
                                         strna(name));
        case -EBUSY:
                return sd_bus_error_setf(error, BUS_ERROR_IMAGE_BUSY,
                                         "Image '%s' is in use by a running machine or another operation.",
                                         strna(name));
        case -EPERM:
                if (detail)
                        return sd_bus_error_setf(error, BUS_ERROR_UNSAFE_ARCHIVE, "%s", detail);
                break;
        case -ENOSPC:
                return sd_bus_error_set_errnof(error, r, "The image pool is full.");
        case -EPROTO: /* a tool failed; detail has its last words */
        case -EBADFD: /* a special file refused; detail names it */
                if (detail)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", detail);
                break;
        default:
                break;
        }
        if (detail)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s: %s", detail, strerror(-r));
        return sd_bus_error_set_errno(error, r);
}

static bool image_in_use(const char *name, void *userdata) {
        return manager_find_machine(userdata, name) != NULL;
}

/* ---- workers ---- */

/* What a worker sends up its pipe: any number of progress or usage messages, then one result.
 * Each is written whole in one write() below PIPE_BUF, so reads never see half of one. */
typedef enum ImageJobMessageType {
        IMAGE_JOB_PROGRESS,
        IMAGE_JOB_USAGE,
        IMAGE_JOB_RESULT,
} ImageJobMessageType;

typedef struct ImageJobMessage {
        ImageJobMessageType type;
        int r;
        CreatePhase phase;     /* PROGRESS */
        unsigned done, total;  /* PROGRESS */
        ImageUsageKey key;     /* USAGE */
        uint64_t usage;        /* USAGE */
        char detail[512];      /* RESULT */
} ImageJobMessage;

/* The worker's side. */
typedef struct ImageWorker {
        int fd;
        ImageJobMessage result;
        ImageJobMessage pending; /* the last progress, not sent yet when type is RESULT */
        uint64_t last_sent_usec;
} ImageWorker;

typedef int (*ImageJobFunc)(Manager *m, char **args, ImageWorker *w);
/* Called with the worker's result instead of replying to the job's message. */
typedef void (*ImageJobDoneFunc)(Manager *m, int r);

typedef struct ImageJob {
        Manager *manager;
        sd_bus_message *message;
        ImageJobDoneFunc done;
        sd_event_source *source;
        char *name; /* for error messages and progress signals */
        pid_t pid;
        int fd;
} ImageJob;

/* ListImages: the usage of images that did not change comes from this cache; the others are
 * walked by one worker at a time, and every ListImages that arrives meanwhile is answered
 * when it is done. One per process, as the Manager is; lives as long as machined. */
static struct {
        ImageUsageCache *cache;
        bool walking;
        sd_bus_message **waiting;
        size_t n_waiting;
} usage;

/* Usage of images that are not subvolumes is remembered this long (see image-usage.h). */
#define USAGE_MAX_AGE_USEC (30ULL * 1000000ULL)

static ImageJob *image_job_free(ImageJob *j) {
        if (!j)
                return NULL;
        sd_event_source_unref(j->source);
        sd_bus_message_unref(j->message);
        safe_close(j->fd);
        free(j->name);
        free(j);
        return NULL;
}

/* Progress goes to everyone connected, as MachineNew does: the caller of a create on the
 * system bus and one on the private socket alike. */
static void emit_image_progress(Manager *m, const char *name, const ImageJobMessage *msg) {
        const char *phase = create_phase_to_string(msg->phase);

        if (!phase)
                return;
        if (m->bus)
                (void) sd_bus_emit_signal(m->bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                                          "ImageProgress", "ssuu", name, phase, msg->done,
                                          msg->total);
        for (PrivateConnection *c = m->connections; c; c = c->next)
                (void) sd_bus_emit_signal(c->bus, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                                          "ImageProgress", "ssuu", name, phase, msg->done,
                                          msg->total);
}

static int image_job_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ImageJob *j = userdata;
        ImageJobMessage msg;
        ssize_t n;

        n = loop_read(fd, &msg, sizeof msg);
        if (n != (ssize_t) sizeof msg ||
            msg.type < IMAGE_JOB_PROGRESS || msg.type > IMAGE_JOB_RESULT)
                msg = (ImageJobMessage){ .type = IMAGE_JOB_RESULT, .r = -EIO,
                                         .detail = "The image worker died." };
        msg.detail[sizeof msg.detail - 1] = 0;
        if (msg.type == IMAGE_JOB_PROGRESS) {
                emit_image_progress(j->manager, j->name, &msg);
                return 0;
        }
        if (msg.type == IMAGE_JOB_USAGE) {
                if (usage.cache)
                        image_usage_cache_put(usage.cache, &msg.key, msg.usage);
                return 0;
        }
        /* machined lets the kernel reap its children (SA_NOCLDWAIT); a failure is fine. */
        (void) waitpid(j->pid, NULL, WNOHANG);

        if (j->done)
                j->done(j->manager, msg.r);
        else if (msg.r >= 0)
                (void) sd_bus_reply_method_return(j->message, NULL);
        else {
                /* The detail may name a guest's file or an archive's member: any bytes. */
                _cleanup_free_ char *detail = msg.detail[0] ? utf8_escape_invalid(msg.detail) : NULL;
                (void) reply_errno(&error, msg.r, j->name, detail);
                (void) sd_bus_reply_method_error(j->message, &error);
        }
        image_job_free(j);
        return 0;
}

/* Counts, not a flood: a progress message when the phase changes (after the last count of
 * the one before), when a phase is complete, and otherwise at most every 250 ms. */
#define PROGRESS_INTERVAL_USEC (250ULL * 1000ULL)

static void worker_send_pending(ImageWorker *w) {
        if (w->pending.type != IMAGE_JOB_PROGRESS)
                return;
        (void) loop_write(w->fd, &w->pending, sizeof w->pending);
        w->pending.type = IMAGE_JOB_RESULT;
        w->last_sent_usec = now_usec(CLOCK_MONOTONIC);
}

static void worker_progress(const CreateProgress *p, void *userdata) {
        ImageWorker *w = userdata;
        bool new_phase = p->phase != w->pending.phase;

        if (new_phase)
                worker_send_pending(w);
        w->pending = (ImageJobMessage){
                .type = IMAGE_JOB_PROGRESS,
                .phase = p->phase,
                .done = p->current,
                .total = p->total,
        };
        if (new_phase || (p->total > 0 && p->current == p->total) ||
            now_usec(CLOCK_MONOTONIC) - w->last_sent_usec >= PROGRESS_INTERVAL_USEC)
                worker_send_pending(w);
}

/* Runs f in a child process, then replies to message, or calls done if given. */
static int image_job_start_full(Manager *m, sd_bus_message *message, const char *name,
                                ImageJobFunc f, char **args, ImageJobDoneFunc done) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        ImageJob *j;
        pid_t pid;
        int r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                ImageWorker w = {
                        .fd = p[1],
                        .result.type = IMAGE_JOB_RESULT,
                        .pending = { .type = IMAGE_JOB_RESULT, .phase = _CREATE_PHASE_INVALID },
                };

                /* The worker waits for tar and friends itself. */
                (void) signal(SIGCHLD, SIG_DFL);
                (void) signal(SIGPIPE, SIG_DFL);
                p[0] = safe_close(p[0]);
                /* A loop-backed pool grows before it fills: when under a third is free. */
                (void) pool_grow_if_needed(m->pool, 0);
                w.result.r = f(m, args, &w);
                worker_send_pending(&w);
                (void) loop_write(p[1], &w.result, sizeof w.result);
                _exit(EXIT_SUCCESS);
        }
        p[1] = safe_close(p[1]);

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->manager = m;
        j->message = sd_bus_message_ref(message);
        j->done = done;
        j->pid = pid;
        j->fd = TAKE_FD(p[0]);
        j->name = strdup(name);
        r = sd_event_add_io(m->event, &j->source, j->fd, EPOLLIN, image_job_io, j);
        if (r < 0 || !j->name) {
                (void) kill(pid, SIGKILL);
                image_job_free(j);
                return r < 0 ? r : -ENOMEM;
        }
        return 1;
}

static int image_job_start(Manager *m, sd_bus_message *message, const char *name, ImageJobFunc f,
                           char **args, sd_bus_error *error) {
        return image_job_start_full(m, message, name, f, args, NULL);
}

static int job_clone(Manager *m, char **a, ImageWorker *w) {
        return image_clone(m->pool, a[0], a[1], streq(a[2], "ro") ? IMAGE_READ_ONLY : 0);
}

static int job_remove(Manager *m, char **a, ImageWorker *w) {
        return image_remove(m->pool, a[0], image_in_use, m);
}

static int job_snapshot(Manager *m, char **a, ImageWorker *w) {
        return image_snapshot(m->pool, a[0], a[1]);
}

static int job_restore(Manager *m, char **a, ImageWorker *w) {
        return image_restore(m->pool, a[0], a[1], image_in_use, m);
}

static int job_remove_snapshot(Manager *m, char **a, ImageWorker *w) {
        return image_remove_snapshot(m->pool, a[0], a[1]);
}

static int job_export(Manager *m, char **a, ImageWorker *w) {
        return image_export_tar(m->pool, a[0], a[1]);
}

static int job_import(Manager *m, char **a, ImageWorker *w) {
        TarRefusal refusal = {};
        int r;

        r = image_import_tar(m->pool, a[0], a[1], streq(a[2], "ro") ? IMAGE_READ_ONLY : 0, &refusal);
        if (r == -EPERM && refusal.reason)
                snprintf(w->result.detail, sizeof w->result.detail, "Refused archive member '%s': %s.",
                         refusal.path, refusal.reason);
        tar_refusal_done(&refusal);
        return r;
}

static int job_copy(Manager *m, char **a, ImageWorker *w) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        _cleanup_close_ int root = -EBADF;
        int r;

        r = image_ref_open(m->pool, a[1], NULL, &ref);
        if (r < 0)
                return r;
        if (ref.type == IMAGE_RAW)
                return -ENOENT; /* no tree to copy into or out of */
        root = openat(ref.pool_fd, ref.file, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return -errno;
        CopyRefusal refusal = {};
        r = streq(a[0], "to") ? copy_to_tree(root, a[2], a[3], &refusal)
                              : copy_from_tree(root, a[2], a[3], &refusal);
        if (r == -EBADFD && refusal.what)
                snprintf(w->result.detail, sizeof w->result.detail,
                         "Refusing to copy %s: it is %s; only regular files, directories and symlinks "
                         "are copied.",
                         refusal.path, refusal.what);
        else if (r < 0 && r != -ENOENT && r != -EEXIST)
                snprintf(w->result.detail, sizeof w->result.detail, "Failed to copy %s %s", a[0],
                         streq(a[0], "to") ? a[3] : a[2]);
        copy_refusal_done(&refusal);
        return r;
}

static int job_create(Manager *m, char **a, ImageWorker *w) {
        _cleanup_free_ char *why = NULL;
        ImageCreateFlags flags = (streq(a[3], "refresh") ? IMAGE_CREATE_REFRESH : 0) |
                                 (streq(a[4], "ro") ? IMAGE_CREATE_READ_ONLY : 0);
        int r;

        /* An empty mirror: $NSPAWNCTL_MIRROR of machined, else the host's apt sources. */
        r = image_create_from_template(m->pool, a[0], a[1], NULL, a[2], flags, worker_progress, w,
                                       &why);
        if (r < 0 && why)
                snprintf(w->result.detail, sizeof w->result.detail, "%s", why);
        return r;
}

/* Walks the images named in a, for the usage cache of the parent. */
static int job_usage(Manager *m, char **a, ImageWorker *w) {
        STRV_FOREACH(name, a) {
                _cleanup_(image_freep) Image *i = NULL;
                ImageJobMessage msg = { .type = IMAGE_JOB_USAGE };

                /* gone or replaced meanwhile: the list shows no usage for it */
                if (image_get(m->pool, *name, 0, &i) < 0 ||
                    image_usage_walk(i, &msg.key, &msg.usage) < 0)
                        continue;
                (void) loop_write(w->fd, &msg, sizeof msg);
        }
        return 0;
}

/* ---- methods ---- */

static int check_name(const char *name, sd_bus_error *error) {
        if (!image_name_is_valid(name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME, "Invalid image name '%s'.",
                                         strna(name));
        return 0;
}

/* For the methods whose only argument is an image name. */
static int read_image_name(sd_bus_message *message, const char **ret, sd_bus_error *error) {
        int r;

        r = sd_bus_message_read(message, "s", ret);
        if (r < 0)
                return r;
        return check_name(*ret, error);
}

static int check_path(const char *path, sd_bus_error *error) {
        if (isempty(path) || path[0] != '/' || !utf8_is_valid(path))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Paths must be absolute.");
        return 0;
}

static int image_object_path(const char *name, char **ret) {
        return sd_bus_path_encode(MACHINED_IMAGE_PATH_PREFIX, name, ret);
}

/* Sends the list of images to message, with the usage the cache knows (UINT64_MAX for the
 * others). With ret_missing, sends nothing when the cache misses images, names them there
 * and returns 1. */
static int send_image_list(Manager *m, sd_bus_message *message, char ***ret_missing) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **missing = NULL;
        Image **list = NULL;
        size_t n = 0;
        int r;

        r = image_list(m->pool, 0, &list, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (image_usage_cache_lookup(usage.cache, list[i]) <= 0 && ret_missing)
                        r = strv_extend(&missing, list[i]->name);
        if (r >= 0 && missing) {
                image_list_free(list, n);
                *ret_missing = TAKE_PTR(missing);
                return 1;
        }
        if (r >= 0)
                r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssbttto)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *path = NULL;
                r = image_object_path(list[i]->name, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ssbttto)", list[i]->name,
                                                  image_type_to_string(list[i]->type),
                                                  list[i]->read_only, list[i]->crtime, list[i]->mtime,
                                                  list[i]->usage, path);
        }
        image_list_free(list, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static void usage_walk_done(Manager *m, int result) {
        sd_bus_message **waiting = TAKE_PTR(usage.waiting);
        size_t n = usage.n_waiting;
        int r;

        usage.walking = false;
        usage.n_waiting = 0;
        /* Whatever the walk found is in the cache now; images it could not walk, or that
         * changed again meanwhile, are listed without usage rather than walked once more. */
        for (size_t i = 0; i < n; i++) {
                r = send_image_list(m, waiting[i], NULL);
                if (r < 0)
                        (void) sd_bus_reply_method_errnof(waiting[i], r, "Failed to list images: %m");
                sd_bus_message_unref(waiting[i]);
        }
        free(waiting);
}

static int method_list_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **missing = NULL;
        Manager *m = userdata;
        sd_bus_message **w;
        int r;

        if (!usage.cache) {
                r = image_usage_cache_new(USAGE_MAX_AGE_USEC, &usage.cache);
                if (r < 0)
                        return r;
        }
        r = send_image_list(m, message, &missing);
        if (r < 0)
                return reply_errno(error, r, m->pool, "Failed to list images");
        if (r == 0)
                return 1;

        /* Some images are new or changed: the walk goes to a worker, so that a list of many
         * big trees does not stop machined from serving anyone else. */
        w = reallocarray(usage.waiting, usage.n_waiting + 1, sizeof *w);
        if (!w)
                return -ENOMEM;
        usage.waiting = w;
        if (!usage.walking) {
                r = image_job_start_full(m, NULL, "", job_usage, missing, usage_walk_done);
                if (r < 0)
                        return r;
                usage.walking = true;
        }
        usage.waiting[usage.n_waiting++] = sd_bus_message_ref(message);
        return 1;
}

static int method_get_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(image_freep) Image *i = NULL;
        _cleanup_free_ char *path = NULL;
        Manager *m = userdata;
        const char *name;
        int r;

        r = read_image_name(message, &name, error);
        if (r < 0)
                return r;
        r = image_get(m->pool, name, 0, &i);
        if (r < 0)
                return reply_errno(error, r, name, NULL);
        r = image_object_path(name, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

/* Reads the method's string arguments (types "s..."), checks that the caller is root and
 * that the ones flagged in names are image names, then hands them to a worker. */
static int start_job(sd_bus_message *message, Manager *m, const char *types, unsigned names,
                     unsigned paths, ImageJobFunc f, const char *prefix, sd_bus_error *error) {
        _cleanup_strv_free_ char **args = NULL;
        int r;

        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        if (prefix && strv_extend(&args, prefix) < 0)
                return -ENOMEM;
        for (unsigned k = 0; types[k]; k++) {
                if (types[k] == 'b') {
                        int b;
                        r = sd_bus_message_read(message, "b", &b);
                        if (r < 0)
                                return r;
                        r = strv_extend(&args, b ? "ro" : "rw");
                } else {
                        const char *s;
                        r = sd_bus_message_read(message, "s", &s);
                        if (r < 0)
                                return r;
                        if (names & (1u << k)) {
                                r = check_name(s, error);
                                if (r < 0)
                                        return r;
                        }
                        if (paths & (1u << k)) {
                                r = check_path(s, error);
                                if (r < 0)
                                        return r;
                        }
                        r = strv_extend(&args, s);
                }
                if (r < 0)
                        return r;
        }
        /* The first image name is the one errors talk about. */
        const char *name = NULL;
        for (unsigned k = 0; types[k] && !name; k++)
                if (names & (1u << k))
                        name = args[k + (prefix ? 1 : 0)];
        return image_job_start(m, message, name ?: "", f, args, error);
}

#define NAME(k) (1u << (k))

static int method_clone_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return start_job(message, userdata, "ssb", NAME(0) | NAME(1), 0, job_clone, NULL, error);
}

static int method_remove_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return start_job(message, userdata, "s", NAME(0), 0, job_remove, NULL, error);
}

static int method_snapshot_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return start_job(message, userdata, "ss", NAME(0) | NAME(1), 0, job_snapshot, NULL, error);
}

static int method_restore_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return start_job(message, userdata, "ss", NAME(0) | NAME(1), 0, job_restore, NULL, error);
}

static int method_remove_image_snapshot(sd_bus_message *message, void *userdata,
                                        sd_bus_error *error) {
        return start_job(message, userdata, "ss", NAME(0) | NAME(1), 0, job_remove_snapshot, NULL,
                         error);
}

static int method_export_image_tar(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return start_job(message, userdata, "ss", NAME(0), NAME(1), job_export, NULL, error);
}

static int method_import_image_tar(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return start_job(message, userdata, "ssb", NAME(1), NAME(0), job_import, NULL, error);
}

static int method_copy_to_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return start_job(message, userdata, "sss", NAME(0), NAME(1), job_copy, "to", error);
}

static int method_copy_from_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return start_job(message, userdata, "sss", NAME(0), NAME(2), job_copy, "from", error);
}

static int method_create_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(template_freep) Template *t = NULL;
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *why = NULL;
        Manager *m = userdata;
        const char *name, *template_name, *mirror;
        int refresh, read_only, r;

        r = sd_bus_message_read(message, "sssbb", &name, &template_name, &mirror, &refresh,
                                &read_only);
        if (r < 0)
                return r;
        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        r = check_name(name, error);
        if (r < 0)
                return r;
        if (!machine_name_is_valid(template_name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME, "Invalid template name '%s'.",
                                         strna(template_name));
        if (!isempty(mirror) && !mirror_url_is_valid(mirror))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The mirror must be an http, https, ftp or file URL.");
        /* A missing or broken template is told at once, not after a fork. */
        r = template_load(template_name, template_default_search_dirs(), &t, &why);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "No template '%s'.",
                                         template_name);
        if (r < 0)
                return reply_errno(error, r, name, why ?: "Failed to load the template");

        if (strv_extend(&args, name) < 0 || strv_extend(&args, template_name) < 0 ||
            strv_extend(&args, mirror) < 0 || strv_extend(&args, refresh ? "refresh" : "") < 0 ||
            strv_extend(&args, read_only ? "ro" : "rw") < 0)
                return -ENOMEM;
        return image_job_start(m, message, name, job_create, args, error);
}

static int method_rename_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *old_name, *new_name;
        int r;

        r = sd_bus_message_read(message, "ss", &old_name, &new_name);
        if (r < 0)
                return r;
        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        if (check_name(old_name, error) < 0 || check_name(new_name, error) < 0)
                return -EINVAL;
        /* A rename is one renameat2() (and one for the snapshots): quick enough inline. */
        r = image_rename(m->pool, old_name, new_name, image_in_use, m);
        if (r < 0)
                return reply_errno(error, r, r == -EEXIST ? new_name : old_name, NULL);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_mark_image_read_only(sd_bus_message *message, void *userdata,
                                       sd_bus_error *error) {
        Manager *m = userdata;
        const char *name;
        int b, r;

        r = sd_bus_message_read(message, "sb", &name, &b);
        if (r < 0)
                return r;
        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        r = check_name(name, error);
        if (r < 0)
                return r;
        r = image_set_read_only(m->pool, name, b);
        if (r < 0)
                return reply_errno(error, r, name, NULL);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_list_image_snapshots(sd_bus_message *message, void *userdata,
                                       sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        Image **list = NULL;
        const char *name;
        size_t n = 0;
        int r;

        r = read_image_name(message, &name, error);
        if (r < 0)
                return r;
        r = image_list_snapshots(m->pool, name, &list, &n);
        if (r < 0)
                return reply_errno(error, r, name, NULL);
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sstt)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(sstt)", list[i]->name,
                                          image_type_to_string(list[i]->type), list[i]->crtime,
                                          list[i]->mtime);
        image_list_free(list, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_clean_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        r = image_clean(m->pool);
        if (r < 0)
                return reply_errno(error, r, NULL, "Failed to clean the pool");
        return sd_bus_reply_method_return(message, "u", (uint32_t) r);
}

static const sd_bus_vtable manager_image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(ssbttto)", images), method_list_images,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImage", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", image),
                                method_get_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CloneImage", SD_BUS_ARGS("s", name, "s", new_name, "b", read_only),
                                SD_BUS_NO_RESULT, method_clone_image, 0),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                method_remove_image, 0),
        SD_BUS_METHOD_WITH_ARGS("RenameImage", SD_BUS_ARGS("s", name, "s", new_name),
                                SD_BUS_NO_RESULT, method_rename_image, 0),
        SD_BUS_METHOD_WITH_ARGS("MarkImageReadOnly", SD_BUS_ARGS("s", name, "b", read_only),
                                SD_BUS_NO_RESULT, method_mark_image_read_only, 0),
        SD_BUS_METHOD_WITH_ARGS("SnapshotImage", SD_BUS_ARGS("s", name, "s", snapshot),
                                SD_BUS_NO_RESULT, method_snapshot_image, 0),
        SD_BUS_METHOD_WITH_ARGS("ListImageSnapshots", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a(sstt)", snapshots), method_list_image_snapshots,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestoreImage", SD_BUS_ARGS("s", name, "s", snapshot),
                                SD_BUS_NO_RESULT, method_restore_image, 0),
        SD_BUS_METHOD_WITH_ARGS("RemoveImageSnapshot", SD_BUS_ARGS("s", name, "s", snapshot),
                                SD_BUS_NO_RESULT, method_remove_image_snapshot, 0),
        SD_BUS_METHOD_WITH_ARGS("ExportImageTar", SD_BUS_ARGS("s", name, "s", path),
                                SD_BUS_NO_RESULT, method_export_image_tar, 0),
        SD_BUS_METHOD_WITH_ARGS("ImportImageTar", SD_BUS_ARGS("s", path, "s", name, "b", read_only),
                                SD_BUS_NO_RESULT, method_import_image_tar, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyToImage",
                                SD_BUS_ARGS("s", name, "s", host_path, "s", container_path),
                                SD_BUS_NO_RESULT, method_copy_to_image, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyFromImage",
                                SD_BUS_ARGS("s", name, "s", container_path, "s", host_path),
                                SD_BUS_NO_RESULT, method_copy_from_image, 0),
        SD_BUS_METHOD_WITH_ARGS("CleanImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", removed),
                                method_clean_images, 0),
        SD_BUS_METHOD_WITH_ARGS("CreateImage",
                                SD_BUS_ARGS("s", name, "s", template, "s", mirror, "b", refresh,
                                            "b", read_only),
                                SD_BUS_NO_RESULT, method_create_image, 0),
        SD_BUS_SIGNAL_WITH_ARGS("ImageProgress",
                                SD_BUS_ARGS("s", name, "s", phase, "u", done, "u", total), 0),
        SD_BUS_VTABLE_END,
};

/* ---- image objects ---- */

/* The image behind an object path, freshly read (usage only when asked). */
static int image_from_path(Manager *m, const char *path, ImageFlags flags, Image **ret) {
        _cleanup_free_ char *name = NULL;
        int r;

        r = sd_bus_path_decode(path, MACHINED_IMAGE_PATH_PREFIX, &name);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        if (!image_name_is_valid(name))
                return -ENOENT;
        return image_get(m->pool, name, flags, ret);
}

static int property_get_image(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        _cleanup_(image_freep) Image *i = NULL;
        int r;

        r = image_from_path(userdata, path, streq(property, "Usage") ? IMAGE_USAGE : 0, &i);
        if (r < 0)
                return reply_errno(error, r, NULL, NULL);
        if (streq(property, "Name"))
                return sd_bus_message_append(reply, "s", i->name);
        if (streq(property, "Path"))
                return sd_bus_message_append(reply, "s", i->path);
        if (streq(property, "Type"))
                return sd_bus_message_append(reply, "s", image_type_to_string(i->type));
        if (streq(property, "ReadOnly"))
                return sd_bus_message_append(reply, "b", i->read_only);
        if (streq(property, "CreationTimestamp"))
                return sd_bus_message_append(reply, "t", i->crtime);
        if (streq(property, "ModificationTimestamp"))
                return sd_bus_message_append(reply, "t", i->mtime);
        if (streq(property, "Usage"))
                return sd_bus_message_append(reply, "t", i->usage);
        if (streq(property, "CloneMode"))
                /* Only a subvolume (so: a pool on btrfs) is cloned in O(1); a directory image
                 * is copied, also into a btrfs pool. */
                return sd_bus_message_append(reply, "s",
                                             i->type == IMAGE_SUBVOLUME ? "snapshot" : "reflink-or-copy");
        if (streq(property, "OSRelease")) {
                /* The guest's text: bounded and a regular file (image_os_release()), made
                 * well-formed UTF-8 for D-Bus; clients escape it for their terminal. */
                _cleanup_free_ char *os = NULL, *valid = NULL;
                (void) image_os_release(((Manager *) userdata)->pool, i->name, &os);
                if (os && !(valid = utf8_escape_invalid(os)))
                        return -ENOMEM;
                return sd_bus_message_append(reply, "s", strempty(valid));
        }
        return -EINVAL;
}

static const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", property_get_image, 0, 0),
        SD_BUS_PROPERTY("Path", "s", property_get_image, 0, 0),
        SD_BUS_PROPERTY("Type", "s", property_get_image, 0, 0),
        SD_BUS_PROPERTY("ReadOnly", "b", property_get_image, 0, 0),
        SD_BUS_PROPERTY("CreationTimestamp", "t", property_get_image, 0, 0),
        SD_BUS_PROPERTY("ModificationTimestamp", "t", property_get_image, 0, 0),
        SD_BUS_PROPERTY("Usage", "t", property_get_image, 0, 0),
        SD_BUS_PROPERTY("OSRelease", "s", property_get_image, 0, 0), /* PRETTY_NAME */
        SD_BUS_PROPERTY("CloneMode", "s", property_get_image, 0, 0),
        SD_BUS_VTABLE_END,
};

static int image_object_find(sd_bus *bus, const char *path, const char *interface,
                             void *userdata, void **found, sd_bus_error *error) {
        _cleanup_(image_freep) Image *i = NULL;

        if (image_from_path(userdata, path, 0, &i) < 0)
                return 0;
        *found = userdata;
        return 1;
}

static int image_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
                                 sd_bus_error *error) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        Manager *m = userdata;
        Image **list = NULL;
        size_t n = 0;
        int r;

        if (!l)
                return -ENOMEM;
        r = image_list(m->pool, 0, &list, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char *p = NULL;
                r = image_object_path(list[i]->name, &p);
                if (r >= 0)
                        r = strv_consume(&l, p);
        }
        image_list_free(list, n);
        if (r < 0)
                return r;
        *nodes = TAKE_PTR(l);
        return 1;
}

int manager_add_image_bus_objects(Manager *m, sd_bus *bus) {
        int r;

        /* A second vtable for the Manager interface: sd-bus merges them. */
        r = sd_bus_add_object_vtable(bus, NULL, MACHINED_OBJECT_PATH, MACHINED_MANAGER_INTERFACE,
                                     manager_image_vtable, m);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(bus, NULL, MACHINED_IMAGE_PATH_PREFIX,
                                       MACHINED_IMAGE_INTERFACE, image_vtable, image_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(bus, NULL, MACHINED_IMAGE_PATH_PREFIX,
                                          image_node_enumerator, m);
}
