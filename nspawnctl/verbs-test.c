/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nspawnctl test: one command in fresh throwaway machines of several images at once.
 *
 * Each machine is its own `nspawnctl run --ephemeral --private-network --private-users=pick`
 * child, unprivileged as machined's machines are (it runs code under test): an overlay
 * on a tmpfs that only the machine's mount namespace sees, so whatever happens to us the
 * image stays as it was and nothing is left in the pool. The child gets PR_SET_PDEATHSIG
 * (it dies with us, even after kill -9) and a session of its own (a Ctrl-C is ours to turn
 * into an orderly stop); the runtime's cleanup guard removes its cgroup, lock and record
 * when it is killed. Without --boot the command runs under the minimal init (--as-pid2);
 * with --boot the tree's systemd boots, and once it is ready the command is started inside
 * through core/machine-exec.c (as `nspawnctl shell` does, without machined), then the
 * machine is powered off. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus-util.h"
#include "image-create.h"
#include "image.h"
#include "log.h"
#include "machine-exec.h"
#include "machine-record.h"
#include "machined-api.h"
#include "names.h"
#include "pool.h"
#include "state-dir.h"
#include "supervisor-contract.h"
#include "template.h"
#include "test-matrix.h"
#include "util/process.h"
#include "util/strv.h"
#include "util/escape.h"
#include "util/util.h"
#include "verbs-test.h"
#include "verbs.h"

/* How long the runtime waits after asking a machine to stop before it kills it, and how
 * much longer we wait for the runtime itself before we kill it too. */
#define STOP_TIMEOUT_SEC 5
#define STOP_GRACE_USEC (10 * 1000000ULL)
/* Where copied files are bound read-only in the machine before they are copied. */
#define COPY_STAGING "/run/host/nspawnctl-test"
#define SCRIPT_PATH "/run/nspawnctl-test/script"
#define EXIT_INTERRUPTED 130

typedef struct TestArgs {
        char **images;
        char **templates;
        TestCopy *copies;
        size_t n_copies;
        char *script;
        char **command;
        char *pool;
        char *log_dir;
        char *junit;
        const char *state_dir;
        unsigned jobs;
        uint64_t timeout_usec;
        bool boot;
        bool json;
} TestArgs;

static void test_args_done(TestArgs *a) {
        strv_free(a->images);
        strv_free(a->templates);
        for (size_t i = 0; i < a->n_copies; i++)
                test_copy_done(&a->copies[i]);
        free(a->copies);
        free(a->script);
        strv_free(a->command);
        free(a->pool);
        free(a->log_dir);
        free(a->junit);
}

typedef enum JobState {
        JOB_QUEUED,
        JOB_RUNNING,
        JOB_DONE,
} JobState;

/* A byte stream from a machine: what the command writes (shown), or its boot console
 * (only logged). */
typedef struct Stream {
        int fd;
        bool console;
        TestLineBuffer lines;
} Stream;

typedef struct Job Job;
typedef struct Matrix Matrix;

struct Job {
        Matrix *matrix;
        char *image;
        char *path;
        char machine[MACHINE_NAME_MAX + 1];
        JobState state;
        pid_t pid; /* the machine's runtime, `nspawnctl run` (then its light supervisor) */
        bool reaped;
        int run_status;
        int report_fd;
        char report[1024];
        size_t report_len;
        bool started; /* the runtime said STARTED: the container runs */
        Stream streams[2];
        /* --boot */
        bool ready;
        bool exec_started;
        bool exec_reported;
        MachineExec exec;
        int exec_status;    /* the command's, -1 while unknown */
        int session_out;    /* the write end of streams[1], until the session has it */
        char exec_line[64];
        size_t exec_line_len;
        uint64_t start_usec, started_usec, end_usec, deadline_usec, kill_usec;
        bool stop_sent, timed_out, interrupted;
        TestResult result;
        int exit_status;
        char *message;
        int log_fd;
        char *log_path;
        TestCapture output, console;
};

struct Matrix {
        const TestArgs *args;
        char *self;
        Job *jobs;
        size_t n_jobs;
        int devnull;
        int records_fd; /* STATEDIR/machines, for --boot */
        int inotify_fd;
        bool tty;
        FILE *out; /* where prefixed lines go: stdout, or stderr with --json */
        int interrupts;
        char run_id[9];
};

static void job_done(Job *j) {
        free(j->image);
        free(j->path);
        safe_close(j->report_fd);
        safe_close(j->session_out);
        for (size_t i = 0; i < ELEMENTSOF(j->streams); i++)
                safe_close(j->streams[i].fd);
        machine_exec_done(&j->exec);
        free(j->message);
        safe_close(j->log_fd);
        free(j->log_path);
        test_capture_done(&j->output);
        test_capture_done(&j->console);
}

static void matrix_done(Matrix *m) {
        for (size_t i = 0; i < m->n_jobs; i++)
                job_done(&m->jobs[i]);
        free(m->jobs);
        free(m->self);
        safe_close(m->devnull);
        safe_close(m->records_fd);
        safe_close(m->inotify_fd);
}

static void help(void) {
        printf("nspawnctl test [OPTIONS...] --image=NAME[,NAME...] [--] COMMAND [ARG...]\n\n"
               "Run a command in fresh throwaway machines of several images at once; each\n"
               "machine is an overlay of its image on a private tmpfs, on a private network,\n"
               "in a user namespace of its own, removed afterwards whatever happens.\n\n"
               "  -h --help               Show this help\n"
               "     --image=NAME[,...]   Images of the pool to run in (repeatable)\n"
               "     --template=NAME[,...] Also these images; made from the template of the\n"
               "                          same name first when the pool lacks them\n"
               "     --pool=DIR           The image pool (default: machined's, else " POOL_DEFAULT_PATH ")\n"
               "  -b --boot               Boot each machine and run the command once it is up\n"
               "  -j --jobs=N             Machines at once (default: all, at most 8)\n"
               "     --timeout=SEC        Stop a machine that runs longer (result: timeout)\n"
               "     --copy=HOST:PATH     Copy a host file or directory to PATH first (repeatable)\n"
               "     --script=FILE        Copy FILE in and run it (COMMAND's words are its arguments)\n"
               "     --log-dir=DIR        Write each image's output to DIR/IMAGE.log instead\n"
               "     --junit=FILE         Write a JUnit XML report\n"
               "     --json               Print the results as JSON (output lines go to stderr)\n"
               "     --state-dir=DIR      Machine records and locks (default: /run/nspawnctl)\n"
               "\nExit status: 0 every image passed; 1 some failed, timed out or had an error;\n"
               "2 usage error; 3 no such image or template; 7 not root; 130 interrupted.\n");
}

enum {
        ARG_IMAGE = 0x100,
        ARG_TEMPLATE,
        ARG_POOL,
        ARG_TIMEOUT,
        ARG_COPY,
        ARG_SCRIPT,
        ARG_LOG_DIR,
        ARG_JUNIT,
        ARG_JSON,
        ARG_STATE_DIR,
};

static int parse_path_arg(const char *opt, const char *value, char **ret) {
        char *p;

        if (isempty(value))
                return log_error("%s needs a path.", opt), -EINVAL;
        if (strnlen(value, PATH_MAX) >= PATH_MAX)
                return log_error("%s path is too long.", opt), -EINVAL;
        p = strdup(value);
        if (!p)
                return log_oom();
        free(*ret);
        *ret = p;
        return 0;
}

static int parse_names(const char *opt, const char *value, char ***list) {
        _cleanup_free_ char *bad = NULL, *esc = NULL;
        int r;

        r = test_name_list_parse(value, list, &bad);
        if (r == -ENOMEM)
                return log_oom();
        if (r == -E2BIG)
                return log_error("%s: too many names or too long (at most %u images).", opt, TEST_IMAGES_MAX), r;
        if (r == -EEXIST)
                return log_error("%s: image '%s' is named twice.", opt, bad), r;
        if (r < 0) {
                if (!bad)
                        return log_error("%s needs a comma-separated list of image names.", opt), r;
                esc = cescape_for_message(bad);
                return log_error("%s: invalid image name '%s'" MACHINE_NAME_HINT, opt, strna(esc)), r;
        }
        return 0;
}

static int parse_args(int argc, char *argv[], TestArgs *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "image", required_argument, NULL, ARG_IMAGE },
                { "template", required_argument, NULL, ARG_TEMPLATE },
                { "pool", required_argument, NULL, ARG_POOL },
                { "boot", no_argument, NULL, 'b' },
                { "jobs", required_argument, NULL, 'j' },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "copy", required_argument, NULL, ARG_COPY },
                { "script", required_argument, NULL, ARG_SCRIPT },
                { "log-dir", required_argument, NULL, ARG_LOG_DIR },
                { "junit", required_argument, NULL, ARG_JUNIT },
                { "json", no_argument, NULL, ARG_JSON },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                {}
        };
        _cleanup_free_ char *esc = NULL;
        int opt, r;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "+hbj:", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        help();
                        return 0;
                case ARG_IMAGE:
                        if (parse_names("--image=", optarg, &a->images) < 0)
                                return -EINVAL;
                        break;
                case ARG_TEMPLATE:
                        if (parse_names("--template=", optarg, &a->templates) < 0)
                                return -EINVAL;
                        break;
                case ARG_POOL:
                        if (parse_path_arg("--pool=", optarg, &a->pool) < 0)
                                return -EINVAL;
                        break;
                case 'b':
                        a->boot = true;
                        break;
                case 'j':
                        if (test_jobs_parse(optarg, &a->jobs) < 0) {
                                esc = cescape_for_message(optarg);
                                return log_error("Invalid --jobs= value '%s': a number from 1 to %u.", strna(esc), TEST_JOBS_MAX),
                                       -EINVAL;
                        }
                        break;
                case ARG_TIMEOUT:
                        if (test_timeout_parse(optarg, &a->timeout_usec) < 0) {
                                esc = cescape_for_message(optarg);
                                return log_error("Invalid --timeout= value '%s': seconds, more than 0 and at most 7 days.", strna(esc)),
                                       -EINVAL;
                        }
                        break;
                case ARG_COPY: {
                        TestCopy c = {}, *n;
                        r = test_copy_parse(optarg, &c);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0) {
                                esc = cescape_for_message(optarg);
                                return log_error("Invalid --copy= '%s': expected HOSTPATH:PATH, both absolute and normalized.", strna(esc)),
                                       -EINVAL;
                        }
                        n = reallocarray(a->copies, a->n_copies + 1, sizeof(TestCopy));
                        if (!n) {
                                test_copy_done(&c);
                                return log_oom();
                        }
                        a->copies = n;
                        a->copies[a->n_copies++] = c;
                        break;
                }
                case ARG_SCRIPT:
                        if (parse_path_arg("--script=", optarg, &a->script) < 0)
                                return -EINVAL;
                        break;
                case ARG_LOG_DIR:
                        if (parse_path_arg("--log-dir=", optarg, &a->log_dir) < 0)
                                return -EINVAL;
                        break;
                case ARG_JUNIT:
                        if (parse_path_arg("--junit=", optarg, &a->junit) < 0)
                                return -EINVAL;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_STATE_DIR:
                        if (!path_is_safe_absolute(optarg))
                                return log_error("Invalid --state-dir= path: must be absolute and normalized."), -EINVAL;
                        a->state_dir = optarg;
                        break;
                case '?':
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc && !(a->command = strv_copy(argv + optind)))
                return log_oom();
        if (strv_length(a->images) + strv_length(a->templates) == 0)
                return log_error("test needs --image=NAME[,NAME...] (or --template=). See 'nspawnctl test --help'."), -EINVAL;
        if (strv_length(a->images) + strv_length(a->templates) > TEST_IMAGES_MAX)
                return log_error("At most %u images at once.", TEST_IMAGES_MAX), -EINVAL;
        STRV_FOREACH(t, a->templates)
                if (strv_contains(a->images, *t))
                        return log_error("Image '%s' is named by both --image= and --template=.", *t), -EINVAL;
        if (!a->script && (strv_length(a->command) == 0 || isempty(a->command[0])))
                return log_error("test needs a command after the options (or --script=FILE)."), -EINVAL;
        if (!a->state_dir)
                a->state_dir = bus_state_dir(NULL);
        return 1;
}

/* --- output ------------------------------------------------------------------------ */

typedef struct LineTarget {
        Job *job;
        bool console;
} LineTarget;

static void on_line(const char *line, size_t len, void *userdata) {
        const LineTarget *t = userdata;
        Job *j = t->job;
        Matrix *m = j->matrix;

        (void) test_capture_append(t->console ? &j->console : &j->output, line, len);
        (void) test_capture_append(t->console ? &j->console : &j->output, "\n", 1);
        if (j->log_fd >= 0) {
                if (t->console)
                        (void) loop_write(j->log_fd, "[console] ", 10);
                (void) loop_write(j->log_fd, line, len);
                (void) loop_write(j->log_fd, "\n", 1);
        }
        if (t->console || m->args->log_dir)
                return;
        /* The guest's bytes are hostile: a terminal gets them escaped. */
        if (m->tty) {
                _cleanup_free_ char *copy = strndup(line, len), *esc = NULL;
                esc = copy ? escape_terminal(copy, TEST_LINE_MAX, ESCAPE_BACKSLASH) : NULL;
                fprintf(m->out, "[%s] %s\n", j->image, strempty(esc));
        } else {
                fprintf(m->out, "[%s] ", j->image);
                fwrite(line, 1, len, m->out);
                fputc('\n', m->out);
        }
        fflush(m->out);
}

/* Reads what a stream has; closes it at EOF. */
static void stream_read(Job *j, Stream *s) {
        LineTarget t = { j, s->console };
        char buf[8192];

        for (;;) {
                ssize_t n = read(s->fd, buf, sizeof buf);
                if (n > 0) {
                        test_line_buffer_feed(&s->lines, buf, n, on_line, &t);
                        continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                test_line_buffer_flush(&s->lines, on_line, &t);
                s->fd = safe_close(s->fd);
                return;
        }
}

static void job_status(Job *j, const char *fmt, ...) _printf_(2, 3);
static void job_status(Job *j, const char *fmt, ...) {
        Matrix *m = j->matrix;
        va_list ap;

        /* Progress goes where the output goes, so that it reads in order. */
        if (!m->args->log_dir && !m->tty && !m->args->json)
                return;
        va_start(ap, fmt);
        fprintf(m->args->json ? stderr : m->out, "[%s] ", j->image);
        vfprintf(m->args->json ? stderr : m->out, fmt, ap);
        fputc('\n', m->args->json ? stderr : m->out);
        va_end(ap);
        fflush(m->out);
}

/* --- machines ---------------------------------------------------------------------- */

/* The command as it runs in the machine: with copies, a small sh prologue copies each
 * staged path to its place first (paths as arguments, never inside the script text). */
static int command_argv(const TestArgs *a, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL;

        if (a->n_copies == 0 && !a->script) {
                argv = strv_copy(a->command);
                if (!argv)
                        return -ENOMEM;
                *ret = TAKE_PTR(argv);
                return 0;
        }
        FOREACH_STRING(s, "/bin/sh", "-c",
                       "while [ \"$1\" != -- ]; do "
                       "mkdir -p \"$(dirname \"$2\")\" && cp -a \"$1\" \"$2\" || exit 125; shift 2; "
                       "done; shift; exec \"$@\"",
                       "nspawnctl-test")
                if (strv_extend(&argv, s) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < a->n_copies; i++) {
                char n[64];
                snprintf(n, sizeof n, COPY_STAGING "/%zu", i);
                if (strv_extend(&argv, n) < 0 || strv_extend(&argv, a->copies[i].destination) < 0)
                        return -ENOMEM;
        }
        if (a->script) {
                FOREACH_STRING(s, COPY_STAGING "/script", SCRIPT_PATH, "--", "/bin/sh", "-c",
                               "chmod 0755 \"$0\" && exec \"$0\" \"$@\"", SCRIPT_PATH)
                        if (strv_extend(&argv, s) < 0)
                                return -ENOMEM;
        } else if (strv_extend(&argv, "--") < 0)
                return -ENOMEM;
        if (strv_extend_strv(&argv, a->command) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(argv);
        return 0;
}

static int job_argv(Job *j, char ***ret) {
        const TestArgs *a = j->matrix->args;
        _cleanup_strv_free_ char **argv = NULL;
        char kill_timeout[32];
        int r = 0;

        snprintf(kill_timeout, sizeof kill_timeout, "--kill-timeout=%d", STOP_TIMEOUT_SEC);
        FOREACH_STRING(s, j->matrix->self, "run", "-q", "--ephemeral", "--private-network", "--private-users=pick",
                       "--settings=no", "--console=pipe", "--report-fd=3", kill_timeout)
                if (strv_extend(&argv, s) < 0)
                        return -ENOMEM;
        if (strv_consume(&argv, strjoin("--directory=", j->path)) < 0 ||
            strv_consume(&argv, strjoin("--machine=", j->machine)) < 0 ||
            strv_consume(&argv, strjoin("--state-dir=", a->state_dir)) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_copies; i++) {
                char n[32];
                snprintf(n, sizeof n, "/%zu", i);
                r = strv_consume(&argv, strjoin("--bind-ro=", a->copies[i].source, ":" COPY_STAGING, n));
                if (r < 0)
                        return r;
        }
        if (a->script && strv_consume(&argv, strjoin("--bind-ro=", a->script, ":" COPY_STAGING "/script")) < 0)
                return -ENOMEM;
        if (a->boot) {
                FOREACH_STRING(s, "--boot", "--register=yes", "--notify-ready=yes")
                        if (strv_extend(&argv, s) < 0)
                                return -ENOMEM;
        } else {
                _cleanup_strv_free_ char **cmd = NULL;
                if (strv_extend(&argv, "--as-pid2") < 0 || strv_extend(&argv, "--") < 0)
                        return -ENOMEM;
                r = command_argv(a, &cmd);
                if (r < 0 || strv_extend_strv(&argv, cmd) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(argv);
        return 0;
}

static void job_set_message(Job *j, const char *fmt, ...) _printf_(2, 3);
static void job_set_message(Job *j, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        if (j->message)
                return; /* the first reason counts */
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        j->message = s;
}

static int job_start(Job *j) {
        const TestArgs *a = j->matrix->args;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_close_pair_ int out[2] = { -EBADF, -EBADF }, rep[2] = { -EBADF, -EBADF },
                                 con[2] = { -EBADF, -EBADF };
        int r;

        j->start_usec = now_usec(CLOCK_MONOTONIC);
        j->state = JOB_RUNNING;
        if (a->timeout_usec)
                j->deadline_usec = j->start_usec + a->timeout_usec;

        r = job_argv(j, &argv);
        if (r < 0)
                return r;
        if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(rep, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        if (a->boot && pipe2(con, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        /* The child's end must block: a command writing output must not see EAGAIN. */
        r = fd_nonblock(out[1], false);
        if (r >= 0)
                r = fd_nonblock(rep[1], false);
        if (r >= 0 && a->boot)
                r = fd_nonblock(con[1], false);
        if (r < 0)
                return r;
        /* With --boot the runtime's own output is the console; the command's comes through
         * the session later. */
        r = run_child_start(argv, a->boot ? con[1] : out[1], rep[1], &j->pid);
        if (r < 0)
                return r;
        j->report_fd = TAKE_FD(rep[0]);
        if (a->boot) {
                j->streams[0] = (Stream) { .fd = TAKE_FD(con[0]), .console = true };
                j->streams[1] = (Stream) { .fd = TAKE_FD(out[0]) };
                /* The write end waits for the session: its stdout and stderr. */
                j->session_out = TAKE_FD(out[1]);
        } else
                j->streams[0] = (Stream) { .fd = TAKE_FD(out[0]) };
        job_status(j, "started %s", j->machine);
        return 0;
}

static void job_stop(Job *j) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (j->reaped || j->stop_sent)
                return;
        /* The runtime asks the machine to stop (systemd: halt; a command: SIGTERM), kills it
         * after STOP_TIMEOUT_SEC and cleans up; if even that hangs, it is killed. */
        (void) kill(j->pid, SIGTERM);
        j->stop_sent = true;
        j->kill_usec = now + STOP_TIMEOUT_SEC * 1000000ULL + STOP_GRACE_USEC;
}

/* --boot: once the machine's record says running, start the command inside. */
static void job_exec_start(Job *j) {
        const TestArgs *a = j->matrix->args;
        _cleanup_(machine_record_done) MachineRecord rec = {};
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *seccomp_dir = NULL;
        _cleanup_(error_done) Error msg = ERROR_NULL;
        MachineExecParams p;
        int r;

        if (j->ready || j->reaped || j->stop_sent || j->matrix->records_fd < 0)
                return;
        r = machine_record_load(j->matrix->records_fd, j->machine, &rec);
        if (r < 0 || rec.state != MACHINE_RUNNING || rec.leader == 0)
                return;
        j->ready = true;
        job_status(j, "booted, running the command");

        r = command_argv(a, &argv);
        seccomp_dir = state_seccomp_dir(a->state_dir);
        if (r < 0 || !seccomp_dir) {
                job_set_message(j, "Out of memory.");
                job_stop(j);
                return;
        }
        p = (MachineExecParams) {
                .machine = j->machine,
                .leader = (pid_t) rec.leader,
                .leader_start = rec.leader_start,
                .cgroup = rec.cgroup,
                .seccomp_cache_dir = seccomp_dir,
                .kind = MACHINE_EXEC_SHELL,
                .path = argv[0],
                .argv = argv,
                .directory = "/",
                .stdio = { j->matrix->devnull, j->session_out, j->session_out },
        };
        j->exec = MACHINE_EXEC_NULL;
        r = machine_exec_start(&p, &j->exec, &msg);
        j->session_out = safe_close(j->session_out);
        if (r < 0) {
                job_set_message(j, "Failed to start the command in the machine: %s", msg.message ?: strerror(-r));
                job_stop(j);
                return;
        }
        j->exec_started = true;
}

static void job_exec_report(Job *j) {
        _cleanup_(error_done) Error msg = ERROR_NULL;
        MachineExecFailure failure = MACHINE_EXEC_FAILED;
        int r;

        r = machine_exec_process(&j->exec, &failure, &msg);
        if (r == 0)
                return;
        j->exec_reported = true;
        j->exec.report_fd = safe_close(j->exec.report_fd);
        if (r > 0)
                return;
        if (failure == MACHINE_EXEC_COMMAND_NOT_FOUND)
                j->exec_status = 127;
        else if (failure == MACHINE_EXEC_CANNOT_EXECUTE)
                j->exec_status = 126;
        job_set_message(j, "%s", msg.message ?: "Failed to start the command in the machine.");
        j->exec.status_fd = safe_close(j->exec.status_fd);
        job_stop(j);
}

static void job_exec_status(Job *j) {
        for (;;) {
                ssize_t n = read(j->exec.status_fd, j->exec_line + j->exec_line_len,
                                 sizeof j->exec_line - 1 - j->exec_line_len);
                if (n > 0) {
                        j->exec_line_len += n;
                        if (j->exec_line_len < sizeof j->exec_line - 1)
                                continue;
                } else if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                break;
        }
        j->exec_line[j->exec_line_len] = 0;
        if (machine_exec_parse_status(j->exec_line, &j->exec_status) < 0)
                job_set_message(j, "The command's session ended without an exit status.");
        j->exec.status_fd = safe_close(j->exec.status_fd);
        /* The command is done: power the machine off. */
        job_stop(j);
}

static void job_report(Job *j) {
        for (;;) {
                ssize_t n = read(j->report_fd, j->report + j->report_len, sizeof j->report - 1 - j->report_len);
                char *l;

                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (n <= 0)
                        break;
                j->report_len += n;
                j->report[j->report_len] = 0;
                /* STARTED is the line that matters; the warnings before it are few. */
                for (l = j->report;;) {
                        SupervisorReport rep;
                        char *nl = strchr(l, '\n');
                        if (!nl)
                                break;
                        *nl = 0;
                        if (supervisor_report_parse(l, &rep) >= 0 && rep.type == SUPERVISOR_REPORT_STARTED &&
                            !j->started) {
                                j->started = true;
                                j->started_usec = now_usec(CLOCK_MONOTONIC);
                        }
                        l = nl + 1;
                }
                /* Keep a partial line; one that fills the buffer is no report line. */
                j->report_len = strlen(l) < sizeof j->report - 1 ? strlen(l) : 0;
                memmove(j->report, l, j->report_len);
        }
        j->report_fd = safe_close(j->report_fd);
}

static void job_finish(Job *j) {
        const TestArgs *a = j->matrix->args;
        int code = j->run_status;

        j->end_usec = now_usec(CLOCK_MONOTONIC);
        j->state = JOB_DONE;
        j->exit_status = -1;
        if (j->timed_out) {
                j->result = TEST_RESULT_TIMEOUT;
                free(j->message);
                j->message = NULL;
                job_set_message(j, "ran longer than the timeout of %.1f s", (double) a->timeout_usec / 1e6);
        } else if (j->interrupted) {
                j->result = TEST_RESULT_ERROR;
                free(j->message);
                j->message = NULL;
                job_set_message(j, "interrupted");
        } else if (a->boot) {
                j->exit_status = j->exec_status;
                if (j->exec_status == 0)
                        j->result = TEST_RESULT_PASS;
                else if (j->exec_status > 0) {
                        j->result = TEST_RESULT_FAIL;
                        job_set_message(j, "exit status %d", j->exec_status);
                } else {
                        j->result = TEST_RESULT_ERROR;
                        if (!j->started)
                                job_set_message(j, "the machine could not be started (status %d)", code);
                        else if (!j->ready)
                                job_set_message(j, "the machine stopped before it was ready (status %d)", code);
                        else
                                job_set_message(j, "the machine stopped before the command ended (status %d)", code);
                }
        } else if (j->started || code == 126 || code == 127) {
                /* 126/127: the command could not be executed, as a shell says. */
                j->exit_status = code;
                j->result = code == 0 ? TEST_RESULT_PASS : TEST_RESULT_FAIL;
                if (code != 0)
                        job_set_message(j, "exit status %d", code);
        } else {
                j->result = TEST_RESULT_ERROR;
                job_set_message(j, "the machine could not be started (status %d)", code);
        }
        job_status(j, "%s%s%s%s", test_result_to_string(j->result), j->message ? " (" : "",
                   strempty(j->message), j->message ? ")" : "");
        j->log_fd = safe_close(j->log_fd);
}

static void job_reaped(Job *j, int status) {
        j->reaped = true;
        j->run_status = status;
        j->session_out = safe_close(j->session_out);
        /* Whatever is still buffered in the pipes is read now; what a process of the gone
         * machine still holds open is not waited for. */
        for (size_t i = 0; i < ELEMENTSOF(j->streams); i++)
                if (j->streams[i].fd >= 0) {
                        Stream *s = &j->streams[i];
                        LineTarget t = { j, s->console };
                        stream_read(j, s);
                        if (s->fd >= 0) {
                                test_line_buffer_flush(&s->lines, on_line, &t);
                                s->fd = safe_close(s->fd);
                        }
                }
        if (j->report_fd >= 0)
                job_report(j);
        if (j->exec.status_fd >= 0)
                job_exec_status(j);
        machine_exec_kill(&j->exec);
}

/* --- the loop ---------------------------------------------------------------------- */

static Job *job_by_pid(Matrix *m, pid_t pid) {
        for (size_t i = 0; i < m->n_jobs; i++)
                if (m->jobs[i].state == JOB_RUNNING && m->jobs[i].pid == pid && !m->jobs[i].reaped)
                        return &m->jobs[i];
        return NULL;
}

static void reap_children(Matrix *m) {
        for (;;) {
                int st;
                pid_t pid = waitpid(-1, &st, WNOHANG);
                Job *j;

                if (pid <= 0)
                        return;
                j = job_by_pid(m, pid);
                if (!j)
                        continue; /* a session helper, or an orphan we adopted as subreaper */
                job_reaped(j, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
}

static void interrupt(Matrix *m) {
        m->interrupts++;
        for (size_t i = 0; i < m->n_jobs; i++) {
                Job *j = &m->jobs[i];
                if (j->state == JOB_QUEUED) {
                        j->state = JOB_DONE;
                        j->result = TEST_RESULT_SKIPPED;
                        j->exit_status = -1;
                        job_set_message(j, "interrupted before it started");
                        continue;
                }
                if (j->state != JOB_RUNNING || j->reaped)
                        continue;
                if (!j->timed_out)
                        j->interrupted = true;
                if (m->interrupts == 1)
                        job_stop(j);
                else
                        (void) kill(j->pid, SIGKILL);
        }
}

static bool job_complete(const Job *j) {
        if (!j->reaped)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(j->streams); i++)
                if (j->streams[i].fd >= 0)
                        return false;
        return true;
}

#define POLL_MAX (2 + TEST_IMAGES_MAX * 5)

static int matrix_run(Matrix *m, int signal_fd) {
        const TestArgs *a = m->args;
        unsigned max_jobs = a->jobs ?: (unsigned) MIN(m->n_jobs, 8U);

        for (;;) {
                struct pollfd p[POLL_MAX];
                Job *owner[POLL_MAX];
                enum { W_SIGNAL, W_INOTIFY, W_STREAM0, W_STREAM1, W_REPORT, W_EXEC_REPORT, W_EXEC_STATUS } what[POLL_MAX];
                unsigned running = 0, queued = 0;
                uint64_t now = now_usec(CLOCK_MONOTONIC), deadline = UINT64_MAX;
                size_t n = 0;
                int timeout = -1;

                for (size_t i = 0; i < m->n_jobs; i++) {
                        Job *j = &m->jobs[i];
                        if (j->state == JOB_RUNNING && job_complete(j))
                                job_finish(j);
                        running += j->state == JOB_RUNNING;
                        queued += j->state == JOB_QUEUED;
                }
                for (size_t i = 0; i < m->n_jobs && running < max_jobs && m->interrupts == 0; i++) {
                        Job *j = &m->jobs[i];
                        int r;
                        if (j->state != JOB_QUEUED)
                                continue;
                        r = job_start(j);
                        running++;
                        queued--;
                        if (r < 0) {
                                job_set_message(j, "Failed to start the machine: %s", strerror(-r));
                                j->reaped = true;
                                j->run_status = EXIT_FAILURE;
                                for (size_t k = 0; k < ELEMENTSOF(j->streams); k++)
                                        j->streams[k].fd = safe_close(j->streams[k].fd);
                        }
                }
                if (running == 0 && queued == 0)
                        return 0;

                p[n] = (struct pollfd) { signal_fd, POLLIN };
                what[n++] = W_SIGNAL;
                if (m->inotify_fd >= 0) {
                        p[n] = (struct pollfd) { m->inotify_fd, POLLIN };
                        what[n++] = W_INOTIFY;
                }
                for (size_t i = 0; i < m->n_jobs; i++) {
                        Job *j = &m->jobs[i];
                        if (j->state != JOB_RUNNING)
                                continue;
                        for (size_t k = 0; k < ELEMENTSOF(j->streams); k++)
                                if (j->streams[k].fd >= 0) {
                                        owner[n] = j;
                                        what[n] = k == 0 ? W_STREAM0 : W_STREAM1;
                                        p[n++] = (struct pollfd) { j->streams[k].fd, POLLIN };
                                }
                        if (j->report_fd >= 0) {
                                owner[n] = j;
                                what[n] = W_REPORT;
                                p[n++] = (struct pollfd) { j->report_fd, POLLIN };
                        }
                        if (j->exec_started && j->exec.report_fd >= 0) {
                                owner[n] = j;
                                what[n] = W_EXEC_REPORT;
                                p[n++] = (struct pollfd) { j->exec.report_fd, POLLIN };
                        }
                        if (j->exec_started && j->exec.status_fd >= 0) {
                                owner[n] = j;
                                what[n] = W_EXEC_STATUS;
                                p[n++] = (struct pollfd) { j->exec.status_fd, POLLIN };
                        }
                        if (!j->reaped && j->deadline_usec && !j->timed_out)
                                deadline = MIN(deadline, j->deadline_usec);
                        if (!j->reaped && j->kill_usec)
                                deadline = MIN(deadline, j->kill_usec);
                }
                if (deadline != UINT64_MAX)
                        timeout = deadline <= now ? 0 : (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT_MAX);

                if (poll(p, n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(-errno, "poll: %m");
                }
                now = now_usec(CLOCK_MONOTONIC);

                for (size_t i = 0; i < n; i++) {
                        Job *j = owner[i];
                        if (!p[i].revents)
                                continue;
                        switch (what[i]) {
                        case W_SIGNAL: {
                                struct signalfd_siginfo si;
                                while (read(signal_fd, &si, sizeof si) == sizeof si) {
                                        if (si.ssi_signo == SIGCHLD)
                                                reap_children(m);
                                        else
                                                interrupt(m);
                                }
                                break;
                        }
                        case W_INOTIFY: {
                                char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                                while (read(m->inotify_fd, buf, sizeof buf) > 0)
                                        ;
                                for (size_t k = 0; k < m->n_jobs; k++)
                                        if (m->jobs[k].state == JOB_RUNNING)
                                                job_exec_start(&m->jobs[k]);
                                break;
                        }
                        case W_STREAM0:
                        case W_STREAM1:
                                if (j->streams[what[i] - W_STREAM0].fd == p[i].fd)
                                        stream_read(j, &j->streams[what[i] - W_STREAM0]);
                                break;
                        case W_REPORT:
                                if (j->report_fd >= 0)
                                        job_report(j);
                                break;
                        case W_EXEC_REPORT:
                                if (j->exec.report_fd >= 0)
                                        job_exec_report(j);
                                break;
                        case W_EXEC_STATUS:
                                if (j->exec.status_fd >= 0)
                                        job_exec_status(j);
                                break;
                        }
                }

                for (size_t i = 0; i < m->n_jobs; i++) {
                        Job *j = &m->jobs[i];
                        if (j->state != JOB_RUNNING || j->reaped)
                                continue;
                        if (j->deadline_usec && !j->timed_out && now >= j->deadline_usec) {
                                j->timed_out = true;
                                job_status(j, "timed out, stopping it");
                                machine_exec_kill(&j->exec);
                                job_stop(j);
                        }
                        if (j->kill_usec && now >= j->kill_usec) {
                                (void) kill(j->pid, SIGKILL);
                                j->kill_usec = 0;
                        }
                }
        }
}

/* After the last machine: what the runtimes left running (their cleanup guards, adopted
 * by us as subreaper when a runtime was killed) has finished, so that nothing of ours is
 * left when we exit. Bounded: a guard gives up on a cgroup after 10 s. */
static void wait_for_descendants(int signal_fd) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + 15 * 1000000ULL;

        for (;;) {
                struct signalfd_siginfo si;
                uint64_t now;
                pid_t pid = waitpid(-1, NULL, WNOHANG);
                if (pid > 0)
                        continue;
                now = now_usec(CLOCK_MONOTONIC);
                if (pid < 0 || now >= end)
                        return;
                /* Woken by the next SIGCHLD (or anything else), not after a fixed nap: the
                 * last guard usually ends a millisecond after its runtime. */
                (void) poll(&(struct pollfd) { .fd = signal_fd, .events = POLLIN }, 1,
                            (int) MIN((end - now + 999) / 1000, (uint64_t) 1000));
                while (read(signal_fd, &si, sizeof si) == sizeof si)
                        ;
        }
}

/* --- setup ------------------------------------------------------------------------- */

static int machine_name_for(const char *image, const char *run_id, size_t index, char ret[static MACHINE_NAME_MAX + 1]) {
        snprintf(ret, MACHINE_NAME_MAX + 1, "%s-t%s%zu", image, run_id, index);
        if (strlen(image) + 2 + strlen(run_id) + 3 <= MACHINE_NAME_MAX && machine_name_is_valid(ret))
                return 0;
        snprintf(ret, MACHINE_NAME_MAX + 1, "test-%s-%zu", run_id, index);
        return machine_name_is_valid(ret) ? 0 : -EINVAL;
}

/* Makes the images of --template= the pool lacks, once each; before any machine starts. */
static int make_templates(const TestArgs *a, const char *pool, bool machined, const char *self) {
        STRV_FOREACH(t, a->templates) {
                _cleanup_(image_freep) Image *img = NULL;
                _cleanup_(template_freep) Template *tpl = NULL;
                _cleanup_(error_done) Error err = ERROR_NULL;
                int r;

                r = image_get(pool, *t, 0, &img);
                if (r >= 0)
                        continue;
                if (r != -ENOENT)
                        return log_error_errno(r, "Failed to look up image %s in %s: %m", *t, pool);
                r = template_load(*t, template_default_search_dirs(), &tpl, &err);
                if (r == -ENOENT)
                        return log_error("No image '%s' in %s and no template of that name.", *t, pool), -ENOENT;
                if (r < 0)
                        return log_error("Template %s: %s", *t, err.message ?: strerror(-r)), r;
        }
        STRV_FOREACH(t, a->templates) {
                _cleanup_(image_freep) Image *img = NULL;
                _cleanup_(error_done) Error err = ERROR_NULL;
                int r;

                if (image_get(pool, *t, 0, &img) >= 0)
                        continue;
                log_info("Creating image %s from template %s (once)...", *t, *t);
                if (machined) {
                        _cleanup_free_ char *tpl_arg = strjoin("--template=", *t), *sd = strjoin("--state-dir=", a->state_dir);
                        char *argv[] = { (char *) self, (char *) "create", *t, tpl_arg, sd, NULL };
                        pid_t pid;
                        int st;

                        if (!tpl_arg || !sd)
                                return log_oom();
                        /* `nspawnctl create`, with its progress on our stderr (stdout may be
                         * the JSON report). */
                        r = safe_fork("nspawnctl-create", NULL, 0, FORK_DEATHSIG, &pid);
                        if (r < 0)
                                return log_error_errno(r, "fork: %m");
                        if (r == 0) {
                                if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
                                        _exit(EXIT_FAILURE);
                                execv(self, argv);
                                _exit(EXIT_FAILURE);
                        }
                        r = wait_for_terminate(pid, &st);
                        if (r < 0 || (st != 0 && st != EXIT_EXISTS))
                                return log_error("Failed to create image %s from its template.", *t), -EIO;
                        continue;
                }
                r = image_create_from_template(pool, *t, *t, NULL, NULL, 0, NULL, NULL, &err);
                if (r == -EEXIST)
                        continue; /* someone else made it meanwhile */
                if (r < 0)
                        return log_error("Failed to create image %s from its template: %s", *t,
                                         err.message ?: strerror(-r)), -EIO;
        }
        return 0;
}

static int matrix_prepare(Matrix *m, const char *pool) {
        const TestArgs *a = m->args;
        _cleanup_strv_free_ char **names = NULL;
        char id[33];
        int r;

        if (strv_extend_strv(&names, a->images) < 0 || strv_extend_strv(&names, a->templates) < 0)
                return log_oom();
        if (id128_random_hex(id) < 0)
                return log_error("Failed to make a random id."), -EIO;
        snprintf(m->run_id, sizeof m->run_id, "%.6s", id);
        m->jobs = calloc(strv_length(names), sizeof(Job));
        if (!m->jobs)
                return log_oom();
        STRV_FOREACH(n, names) {
                _cleanup_(image_freep) Image *img = NULL;
                Job *j = &m->jobs[m->n_jobs];

                r = image_get(pool, *n, 0, &img);
                if (r == -ENOENT)
                        return log_error("No image '%s' in the pool %s.", *n, pool), -ENOENT;
                if (r < 0)
                        return log_error_errno(r, "Failed to look up image %s in %s: %m", *n, pool);
                if (img->type == IMAGE_RAW)
                        return log_error("Image %s is a raw disk image; test runs directory and subvolume images only.", *n),
                               -EOPNOTSUPP;
                *j = (Job) {
                        .matrix = m,
                        .report_fd = -EBADF,
                        .streams = { { .fd = -EBADF }, { .fd = -EBADF } },
                        .exec = MACHINE_EXEC_NULL,
                        .exec_status = -1,
                        .session_out = -EBADF,
                        .log_fd = -EBADF,
                        .exit_status = -1,
                };
                m->n_jobs++;
                j->image = strdup(*n);
                j->path = strdup(img->path);
                if (!j->image || !j->path)
                        return log_oom();
                r = machine_name_for(*n, m->run_id, m->n_jobs - 1, j->machine);
                if (r < 0)
                        return log_error("Failed to make a machine name for %s.", *n), r;
        }
        return 0;
}

static int open_logs(Matrix *m) {
        const char *dir = m->args->log_dir;

        if (!dir)
                return 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Failed to create %s: %m", dir);
        for (size_t i = 0; i < m->n_jobs; i++) {
                Job *j = &m->jobs[i];
                j->log_path = strjoin(dir, "/", j->image, ".log");
                if (!j->log_path)
                        return log_oom();
                j->log_fd = open(j->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
                if (j->log_fd < 0)
                        return log_error_errno(-errno, "Failed to open %s: %m", j->log_path);
        }
        return 0;
}

static int write_reports(Matrix *m, FILE *junit, uint64_t started_realtime) {
        _cleanup_free_ TestOutcome *o = calloc(m->n_jobs, sizeof(TestOutcome));
        _cleanup_strv_free_ char **texts = NULL;
        int r = 0;

        if (!o)
                return log_oom();
        for (size_t i = 0; i < m->n_jobs; i++) {
                Job *j = &m->jobs[i];
                char *out = NULL, *con = NULL;
                if (test_capture_text(&j->output, &out) < 0 || strv_consume(&texts, out) < 0 ||
                    test_capture_text(&j->console, &con) < 0 || strv_consume(&texts, con) < 0)
                        return log_oom();
                o[i] = (TestOutcome) {
                        .image = j->image,
                        .result = j->result,
                        .exit_status = j->exit_status,
                        .duration_usec = j->end_usec > j->start_usec ? j->end_usec - j->start_usec : 0,
                        .setup_usec = j->started ? j->started_usec - j->start_usec : 0,
                        .log_path = j->log_path,
                        .message = j->message,
                        .output = out,
                        .console = con,
                };
        }
        if (m->args->json)
                (void) test_report_json(stdout, o, m->n_jobs);
        else
                (void) test_report_table(stdout, o, m->n_jobs);
        fflush(stdout);
        if (junit) {
                r = test_report_junit(junit, "nspawnctl-test", o, m->n_jobs, started_realtime);
                if (r >= 0 && fflush(junit) != 0)
                        r = -errno;
                if (r < 0)
                        return log_error_errno(r, "Failed to write %s: %m", m->args->junit);
        }
        return 0;
}

int verb_test(int argc, char *argv[]) {
        _cleanup_(test_args_done) TestArgs a = {};
        _cleanup_(matrix_done) Matrix m = { .devnull = -EBADF, .records_fd = -EBADF, .inotify_fd = -EBADF };
        _cleanup_free_ char *pool = NULL;
        _cleanup_close_ int signal_fd = -EBADF;
        _cleanup_fclose_ FILE *junit = NULL;
        uint64_t started_realtime = now_usec(CLOCK_REALTIME);
        bool machined = false, interrupted;
        sigset_t mask;
        int r;

        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_OK;
        if (geteuid() != 0)
                return log_error("test needs root: it starts containers."), EXIT_PERMISSION;
        if (a.script) {
                struct stat st;
                if (stat(a.script, &st) < 0)
                        return log_error_errno(-errno, "Script %s: %m", a.script), EXIT_USAGE;
                if (!S_ISREG(st.st_mode))
                        return log_error("Script %s is not a regular file.", a.script), EXIT_USAGE;
        }
        for (size_t i = 0; i < a.n_copies; i++)
                if (access(a.copies[i].source, F_OK) < 0)
                        return log_error_errno(-errno, "--copy= source %s: %m", a.copies[i].source), EXIT_USAGE;

        m.args = &a;
        m.tty = isatty(a.json ? STDERR_FILENO : STDOUT_FILENO);
        m.out = a.json ? stderr : stdout;
        r = self_exe(&m.self);
        if (r < 0)
                return log_error_errno(r, "Failed to find our own binary: %m"), EXIT_FAIL;
        r = pool_resolve(a.pool, a.state_dir, &pool, &machined);
        if (r < 0)
                return EXIT_USAGE;
        /* Every image must exist (or have a template) before anything is made or started. */
        STRV_FOREACH(n, a.images) {
                _cleanup_(image_freep) Image *img = NULL;
                r = image_get(pool, *n, 0, &img);
                if (r == -ENOENT)
                        return log_error("No image '%s' in the pool %s.", *n, pool), EXIT_NOT_FOUND;
                if (r < 0)
                        return log_error_errno(r, "Failed to look up image %s in %s: %m", *n, pool), EXIT_FAIL;
        }
        r = make_templates(&a, pool, machined, m.self);
        if (r < 0)
                return r == -ENOENT ? EXIT_NOT_FOUND : EXIT_FAIL;
        r = matrix_prepare(&m, pool);
        if (r < 0)
                return r == -ENOENT ? EXIT_NOT_FOUND : r == -EOPNOTSUPP ? EXIT_USAGE : EXIT_FAIL;
        r = open_logs(&m);
        if (r < 0)
                return EXIT_FAIL;
        /* Opened before the first machine starts: a long run must not end in a report that
         * cannot be written. */
        if (a.junit) {
                junit = fopen(a.junit, "we");
                if (!junit)
                        return log_error_errno(-errno, "Failed to open %s: %m", a.junit), EXIT_FAIL;
        }

        m.devnull = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (m.devnull < 0)
                return log_error_errno(-errno, "/dev/null: %m"), EXIT_FAIL;
        if (a.boot) {
                _cleanup_free_ char *dir = strjoin(a.state_dir, "/machines");
                r = state_dir_create(a.state_dir);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %s: %m", a.state_dir), EXIT_FAIL;
                if (!dir)
                        return log_oom(), EXIT_FAIL;
                m.records_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                m.inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (m.records_fd < 0 || m.inotify_fd < 0 ||
                    inotify_add_watch(m.inotify_fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
                        return log_error_errno(-errno, "Failed to watch %s: %m", dir), EXIT_FAIL;
        }

        /* The runtimes' guards become ours when a runtime dies, so that we can wait for
         * their cleanup before we exit. */
        (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        sigemptyset(&mask);
        for (const int *s = (const int[]) { SIGCHLD, SIGINT, SIGTERM, SIGHUP, 0 }; *s; s++)
                sigaddset(&mask, *s);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0)
                return log_error_errno(-errno, "signalfd: %m"), EXIT_FAIL;
        (void) signal(SIGPIPE, SIG_IGN);

        r = matrix_run(&m, signal_fd);
        interrupted = m.interrupts > 0;
        wait_for_descendants(signal_fd);
        if (r < 0)
                return EXIT_FAIL;
        if (write_reports(&m, junit, started_realtime) < 0)
                return EXIT_FAIL;
        if (interrupted)
                return EXIT_INTERRUPTED;
        for (size_t i = 0; i < m.n_jobs; i++)
                if (m.jobs[i].result != TEST_RESULT_PASS)
                        return EXIT_FAIL;
        return EXIT_OK;
}
