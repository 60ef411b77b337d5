/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "machined.h"
#include "util/util.h"

/* The same API as on the system bus, on STATEDIR/private, so that hosts without D-Bus (and a
 * host whose dbus-daemon is down) can still be managed. Peer-to-peer D-Bus: no dbus-daemon,
 * so no policy either; the socket is root-only and every connection's peer is checked. */

static PrivateConnection *private_connection_free(PrivateConnection *c) {
        if (!c)
                return NULL;
        if (c->manager)
                LIST_REMOVE(c->manager->connections, c);
        sd_event_source_disable_unref(c->defer_free);
        sd_bus_flush_close_unref(c->bus);
        free(c);
        return NULL;
}

static int on_defer_free(sd_event_source *s, void *userdata) {
        private_connection_free(userdata);
        return 0;
}

static int on_private_message(sd_bus_message *message, void *userdata, sd_bus_error *error) {
        PrivateConnection *c = userdata;

        if (!sd_bus_message_is_signal(message, "org.freedesktop.DBus.Local", "Disconnected"))
                return 0;
        /* Not from inside sd-bus' own dispatch: free the connection on the next iteration. */
        if (!c->defer_free)
                (void) sd_event_add_defer(c->manager->event, &c->defer_free, on_defer_free, c);
        return 0;
}

static int private_connection_new(Manager *m, int fd) {
        _cleanup_free_ PrivateConnection *c = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_id128_t id;
        int r;

        c = calloc(1, sizeof(PrivateConnection));
        if (!c)
                return -ENOMEM;
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        r = sd_bus_set_fd(bus, fd, fd);
        if (r < 0)
                return r;
        r = sd_bus_set_server(bus, 1, id);
        if (r < 0)
                return r;
        /* Only root reaches this socket (checked below), so its calls are trusted as much as
         * root's are on the system bus. */
        r = sd_bus_set_trusted(bus, 1);
        if (r < 0)
                return r;
        r = manager_attach_bus(m, bus, on_private_message, c);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;

        c->bus = TAKE_PTR(bus);
        c->manager = m;
        LIST_PREPEND(m->connections, c);
        TAKE_PTR(c);
        return 0;
}

static int on_private_connection(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        _cleanup_close_ int nfd = -EBADF;
        struct ucred ucred;
        socklen_t len = sizeof ucred;
        int r;

        nfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (nfd < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        log_warning_errno(errno, "Failed to accept private connection: %m");
                return 0;
        }
        if (getsockopt(nfd, SOL_SOCKET, SO_PEERCRED, &ucred, &len) < 0) {
                log_warning_errno(errno, "Failed to get peer credentials: %m");
                return 0;
        }
        if (ucred.uid != 0) {
                log_warning("Refusing private connection from uid %u.", (unsigned) ucred.uid);
                return 0;
        }
        r = private_connection_new(m, nfd);
        if (r < 0) {
                log_warning_errno(r, "Failed to set up private connection: %m");
                return 0;
        }
        TAKE_FD(nfd); /* the bus owns it now */
        return 0;
}

int manager_listen_private(Manager *m) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = strjoin(m->state_dir, "/private");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        mode_t old;
        int r;

        if (!path)
                return -ENOMEM;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        /* A socket someone still answers on belongs to a running machined: replacing it
         * would cut that one off from its clients. Only a stale one is removed. */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) >= 0)
                return -EADDRINUSE;
        fd = safe_close(fd);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        /* Created 0600 from the start: no window in which another user could connect. */
        old = umask(0077);
        r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        r = sd_event_add_io(m->event, &m->private_source, fd, EPOLLIN, on_private_connection, m);
        if (r < 0)
                return r;
        m->private_fd = TAKE_FD(fd);
        return 0;
}

void manager_close_private(Manager *m) {
        while (m->connections)
                private_connection_free(m->connections);
        m->private_source = sd_event_source_disable_unref(m->private_source);
        m->private_fd = safe_close(m->private_fd);
}
