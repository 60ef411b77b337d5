/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "settings-load.h"
#include "util/strv.h"
#include "util/util.h"

#define DEFAULT_CONFIG_DIR "/etc/nspawnctl"

static int try_path(char *p, bool trusted, char **ret_path, SettingsTrust *ret_trust) {
        _cleanup_free_ char *path = p;
        struct stat st;

        if (!path)
                return -ENOMEM;
        /* Next to the image not even a symlink: it could lead the parser to any file. A FIFO
         * or device would block us: regular files only, everywhere. */
        if ((trusted ? stat(path, &st) : lstat(path, &st)) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        *ret_trust = trusted ? SETTINGS_TRUSTED : SETTINGS_UNTRUSTED;
        *ret_path = TAKE_PTR(path);
        return 1;
}

int settings_find(const char *name, const SettingsSearch *s, char **ret_path, SettingsTrust *ret_trust) {
        const char *trusted[] = {
                s->config_dir ?: DEFAULT_CONFIG_DIR,
                "/etc/systemd/nspawn",
                s->state_dir,
                "/run/systemd/nspawn",
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(trusted); i++) {
                if (!trusted[i])
                        continue;
                r = try_path(strjoin(trusted[i], "/", name, ".nspawn"), true, ret_path, ret_trust);
                if (r != 0)
                        return r;
        }
        if (!s->image)
                return 0;
        /* POOL/NAME.nspawn for the image POOL/NAME */
        _cleanup_free_ char *dir = strdup(s->image);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (!dir)
                return -ENOMEM;
        if (!slash)
                return 0;
        *slash = 0;
        return try_path(strjoin(slash == dir ? "" : dir, "/", name, ".nspawn"), false, ret_path, ret_trust);
}

int settings_load_for_machine(const char *name, const SettingsSearch *s, Settings **ret, char ***ret_warnings,
                              Error *e) {
        _cleanup_free_ char *path = NULL;
        SettingsTrust trust;
        int r;

        *ret = NULL;
        r = settings_find(name, s, &path, &trust);
        if (r == -EBADFD)
                return error_set(e, -EBADMSG, "The settings file %s.nspawn of '%s' is not a regular file.", name, name);
        if (r < 0)
                return error_set(e, r, "Failed to look for the settings of %s: %m", name);
        if (r == 0)
                return 0;
        r = settings_load(path, trust, ret, e, ret_warnings);
        if (r == -EBADMSG) /* e says FILE:LINE: what, unless the parser had no words for it */
                return error_set(e, r, "%s", path);
        if (r < 0)
                return error_set(e, r, "Failed to read %s: %m", path);
        return 1;
}
