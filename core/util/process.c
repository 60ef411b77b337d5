/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/process.h"
#include "util/util.h"

int wait_for_terminate(pid_t pid, int *ret_status) {
        siginfo_t si = {};
        for (;;) {
                if (waitid(P_PID, pid, &si, WEXITED) >= 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }
        if (ret_status)
                *ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        return 0;
}

int pidfd_open_safe(pid_t pid) {
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

int proc_start_time(pid_t pid, uint64_t *ret) {
        char path[64];
        _cleanup_free_ char *line = NULL;
        const char *p;
        int r;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        r = read_one_line(path, &line);
        if (r < 0)
                return r;
        /* comm may contain spaces and parentheses: fields start after the last ')'. */
        p = strrchr(line, ')');
        if (!p)
                return -EIO;
        p++;
        /* p is at the space before field 3 (state); field 22 (starttime) follows the 19th
         * space after it. */
        for (int i = 0; i < 19; i++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EIO;
        }
        return safe_atou64(strndupa(p + 1, strcspn(p + 1, " ")), ret);
}

int pidfd_open_verified(pid_t pid, uint64_t start_time) {
        _cleanup_close_ int fd = -EBADF;
        struct pollfd p;
        uint64_t t;
        int r;

        if (pid <= 0)
                return -ESRCH;
        fd = pidfd_open_safe(pid);
        if (fd < 0)
                return fd;
        /* Reading the start time after the pidfd is open pins the answer to the process the
         * pidfd refers to: if the pid was reused before pidfd_open, the times differ. */
        r = proc_start_time(pid, &t);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        if (t != start_time)
                return -ESRCH;
        /* A zombie (exited, not yet reaped: its parent may be an init that does not reap)
         * still has its /proc entry; a pidfd polls readable once the process exited. */
        p = (struct pollfd) { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 0) < 0)
                return -errno;
        if (p.revents & POLLIN)
                return -ESRCH;
        return TAKE_FD(fd);
}

int pidfd_send_signal_safe(int pidfd, int sig) {
        return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int safe_fork_full(const char *name, const int *except_fds, size_t n_except, ForkFlags flags, pid_t *ret_pid,
                   int *ret_pidfd) {
        pid_t pid, parent = getpid();
        int pidfd = -EBADF;

        if (ret_pidfd) {
                /* clone3() hands out the pidfd atomically: no window in which the pid could
                 * be reused before we hold it. */
                struct clone_args args = {
                        .flags = CLONE_PIDFD,
                        .pidfd = (uint64_t) (uintptr_t) &pidfd,
                        .exit_signal = SIGCHLD,
                };
                pid = (pid_t) syscall(SYS_clone3, &args, sizeof args);
        } else
                pid = fork();
        if (pid < 0)
                return -errno;
        if (pid > 0) {
                if (ret_pidfd)
                        *ret_pidfd = pidfd;
                if (flags & FORK_WAIT) {
                        int status = 0, r = wait_for_terminate(pid, &status);
                        if (r < 0)
                                return r;
                        if (status != 0)
                                return -EPROTO;
                }
                if (ret_pid)
                        *ret_pid = pid;
                return 1;
        }

        /* The child: only async-signal-safe calls from here on, and no logging. */
        if (name)
                (void) prctl(PR_SET_NAME, name);
        if (flags & (FORK_DEATHSIG | FORK_DEATHSIG_SIGTERM)) {
                if (prctl(PR_SET_PDEATHSIG, (flags & FORK_DEATHSIG) ? SIGKILL : SIGTERM) < 0)
                        _exit(127);
                /* The parent may have died before the death signal was armed. */
                if (getppid() != parent)
                        _exit(127);
        }
        if (flags & FORK_RESET_SIGNALS) {
                sigset_t none;
                struct sigaction sa = { .sa_handler = SIG_DFL };
                for (int s = 1; s < _NSIG; s++)
                        if (s != SIGKILL && s != SIGSTOP)
                                (void) sigaction(s, &sa, NULL);
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
        }
        if ((flags & FORK_NEW_SESSION) && setsid() < 0)
                _exit(127);
        if (flags & FORK_NULL_STDIO) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
                if (null < 0)
                        _exit(127);
                for (int i = 0; i < 3; i++)
                        if (dup2(null, i) < 0)
                                _exit(127);
                if (null > 2)
                        (void) close(null);
        }
        if ((flags & FORK_CLOSE_ALL_FDS) && close_all_fds_except(except_fds, n_except) < 0)
                _exit(127);
        return 0;
}

void *stack_new(size_t size) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        char *p = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);

        if (p == MAP_FAILED)
                return MAP_FAILED;
        if (mprotect(p, page, PROT_NONE) < 0) {
                int e = errno;
                (void) munmap(p, size + page);
                errno = e;
                return MAP_FAILED;
        }
        return p + page;
}

void stack_free(void *stack, size_t size) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE);

        if (stack && stack != MAP_FAILED)
                (void) munmap((char *) stack - page, size + page);
}

int fds_dup_above(const int *fds, size_t n_fds, int min, int *high) {
        int n = 0;

        for (; (size_t) n < n_fds && fds[n] >= 0; n++) {
                high[n] = fcntl(fds[n], F_DUPFD_CLOEXEC, min);
                if (high[n] < 0) {
                        int r = -errno;
                        while (n > 0)
                                (void) close(high[--n]);
                        return r;
                }
        }
        return n;
}

int spawn_exec(const char *path, char *const *argv, const int *fds, size_t n_fds, ForkFlags flags,
               pid_t *ret_pid) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        int high[8], n = 0, r;
        short attr_flags = 0;
        sigset_t set;
        pid_t pid;

        if ((flags & ~(FORK_RESET_SIGNALS | FORK_NEW_SESSION | FORK_NULL_STDIO)) || n_fds > ELEMENTSOF(high))
                return -EINVAL;
        /* Copies above every target number first: a source may be another one's target. */
        n = fds_dup_above(fds, n_fds, 3 + (int) n_fds, high);
        if (n < 0)
                return n;
        r = -posix_spawn_file_actions_init(&fa);
        if (r < 0)
                goto out_fds;
        r = -posix_spawnattr_init(&attr);
        if (r < 0)
                goto out_fa;
        for (int i = 0; r == 0 && (flags & FORK_NULL_STDIO) && i < 3; i++)
                r = -posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR | O_NOCTTY, 0);
        for (int i = 0; r == 0 && i < n; i++)
                r = -posix_spawn_file_actions_adddup2(&fa, high[i], 3 + i);
        if (r == 0)
                r = -posix_spawn_file_actions_addclosefrom_np(&fa, 3 + n);
        if (r == 0 && (flags & FORK_RESET_SIGNALS)) {
                attr_flags |= POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
                sigfillset(&set);
                r = -posix_spawnattr_setsigdefault(&attr, &set);
                sigemptyset(&set);
                if (r == 0)
                        r = -posix_spawnattr_setsigmask(&attr, &set);
        }
        if (flags & FORK_NEW_SESSION)
                attr_flags |= POSIX_SPAWN_SETSID;
        if (r == 0)
                r = -posix_spawnattr_setflags(&attr, attr_flags);
        if (r == 0)
                r = -posix_spawn(&pid, path, &fa, &attr, argv, environ);
        if (r == 0 && ret_pid)
                *ret_pid = pid;
        posix_spawnattr_destroy(&attr);
out_fa:
        posix_spawn_file_actions_destroy(&fa);
out_fds:
        while (n > 0)
                (void) close(high[--n]);
        return r;
}
