/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"
#include "util/process.h"
#include "util/raw-syscall.h"
#include "util/spawn-lazy.h"
#include "util/strv.h"
#include "util/util.h"

TEST(safe_atoi) {
        int v;
        ASSERT_OK(safe_atoi("42", &v));
        ASSERT_EQ(v, 42);
        ASSERT_OK(safe_atoi("-7", &v));
        ASSERT_EQ(v, -7);
        ASSERT_ERROR(safe_atoi("", &v), EINVAL);
        ASSERT_ERROR(safe_atoi("4x", &v), EINVAL);
        ASSERT_ERROR(safe_atoi("99999999999", &v), ERANGE);
}

TEST(parse_boolean) {
        ASSERT_EQ(parse_boolean("yes"), 1);
        ASSERT_EQ(parse_boolean("ON"), 1);
        ASSERT_EQ(parse_boolean("0"), 0);
        ASSERT_EQ(parse_boolean("off"), 0);
        ASSERT_ERROR(parse_boolean("maybe"), EINVAL);
        ASSERT_ERROR(parse_boolean(""), EINVAL);
}

TEST(parse_sec) {
        uint64_t u;
        ASSERT_OK(parse_sec_usec("1.5", &u));
        ASSERT_EQ(u, 1500000);
        ASSERT_OK(parse_sec_usec("250ms", &u));
        ASSERT_EQ(u, 250000);
        ASSERT_ERROR(parse_sec_usec("-1", &u), EINVAL);
        ASSERT_ERROR(parse_sec_usec("1h", &u), EINVAL);
        ASSERT_ERROR(parse_sec_usec("", &u), EINVAL);
}

TEST(signals) {
        ASSERT_EQ(signal_from_string("TERM"), SIGTERM);
        ASSERT_EQ(signal_from_string("SIGKILL"), SIGKILL);
        ASSERT_EQ(signal_from_string("9"), 9);
        ASSERT_EQ(signal_from_string("RTMIN+3"), SIGRTMIN + 3);
        ASSERT_ERROR(signal_from_string("FOO"), EINVAL);
        ASSERT_ERROR(signal_from_string(""), EINVAL);
        ASSERT_ERROR(signal_from_string("0"), EINVAL);
        ASSERT_STREQ(signal_to_string(SIGTERM), "TERM");
}

TEST(strv_env) {
        _cleanup_strv_free_ char **env = NULL;
        ASSERT_OK(strv_env_set(&env, "A=1"));
        ASSERT_OK(strv_env_set(&env, "B=2"));
        ASSERT_OK(strv_env_set(&env, "A=3"));
        ASSERT_EQ(strv_length(env), 2);
        ASSERT_STREQ(strv_env_get(env, "A"), "3");
        ASSERT_ERROR(strv_env_set(&env, "=x"), EINVAL);
        ASSERT_ERROR(strv_env_set(&env, "noequals"), EINVAL);
}

TEST(utf8) {
        ASSERT_TRUE(utf8_is_valid("abc"));
        ASSERT_TRUE(utf8_is_valid("gr\xc3\xbc\xc3\x9f"));
        ASSERT_FALSE(utf8_is_valid("\xff"));
        ASSERT_FALSE(utf8_is_valid("\xc3"));
}

TEST(strjoin) {
        _cleanup_free_ char *s = strjoin("a", "/", "b");
        ASSERT_STREQ(s, "a/b");
}

TEST(id128) {
        char id[33];
        ASSERT_OK(id128_random_hex(id));
        ASSERT_EQ(strlen(id), 32);
}

TEST(close_all_fds_except) {
        int a = open("/dev/null", O_RDONLY | O_CLOEXEC), b = open("/dev/null", O_RDONLY | O_CLOEXEC),
            c = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(a >= 3 && b > a && c > b);
        ASSERT_OK(close_all_fds_except((int[]) { b }, 1));
        ASSERT_TRUE(fcntl(a, F_GETFD) < 0);
        ASSERT_TRUE(fcntl(b, F_GETFD) >= 0);
        ASSERT_TRUE(fcntl(c, F_GETFD) < 0);
        ASSERT_OK(close_all_fds_except((int[]) { 3 }, 1));
        close(b);
}

TEST(format_proc_fd_path) {
        struct stat a, b;
        int fd = open("/dev/null", O_PATH | O_CLOEXEC), w;

        ASSERT_STREQ(FORMAT_PROC_FD_PATH(7), "/proc/self/fd/7");
        /* The widest int fits. */
        ASSERT_STREQ(FORMAT_PROC_FD_PATH(INT_MIN), "/proc/self/fd/-2147483648");
        ASSERT_TRUE(strlen(FORMAT_PROC_FD_PATH(INT_MAX)) < PROC_FD_PATH_MAX);
        /* Two in one call each keep their own buffer. */
        ASSERT_TRUE(strcmp(FORMAT_PROC_FD_PATH(3), FORMAT_PROC_FD_PATH(4)) < 0);
        /* An O_PATH fd opened again through it is the same file. */
        ASSERT_TRUE(fd >= 0);
        w = open(FORMAT_PROC_FD_PATH(fd), O_WRONLY | O_CLOEXEC);
        ASSERT_TRUE(w >= 0);
        ASSERT_OK(fstat(fd, &a) < 0 ? -errno : 0);
        ASSERT_OK(fstat(w, &b) < 0 ? -errno : 0);
        ASSERT_TRUE(a.st_rdev == b.st_rdev && a.st_ino == b.st_ino);
        close(w);
        close(fd);
}

TEST(dot_or_dot_dot) {
        ASSERT_TRUE(dot_or_dot_dot("."));
        ASSERT_TRUE(dot_or_dot_dot(".."));
        ASSERT_FALSE(dot_or_dot_dot("..."));
        ASSERT_FALSE(dot_or_dot_dot(".a"));
        ASSERT_FALSE(dot_or_dot_dot("..a"));
        ASSERT_FALSE(dot_or_dot_dot(""));
        ASSERT_FALSE(dot_or_dot_dot("a"));
}

/* opendir_fd() reads from the start on an fd of its own: the caller's fd keeps its offset
 * and stays open after closedir(). */
TEST(opendir_fd) {
        _cleanup_(closedirp) DIR *d = NULL, *again = NULL;
        _cleanup_close_ int fd = -EBADF;
        unsigned n = 0, m = 0;

        fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(opendir_fd(fd, &d));
        ASSERT_TRUE(dirfd(d) != fd);
        ASSERT_TRUE(fcntl(dirfd(d), F_GETFD) & FD_CLOEXEC);
        for (struct dirent *de; (de = readdir(d));)
                n++;
        ASSERT_OK(opendir_fd(fd, &again));
        for (struct dirent *de; (de = readdir(again));)
                m++;
        ASSERT_EQ(n, m);
        ASSERT_TRUE(n >= 2);
        closedir(TAKE_PTR(d));
        ASSERT_TRUE(fcntl(fd, F_GETFD) >= 0);
        fd = safe_close(fd);
        fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                ASSERT_ERROR(opendir_fd(fd, &d), ENOTDIR);
}

TEST(foreach_dirent) {
        _cleanup_(closedirp) DIR *d = NULL;
        char dir[] = "/tmp/test-foreach-dirent.XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        unsigned n = 0;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(opendir_fd(fd, &d));
        FOREACH_DIRENT(de, d)
                n++;
        ASSERT_EQ(errno, 0);
        ASSERT_EQ(n, 0u);

        ASSERT_TRUE(mkdirat(fd, "a", 0700) >= 0);
        ASSERT_TRUE(mkdirat(fd, "..b", 0700) >= 0);
        rewinddir(d);
        FOREACH_DIRENT(de, d) {
                ASSERT_FALSE(dot_or_dot_dot(de->d_name));
                n++;
        }
        ASSERT_EQ(n, 2u);
        ASSERT_TRUE(unlinkat(fd, "a", AT_REMOVEDIR) >= 0);
        ASSERT_TRUE(unlinkat(fd, "..b", AT_REMOVEDIR) >= 0);
        ASSERT_TRUE(rmdir(dir) >= 0);
}

TEST(pidfd_verified) {
        uint64_t t;
        pid_t pid;
        int fd;

        ASSERT_OK(proc_start_time(getpid(), &t));
        /* Field 22 of /proc/self/stat, counted independently of proc_start_time(). */
        {
                _cleanup_free_ char *line = NULL;
                unsigned long long v = 0;
                ASSERT_OK(read_one_line("/proc/self/stat", &line));
                char *p = strrchr(line, ')');
                ASSERT_TRUE(p);
                ASSERT_EQ(sscanf(p + 2,
                                 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                                 "%*d %*d %*d %*d %llu",
                                 &v),
                          1);
                ASSERT_EQ(t, v);
        }
        fd = pidfd_open_verified(getpid(), t);
        ASSERT_OK(fd);
        close(fd);
        ASSERT_ERROR(pidfd_open_verified(getpid(), t + 1), ESRCH);
        ASSERT_ERROR(pidfd_open_verified(0, 0), ESRCH);

        /* An exited, unreaped child (a zombie) is not alive. */
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0)
                _exit(0);
        ASSERT_OK(proc_start_time(pid, &t));
        for (int i = 0; i < 100; i++) {
                siginfo_t si = {};
                if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) >= 0 && si.si_pid == pid)
                        break;
                usleep(10000);
        }
        ASSERT_ERROR(pidfd_open_verified(pid, t), ESRCH);
        ASSERT_OK(wait_for_terminate(pid, NULL));
        ASSERT_ERROR(pidfd_open_verified(pid, t), ESRCH);
}

TEST(safe_fork) {
        int p[2];
        pid_t pid;
        char c = 0;

        ASSERT_OK(pipe2(p, O_CLOEXEC));
        /* The child keeps only the listed fd, gets an empty mask and default handlers. */
        (void) signal(SIGUSR1, SIG_IGN);
        int r = safe_fork("test-fork", (const int[]) { p[1] }, 1,
                          FORK_RESET_SIGNALS | FORK_CLOSE_ALL_FDS | FORK_NULL_STDIO, &pid);
        ASSERT_OK(r);
        if (r == 0) {
                struct sigaction sa;
                (void) sigaction(SIGUSR1, NULL, &sa);
                c = fcntl(p[0], F_GETFD) < 0 && sa.sa_handler == SIG_DFL ? 'y' : 'n';
                (void) write(p[1], &c, 1);
                _exit(0);
        }
        (void) signal(SIGUSR1, SIG_DFL);
        close(p[1]);
        ASSERT_EQ(read(p[0], &c, 1), 1);
        close(p[0]);
        ASSERT_EQ(c, 'y');
        int status = -1;
        ASSERT_OK(wait_for_terminate(pid, &status));
        ASSERT_EQ(status, 0);

        /* FORK_WAIT: the child's failure is the parent's return value. */
        r = safe_fork("test-fork", NULL, 0, FORK_WAIT, NULL);
        if (r == 0)
                _exit(3);
        ASSERT_ERROR(r, EPROTO);
}

TEST(spawn_exec) {
        int a[2], b[2], status = -1;
        pid_t pid;
        char buf[256] = {};

        /* The listed fds land on 3 and 4 in the given order, even when each one's number is
         * the other's target; nothing else survives; the child gets its own session. */
        ASSERT_OK(pipe2(a, O_CLOEXEC));
        ASSERT_OK(pipe2(b, O_CLOEXEC));
        ASSERT_OK(spawn_exec("/bin/sh",
                             (char *[]) { (char *) "sh", (char *) "-c",
                                          (char *) "[ \"$(ls /proc/self/fd | sort -n | tr '\\n' ' ')\" = '0 1 2 3 4 5 ' ] && "
                                                   "[ \"$(ps -o sid= -p $$)\" -eq $$ ] && echo ok >&3",
                                          NULL },
                             (const int[]) { a[1], b[0] }, 2, FORK_RESET_SIGNALS | FORK_NEW_SESSION, &pid));
        close(a[1]);
        close(b[0]);
        ASSERT_OK(wait_for_terminate(pid, &status));
        ASSERT_EQ(status, 0);
        ASSERT_EQ(read(a[0], buf, sizeof buf - 1), 3);
        ASSERT_STREQ(buf, "ok\n");
        close(a[0]);
        close(b[1]);

        /* A program that cannot be run is the caller's error, and no process is left. */
        ASSERT_ERROR(spawn_exec("/nonexistent/prog", (char *[]) { (char *) "x", NULL }, NULL, 0, 0, &pid), ENOENT);
        ASSERT_ERROR(spawn_exec("/bin/true", (char *[]) { (char *) "true", NULL }, NULL, 0, FORK_WAIT, &pid), EINVAL);
}

/* One run of spawn_exec_lazy() with a program that reports its fds and session on fd 4:
 * sets how the watcher ended (its exit status), its pid, and what the program wrote, if it
 * ran. act: 'd' writes done, 'x' a byte to skip and then done, 'c' closes the pipe, 't' waits
 * for the grace period with the pipe open. */
static int lazy_case(char act, int *ret_status, pid_t *ret_pid, char *buf, size_t size) {
        int p[2], out[2], r;

        if (pipe2(p, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        r = spawn_exec_lazy("/bin/sh",
                            (char *[]) { (char *) "sh", (char *) "-c",
                                         (char *) "echo \"$(ls /proc/self/fd | sort -n | tr '\\n' ' ')$(ps -o sid= -p $$ | tr -d ' ')\" >&4",
                                         NULL },
                            (const int[]) { p[0], out[1] }, 2, "test-lazy", 'd',
                            act == 't' ? 50 : act == 'c' ? 60000 : 100, ret_pid);
        close(p[0]);
        close(out[1]);
        if (r < 0)
                return r;
        if (act == 'd' || act == 'x')
                (void) write(p[1], act == 'x' ? "xd" : "d", act == 'x' ? 2 : 1);
        if (act != 't')
                close(p[1]);
        r = wait_for_terminate(*ret_pid, ret_status);
        if (act == 't')
                close(p[1]);
        memset(buf, 0, size);
        if (r >= 0 && read(out[0], buf, size - 1) < 0)
                r = -errno;
        close(out[0]);
        return r;
}

TEST(spawn_exec_lazy) {
        char buf[128], expect[64];
        int status;
        pid_t pid;

        if (!RAW_SYSCALL_SUPPORTED) {
                ASSERT_ERROR(spawn_exec_lazy("/bin/true", (char *[]) { (char *) "true", NULL }, NULL, 0, "x", 'd', 0, NULL),
                             EOPNOTSUPP);
                return;
        }
        /* Done: the program never runs. We do not exit, so the watcher stays for the grace
         * period, then leaves without running it either. */
        ASSERT_OK(lazy_case('d', &status, &pid, buf, sizeof buf));
        ASSERT_EQ(status, 0);
        ASSERT_STREQ(buf, "");
        ASSERT_OK(lazy_case('x', &status, &pid, buf, sizeof buf));
        ASSERT_EQ(status, 0);
        ASSERT_STREQ(buf, "");
        /* Every writer gone, or nothing said in time: the program runs with the fds on 3 and
         * 4, nothing else of ours, in its own session (its id is the program's pid). */
        ASSERT_OK(lazy_case('c', &status, &pid, buf, sizeof buf));
        ASSERT_EQ(status, 0);
        snprintf(expect, sizeof expect, "0 1 2 3 4 5 %d\n", (int) pid);
        ASSERT_STREQ(buf, expect);
        ASSERT_OK(lazy_case('t', &status, &pid, buf, sizeof buf));
        ASSERT_EQ(status, 0);
        snprintf(expect, sizeof expect, "0 1 2 3 4 5 %d\n", (int) pid);
        ASSERT_STREQ(buf, expect);

        /* Done, and its parent exits: it leaves then, long before its grace period (60 s,
         * after which it would run the program and write to out). We are the subreaper
         * that gets it. */
        {
                int out[2], p[2], saved_subreaper = 0;
                pid_t child, watcher = 0;

                ASSERT_OK(prctl(PR_GET_CHILD_SUBREAPER, &saved_subreaper) < 0 ? -errno : 0);
                ASSERT_OK(prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ? -errno : 0);
                ASSERT_OK(pipe2(out, O_CLOEXEC) < 0 ? -errno : 0);
                child = fork();
                ASSERT_TRUE(child >= 0);
                if (child == 0) {
                        if (pipe2(p, O_CLOEXEC) < 0 ||
                            spawn_exec_lazy("/bin/sh", (char *[]) { (char *) "sh", (char *) "-c", (char *) "echo ran >&4", NULL },
                                            (const int[]) { p[0], out[1] }, 2, "test-lazy", 'd', 60000, &watcher) < 0 ||
                            write(out[1], &watcher, sizeof watcher) != sizeof watcher || write(p[1], "d", 1) != 1)
                                _exit(1);
                        _exit(0);
                }
                close(out[1]);
                ASSERT_OK(wait_for_terminate(child, &status));
                ASSERT_EQ(status, 0);
                ASSERT_EQ(read(out[0], &watcher, sizeof watcher), (ssize_t) sizeof watcher);
                ASSERT_OK(wait_for_terminate(watcher, &status));
                ASSERT_EQ(status, 0);
                memset(buf, 0, sizeof buf);
                ASSERT_EQ(read(out[0], buf, sizeof buf - 1), 0);
                close(out[0]);
                ASSERT_OK(prctl(PR_SET_CHILD_SUBREAPER, saved_subreaper) < 0 ? -errno : 0);
        }

        /* What cannot be executed is refused up front. */
        ASSERT_ERROR(spawn_exec_lazy("/nonexistent/prog", (char *[]) { (char *) "x", NULL }, NULL, 0, "x", 'd', 0, NULL),
                     ENOENT);
}

TEST(stack_new) {
        size_t size = 64 * 1024;
        char *stack = stack_new(size);
        int status = -1;
        pid_t pid;

        ASSERT_TRUE(stack != MAP_FAILED);
        /* The whole size is usable; the byte below it faults. */
        stack[0] = 1;
        stack[size - 1] = 1;
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                /* The kernel's SIGSEGV, not a sanitizer's handler turning it into an exit. */
                signal(SIGSEGV, SIG_DFL);
                stack[-1] = 1;
                _exit(0);
        }
        ASSERT_OK(wait_for_terminate(pid, &status));
        ASSERT_EQ(status, 128 + SIGSEGV);
        stack_free(stack, size);
}

TEST(memstream_finish) {
        _cleanup_free_ char *buf = NULL, *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        ASSERT_TRUE(f != NULL);
        fprintf(f, "a=%d\n", 1);
        ASSERT_OK(memstream_finish(&f, &buf, &text));
        ASSERT_TRUE(f == NULL);
        ASSERT_TRUE(buf == NULL);
        ASSERT_STREQ(text, "a=1\n");
}

TEST(strv_join) {
        _cleanup_free_ char *a = strv_join((char *[]) { (char *) "debian-bookworm", (char *) "debian-trixie", NULL }, ", ");
        _cleanup_free_ char *b = strv_join((char *[]) { (char *) "one", NULL }, ", ");
        _cleanup_free_ char *c = strv_join(NULL, ", ");
        ASSERT_STREQ(a, "debian-bookworm, debian-trixie");
        ASSERT_STREQ(b, "one");
        ASSERT_STREQ(c, "");
}
