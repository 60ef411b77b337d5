/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "cgroup-layout.h"
#include "cgroup-limits.h"
#include "error.h"
#include "macro.h"
#include "net-port.h"
#include "settings-exec.h"
#include "userns.h"

/* How the owners of a bind mount's files appear inside (nspawn's option names). */
typedef enum BindIdmap {
        BIND_IDMAP_DEFAULT, /* "idmap": the container's own mapping, host UID N is container UID N
                             * (nothing to map without a user namespace) */
        BIND_IDMAP_NONE,    /* "noidmap": not mapped, host owners show as nobody in a user namespace */
        BIND_IDMAP_ROOT,    /* "rootidmap": the source's owner is the container's root */
        BIND_IDMAP_OWNER,   /* "owneridmap": the source's owner is the destination's owner inside */
        _BIND_IDMAP_MAX,
        _BIND_IDMAP_INVALID = -EINVAL,
} BindIdmap;

const char *bind_idmap_to_string(BindIdmap i);
BindIdmap bind_idmap_from_string(const char *s);

typedef struct BindMount {
        char *source;      /* absolute host path */
        char *destination; /* absolute path inside the container */
        bool read_only;
        bool recursive;    /* rbind (default) or "norbind" */
        BindIdmap idmap;
} BindMount;

typedef struct Settings {
        int boot;             /* -1: not set */
        char **parameters;    /* Parameters= */
        char **environment;   /* Environment= "NAME=VALUE" */
        char *user;           /* User= */
        char *working_directory; /* WorkingDirectory= */
        BindMount *binds;     /* Bind= and BindReadOnly= */
        size_t n_binds;
        char **tmpfs;         /* TemporaryFileSystem= destinations (optionally "PATH:OPTIONS") */
        int read_only;        /* -1: not set */
        int private_network;  /* -1: not set */
        PrivateUsers private_users; /* PrivateUsers=; mode _PRIVATE_USERS_MODE_INVALID: not set */
        CGroupLimits limits;  /* [Resources] MemoryMax= ... (docs/resources.md) */
        CGroupLayout cgroup_layout; /* [Exec] CGroupLayout=, _CGROUP_LAYOUT_INVALID: not set */
        int virtual_ethernet; /* -1: not set */
        char *bridge;         /* Bridge= */
        char *zone;           /* Zone= */
        PortForward *ports;   /* Port=, accumulating */
        size_t n_ports;
        int resolv_conf;      /* ResolvConf= (a ResolvConfMode), -1: not set */

        /* The rest of systemd.nspawn(5), docs/settings.md. Tristates -1, enums _INVALID,
         * masks and lists with their own "set" flag: not set. */
        int ephemeral;              /* Ephemeral= */
        int process_two;            /* ProcessTwo= */
        int notify_ready;           /* NotifyReady= */
        int no_new_privileges;      /* NoNewPrivileges= */
        int suppress_sync;          /* SuppressSync= */
        uint64_t capability;        /* Capability=: added to the bounding set */
        uint64_t drop_capability;   /* DropCapability= */
        uint64_t ambient_capability; /* AmbientCapability= */
        bool capability_set, drop_capability_set, ambient_capability_set;
        char **syscall_allow;       /* SystemCallFilter= words (names or @groups) */
        char **syscall_deny;        /* SystemCallFilter=~... */
        RLimits rlimits;            /* Limit*= */
        int oom_score_adjust;
        bool oom_score_adjust_set;  /* OOMScoreAdjust= */
        CPUSet cpu_affinity;        /* CPUAffinity= */
        char *hostname;             /* Hostname= */
        char machine_id[33];        /* MachineID=, "": not set */
        int kill_signal;            /* KillSignal=, 0: not set */
        Personality personality;    /* Personality= */
        VolatileMode volatile_mode; /* Volatile= */
        TimezoneMode timezone;      /* Timezone= */
        LinkJournal link_journal;   /* LinkJournal= */
        char **inaccessible;        /* Inaccessible= paths */
        OverlayMount *overlays;     /* Overlay=, OverlayReadOnly= */
        size_t n_overlays;
} Settings;

typedef enum SettingsTrust {
        SETTINGS_UNTRUSTED, /* a file next to an image in the pool: privileged keys ignored */
        SETTINGS_TRUSTED,   /* /etc/nspawnctl or /run/nspawnctl */
} SettingsTrust;

/* An empty Settings: every tristate -1, every list empty. */
int settings_new(Settings **ret);
Settings *settings_free(Settings *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Settings *, settings_free);

/* Parses a systemd.nspawn-style file. On a syntax error returns -EBADMSG and sets
 * e to "FILE:LINE: what is wrong"; a key of systemd.nspawn(5) this project does not
 * do is such an error too ("FILE:LINE: KEY= is not supported"), so that a start never runs
 * with less than the file asks for. Keys that are privileged (see docs/settings.md: Bind,
 * Capability, PrivateUsers, the [Network] section, ...) are skipped in an untrusted file, and a
 * "FILE:LINE: ignoring ..." line is appended to *ret_warnings for each; unknown sections
 * and keys get a warning line too, as in systemd. e and ret_warnings may be NULL;
 * both are set only when the function says so (error on -EBADMSG, warnings on success).
 * Within a file the last assignment of a single-valued key wins; Environment=, Bind=,
 * BindReadOnly=, TemporaryFileSystem=, Inaccessible=, Overlay=, SystemCallFilter= and the
 * capability keys accumulate; an empty value resets any key.
 * Lines cannot be continued with a backslash. */
int settings_parse(FILE *f, const char *filename, SettingsTrust trust, Settings **ret,
                   Error *e, char ***ret_warnings);
/* One assignment as the command line makes it (trusted): `run --capability=X` is
 * settings_assign(s, "Exec", "Capability", "X", "--capability", &e, &warnings). On a bad
 * value -EBADMSG with e "OPTION: what is wrong" (option names the command line's
 * option for messages); -ENOENT for a key the table does not have. Warnings (as a file's,
 * "OPTION: ...") go to *ret_warnings on success. */
int settings_assign(Settings *s, const char *section, const char *key, const char *value, const char *option,
                    Error *e, char ***ret_warnings);
/* Whether the table has section/key: honoured, refused or left to another part. */
bool settings_key_is_known(const char *section, const char *key);
/* Refuses anything but a regular file (-EISDIR, -EBADFD). */
int settings_load(const char *path, SettingsTrust trust, Settings **ret, Error *e,
                  char ***ret_warnings);

/* "SRC[:DST[:OPTIONS]]" as in --bind= and Bind=; OPTIONS is a comma-separated list of
 * "rbind" or "norbind" and one of "idmap", "noidmap", "rootidmap", "owneridmap".
 * SRC must be absolute; DST (default SRC) must be absolute; neither may contain ".."
 * components. Returns -EINVAL on a bad spec. */
int bind_mount_parse(const char *spec, bool read_only, BindMount *ret);
/* The SRC:DST[:OPTIONS] that bind_mount_parse() reads back (read_only is not part of it). */
int bind_mount_format(const BindMount *b, char **ret);
void bind_mount_done(BindMount *b);
void bind_mounts_free(BindMount *b, size_t n);
/* Splits Parameters= style words on spaces and tabs. '...' quotes literally; "..." and
 * unquoted text take a backslash escape. -EINVAL on an unbalanced quote or a trailing
 * backslash. */
int split_quoted(const char *s, char ***ret);
/* "PATH[:OPTIONS]" as in --tmpfs= and TemporaryFileSystem=: PATH absolute and
 * normalized, OPTIONS (if any) non-empty and made of [A-Za-z0-9=,._+-%] (size=20%). */
bool tmpfs_spec_is_valid(const char *spec);
/* Absolute, normalized, no ".." component, no control characters. */
bool path_is_safe_absolute(const char *p);
