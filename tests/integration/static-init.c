/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A minimal static init for test trees that need no libc of their own: it says READY=1 when
 * there is a notify socket, reaps children, and exits 0 on the signals an init is asked to
 * power off with (SIGRTMIN+4 as systemd, SIGTERM, SIGUSR2 as busybox, SIGINT). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void notify_ready(void) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (!path || strlen(path) >= sizeof sa.sun_path)
                return;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        (void) sendto(fd, "READY=1", 7, 0, (struct sockaddr *) &sa, sizeof sa);
        close(fd);
}

int main(void) {
        sigset_t all;
        int sig;

        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        notify_ready();
        for (;;) {
                sig = sigwaitinfo(&all, NULL);
                if (sig == SIGCHLD)
                        while (waitpid(-1, NULL, WNOHANG) > 0)
                                ;
                else if (sig == SIGRTMIN + 4 || sig == SIGTERM || sig == SIGUSR2 || sig == SIGINT)
                        return 0;
        }
}
