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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "autostart.h"
#include "bus-path.h"
#include "copy.h"
#include "exec-util.h"
#include "image-create.h"
#include "image-tar.h"
#include "image-usage.h"
#include "image.h"
#include "machined-api.h"
#include "machined.h"
#include "names.h"
#include "pool.h"
#include "template.h"
#include "settings-load.h"
#include "util/guest-file.h"
#include "util/process.h"
#include "util/escape.h"
#include "util/strv.h"
#include "util/util.h"

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
                /* detail names what exists when it is not the image name: a destination
                 * path, a snapshot, a new name */
                if (detail)
                        return sd_bus_error_setf(error, BUS_ERROR_IMAGE_EXISTS, "%s", detail);
                return sd_bus_error_setf(error, BUS_ERROR_IMAGE_EXISTS, "An image '%s' exists already.",
                                         strna(name));
        case -EBUSY:
                if (detail)
                        return sd_bus_error_setf(error, BUS_ERROR_IMAGE_BUSY, "%s", detail);
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

/* Called under the image's lock, also in a worker whose copy of the manager is as old as
 * the fork: a machine whose start completed meanwhile has its record by then (a start holds
 * the lock until machined has read the record). */
static bool image_in_use(const char *name, void *userdata) {
        Manager *m = userdata;

        if (manager_find_machine(m, name))
                return true;
        return m->machines_dir_fd >= 0 && faccessat(m->machines_dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0;
}

static bool image_present(Manager *m, const char *name) {
        _cleanup_(image_freep) Image *i = NULL;
        return image_get(m->pool, name, 0, &i) >= 0;
}

/* Which of the two a -EBUSY of name was, in words. */
static void busy_detail(Manager *m, const char *name, char *buf, size_t size) {
        if (image_in_use(name, m))
                snprintf(buf, size, "Image '%s' is in use by its running machine.", name);
        else
                snprintf(buf, size, "Image '%s' is busy: another operation on it is under way.", name);
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
        uint32_t value;        /* RESULT: the reply's "u", for methods that have one */
        char detail[512];      /* RESULT */
} ImageJobMessage;

/* The worker's side. */
typedef struct ImageWorker {
        int fd;
        ImageJobMessage result;
        ImageJobMessage pending; /* the last progress, not sent yet when type is RESULT */
        uint64_t last_sent_usec;
} ImageWorker;

/* Called with the worker's result instead of replying to the job's message. */
typedef void (*ImageJobDoneFunc)(Manager *m, int r);

/* The parent's side of a worker: everything it needs is made before the fork (see
 * image_job_fork()), so that nothing can fail once a worker runs. */
typedef struct ImageJob {
        Manager *manager;
        sd_bus_message *message;
        ImageJobDoneFunc done;
        sd_event_source *source;
        char *name; /* for error messages and progress signals */
        bool reply_u; /* the reply carries the result's value */
        pid_t pid;
        int fd;     /* the parent's end of the worker's pipe */
        int child_fd;
} ImageJob;

/* Usage of images that are not subvolumes is remembered this long (see image-usage.h). */
#define USAGE_MAX_AGE_USEC (30ULL * 1000000ULL)

static ImageJob *image_job_free(ImageJob *j) {
        if (!j)
                return NULL;
        sd_event_source_disable_unref(j->source);
        sd_bus_message_unref(j->message);
        safe_close(j->fd);
        safe_close(j->child_fd);
        free(j->name);
        free(j);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageJob *, image_job_free);

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
        LIST_FOREACH(c, m->connections)
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
                if (j->manager->usage_cache)
                        image_usage_cache_put(j->manager->usage_cache, &msg.key, msg.usage);
                return 0;
        }
        /* machined lets the kernel reap its children (SA_NOCLDWAIT); a failure is fine. */
        (void) waitpid(j->pid, NULL, WNOHANG);

        if (j->done)
                j->done(j->manager, msg.r);
        else if (msg.r >= 0 && j->reply_u)
                (void) sd_bus_reply_method_return(j->message, "u", msg.value);
        else if (msg.r >= 0)
                (void) sd_bus_reply_method_return(j->message, NULL);
        else {
                /* The detail may name a guest's file or an archive's member: any bytes. */
                _cleanup_free_ char *detail = msg.detail[0] ? utf8_escape_invalid(msg.detail) : NULL;
                (void) reply_errno(&error, msg.r, j->name, detail);
                (void) bus_reply_method_error(j->message, &error);
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

static void worker_progress(const CreateProgress *p, void *userdata);

/* import-tar and export-tar: KiB, so that the signal's u32 counts up to 4 TiB. */
static void worker_tar_progress(uint64_t bytes, uint64_t total, void *userdata, CreatePhase phase) {
        worker_progress(&(const CreateProgress) {
                                .phase = phase,
                                .current = (unsigned) MIN(bytes / 1024, (uint64_t) UINT32_MAX),
                                .total = (unsigned) MIN(total / 1024, (uint64_t) UINT32_MAX),
                        },
                        userdata);
}

static void worker_import_progress(uint64_t bytes, uint64_t total, void *userdata) {
        worker_tar_progress(bytes, total, userdata, CREATE_PHASE_IMPORTING);
}

static void worker_export_progress(uint64_t bytes, uint64_t total, void *userdata) {
        worker_tar_progress(bytes, total, userdata, CREATE_PHASE_EXPORTING);
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

/* The job for message (NULL: done is called instead of a reply) about image name, with its
 * pipe and event source in place. */
static int image_job_new(Manager *m, sd_bus_message *message, const char *name, ImageJobDoneFunc done,
                         ImageJob **ret) {
        _cleanup_(image_job_freep) ImageJob *j = NULL;
        int p[2], r;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->fd = j->child_fd = -EBADF;
        j->name = strdup(name);
        if (!j->name)
                return -ENOMEM;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        j->fd = p[0];
        j->child_fd = p[1];
        r = sd_event_add_io(m->event, &j->source, j->fd, EPOLLIN, image_job_io, j);
        if (r < 0)
                return r;
        j->manager = m;
        j->message = sd_bus_message_ref(message);
        j->done = done;
        *ret = TAKE_PTR(j);
        return 0;
}

/* Forks the worker of j. In the worker returns 0 with *ret_worker ready (the worker then
 * calls worker_exit()); in machined returns 1, the job now owned by its event source. */
static int image_job_fork(ImageJob **jp, ImageWorker *ret_worker) {
        ImageJob *j = *jp;
        int r;

        r = safe_fork("nspawnctl-image", NULL, 0, 0, &j->pid);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret_worker = (ImageWorker) {
                        .fd = TAKE_FD(j->child_fd),
                        .result.type = IMAGE_JOB_RESULT,
                        .pending = { .type = IMAGE_JOB_RESULT, .phase = _CREATE_PHASE_INVALID },
                };
                /* The worker waits for tar and friends itself. */
                (void) signal(SIGCHLD, SIG_DFL);
                (void) signal(SIGPIPE, SIG_DFL);
                start_requests_forget_locks(j->manager);
                /* A loop-backed pool grows before it fills: when under a third is free. */
                (void) pool_grow_if_needed(j->manager->pool, 0);
                return 0;
        }
        j->child_fd = safe_close(j->child_fd);
        *jp = NULL; /* freed by image_job_io() */
        return 1;
}

_noreturn_ static void worker_exit(ImageWorker *w, int r) {
        w->result.r = r;
        worker_send_pending(w);
        (void) loop_write(w->fd, &w->result, sizeof w->result);
        _exit(EXIT_SUCCESS);
}

/* ---- methods ---- */

/* A new image counts against a pool limit (machined-image-info.c): r is the result of what
 * made it. */
static int adopt(Manager *m, const char *name, int r) {
        if (r >= 0)
                manager_pool_quota_adopt(m, name);
        return r;
}

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
                if (image_usage_cache_lookup(m->usage_cache, list[i]) <= 0 && ret_missing)
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
                r = image_bus_path_full(bus_message_is_machine1(message), list[i]->name, &path);
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
        sd_bus_message **waiting = TAKE_PTR(m->usage_waiting);
        size_t n = m->n_usage_waiting;
        int r;

        m->usage_walking = false;
        m->n_usage_waiting = 0;
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

/* Walks the images named, for the usage cache of machined. */
static int usage_walk(Manager *m, char **names, ImageWorker *w) {
        STRV_FOREACH(name, names) {
                _cleanup_(image_freep) Image *i = NULL;
                ImageJobMessage msg = { .type = IMAGE_JOB_USAGE };

                /* gone or replaced meanwhile: the list shows no usage for it */
                if (image_get(m->pool, *name, 0, &i) < 0 || image_usage_walk(i, &msg.key, &msg.usage) < 0)
                        continue;
                (void) loop_write(w->fd, &msg, sizeof msg);
        }
        return 0;
}

static int method_list_images(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **missing = NULL;
        Manager *m = userdata;
        sd_bus_message **w;
        int r;

        if (!m->usage_cache) {
                r = image_usage_cache_new(USAGE_MAX_AGE_USEC, &m->usage_cache);
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
        w = reallocarray(m->usage_waiting, m->n_usage_waiting + 1, sizeof *w);
        if (!w)
                return -ENOMEM;
        m->usage_waiting = w;
        if (!m->usage_walking) {
                _cleanup_(image_job_freep) ImageJob *j = NULL;
                ImageWorker worker;

                r = image_job_new(m, NULL, "", usage_walk_done, &j);
                if (r < 0)
                        return r;
                r = image_job_fork(&j, &worker);
                if (r < 0)
                        return r;
                if (r == 0)
                        worker_exit(&worker, usage_walk(m, missing, &worker));
                m->usage_walking = true;
        }
        m->usage_waiting[m->n_usage_waiting++] = sd_bus_message_ref(message);
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
        r = image_bus_path_full(bus_message_is_machine1(message), name, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(message, "o", path);
}

/* The end of every long image method, once its arguments are read and checked: a job for
 * message about name. In the worker returns 0 (the caller computes and calls worker_exit()),
 * in machined 1 (replied to when the worker is done), or an error before any fork. */
static int image_method_fork_full(sd_bus_message *message, Manager *m, const char *name, bool reply_u,
                                  ImageWorker *ret_worker) {
        _cleanup_(image_job_freep) ImageJob *j = NULL;
        int r;

        r = image_job_new(m, message, name, NULL, &j);
        if (r < 0)
                return r;
        j->reply_u = reply_u;
        return image_job_fork(&j, ret_worker);
}

static int image_method_fork(sd_bus_message *message, Manager *m, const char *name, ImageWorker *ret_worker) {
        return image_method_fork_full(message, m, name, false, ret_worker);
}

static int method_clone_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name, *new_name;
        int read_only, r;

        r = sd_bus_message_read(message, "ssb", &name, &new_name, &read_only);
        if (r < 0)
                return r;
        return bus_image_clone(message, userdata, name, new_name, read_only, error);
}

int bus_image_clone(sd_bus_message *message, Manager *m, const char *name, const char *new_name, bool read_only,
                    sd_bus_error *error) {
        ImageWorker w;
        int r;

        if ((r = bus_check_root(message, error)) < 0 || (r = check_name(name, error)) < 0 ||
            (r = check_name(new_name, error)) < 0)
                return r;
        r = image_method_fork(message, m, name, &w);
        if (r == 0) {
                /* The source's lock is waited for: of clones racing for one new name, the
                 * later ones find it taken, and are told so. */
                r = adopt(m, new_name, image_clone(m->pool, name, new_name, read_only ? IMAGE_READ_ONLY : 0));
                if (r == -EEXIST)
                        snprintf(w.result.detail, sizeof w.result.detail, "An image '%s' exists already.",
                                 new_name);
                else if (r == -EBUSY)
                        snprintf(w.result.detail, sizeof w.result.detail,
                                 "Image '%s' is busy: another operation on it is under way.", new_name);
                worker_exit(&w, r);
        }
        return r;
}

static int method_remove_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(message, "s", &name);
        if (r < 0)
                return r;
        return bus_image_remove(message, userdata, name, error);
}

int bus_image_remove(sd_bus_message *message, Manager *m, const char *name, sd_bus_error *error) {
        ImageWorker w;
        int r;

        r = check_name(name, error);
        if (r < 0 || (r = bus_check_root(message, error)) < 0)
                return r;
        r = image_method_fork(message, m, name, &w);
        if (r == 0) {
                r = image_remove(m->pool, name, image_in_use, m);
                if (r == -EBUSY)
                        busy_detail(m, name, w.result.detail, sizeof w.result.detail);
                worker_exit(&w, r);
        }
        return r;
}

/* SnapshotImage, RestoreImage, RemoveImageSnapshot: an image and a snapshot name. */
typedef enum SnapshotOp {
        SNAPSHOT_TAKE,
        SNAPSHOT_RESTORE,
        SNAPSHOT_REMOVE,
} SnapshotOp;

static int snapshot_op(Manager *m, SnapshotOp op, const char *name, const char *snapshot, ImageWorker *w) {
        char *d = w->result.detail;
        size_t n = sizeof w->result.detail;
        int r = -EINVAL;

        switch (op) {
        case SNAPSHOT_TAKE:
                r = image_snapshot(m->pool, name, snapshot);
                break;
        case SNAPSHOT_RESTORE:
                r = image_restore(m->pool, name, snapshot, image_in_use, m);
                break;
        case SNAPSHOT_REMOVE:
                r = image_remove_snapshot(m->pool, name, snapshot);
                break;
        }
        if (r == -EEXIST)
                snprintf(d, n, "Image '%s' has a snapshot '%s' already.", name, snapshot);
        else if (r == -EBUSY)
                busy_detail(m, name, d, n);
        else if (r == -ENOENT && image_present(m, name))
                snprintf(d, n, "Image '%s' has no snapshot '%s'.", name, snapshot);
        return r;
}

static int method_snapshot_op(sd_bus_message *message, Manager *m, SnapshotOp op, sd_bus_error *error) {
        const char *name, *snapshot;
        ImageWorker w;
        int r;

        r = sd_bus_message_read(message, "ss", &name, &snapshot);
        if (r < 0)
                return r;
        if ((r = bus_check_root(message, error)) < 0 || (r = check_name(name, error)) < 0 ||
            (r = check_name(snapshot, error)) < 0)
                return r;
        r = image_method_fork(message, m, name, &w);
        if (r == 0)
                worker_exit(&w, snapshot_op(m, op, name, snapshot, &w));
        return r;
}

static int method_snapshot_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_snapshot_op(message, userdata, SNAPSHOT_TAKE, error);
}

static int method_restore_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_snapshot_op(message, userdata, SNAPSHOT_RESTORE, error);
}

static int method_remove_image_snapshot(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_snapshot_op(message, userdata, SNAPSHOT_REMOVE, error);
}

static int method_export_image_tar(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *name, *path;
        ImageWorker w;
        int r;

        r = sd_bus_message_read(message, "ss", &name, &path);
        if (r < 0)
                return r;
        if ((r = bus_check_root(message, error)) < 0 || (r = check_name(name, error)) < 0 ||
            (r = check_path(path, error)) < 0)
                return r;
        r = image_method_fork(message, m, name, &w);
        if (r == 0) {
                r = image_export_tar(m->pool, name, path, worker_export_progress, &w);
                if (r == -EEXIST)
                        snprintf(w.result.detail, sizeof w.result.detail, "'%s' exists already.", path);
                else if (r == -EBUSY)
                        busy_detail(m, name, w.result.detail, sizeof w.result.detail);
                worker_exit(&w, r);
        }
        return r;
}

static int import_tar(Manager *m, const char *path, const char *name, bool read_only, ImageWorker *w) {
        TarRefusal refusal = {};
        unsigned skipped = 0;
        int r;

        r = image_import_tar(m->pool, path, name, read_only ? IMAGE_READ_ONLY : 0, worker_import_progress, w,
                             &skipped, &refusal);
        w->result.value = skipped;
        if (r == -EPERM && refusal.reason)
                snprintf(w->result.detail, sizeof w->result.detail, "Refused archive member '%s': %s.",
                         refusal.path, refusal.reason);
        tar_refusal_done(&refusal);
        return r;
}

static int method_import_image_tar(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *path, *name;
        ImageWorker w;
        int read_only, r;

        r = sd_bus_message_read(message, "ssb", &path, &name, &read_only);
        if (r < 0)
                return r;
        if ((r = bus_check_root(message, error)) < 0 || (r = check_path(path, error)) < 0 ||
            (r = check_name(name, error)) < 0)
                return r;
        r = image_method_fork_full(message, m, name, /* reply_u= */ true, &w);
        if (r == 0)
                worker_exit(&w, adopt(m, name, import_tar(m, path, name, read_only, &w)));
        return r;
}

static int copy_tree(Manager *m, const char *name, bool to, const char *from_path, const char *to_path,
                     ImageWorker *w) {
        _cleanup_(image_ref_done) ImageRef ref = IMAGE_REF_NULL;
        _cleanup_close_ int root = -EBADF;
        int r;

        r = image_ref_open(m->pool, name, NULL, &ref);
        if (r == -EBUSY)
                busy_detail(m, name, w->result.detail, sizeof w->result.detail);
        if (r < 0)
                return r;
        if (ref.type == IMAGE_RAW)
                return -ENOENT; /* no tree to copy into or out of */
        root = openat(ref.pool_fd, ref.file, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root < 0)
                return -errno;
        _cleanup_(copy_refusal_done) CopyRefusal refusal = {};
        r = to ? copy_to_tree(root, from_path, to_path, 0, UID_INVALID, &refusal)
               : copy_from_tree(root, from_path, to_path, 0, UID_INVALID, &refusal);
        if (r == -EBADFD && refusal.what)
                snprintf(w->result.detail, sizeof w->result.detail,
                         "Refusing to copy %s: it is %s; only regular files, directories and symlinks are copied.",
                         refusal.path, refusal.what);
        else if (r == -EEXIST)
                snprintf(w->result.detail, sizeof w->result.detail,
                         to ? "'%s' exists already in image '%s'." : "'%s' exists already.", to_path, name);
        else if (r == -ENOENT) {
                /* The image is there (its lock is held): a path is missing, which is no
                 * missing image. */
                snprintf(w->result.detail, sizeof w->result.detail, "Failed to copy %s %s: %s", to ? "to" : "from",
                         to ? to_path : from_path, strerror(ENOENT));
                r = -EPROTO;
        } else if (r < 0)
                snprintf(w->result.detail, sizeof w->result.detail, "Failed to copy %s %s", to ? "to" : "from",
                         to ? to_path : from_path);
        return r;
}

/* CopyToImage(name, host_path, container_path), CopyFromImage(name, container_path,
 * host_path): the host side must be absolute. */
static int method_copy_image(sd_bus_message *message, Manager *m, bool to, sd_bus_error *error) {
        const char *name, *from_path, *to_path;
        ImageWorker w;
        int r;

        r = sd_bus_message_read(message, "sss", &name, &from_path, &to_path);
        if (r < 0)
                return r;
        if ((r = bus_check_root(message, error)) < 0 || (r = check_name(name, error)) < 0 ||
            (r = check_path(to ? from_path : to_path, error)) < 0)
                return r;
        r = image_method_fork(message, m, name, &w);
        if (r == 0)
                worker_exit(&w, copy_tree(m, name, to, from_path, to_path, &w));
        return r;
}

static int method_copy_to_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_copy_image(message, userdata, true, error);
}

static int method_copy_from_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        return method_copy_image(message, userdata, false, error);
}

static int create_image(Manager *m, const char *name, const char *template_name, const char *mirror,
                        ImageCreateFlags flags, ImageWorker *w) {
        _cleanup_(error_done) Error why = ERROR_NULL;
        int r;

        /* An empty mirror: $NSPAWNCTL_MIRROR of machined, else the host's apt sources. */
        r = image_create_from_template(m->pool, name, template_name, NULL, mirror, flags, worker_progress, w, &why);
        if (r < 0 && why.message)
                snprintf(w->result.detail, sizeof w->result.detail, "%s", why.message);
        return r;
}

static int method_create_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(template_freep) Template *t = NULL;
        _cleanup_(error_done) Error why = ERROR_NULL;
        Manager *m = userdata;
        const char *name, *template_name, *mirror;
        int refresh, read_only, r;
        ImageWorker w;

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
        if (r == -ENOENT) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_free_ char *available = NULL;
                if (template_list(template_default_search_dirs(), &names) >= 0 && names)
                        available = strv_join(names, ", ");
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "No template '%s'; available: %s.",
                                         template_name, available ?: "none");
        }
        if (r < 0)
                return reply_errno(error, r, name, why.message ?: "Failed to load the template");

        r = image_method_fork(message, m, name, &w);
        if (r == 0)
                worker_exit(&w, adopt(m, name, create_image(m, name, template_name, mirror,
                                             (refresh ? IMAGE_CREATE_REFRESH : 0) |
                                                     (read_only ? IMAGE_CREATE_READ_ONLY : 0),
                                             &w)));
        return r;
}

/* Start at host boot: with systemd the unit nspawnctl@NAME.service does it (linked by
 * systemctl enable into multi-user.target.wants), elsewhere the init script starts the names
 * in CONFIG_DIR/autostart (core/autostart.h). */
static bool host_has_systemd(void) {
        return access("/run/systemd/system", F_OK) >= 0;
}

static bool image_autostart(Manager *m, const char *name) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *path = NULL;

        if (host_has_systemd()) {
                path = strjoin("/etc/systemd/system/multi-user.target.wants/nspawnctl@", name, ".service");
                return path && access(path, F_OK) >= 0;
        }
        path = strjoin(m->config_dir, "/autostart");
        return path && autostart_read(path, &names) >= 0 && strv_contains(names, name);
}

static int set_autostart(Manager *m, const char *name, bool enable, ImageWorker *w) {
        _cleanup_free_ char *path = NULL, *unit = NULL;
        int r;

        if (host_has_systemd()) {
                unit = strjoin("nspawnctl@", name, ".service");
                if (!unit)
                        return -ENOMEM;
                r = exec_run((char *[]) { (char *) "systemctl", (char *) (enable ? "enable" : "disable"), unit, NULL },
                             NULL, (const int[]) { EXEC_FD_NULL, EXEC_FD_NULL, EXEC_FD_NULL }, NULL);
                if (r < 0)
                        snprintf(w->result.detail, sizeof w->result.detail, "systemctl %s %s failed",
                                 enable ? "enable" : "disable", unit);
                return r;
        }
        path = strjoin(m->config_dir, "/autostart");
        if (!path)
                return -ENOMEM;
        if (mkdir(m->config_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        r = autostart_set(path, name, enable);
        if (r < 0)
                snprintf(w->result.detail, sizeof w->result.detail, "Failed to update %s", path);
        return r;
}

static int method_set_image_autostart(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(image_freep) Image *i = NULL;
        Manager *m = userdata;
        const char *name;
        ImageWorker w;
        int enable, r;

        r = sd_bus_message_read(message, "sb", &name, &enable);
        if (r < 0)
                return r;
        if ((r = bus_check_root(message, error)) < 0 || (r = check_name(name, error)) < 0)
                return r;
        /* Only what exists can be started at boot. */
        r = image_get(m->pool, name, 0, &i);
        if (r < 0)
                return reply_errno(error, r, name, NULL);
        r = image_method_fork(message, m, name, &w);
        if (r == 0)
                worker_exit(&w, set_autostart(m, name, enable, &w));
        return r;
}

static int method_rename_image(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        const char *old_name, *new_name;
        int r;

        r = sd_bus_message_read(message, "ss", &old_name, &new_name);
        if (r < 0)
                return r;
        return bus_image_rename(message, userdata, old_name, new_name, error);
}

int bus_image_rename(sd_bus_message *message, Manager *m, const char *old_name, const char *new_name,
                     sd_bus_error *error) {
        int r;

        r = bus_check_root(message, error);
        if (r < 0)
                return r;
        if (check_name(old_name, error) < 0 || check_name(new_name, error) < 0)
                return -EINVAL;
        /* A rename is one renameat2() (and one for the snapshots): quick enough inline. */
        r = image_rename(m->pool, old_name, new_name, image_in_use, m);
        if (r == -EBUSY) {
                char detail[256];
                busy_detail(m, old_name, detail, sizeof detail);
                return reply_errno(error, r, old_name, detail);
        }
        if (r < 0)
                return reply_errno(error, r, r == -EEXIST ? new_name : old_name, NULL);
        return sd_bus_reply_method_return(message, NULL);
}

static int method_mark_image_read_only(sd_bus_message *message, void *userdata,
                                       sd_bus_error *error) {
        const char *name;
        int b, r;

        r = sd_bus_message_read(message, "sb", &name, &b);
        if (r < 0)
                return r;
        return bus_image_mark_read_only(message, userdata, name, b, error);
}

int bus_image_mark_read_only(sd_bus_message *message, Manager *m, const char *name, bool b,
                             sd_bus_error *error) {
        int r;

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

static int method_list_templates(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = template_list(template_default_search_dirs(), &names);
        if (r < 0)
                return reply_errno(error, r, NULL, "Failed to list the templates");
        r = sd_bus_message_new_method_return(message, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sss)");
        STRV_FOREACH(n, names) {
                _cleanup_(template_freep) Template *t = NULL;
                _cleanup_free_ char *d = NULL;

                if (r < 0)
                        break;
                /* A broken template is listed too, with what is wrong; create says the same. */
                if (template_load(*n, template_default_search_dirs(), &t, NULL) < 0) {
                        r = sd_bus_message_append(reply, "(sss)", *n, "(cannot be parsed)", "");
                        continue;
                }
                d = utf8_escape_invalid(strempty(t->description));
                if (!d)
                        return -ENOMEM;
                r = sd_bus_message_append(reply, "(sss)", *n, d, t->path);
        }
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
                                SD_BUS_RESULT("u", skipped_devices), method_import_image_tar, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyToImage",
                                SD_BUS_ARGS("s", name, "s", host_path, "s", container_path),
                                SD_BUS_NO_RESULT, method_copy_to_image, 0),
        SD_BUS_METHOD_WITH_ARGS("CopyFromImage",
                                SD_BUS_ARGS("s", name, "s", container_path, "s", host_path),
                                SD_BUS_NO_RESULT, method_copy_from_image, 0),
        SD_BUS_METHOD_WITH_ARGS("CleanImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", removed),
                                method_clean_images, 0),
        SD_BUS_METHOD_WITH_ARGS("ListTemplates", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sss)", templates),
                                method_list_templates, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetImageAutostart", SD_BUS_ARGS("s", name, "b", autostart), SD_BUS_NO_RESULT,
                                method_set_image_autostart, 0),
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

        r = image_name_from_bus_path_any(path, &name);
        if (r < 0)
                return r;
        if (!image_name_is_valid(name))
                return -ENOENT;
        return image_get(m->pool, name, flags, ret);
}

/* The settings file a start of image i would read (settings_find(), as the supervisor looks),
 * and its assignments: what `status` of a stopped machine shows. Read as a guest's file
 * (bounded, regular, no symlink): the one next to the image is the guest's. */
#define SETTINGS_SHOWN_MAX_SIZE (64U * 1024U)
#define SETTINGS_SHOWN_MAX_LINES 64

static int image_settings(Manager *m, const Image *i, char **ret_path, char ***ret_lines) {
        _cleanup_free_ char *path = NULL, *dir = NULL, *base = NULL, *text = NULL, *rel = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        SettingsTrust trust;
        size_t n = 0;
        int r;

        r = settings_find(i->name,
                          &(const SettingsSearch) {
                                  .config_dir = m->config_dir,
                                  .state_dir = m->state_dir,
                                  .image = i->path,
                          },
                          &path, &trust);
        if (r <= 0) {
                *ret_path = NULL;
                *ret_lines = NULL;
                return r;
        }
        r = path_split_last(path, &dir, &base);
        if (r < 0)
                return r;
        rel = strjoin("/", base);
        if (!rel)
                return -ENOMEM;
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        r = read_guest_file(dir_fd, rel, SETTINGS_SHOWN_MAX_SIZE, GUEST_FILE_NO_SYMLINKS, &text, NULL);
        if (r >= 0)
                for (char *l = text, *e; l && *l && n < SETTINGS_SHOWN_MAX_LINES; l = e ? e + 1 : NULL) {
                        e = strchr(l, '\n');
                        if (e)
                                *e = 0;
                        l += strspn(l, " \t");
                        if (isempty(l) || l[0] == '#' || l[0] == ';')
                                continue;
                        r = strv_consume(&lines, utf8_escape_invalid(l));
                        if (r < 0)
                                return r;
                        n++;
                }
        *ret_path = TAKE_PTR(path);
        *ret_lines = TAKE_PTR(lines);
        return 1;
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
        if (streq(property, "Autostart"))
                return sd_bus_message_append(reply, "b", image_autostart(userdata, i->name));
        if (streq(property, "SettingsFile") || streq(property, "Settings")) {
                _cleanup_free_ char *file = NULL, *valid = NULL;
                _cleanup_strv_free_ char **lines = NULL;
                (void) image_settings(userdata, i, &file, &lines);
                if (streq(property, "Settings"))
                        return sd_bus_message_append_strv(reply, lines);
                if (file && !(valid = utf8_escape_invalid(file)))
                        return -ENOMEM;
                return sd_bus_message_append(reply, "s", strempty(valid));
        }
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
        SD_BUS_PROPERTY("Autostart", "b", property_get_image, 0, 0),
        SD_BUS_PROPERTY("SettingsFile", "s", property_get_image, 0, 0), /* "" when none */
        SD_BUS_PROPERTY("Settings", "as", property_get_image, 0, 0),    /* its assignments */
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
                r = image_bus_path_full(bus_path_is_machine1(path), list[i]->name, &p);
                if (r >= 0)
                        r = strv_consume(&l, p);
        }
        image_list_free(list, n);
        if (r < 0)
                return r;
        *nodes = TAKE_PTR(l);
        return 1;
}

void manager_free_image_state(Manager *m) {
        for (size_t i = 0; i < m->n_usage_waiting; i++)
                sd_bus_message_unref(m->usage_waiting[i]);
        m->usage_waiting = mfree(m->usage_waiting);
        m->n_usage_waiting = 0;
        m->usage_cache = image_usage_cache_free(m->usage_cache);
}

int manager_add_image_bus_objects(Manager *m, sd_bus *bus, bool machine1) {
        int r;

        /* A second vtable for the Manager interface: sd-bus merges them. */
        r = manager_add_vtable(m, bus, machine1, BUS_OBJECT_MANAGER, manager_image_vtable, NULL, m);
        if (r < 0)
                return r;
        r = manager_add_vtable(m, bus, machine1, BUS_OBJECT_IMAGE, image_vtable, image_object_find, m);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(bus, NULL, bus_object_prefix(machine1, BUS_OBJECT_IMAGE),
                                          image_node_enumerator, m);
}
