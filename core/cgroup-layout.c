/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-layout.h"
#include "util/chase.h"
#include "util/strv.h"
#include "util/util.h"

static const char *const cgroup_layout_table[_CGROUP_LAYOUT_MAX] = {
        [CGROUP_LAYOUT_AUTO] = "auto",
        [CGROUP_LAYOUT_UNIFIED] = "unified",
        [CGROUP_LAYOUT_HYBRID] = "hybrid",
        [CGROUP_LAYOUT_LEGACY] = "legacy",
};

const char *cgroup_layout_to_string(CGroupLayout l) {
        return l >= 0 && l < _CGROUP_LAYOUT_MAX ? cgroup_layout_table[l] : NULL;
}

CGroupLayout cgroup_layout_from_string(const char *s) {
        for (int i = 0; s && i < _CGROUP_LAYOUT_MAX; i++)
                if (streq(s, cgroup_layout_table[i]))
                        return i;
        return _CGROUP_LAYOUT_INVALID;
}

/* A guest's directory may be huge or hostile: listing stops after this many entries. */
#define DIR_ENTRIES_MAX 20000

static int open_in_tree(int root, const char *path) {
        return chase_open(root, path, O_RDONLY | O_DIRECTORY, CHASE_IN_ROOT | CHASE_NO_XDEV);
}

/* "libsystemd-shared-257.so", "libsystemd-shared-255.4-1.fc40.so" -> 257, 255. */
static unsigned version_from_name(const char *name) {
        const char *p = startswith(name, "libsystemd-shared-") ? name + STRLEN("libsystemd-shared-") : NULL;
        unsigned v = 0;

        if (!p || *p < '0' || *p > '9' || !endswith(name, ".so"))
                return 0;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > 100000)
                        return 0;
                v = v * 10 + (unsigned) (*p - '0');
        }
        return *p == '.' || *p == '-' ? v : 0;
}

static void scan_dir(int root, const char *path, unsigned *best) {
        int fd = open_in_tree(root, path);
        struct dirent *de;
        unsigned n = 0;
        DIR *d;

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return;
        }
        while ((de = readdir(d)) && n++ < DIR_ENTRIES_MAX) {
                unsigned v = version_from_name(de->d_name);
                if (v > *best)
                        *best = v;
        }
        closedir(d);
}

int guest_systemd_version(const char *directory, unsigned *ret) {
        _cleanup_close_ int root = open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC);
        unsigned best = 0, n = 0;
        struct dirent *de;
        int fd;
        DIR *d;

        if (root < 0)
                return -errno;
        FOREACH_STRING(p, "usr/lib/systemd", "lib/systemd", "usr/lib64/systemd", "lib64/systemd")
                scan_dir(root, p, &best);

        /* Debian and Ubuntu keep it in the multiarch directory (usr/lib/x86_64-linux-gnu). */
        fd = open_in_tree(root, "usr/lib");
        if (fd >= 0) {
                d = fdopendir(fd);
                if (!d)
                        safe_close(fd);
                while (d && (de = readdir(d)) && n++ < DIR_ENTRIES_MAX) {
                        char path[300];
                        if (!strstr(de->d_name, "-linux-") || (de->d_type != DT_DIR && de->d_type != DT_LNK))
                                continue;
                        int k = snprintf(path, sizeof path, "usr/lib/%s/systemd", de->d_name);
                        if (k < 0 || (size_t) k >= sizeof path)
                                continue;
                        scan_dir(root, path, &best);
                }
                if (d)
                        closedir(d);
        }
        *ret = best;
        return 0;
}

int cgroup_layout_pick(CGroupLayout requested, CGroupMode host, bool unified_possible,
                       unsigned guest_systemd, CGroupMode *ret) {
        CGroupMode m;

        switch (requested) {
        case CGROUP_LAYOUT_UNIFIED:
                if (!unified_possible)
                        return -EOPNOTSUPP;
                m = CGROUP_UNIFIED;
                break;
        case CGROUP_LAYOUT_HYBRID:
                if (host != CGROUP_HYBRID)
                        return -EOPNOTSUPP;
                m = CGROUP_HYBRID;
                break;
        case CGROUP_LAYOUT_LEGACY:
                if (host == CGROUP_UNIFIED)
                        return -EOPNOTSUPP;
                m = CGROUP_LEGACY;
                break;
        case CGROUP_LAYOUT_AUTO:
                if (host == CGROUP_UNIFIED || guest_systemd >= SYSTEMD_VERSION_UNIFIED_ONLY) {
                        if (!unified_possible)
                                return -EOPNOTSUPP;
                        m = CGROUP_UNIFIED;
                } else if (host == CGROUP_HYBRID && guest_systemd > 0 &&
                           guest_systemd < SYSTEMD_VERSION_HYBRID)
                        m = CGROUP_LEGACY;
                else
                        m = host;
                break;
        default:
                return -EINVAL;
        }
        *ret = m;
        return 0;
}

int cgroup_layout_resolve(CGroupLayout requested, const char *directory, CGroupMode *ret,
                          unsigned *ret_guest_systemd) {
        CGroupMode host;
        unsigned guest = 0;
        int r;

        r = cgroup_detect_mode(&host);
        if (r < 0)
                return r;
        if (requested == CGROUP_LAYOUT_AUTO) {
                r = guest_systemd_version(directory, &guest);
                if (r < 0)
                        return r;
        }
        if (ret_guest_systemd)
                *ret_guest_systemd = guest;
        return cgroup_layout_pick(requested, host, cgroup_mode_supported(CGROUP_UNIFIED) >= 0, guest, ret);
}
