/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int fd_cloexec(int fd, bool cloexec) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0)
                return -errno;
        flags = cloexec ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
        return fcntl(fd, F_SETFD, flags) < 0 ? -errno : 0;
}

int fd_nonblock(int fd, bool nonblock) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        flags = nonblock ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}

static int cmp_int(const void *a, const void *b) {
        return *(const int *) a - *(const int *) b;
}

int close_all_fds_except(const int *keep, size_t n_keep) {
        int sorted[16];
        int from = 3;

        if (n_keep > ELEMENTSOF(sorted))
                return -E2BIG;
        memcpy(sorted, keep, n_keep * sizeof(int));
        qsort(sorted, n_keep, sizeof(int), cmp_int);

        /* close_range() between the kept fds: no /proc needed, and it exists on every
         * kernel we support (5.9+). */
        for (size_t i = 0; i <= n_keep; i++) {
                if (i < n_keep) {
                        if (sorted[i] >= from) {
                                if (sorted[i] > from &&
                                    syscall(SYS_close_range, (unsigned) from, (unsigned) sorted[i] - 1, 0) < 0)
                                        return -errno;
                                from = sorted[i] + 1;
                        }
                } else if (syscall(SYS_close_range, (unsigned) from, ~0U, 0) < 0)
                        return -errno;
        }
        return 0;
}

const char *format_proc_fd_path(char buf[static PROC_FD_PATH_MAX], int fd) {
        snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

int fd_move_to(int fd, int target) {
        if (fd == target)
                return fd_cloexec(fd, false);
        if (dup2(fd, target) < 0)
                return -errno;
        (void) close(fd);
        return 0;
}

int string_table_lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

int opendir_fd(int fd, DIR **ret) {
        int dfd;
        DIR *d;

        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                int r = -errno;
                (void) close(dfd);
                return r;
        }
        *ret = d;
        return 0;
}

int write_string_file_at(int dirfd, const char *path, const char *s) {
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return loop_write(fd, s, strlen(s));
}

int write_string_file(const char *path, const char *s) {
        return write_string_file_at(AT_FDCWD, path, s);
}

int write_string_file_atomic(const char *path, const char *tmp, const char *s) {
        _cleanup_free_ char *t = tmp ? NULL : strjoin(path, ".tmp");
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!tmp && !t)
                return -ENOMEM;
        tmp = tmp ?: t;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, s, strlen(s));
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

int read_full_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        if (fd < 0)
                return -errno;
        for (;;) {
                if (allocated - size < 4096) {
                        if (allocated > 64 * 1024 * 1024)
                                return -EFBIG;
                        allocated = allocated ? allocated * 2 : 4096;
                        char *n = realloc(buf, allocated + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                size_t want = allocated - size;
                ssize_t k = loop_read(fd, buf + size, want);
                if (k < 0)
                        return (int) k;
                size += k;
                /* loop_read() stops short only at the end of the file. */
                if ((size_t) k < want)
                        break;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_one_line(const char *path, char **ret) {
        char *buf;
        int r = read_full_file(path, &buf, NULL);
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = 0;
        *ret = buf;
        return 0;
}

ssize_t loop_read(int fd, void *buf, size_t n) {
        size_t done = 0;
        while (done < n) {
                ssize_t k = read(fd, (char *) buf + done, n - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                done += k;
        }
        return done;
}

/* write() when send_flags is negative, else send() with them. */
static int loop_out(int fd, const void *buf, size_t n, int send_flags) {
        const char *p = buf;
        while (n > 0) {
                ssize_t k = send_flags < 0 ? write(fd, p, n) : send(fd, p, n, send_flags);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= k;
        }
        return 0;
}

int loop_write(int fd, const void *buf, size_t n) {
        return loop_out(fd, buf, n, -1);
}

int loop_send(int fd, const void *buf, size_t n, int flags) {
        return loop_out(fd, buf, n, flags);
}

int safe_atoi(const char *s, int *ret) {
        char *end;
        long l;

        if (isempty(s))
                return -EINVAL;
        errno = 0;
        l = strtol(s, &end, 10);
        if (errno > 0)
                return -errno;
        if (*end)
                return -EINVAL;
        if (l < INT32_MIN || l > INT32_MAX)
                return -ERANGE;
        *ret = (int) l;
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long l;

        if (isempty(s) || s[0] == '-' || s[0] == '+' || s[0] == ' ')
                return -EINVAL;
        errno = 0;
        l = strtoull(s, &end, 10);
        if (errno > 0)
                return -errno;
        if (*end)
                return -EINVAL;
        *ret = l;
        return 0;
}

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        return -EINVAL;
}

int parse_sec_usec(const char *s, uint64_t *ret_usec) {
        /* Plain seconds, optionally fractional ("1.5") or with an "s"/"ms" suffix. */
        char *end;
        double d;

        if (isempty(s) || s[0] == '-')
                return -EINVAL;
        errno = 0;
        d = strtod(s, &end);
        if (errno > 0 || end == s)
                return -EINVAL;
        if (streq(end, "ms"))
                d /= 1000.0;
        else if (!streq(end, "") && !streq(end, "s"))
                return -EINVAL;
        if (d < 0 || d > 1e9)
                return -ERANGE;
        *ret_usec = (uint64_t) (d * 1e6);
        return 0;
}

static const char *const signal_names[] = {
        [SIGHUP] = "HUP",   [SIGINT] = "INT",   [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
        [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT", [SIGBUS] = "BUS",   [SIGFPE] = "FPE",
        [SIGKILL] = "KILL", [SIGUSR1] = "USR1", [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
        [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM", [SIGTERM] = "TERM", [SIGCHLD] = "CHLD",
        [SIGCONT] = "CONT", [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP", [SIGTTIN] = "TTIN",
        [SIGTTOU] = "TTOU", [SIGURG] = "URG",   [SIGXCPU] = "XCPU", [SIGXFSZ] = "XFSZ",
        [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH", [SIGIO] = "IO",
        [SIGPWR] = "PWR",   [SIGSYS] = "SYS",
};

const char *signal_to_string(int sig) {
        if (sig > 0 && (size_t) sig < ELEMENTSOF(signal_names) && signal_names[sig])
                return signal_names[sig];
        return NULL;
}

int signal_from_string(const char *s) {
        int n;

        if (isempty(s))
                return -EINVAL;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (signal_names[i] && strcasecmp(s, signal_names[i]) == 0)
                        return (int) i;
        if (strncasecmp(s, "RTMIN", 5) == 0) {
                if (s[5] == 0)
                        return SIGRTMIN;
                if (s[5] == '+' && safe_atoi(s + 6, &n) >= 0 && n >= 0 && SIGRTMIN + n <= SIGRTMAX)
                        return SIGRTMIN + n;
                return -EINVAL;
        }
        if (safe_atoi(s, &n) >= 0 && n > 0 && n <= SIGRTMAX)
                return n;
        return -EINVAL;
}

char *strjoin_real(const char *a, ...) {
        va_list ap;
        size_t len = 0;
        char *r, *p;

        va_start(ap, a);
        for (const char *s = a; s; s = va_arg(ap, const char *))
                len += strlen(s);
        va_end(ap);
        r = malloc(len + 1);
        if (!r)
                return NULL;
        p = r;
        va_start(ap, a);
        for (const char *s = a; s; s = va_arg(ap, const char *))
                p = stpcpy(p, s);
        va_end(ap);
        *p = 0;
        return r;
}

bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *strstrip(char *s) {
        char *e;
        s += strspn(s, " \t\r\n");
        e = s + strlen(s);
        while (e > s && strchr(" \t\r\n", e[-1]))
                e--;
        *e = 0;
        return s;
}

size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp) {
        const unsigned char *p = (const unsigned char *) s;
        uint32_t cp, min;
        size_t k;

        if (n == 0)
                return 0;
        if (p[0] < 0x80) {
                k = 1;
                cp = p[0];
                min = 0;
        } else if ((p[0] & 0xe0) == 0xc0) {
                k = 2;
                cp = p[0] & 0x1f;
                min = 0x80;
        } else if ((p[0] & 0xf0) == 0xe0) {
                k = 3;
                cp = p[0] & 0x0f;
                min = 0x800;
        } else if ((p[0] & 0xf8) == 0xf0) {
                k = 4;
                cp = p[0] & 0x07;
                min = 0x10000;
        } else
                return 0;
        if (k > n)
                return 0;
        for (size_t i = 1; i < k; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms would let a decoder that is less strict than ours see a control
         * character (C0 80 is NUL, E0 80 9B is ESC) where we saw none. */
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        if (ret_cp)
                *ret_cp = cp;
        return k;
}

bool utf8_is_valid(const char *s) {
        size_t n = strlen(s);

        while (n > 0) {
                size_t k = utf8_decode(s, n, NULL);
                if (k == 0)
                        return false;
                s += k;
                n -= k;
        }
        return true;
}

uint64_t now_usec(int clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

int id128_random_hex(char ret[33]) {
        uint8_t b[16];
        if (getrandom(b, sizeof b, 0) != sizeof b)
                return -errno;
        /* RFC 4122 v4, like systemd's id128_randomize(): machine-id consumers accept any
         * 128 bits, but UUID consumers (container_uuid) expect the version bits. */
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        for (int i = 0; i < 16; i++)
                snprintf(ret + i * 2, 3, "%02x", b[i]);
        return 0;
}

int send_one_fd(int sock, int fd, const void *data, size_t len) {
        char dummy = 0;
        union {
                struct cmsghdr cmsg;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = len ? (void *) data : &dummy, .iov_len = len ?: 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                mh.msg_control = &control;
                mh.msg_controllen = sizeof control.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

int receive_one_fd(int sock, void *data, size_t len, ssize_t *ret_len, int *ret_fd) {
        union {
                struct cmsghdr cmsg;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char dummy;
        struct iovec iov = { .iov_base = len ? data : &dummy, .iov_len = len ?: 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control.buf };
        ssize_t n;
        int fd = -EBADF;

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        if (ret_len)
                *ret_len = n;
        *ret_fd = fd;
        return 0;
}

int read_regular_fd(int fd, uint64_t max, char **ret) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        n = loop_read(fd, buf, (size_t) st.st_size);
        if (n < 0)
                return (int) n;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

int memstream_finish(FILE **f, char **buf, char **ret) {
        bool failed = ferror(*f);

        if (fclose(*f) != 0)
                failed = true;
        *f = NULL;
        if (failed)
                return -ENOMEM;
        *ret = TAKE_PTR(*buf);
        return 0;
}

int rename_into_place_at(int dir_fd, const char *tmp, const char *name, int r) {
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}
