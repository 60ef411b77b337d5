/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/process.h"
#include "util/raw-syscall.h"
#include "util/spawn-lazy.h"
#include "util/util.h"

#define LAZY_MAX_FDS 8
#define LAZY_STACK_SIZE (32 * 1024)
#define ALIGN_PTR(p) ((char *) (((uintptr_t) (p) + sizeof(char *) - 1) & ~(uintptr_t) (sizeof(char *) - 1)))

/* All the watcher reads, in its own mapping. fds are its copies, every one above the
 * numbers they move to, so no move overwrites another source. */
typedef struct LazyExec {
        const char *path;
        char **argv;
        char **envp;
        int fds[LAZY_MAX_FDS];
        int n_fds;
        int null_fd;
        char name[16];
        char done_byte;
        unsigned grace_msec;
        pid_t parent;
} LazyExec;

/* The kernel's struct sigaction for rt_sigaction(2) (x86-64 and arm64 both have sa_restorer). */
struct raw_sigaction {
        unsigned long handler;
        unsigned long flags;
        void *restorer;
        unsigned long mask;
};

static void raw_exit(int status) {
        for (;;)
                (void) raw_syscall(SYS_exit_group, status, 0, 0);
}

static void raw_set_signal(int sig, __sighandler_t handler) {
        struct raw_sigaction sa = { .handler = (unsigned long) handler };
        (void) raw_syscall6(SYS_rt_sigaction, sig, (long) &sa, 0, sizeof sa.mask, 0, 0);
}

/* The watcher. Signals are blocked from the clone on (the parent blocked them around it):
 * none of our handlers may run on memory it shares with us. Only raw system calls: no
 * errno, no libc state. */
static int lazy_child(void *userdata) {
        const LazyExec *l = userdata;
        struct timespec ts = { .tv_sec = l->grace_msec / 1000, .tv_nsec = (l->grace_msec % 1000) * 1000000L };
        unsigned long none = 0;
        long parent_fd;
        char b;

        /* First drop every fd but ours: a copy of the pipe's write end would keep it open. */
        for (int i = 0; i < l->n_fds; i++)
                if (raw_syscall(SYS_dup3, l->fds[i], 3 + i, 0) < 0)
                        raw_exit(127);
        for (int i = 0; i < 3; i++)
                if (raw_syscall(SYS_dup3, l->null_fd, i, 0) < 0)
                        raw_exit(127);
        if (raw_syscall(SYS_close_range, 3 + l->n_fds, ~0U, 0) < 0 || raw_syscall(SYS_setsid, 0, 0, 0) < 0)
                raw_exit(127);
        (void) raw_syscall6(SYS_prctl, PR_SET_NAME, (long) l->name, 0, 0, 0, 0);
        /* Our parent's pidfd, if the parent is still the one that cloned us. */
        parent_fd = raw_syscall(SYS_pidfd_open, l->parent, 0, 0);
        if (parent_fd >= 0 && raw_syscall(SYS_getppid, 0, 0, 0) != l->parent) {
                (void) raw_syscall(SYS_close, parent_fd, 0, 0);
                parent_fd = -1;
        }

        for (;;) {
                struct pollfd p = { .fd = 3, .events = POLLIN };
                long n = raw_syscall6(SYS_ppoll, (long) &p, 1, (long) &ts, 0, 0, 0);
                if (n == -EINTR)
                        continue;
                if (n <= 0) /* nobody said done in time: become the program */
                        break;
                n = raw_syscall(SYS_read, 3, &b, 1);
                if (n == -EINTR || n == -EAGAIN)
                        continue;
                if (n != 1) /* every writer is gone */
                        break;
                if (b == l->done_byte) {
                        /* Stay until the parent has exited (bounded by the grace): the last
                         * user of an address space tears it down, and that takes a few ms
                         * here that the parent's own caller would otherwise wait for. */
                        if (parent_fd >= 0) {
                                struct pollfd q = { .fd = (int) parent_fd, .events = POLLIN };
                                (void) raw_syscall6(SYS_ppoll, (long) &q, 1, (long) &ts, 0, 0, 0);
                        }
                        raw_exit(0);
                }
        }

        /* Ignoring a signal discards what is pending of it; then each is at its default, as
         * after FORK_RESET_SIGNALS. */
        for (int s = 1; s < _NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP) {
                        raw_set_signal(s, SIG_IGN);
                        raw_set_signal(s, SIG_DFL);
                }
        (void) raw_syscall6(SYS_rt_sigprocmask, SIG_SETMASK, (long) &none, 0, sizeof none, 0, 0);
        (void) raw_syscall(SYS_execve, l->path, l->argv, l->envp);
        raw_exit(127);
        return 127;
}

/* Bytes of the strings and the pointer array (with its NULL) of v. */
static size_t strv_size(char *const *v) {
        size_t s = sizeof(char *);
        for (; v && *v; v++)
                s += sizeof(char *) + strlen(*v) + 1;
        return s;
}

/* Copies v into *pos: the pointers first, then the strings. */
static char **strv_copy_to(char *const *v, char **pos) {
        size_t n = 0;
        char **out = (char **) *pos, *s;

        for (char *const *i = v; i && *i; i++)
                n++;
        s = *pos + (n + 1) * sizeof(char *);
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(v[i]) + 1;
                out[i] = memcpy(s, v[i], l);
                s += l;
        }
        out[n] = NULL;
        *pos = s;
        return out;
}

int spawn_exec_lazy(const char *path, char *const *argv, const int *fds, size_t n_fds, const char *name,
                    char done_byte, unsigned grace_msec, pid_t *ret_pid) {
        extern char **environ;
        int high[LAZY_MAX_FDS + 1], n = 0, r;
        sigset_t all, saved;
        LazyExec *l;
        size_t size;
        char *block, *pos;
        pid_t pid;

        if (!RAW_SYSCALL_SUPPORTED)
                return -EOPNOTSUPP;
        if (n_fds > LAZY_MAX_FDS || !argv || !argv[0])
                return -EINVAL;
        /* The exec may come long after this returns: say now whether it can work. */
        if (access(path, X_OK) < 0)
                return -errno;

        /* The fds, and /dev/null last, above every number they move to. */
        n = fds_dup_above(fds, n_fds, 3 + (int) n_fds, high);
        if (n < 0)
                return n;
        {
                _cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                high[n] = null < 0 ? -1 : fcntl(null, F_DUPFD_CLOEXEC, 3 + (int) n_fds);
                if (high[n] < 0) {
                        r = -errno;
                        goto out_fds;
                }
        }

        size = LAZY_STACK_SIZE + sizeof(LazyExec) + strlen(path) + 1 + strv_size(argv) + strv_size(environ) +
               2 * sizeof(char *); /* alignment of the two arrays */
        block = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED) {
                r = -errno;
                goto out_null;
        }
        l = (LazyExec *) (block + LAZY_STACK_SIZE);
        *l = (LazyExec) { .n_fds = n, .null_fd = high[n], .done_byte = done_byte, .grace_msec = grace_msec,
                          .parent = getpid() };
        memcpy(l->fds, high, n * sizeof(int));
        strncpy(l->name, name, sizeof l->name - 1);
        pos = (char *) (l + 1);
        l->path = strcpy(pos, path);
        pos += strlen(path) + 1;
        pos = ALIGN_PTR(pos);
        l->argv = strv_copy_to(argv, &pos);
        pos = ALIGN_PTR(pos);
        l->envp = strv_copy_to(environ, &pos);

        sigfillset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, &saved);
        pid = clone(lazy_child, block + LAZY_STACK_SIZE, CLONE_VM | SIGCHLD, l);
        r = pid < 0 ? -errno : 0;
        (void) sigprocmask(SIG_SETMASK, &saved, NULL);
        if (r < 0) {
                (void) munmap(block, size);
                goto out_null;
        }
        /* block stays mapped: the watcher runs on it until it exits or execs. */
        if (ret_pid)
                *ret_pid = pid;
out_null:
        (void) close(high[n]);
out_fds:
        while (n > 0)
                (void) close(high[--n]);
        return r;
}
