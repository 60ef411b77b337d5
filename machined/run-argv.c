/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run-argv.h"
#include "util/strv.h"
#include "util/util.h"

int image_find_init(int rootfd, const char **ret_path) {
        static const char *const inits[] = { "/sbin/init", "/usr/lib/systemd/systemd" };
        int r = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(inits); i++) {
                /* RESOLVE_IN_ROOT: "/sbin -> usr/sbin" and "init -> /lib/systemd/systemd"
                 * resolve against the image, so an absolute link cannot point us at the
                 * host's init and make a tree without one look bootable. */
                struct open_how how = {
                        .flags = O_PATH | O_CLOEXEC,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                fd = (int) syscall(SYS_openat2, rootfd, inits[i], &how, sizeof how);
                if (fd < 0) {
                        if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
                                return -errno;
                        continue;
                }
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
                        r = -EACCES;
                        continue;
                }
                if (ret_path)
                        *ret_path = inits[i];
                return 0;
        }
        return r;
}

static int add_opt(char ***l, const char *opt, const char *value) {
        char *s = strjoin(opt, value);
        return strv_consume(l, s);
}

/* [Resources] and CGroupLayout= (docs/resources.md): limits as --property=NAME=VALUE. */
static int add_cgroup_options(char ***l, const Settings *settings) {
        _cleanup_strv_free_ char **props = NULL;
        int r;

        r = cgroup_limits_to_strv(&settings->limits, &props);
        if (r < 0)
                return r;
        STRV_FOREACH(p, props)
                if ((r = add_opt(l, "--property=", *p)) < 0)
                        return r;
        /* auto is what the runtime does unless told otherwise. */
        if (settings->cgroup_layout > CGROUP_LAYOUT_AUTO &&
            (r = add_opt(l, "--cgroup-layout=", cgroup_layout_to_string(settings->cgroup_layout))) < 0)
                return r;
        return 0;
}

int run_argv_build(const char *runtime, const char *root, const char *name,
                   const char *state_dir, const Settings *settings, char ***ret,
                   const char **ret_error) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        bool boot = !settings || settings->boot != 0;
        const char *dummy;
        int r;

        assert(runtime && root && name && state_dir && ret);
        if (!ret_error)
                ret_error = &dummy;
        *ret_error = NULL;
        if (!l)
                return -ENOMEM;

        if ((r = strv_extend(&l, runtime)) < 0 || (r = strv_extend(&l, "run")) < 0)
                return r;
        /* RebootMachine means "boot it again", as with machinectl: without this the
         * supervisor would end the machine when its init reboots. */
        if (boot && ((r = strv_extend(&l, "--boot")) < 0 ||
                     (r = strv_extend(&l, "--restart-on-reboot")) < 0))
                return r;
        if ((r = strv_extend(&l, "-D")) < 0 || (r = strv_extend(&l, root)) < 0 ||
            (r = strv_extend(&l, "-M")) < 0 || (r = strv_extend(&l, name)) < 0 ||
            (r = strv_extend(&l, "--console=passive")) < 0 ||
            (r = strv_extend(&l, "--register=yes")) < 0 ||
            (r = add_opt(&l, "--state-dir=", state_dir)) < 0)
                return r;

        if (settings) {
                for (size_t i = 0; i < settings->n_binds; i++) {
                        const BindMount *b = settings->binds + i;
                        _cleanup_free_ char *spec = NULL;

                        /* ':' separates the fields of --bind=, and there is no escaping. */
                        if (strchr(b->source, ':') || strchr(b->destination, ':')) {
                                *ret_error = "bind mount paths containing ':' are not supported";
                                return -EINVAL;
                        }
                        spec = strjoin(b->source, ":", b->destination,
                                       b->recursive ? "" : ":norbind");
                        if (!spec)
                                return -ENOMEM;
                        r = add_opt(&l, b->read_only ? "--bind-ro=" : "--bind=", spec);
                        if (r < 0)
                                return r;
                }
                STRV_FOREACH(t, settings->tmpfs)
                        if ((r = add_opt(&l, "--tmpfs=", *t)) < 0)
                                return r;
                if (settings->read_only > 0 && (r = strv_extend(&l, "--read-only")) < 0)
                        return r;
                if (settings->private_network > 0 &&
                    (r = strv_extend(&l, "--private-network")) < 0)
                        return r;
                STRV_FOREACH(e, settings->environment)
                        if ((r = strv_extend(&l, "-E")) < 0 || (r = strv_extend(&l, *e)) < 0)
                                return r;
                if (settings->working_directory &&
                    (r = add_opt(&l, "--chdir=", settings->working_directory)) < 0)
                        return r;
                if (settings->user && ((r = strv_extend(&l, "-u")) < 0 ||
                                       (r = strv_extend(&l, settings->user)) < 0))
                        return r;
                if ((r = add_cgroup_options(&l, settings)) < 0)
                        return r;
        }

        if (!boot && strv_length(settings->parameters) == 0) {
                *ret_error = "Boot=no needs Parameters= (the command to run)";
                return -EINVAL;
        }
        /* "--" always: parameters may start with '-' and must reach the init, not the
         * option parser of the supervisor. */
        if ((r = strv_extend(&l, "--")) < 0)
                return r;
        if (settings && (r = strv_extend_strv(&l, settings->parameters)) < 0)
                return r;

        *ret = TAKE_PTR(l);
        return 0;
}
