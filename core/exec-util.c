/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec-util.h"
#include "macro.h"
#include "util/strv.h"
#include "util/process.h"
#include "util/util.h"

#define EXEC_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Runs in the child between fork() and exec(): async-signal-safe calls only, no logging,
 * the errno of a failure goes to the parent over err_fd. The fds to become 0, 1 and 2 are
 * first moved out of their way (one of them may be 0, 1 or 2 already). */
static _noreturn_ void child_exec(const char *binary, char *const argv[], char **env, const int fds[3],
                                  const char *tree, int err_fd) {
        int moved[3];
        int e = 0;

        if (tree) {
                /* The pool is mounted nodev,nosuid; a tree being built (debootstrap chroots
                 * into it and its scripts write to its /dev/null) gets a bind of its own
                 * without them, in a mount namespace that dies with the child and takes
                 * whatever the tool mounted below the tree along. */
                struct mount_attr attr = { .attr_clr = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID };
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount(tree, tree, NULL, MS_BIND, NULL) < 0 ||
                    syscall(SYS_mount_setattr, AT_FDCWD, tree, AT_SYMLINK_NOFOLLOW, &attr, sizeof attr) <
                            0) {
                        e = errno;
                        goto fail;
                }
        }

        for (int i = 0; i < 3; i++) {
                int fd = fds[i];
                if (fd == EXEC_FD_INHERIT) {
                        moved[i] = -1;
                        continue;
                }
                if (fd == EXEC_FD_NULL)
                        fd = open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
                else
                        fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0) {
                        e = errno;
                        goto fail;
                }
                moved[i] = fd;
        }
        for (int i = 0; i < 3; i++)
                if (moved[i] >= 0 && dup2(moved[i], i) < 0) {
                        e = errno;
                        goto fail;
                }
        execve(binary, argv, env);
        e = errno;
fail:
        (void) !write(err_fd, &e, sizeof e);
        _exit(127);
}

/* The binary is looked up before fork() in the fixed PATH rather than the caller's. */
static int find_binary(const char *name, char **ret) {
        const char *p = EXEC_PATH;

        if (strchr(name, '/')) {
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }
        while (*p) {
                size_t l = strcspn(p, ":");
                _cleanup_free_ char *dir = strndup(p, l);
                if (!dir)
                        return -ENOMEM;
                char *c = strjoin(dir, "/", name);
                if (!c)
                        return -ENOMEM;
                if (access(c, X_OK) == 0) {
                        *ret = c;
                        return 0;
                }
                free(c);
                p += l;
                if (*p == ':')
                        p++;
        }
        return -ENOENT;
}

static int spawn_internal(char *const argv[], char *const extra_env[], const int fds[3], const char *tree,
                          pid_t *ret_pid) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *binary = NULL;
        _cleanup_close_pair_ int err_pipe[2] = { -EBADF, -EBADF };
        pid_t pid;
        int r, e = 0;
        ssize_t n;

        assert(argv && argv[0]);
        assert(fds);
        assert(ret_pid);

        /* Built before fork(): malloc is not safe in the child. */
        if (strv_extend(&env, "PATH=" EXEC_PATH) < 0 || strv_extend(&env, "LC_ALL=C") < 0)
                return -ENOMEM;
        STRV_FOREACH(a, extra_env) {
                r = strv_env_set(&env, *a);
                if (r < 0)
                        return r;
        }
        r = find_binary(argv[0], &binary);
        if (r < 0)
                return r;

        if (pipe2(err_pipe, O_CLOEXEC) < 0)
                return -errno;

        /* Killed with the caller, so that a killed daemon leaves no tar behind; the fds
         * that become its stdio and the error pipe are all it keeps. */
        r = safe_fork(NULL, (const int[]) { err_pipe[1], fds[0], fds[1], fds[2] }, 4,
                      FORK_RESET_SIGNALS | FORK_DEATHSIG_SIGTERM | FORK_CLOSE_ALL_FDS, &pid);
        if (r < 0)
                return r;
        if (r == 0)
                child_exec(binary, argv, env, fds, tree, err_pipe[1]);

        err_pipe[1] = safe_close(err_pipe[1]);
        do
                n = read(err_pipe[0], &e, sizeof e);
        while (n < 0 && errno == EINTR);
        if (n == sizeof e) {
                (void) waitpid(pid, NULL, 0);
                return e > 0 ? -e : -EIO;
        }
        *ret_pid = pid;
        return 0;
}

int exec_spawn(char *const argv[], char *const extra_env[], const int fds[3], pid_t *ret_pid) {
        return spawn_internal(argv, extra_env, fds, NULL, ret_pid);
}

int exec_spawn_in_tree(char *const argv[], char *const extra_env[], const int fds[3], const char *tree,
                       pid_t *ret_pid) {
        assert(tree);
        return spawn_internal(argv, extra_env, fds, tree, ret_pid);
}

int exec_wait(pid_t pid, int *ret_status) {
        int status = 0, r;

        r = wait_for_terminate(pid, &status);
        if (r < 0)
                return r;
        if (ret_status)
                *ret_status = status;
        return status == 0 ? 0 : -EPROTO;
}

int exec_run(char *const argv[], char *const extra_env[], const int fds[3], int *ret_status) {
        pid_t pid;
        int r;

        r = exec_spawn(argv, extra_env, fds, &pid);
        if (r < 0)
                return r;
        return exec_wait(pid, ret_status);
}
