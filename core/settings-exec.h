/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The values of the systemd.nspawn(5) keys that shape the payload process and the container's
 * files beyond binds (docs/settings.md): capabilities, resource limits, CPU sets, the kill
 * signal, the personality, the volatile, timezone and journal modes, system call filter
 * words and overlay specifications. Each is parsed once into a type here; settings.c and
 * `nspawnctl run` share the parsers. libc only, nothing logs. */

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

/* Capabilities as a mask of bits (1 << CAP_X). */
#define CAPABILITY_ALL UINT64_MAX
/* The last capability this project knows by name (CAP_CHECKPOINT_RESTORE). */
#define CAPABILITY_LAST 40

/* "CAP_SYS_ADMIN" (any case, "CAP_" optional) or a number; -EINVAL otherwise. */
int capability_from_name(const char *s);
/* "CAP_SYS_ADMIN"; NULL for a number without a name. */
const char *capability_to_name(int cap);
/* A list of names separated by spaces or commas; "all" (only if allow_all) is every
 * capability. -EINVAL on an unknown name; *ret_bad (if given) points at it within s. */
int capability_list_parse(const char *s, bool allow_all, uint64_t *ret, char **ret_bad);

/* Resource limits of the payload (Limit*=, --rlimit=). */
typedef struct RLimits {
        bool set[RLIM_NLIMITS];
        struct rlimit value[RLIM_NLIMITS];
} RLimits;

/* "LimitNOFILE" -> RLIMIT_NOFILE; -EINVAL for another key. */
int rlimit_from_key(const char *key);
const char *rlimit_to_key(int resource);
/* For --rlimit=: "RLIMIT_NOFILE", "NOFILE" or "LimitNOFILE". */
int rlimit_from_any_name(const char *name);
/* "VALUE" (soft and hard) or "SOFT:HARD"; each a number, "infinity", a size with K, M, G, T
 * (1024-based) for the byte limits, a time span (s, min, h, d; CPU in seconds, RTTIME in
 * usec, plain numbers as the unit), and for NICE "+N"/"-N" as a nice level or 0..40 raw.
 * -EINVAL, or -ERANGE for soft above hard or a value out of range. */
int rlimit_value_parse(int resource, const char *s, struct rlimit *ret);

/* CPUAffinity=, --cpu-affinity=: "0,2-3 5". */
typedef struct CPUSet {
        bool set;
        cpu_set_t mask;
} CPUSet;

/* -EINVAL on a malformed list or an empty one, -ERANGE for a CPU >= CPU_SETSIZE. */
int cpu_set_parse(const char *s, CPUSet *ret);

/* -1000..1000. */
int oom_score_adjust_parse(const char *s, int *ret);

/* 32 hex digits, or the 8-4-4-4-12 UUID form, not all zero; *ret is the 32 lower-case hex
 * digits. */
int machine_id_parse(const char *s, char ret[static 33]);

/* A signal by name ("SIGRTMIN+3", "TERM") or number, 1..SIGRTMAX. */
int kill_signal_parse(const char *s, int *ret);

typedef enum Personality {
        PERSONALITY_X86,
        PERSONALITY_X86_64,
        _PERSONALITY_MAX,
        _PERSONALITY_INVALID = -EINVAL,
} Personality;

const char *personality_to_string(Personality p);
Personality personality_from_string(const char *s);
/* Whether this build's architecture can run the personality (x86 on x86-64 as 32-bit). */
bool personality_is_supported(Personality p);

typedef enum VolatileMode {
        VOLATILE_NO,      /* the tree as it is */
        VOLATILE_YES,     /* a tmpfs root with the tree's /usr read-only */
        VOLATILE_STATE,   /* the tree read-only, a tmpfs on /var */
        VOLATILE_OVERLAY, /* the tree under a tmpfs overlay: changes are lost */
        _VOLATILE_MODE_MAX,
        _VOLATILE_MODE_INVALID = -EINVAL,
} VolatileMode;

const char *volatile_mode_to_string(VolatileMode m);
/* Also a boolean: yes and no. */
VolatileMode volatile_mode_from_string(const char *s);

typedef enum TimezoneMode {
        TIMEZONE_OFF,
        TIMEZONE_COPY,
        TIMEZONE_BIND,
        TIMEZONE_SYMLINK,
        TIMEZONE_DELETE,
        TIMEZONE_AUTO,
        _TIMEZONE_MODE_MAX,
        _TIMEZONE_MODE_INVALID = -EINVAL,
} TimezoneMode;

const char *timezone_mode_to_string(TimezoneMode m);
TimezoneMode timezone_mode_from_string(const char *s);

/* Of nspawn's modes only these two: "host" and "guest" would create directories and
 * symlinks in the host's /var/log/journal for a guest to fill (refused, see settings.c). */
typedef enum LinkJournal {
        LINK_JOURNAL_NO,
        LINK_JOURNAL_AUTO, /* bind /var/log/journal/MACHINE-ID when the host has it */
        _LINK_JOURNAL_MAX,
        _LINK_JOURNAL_INVALID = -EINVAL,
} LinkJournal;

const char *link_journal_to_string(LinkJournal l);
LinkJournal link_journal_from_string(const char *s);
/* nspawn's modes this project refuses: host, try-host, guest, try-guest. */
bool link_journal_is_refused(const char *s);

/* Overlay=, OverlayReadOnly=, --overlay=, --overlay-ro=. */
typedef struct OverlayMount {
        char **lower;      /* host paths, lowest first; "+/path": a path inside the tree */
        char *upper;       /* writable: the top layer ("" for a tmpfs); read-only: NULL */
        char *destination; /* inside the container */
        bool read_only;
} OverlayMount;

/* "[+]PATH:...:[+]PATH:DEST" (two paths: the second is the top layer and the destination
 * both), ':' and '\' escaped with a '\'. Paths absolute and normalized; the top layer of a
 * writable overlay may be empty (a tmpfs). -EINVAL on a bad spec. */
int overlay_mount_parse(const char *spec, bool read_only, OverlayMount *ret);
void overlay_mount_done(OverlayMount *o);
void overlay_mounts_free(OverlayMount *o, size_t n);
/* Strips the '+' of a layer; *ret_in_tree says whether there was one. */
const char *overlay_layer_path(const char *layer, bool *ret_in_tree);
