/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ini.h"
#include "macro.h"
#include "names.h"
#include "net-cleanup.h" /* ifname_is_valid(), zone_name_is_valid() */
#include "resolv-conf-mode.h"
#include "settings.h"
#include "syscall-sets.h"
#include "util/strv.h"
#include "util/util.h"

static bool char_is_control(char c) {
        return (unsigned char) c < 0x20 || c == 0x7f;
}

bool path_is_safe_absolute(const char *p) {
        const char *c;

        if (!p || p[0] != '/')
                return false;
        if (strnlen(p, PATH_MAX) >= PATH_MAX)
                return false;
        if (!utf8_is_valid(p))
                return false;
        for (c = p; *c; c++)
                if (char_is_control(*c))
                        return false;

        if (streq(p, "/"))
                return true;

        /* Walk the components: each must be non-empty (no "//", no trailing '/') and
         * neither "." nor "..". */
        c = p;
        while (*c == '/') {
                const char *start = c + 1;
                size_t n = strcspn(start, "/");

                if (n == 0)
                        return false;
                if ((n == 1 && start[0] == '.') || (n == 2 && start[0] == '.' && start[1] == '.'))
                        return false;
                c = start + n;
        }
        return true;
}

void bind_mount_done(BindMount *b) {
        if (!b)
                return;
        free(b->source);
        free(b->destination);
        b->source = b->destination = NULL;
}

void bind_mounts_free(BindMount *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                bind_mount_done(b + i);
        free(b);
}

static const char *const bind_idmap_table[_BIND_IDMAP_MAX] = {
        [BIND_IDMAP_DEFAULT] = "idmap",
        [BIND_IDMAP_NONE] = "noidmap",
        [BIND_IDMAP_ROOT] = "rootidmap",
        [BIND_IDMAP_OWNER] = "owneridmap",
};

DEFINE_STRING_TABLE_LOOKUP(bind_idmap, BindIdmap, _BIND_IDMAP_MAX)

/* "rbind" or "norbind" and one ID mapping, each at most once, comma-separated. */
static int bind_options_parse(const char *options, bool *recursive, BindIdmap *idmap) {
        bool have_rec = false, have_idmap = false;

        if (isempty(options))
                return -EINVAL;
        for (const char *p = options;;) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *word = strndup(p, n);
                BindIdmap i;

                if (!word)
                        return -ENOMEM;
                if (streq(word, "rbind") || streq(word, "norbind")) {
                        if (have_rec)
                                return -EINVAL;
                        have_rec = true;
                        *recursive = streq(word, "rbind");
                } else if ((i = bind_idmap_from_string(word)) >= 0) {
                        if (have_idmap)
                                return -EINVAL;
                        have_idmap = true;
                        *idmap = i;
                } else
                        return -EINVAL; /* also an empty word, and a fourth ':' field */
                if (p[n] == 0)
                        return 0;
                p += n + 1;
        }
}

int bind_mount_parse(const char *spec, bool read_only, BindMount *ret) {
        _cleanup_free_ char *source = NULL, *destination = NULL;
        const char *colon1, *colon2, *options = NULL;
        bool recursive = true;
        BindIdmap idmap = BIND_IDMAP_DEFAULT;
        int r;

        if (!spec || !ret)
                return -EINVAL;

        colon1 = strchr(spec, ':');
        if (colon1) {
                source = strndup(spec, colon1 - spec);
                colon2 = strchr(colon1 + 1, ':');
                if (colon2) {
                        destination = strndup(colon1 + 1, colon2 - colon1 - 1);
                        options = colon2 + 1;
                } else
                        destination = strdup(colon1 + 1);
        } else {
                source = strdup(spec);
                destination = strdup(spec);
        }
        if (!source || !destination)
                return -ENOMEM;

        if (options) {
                r = bind_options_parse(options, &recursive, &idmap);
                if (r < 0)
                        return r;
        }

        if (!path_is_safe_absolute(source) || !path_is_safe_absolute(destination))
                return -EINVAL;

        *ret = (BindMount) {
                .source = TAKE_PTR(source),
                .destination = TAKE_PTR(destination),
                .read_only = read_only,
                .recursive = recursive,
                .idmap = idmap,
        };
        return 0;
}

int bind_mount_format(const BindMount *b, char **ret) {
        const char *rec = b->recursive ? NULL : "norbind";
        const char *idmap = b->idmap != BIND_IDMAP_DEFAULT ? bind_idmap_to_string(b->idmap) : NULL;
        char *s;

        s = strjoin(b->source, ":", b->destination, rec || idmap ? ":" : "", rec ?: "",
                    rec && idmap ? "," : "", idmap ?: "");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

Settings *settings_free(Settings *s) {
        if (!s)
                return NULL;
        strv_free(s->parameters);
        strv_free(s->environment);
        free(s->user);
        free(s->working_directory);
        bind_mounts_free(s->binds, s->n_binds);
        strv_free(s->tmpfs);
        free(s->bridge);
        free(s->zone);
        free(s->ports);
        strv_free(s->syscall_allow);
        strv_free(s->syscall_deny);
        free(s->hostname);
        strv_free(s->inaccessible);
        overlay_mounts_free(s->overlays, s->n_overlays);
        free(s);
        return NULL;
}

int settings_new(Settings **ret) {
        Settings *s;

        if (!ret)
                return -EINVAL;
        s = calloc(1, sizeof(Settings));
        if (!s)
                return -ENOMEM;
        s->boot = -1;
        s->read_only = -1;
        s->private_network = -1;
        s->private_users.mode = _PRIVATE_USERS_MODE_INVALID;
        s->cgroup_layout = _CGROUP_LAYOUT_INVALID;
        s->virtual_ethernet = -1;
        s->resolv_conf = -1;
        s->ephemeral = s->process_two = s->notify_ready = s->no_new_privileges = s->suppress_sync = -1;
        s->personality = _PERSONALITY_INVALID;
        s->volatile_mode = _VOLATILE_MODE_INVALID;
        s->timezone = _TIMEZONE_MODE_INVALID;
        s->link_journal = _LINK_JOURNAL_INVALID;
        *ret = s;
        return 0;
}

int split_quoted(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;
        int r;

        if (!s || !ret)
                return -EINVAL;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (;;) {
                _cleanup_free_ char *word = NULL;
                size_t n = 0;
                char quote = 0;

                p += strspn(p, " \t");
                if (*p == 0)
                        break;

                /* A word is never longer than what is left of the input. */
                word = malloc(strlen(p) + 1);
                if (!word)
                        return -ENOMEM;

                for (; *p; p++) {
                        if (quote) {
                                if (*p == quote)
                                        quote = 0;
                                else if (quote == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                        word[n++] = *++p;
                                else
                                        word[n++] = *p;
                        } else if (*p == '"' || *p == '\'')
                                quote = *p;
                        else if (*p == ' ' || *p == '\t')
                                break;
                        else if (*p == '\\') {
                                if (p[1] == 0)
                                        return -EINVAL;
                                word[n++] = *++p;
                        } else
                                word[n++] = *p;
                }
                if (quote)
                        return -EINVAL;
                word[n] = 0;

                r = strv_consume(&l, TAKE_PTR(word));
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

static bool mount_options_are_valid(const char *s) {
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr("=,._+-%", *s)))
                        return false;
        return true;
}

typedef struct ParseContext {
        IniParser *parser;
        SettingsTrust trust;
        Settings *settings;
} ParseContext;

#define syntax_error(c, ...) ini_syntax_error((c)->parser, __VA_ARGS__)
#define add_warning(c, ...) ini_warning((c)->parser, __VA_ARGS__)

typedef int (*SettingParser)(ParseContext *c, const char *key, const char *value);

static int parse_tristate(ParseContext *c, const char *key, const char *value, int *ret) {
        int b;

        if (isempty(value)) {
                *ret = -1;
                return 0;
        }
        b = parse_boolean(value);
        if (b < 0)
                return syntax_error(c, "invalid boolean value \"%s\" for %s=", value, key);
        *ret = b;
        return 0;
}

static int parse_boot(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->boot);
}

static int parse_read_only(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->read_only);
}

static int parse_private_network(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->private_network);
}

static int parse_private_users(ParseContext *c, const char *key, const char *value) {
        PrivateUsers p;

        if (isempty(value)) {
                c->settings->private_users = (PrivateUsers) { .mode = _PRIVATE_USERS_MODE_INVALID };
                return 0;
        }
        if (private_users_parse(value, &p) < 0)
                return syntax_error(c, "invalid value \"%s\" for %s= (expected no, yes, pick, identity or "
                                    "UID[:COUNT])", value, key);
        c->settings->private_users = p;
        return 0;
}

static int parse_parameters(ParseContext *c, const char *key, const char *value) {
        char **l = NULL;
        int r;

        r = split_quoted(value, &l);
        if (r == -EINVAL)
                return syntax_error(c, "unbalanced quotes or trailing backslash in %s=", key);
        if (r < 0)
                return r;

        /* Like systemd: the last assignment wins, an empty one resets. */
        strv_free(c->settings->parameters);
        c->settings->parameters = l;
        return 0;
}

static int parse_environment(ParseContext *c, const char *key, const char *value) {
        const char *eq;

        if (isempty(value)) {
                c->settings->environment = strv_free(c->settings->environment);
                return 0;
        }
        eq = strchr(value, '=');
        if (!eq)
                return syntax_error(c, "%s= assignment \"%s\" lacks '='", key, value);
        if (!env_name_is_valid(value, eq - value))
                return syntax_error(c, "invalid environment variable name in %s=\"%s\"", key, value);
        return strv_env_set(&c->settings->environment, value);
}

static int parse_user(ParseContext *c, const char *key, const char *value) {
        if (!isempty(value) && !user_name_is_valid(value))
                return syntax_error(c, "invalid user name \"%s\" for %s=", value, key);
        return ini_set_string(&c->settings->user, value);
}

static int parse_working_directory(ParseContext *c, const char *key, const char *value) {
        if (!isempty(value) && !path_is_safe_absolute(value))
                return syntax_error(c, "%s= path \"%s\" is not a normalized absolute path", key, value);
        return ini_set_string(&c->settings->working_directory, value);
}

static int parse_bind(ParseContext *c, const char *key, const char *value) {
        Settings *s = c->settings;
        BindMount b, *n;
        int r;

        if (isempty(value)) {
                bind_mounts_free(s->binds, s->n_binds);
                s->binds = NULL;
                s->n_binds = 0;
                return 0;
        }

        r = bind_mount_parse(value, streq(key, "BindReadOnly"), &b);
        if (r == -EINVAL)
                return syntax_error(c, "invalid bind mount specification \"%s\" for %s= "
                                    "(expected absolute SOURCE[:DESTINATION[:OPTIONS]], OPTIONS "
                                    "rbind|norbind and idmap|noidmap|rootidmap|owneridmap)",
                                    value, key);
        if (r < 0)
                return r;

        n = reallocarray(s->binds, s->n_binds + 1, sizeof(BindMount));
        if (!n) {
                bind_mount_done(&b);
                return -ENOMEM;
        }
        s->binds = n;
        s->binds[s->n_binds++] = b;
        return 0;
}

static int parse_tmpfs(ParseContext *c, const char *key, const char *value) {
        _cleanup_free_ char *path = NULL;
        const char *colon;

        if (isempty(value)) {
                c->settings->tmpfs = strv_free(c->settings->tmpfs);
                return 0;
        }

        colon = strchr(value, ':');
        path = colon ? strndup(value, colon - value) : strdup(value);
        if (!path)
                return -ENOMEM;
        if (!path_is_safe_absolute(path))
                return syntax_error(c, "%s= path \"%s\" is not a normalized absolute path", key, path);
        if (!tmpfs_spec_is_valid(value))
                return syntax_error(c, "invalid mount options \"%s\" for %s=", colon + 1, key);

        return strv_extend(&c->settings->tmpfs, value);
}

bool tmpfs_spec_is_valid(const char *spec) {
        const char *colon = strchr(spec, ':');
        _cleanup_free_ char *path = colon ? strndup(spec, colon - spec) : strdup(spec);

        return path && path_is_safe_absolute(path) && (!colon || mount_options_are_valid(colon + 1));
}

static int parse_virtual_ethernet(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->virtual_ethernet);
}

static int parse_bridge(ParseContext *c, const char *key, const char *value) {
        if (!isempty(value) && !ifname_is_valid(value))
                return syntax_error(c, "invalid interface name \"%s\" for %s=", value, key);
        return ini_set_string(&c->settings->bridge, value);
}

static int parse_zone(ParseContext *c, const char *key, const char *value) {
        if (!isempty(value) && !zone_name_is_valid(value))
                return syntax_error(c, "invalid zone name \"%s\" for %s= (at most 12 of [A-Za-z0-9_-])",
                                    value, key);
        return ini_set_string(&c->settings->zone, value);
}

static int parse_port(ParseContext *c, const char *key, const char *value) {
        Settings *s = c->settings;
        PortForward p;
        int r;

        if (isempty(value)) {
                s->ports = mfree(s->ports);
                s->n_ports = 0;
                return 0;
        }
        if (port_forward_parse(value, &p) < 0)
                return syntax_error(c,
                                    "invalid port forward \"%s\" for %s= "
                                    "(expected [tcp:|udp:]HOST[:CONTAINER], ports 1-65535)",
                                    value, key);
        r = port_forwards_add(&s->ports, &s->n_ports, &p);
        if (r == -EEXIST)
                return syntax_error(c, "host port %s/%u is forwarded twice",
                                    port_protocol_to_string(p.protocol), p.host_port);
        return r;
}

static int parse_resolv_conf(ParseContext *c, const char *key, const char *value) {
        ResolvConfMode m;

        if (isempty(value)) {
                c->settings->resolv_conf = -1;
                return 0;
        }
        m = resolv_conf_mode_from_string(value);
        if (m < 0)
                return syntax_error(c, "invalid %s= mode \"%s\"", key, value);
        c->settings->resolv_conf = m;
        return 0;
}

static int parse_cgroup_layout(ParseContext *c, const char *key, const char *value) {
        CGroupLayout l = isempty(value) ? _CGROUP_LAYOUT_INVALID : cgroup_layout_from_string(value);

        if (!isempty(value) && l < 0)
                return syntax_error(c, "invalid %s= \"%s\" (expected auto, unified, hybrid or legacy)", key, value);
        c->settings->cgroup_layout = l;
        return 0;
}

/* [Resources]: limits only restrict the container, so an untrusted file may set them too,
 * except that it may not lift the default pids limit, the fork-bomb defence. */
static int parse_resource(ParseContext *c, const char *key, const char *value) {
        CGroupLimitType t = cgroup_limit_type_from_string(key);
        uint64_t v;
        int r;

        if (t < 0)
                return INI_UNKNOWN_KEY;
        if (isempty(value)) {
                c->settings->limits.set[t] = false;
                return 0;
        }
        r = cgroup_limit_parse(t, value, &v);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return syntax_error(c, "invalid value \"%s\" for %s=", value, key);
        if (t == CGROUP_LIMIT_TASKS_MAX && v > CGROUP_TASKS_MAX_DEFAULT && c->trust != SETTINGS_TRUSTED)
                return add_warning(c, "ignoring %s=%s above the default %d in untrusted file", key, value,
                                   CGROUP_TASKS_MAX_DEFAULT);
        c->settings->limits.value[t] = v;
        c->settings->limits.set[t] = true;
        return 0;
}

/* A key of systemd.nspawn(5) that this project does not do: the start is refused rather than
 * run with less than the file asks for. An empty assignment asks for nothing. */
static int parse_refused(ParseContext *c, const char *key, const char *value) {
        if (isempty(value))
                return 0;
        return syntax_error(c, "%s= is not supported", key);
}

static int parse_ephemeral(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->ephemeral);
}

static int parse_process_two(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->process_two);
}

static int parse_notify_ready(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->notify_ready);
}

static int parse_no_new_privileges(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->no_new_privileges);
}

static int parse_suppress_sync(ParseContext *c, const char *key, const char *value) {
        return parse_tristate(c, key, value, &c->settings->suppress_sync);
}

/* Capabilities whose only use the system call filter denies whatever the bounding set says
 * (seccomp_denied_syscalls): granting one is allowed, but said to be of no effect. */
static const struct {
        int cap;
        const char *what;
} capability_denied_use[] = {
        { 16 /* CAP_SYS_MODULE */, "loading modules" },
        { 20 /* CAP_SYS_PACCT */, "process accounting (acct)" },
        { 25 /* CAP_SYS_TIME */, "setting the clock" },
        { 34 /* CAP_SYSLOG */, "the kernel log (syslog)" },
        { 38 /* CAP_PERFMON */, "perf_event_open" },
        { 39 /* CAP_BPF */, "bpf" },
};

/* Capability=, DropCapability=, AmbientCapability=: lists that add up, as in nspawn. */
static int parse_capability(ParseContext *c, const char *key, const char *value) {
        Settings *s = c->settings;
        bool ambient = streq(key, "AmbientCapability");
        uint64_t *mask = ambient ? &s->ambient_capability
                         : streq(key, "Capability") ? &s->capability
                                                    : &s->drop_capability;
        bool *set = ambient ? &s->ambient_capability_set
                    : streq(key, "Capability") ? &s->capability_set
                                               : &s->drop_capability_set;
        _cleanup_free_ char *bad = NULL;
        uint64_t m;
        int r;

        if (isempty(value)) {
                *mask = 0;
                *set = false;
                return 0;
        }
        r = capability_list_parse(value, !ambient, &m, &bad);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return syntax_error(c, "unknown capability \"%s\" in %s=%s", strna(bad), key, value);
        if (streq(key, "Capability") && m != CAPABILITY_ALL)
                for (size_t i = 0; i < ELEMENTSOF(capability_denied_use); i++)
                        if (m & (UINT64_C(1) << capability_denied_use[i].cap)) {
                                r = add_warning(c, "%s=%s: %s stays denied by the system call filter "
                                                "(docs/settings.md)", key,
                                                capability_to_name(capability_denied_use[i].cap),
                                                capability_denied_use[i].what);
                                if (r < 0)
                                        return r;
                        }
        *mask |= m;
        *set = true;
        return 0;
}

/* SystemCallFilter=: words added to the project's deny-list ("~..."), or words to allow,
 * which cannot lift anything that list denies (docs/settings.md). */
static int parse_syscall_filter(ParseContext *c, const char *key, const char *value) {
        Settings *s = c->settings;
        bool deny = value[0] == '~';
        int r;

        if (isempty(value)) {
                s->syscall_allow = strv_free(s->syscall_allow);
                s->syscall_deny = strv_free(s->syscall_deny);
                return 0;
        }
        for (const char *p = value + deny;;) {
                p += strspn(p, " \t");
                if (*p == 0)
                        break;
                size_t n = strcspn(p, " \t");
                _cleanup_free_ char *word = strndup(p, n);

                if (!word)
                        return -ENOMEM;
                if (!syscall_word_is_valid(word))
                        return syntax_error(c, word[0] == '@' ? "unknown system call group \"%s\" in %s="
                                                              : "invalid system call name \"%s\" in %s=",
                                            word, key);
                if (!deny && syscall_word_is_denied(word))
                        return syntax_error(c, "%s=%s is not supported: it would allow what the project's "
                                            "system call filter denies (docs/settings.md)", key, word);
                if (!strv_contains(deny ? s->syscall_deny : s->syscall_allow, word)) {
                        r = strv_extend(deny ? &s->syscall_deny : &s->syscall_allow, word);
                        if (r < 0)
                                return r;
                }
                p += n;
        }
        return 0;
}

/* Limit*=. An untrusted file may only lower what the payload would get anyway (the limits of
 * this process, which it inherits). */
static int parse_rlimit(ParseContext *c, const char *key, const char *value) {
        int resource = rlimit_from_key(key);
        struct rlimit rl, cur;
        int r;

        if (resource < 0)
                return INI_UNKNOWN_KEY;
        if (isempty(value)) {
                c->settings->rlimits.set[resource] = false;
                return 0;
        }
        r = rlimit_value_parse(resource, value, &rl);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return syntax_error(c, "invalid value \"%s\" for %s= (expected VALUE or SOFT:HARD, soft "
                                    "not above hard)", value, key);
        if (c->trust != SETTINGS_TRUSTED && getrlimit(resource, &cur) >= 0 &&
            (rl.rlim_max > cur.rlim_max || rl.rlim_cur > cur.rlim_max))
                return add_warning(c, "ignoring %s=%s above the current limit in untrusted file", key,
                                   value);
        c->settings->rlimits.value[resource] = rl;
        c->settings->rlimits.set[resource] = true;
        return 0;
}

static int parse_oom_score_adjust(ParseContext *c, const char *key, const char *value) {
        int v;

        if (isempty(value)) {
                c->settings->oom_score_adjust_set = false;
                return 0;
        }
        if (oom_score_adjust_parse(value, &v) < 0)
                return syntax_error(c, "invalid value \"%s\" for %s= (expected -1000..1000)", value, key);
        /* Protecting the container from the OOM killer at the host's expense is the admin's. */
        if (v < 0 && c->trust != SETTINGS_TRUSTED)
                return add_warning(c, "ignoring negative %s=%s in untrusted file", key, value);
        c->settings->oom_score_adjust = v;
        c->settings->oom_score_adjust_set = true;
        return 0;
}

static int parse_cpu_affinity(ParseContext *c, const char *key, const char *value) {
        if (isempty(value)) {
                c->settings->cpu_affinity.set = false;
                return 0;
        }
        if (cpu_set_parse(value, &c->settings->cpu_affinity) < 0)
                return syntax_error(c, "invalid CPU list \"%s\" for %s= (expected e.g. 0,2-3 below %d)",
                                    value, key, CPU_SETSIZE);
        return 0;
}

static int parse_hostname(ParseContext *c, const char *key, const char *value) {
        if (!isempty(value) && !machine_name_is_valid(value))
                return syntax_error(c, "invalid host name \"%s\" for %s= (at most 64 bytes, [A-Za-z0-9-] "
                                    "labels joined by dots)", value, key);
        return ini_set_string(&c->settings->hostname, value);
}

static int parse_machine_id(ParseContext *c, const char *key, const char *value) {
        if (isempty(value)) {
                c->settings->machine_id[0] = 0;
                return 0;
        }
        if (machine_id_parse(value, c->settings->machine_id) < 0)
                return syntax_error(c, "invalid %s= \"%s\" (expected 32 hex digits or a UUID, not all zero)",
                                    key, value);
        return 0;
}

static int parse_kill_signal(ParseContext *c, const char *key, const char *value) {
        if (isempty(value)) {
                c->settings->kill_signal = 0;
                return 0;
        }
        if (kill_signal_parse(value, &c->settings->kill_signal) < 0)
                return syntax_error(c, "invalid signal \"%s\" for %s=", value, key);
        return 0;
}

static int parse_personality(ParseContext *c, const char *key, const char *value) {
        Personality p;

        if (isempty(value)) {
                c->settings->personality = _PERSONALITY_INVALID;
                return 0;
        }
        p = personality_from_string(value);
        if (p < 0)
                return syntax_error(c, "%s=%s is not supported (x86 or x86-64)", key, value);
        if (!personality_is_supported(p))
                return syntax_error(c, "%s=%s is not supported on this architecture", key, value);
        c->settings->personality = p;
        return 0;
}

static int parse_volatile(ParseContext *c, const char *key, const char *value) {
        VolatileMode m = isempty(value) ? _VOLATILE_MODE_INVALID : volatile_mode_from_string(value);

        if (!isempty(value) && m < 0)
                return syntax_error(c, "invalid %s= \"%s\" (expected yes, no, state or overlay)", key,
                                    value);
        c->settings->volatile_mode = m;
        return 0;
}

static int parse_timezone(ParseContext *c, const char *key, const char *value) {
        TimezoneMode m = isempty(value) ? _TIMEZONE_MODE_INVALID : timezone_mode_from_string(value);

        if (!isempty(value) && m < 0)
                return syntax_error(c, "invalid %s= \"%s\" (expected off, copy, bind, symlink, delete or "
                                    "auto)", key, value);
        c->settings->timezone = m;
        return 0;
}

static int parse_link_journal(ParseContext *c, const char *key, const char *value) {
        LinkJournal l = isempty(value) ? _LINK_JOURNAL_INVALID : link_journal_from_string(value);

        if (link_journal_is_refused(value))
                return syntax_error(c, "%s=%s is not supported (only no and auto)", key, value);
        if (!isempty(value) && l < 0)
                return syntax_error(c, "invalid %s= \"%s\" (expected no or auto)", key, value);
        c->settings->link_journal = l;
        return 0;
}

static int parse_inaccessible(ParseContext *c, const char *key, const char *value) {
        if (isempty(value)) {
                c->settings->inaccessible = strv_free(c->settings->inaccessible);
                return 0;
        }
        if (!path_is_safe_absolute(value) || streq(value, "/"))
                return syntax_error(c, "%s= path \"%s\" is not a normalized absolute path below /", key,
                                    value);
        if (strv_contains(c->settings->inaccessible, value))
                return 0;
        return strv_extend(&c->settings->inaccessible, value);
}

static int parse_overlay(ParseContext *c, const char *key, const char *value) {
        Settings *s = c->settings;
        OverlayMount o, *n;
        int r;

        if (isempty(value)) {
                overlay_mounts_free(s->overlays, s->n_overlays);
                s->overlays = NULL;
                s->n_overlays = 0;
                return 0;
        }
        r = overlay_mount_parse(value, streq(key, "OverlayReadOnly"), &o);
        if (r == -EINVAL)
                return syntax_error(c, "invalid overlay \"%s\" for %s= (expected "
                                    "[+]LOWER:...:[+]UPPER:DESTINATION with absolute paths)", value, key);
        if (r < 0)
                return r;
        n = reallocarray(s->overlays, s->n_overlays + 1, sizeof(OverlayMount));
        if (!n) {
                overlay_mount_done(&o);
                return -ENOMEM;
        }
        s->overlays = n;
        s->overlays[s->n_overlays++] = o;
        return 0;
}

/* The tree is always ID-mapped, never chowned: "map" and "auto" are what happens anyway. */
static int parse_private_users_ownership(ParseContext *c, const char *key, const char *value) {
        if (isempty(value) || streq(value, "map") || streq(value, "auto"))
                return 0;
        if (streq(value, "off") || streq(value, "chown"))
                return syntax_error(c, "%s=%s is not supported: the tree is always ID-mapped, never chowned",
                                    key, value);
        return syntax_error(c, "invalid %s= \"%s\" (expected off, chown, map or auto)", key, value);
}

static int parse_private_users_chown(ParseContext *c, const char *key, const char *value) {
        int b = isempty(value) ? 0 : parse_boolean(value);

        if (b < 0)
                return syntax_error(c, "invalid boolean value \"%s\" for %s=", value, key);
        if (b > 0)
                return syntax_error(c, "%s=%s is not supported: the tree is always ID-mapped, never chowned",
                                    key, value);
        return 0;
}

/* Every key of systemd.nspawn(5) (v252) and this project's own, with who may set it: a
 * privileged key is ignored (with a warning) in a file that is not trusted. Which key does
 * what, and why it needs trust or not, is in docs/settings.md. [Resources] and Limit*= are
 * matched by name below. */
static const struct {
        const char *section;
        const char *key;
        SettingParser parse;
        bool privileged;
} setting_table[] = {
        { "Exec", "Boot", parse_boot, false },
        { "Exec", "Ephemeral", parse_ephemeral, false },
        { "Exec", "ProcessTwo", parse_process_two, false },
        { "Exec", "Parameters", parse_parameters, false },
        { "Exec", "Environment", parse_environment, false },
        { "Exec", "User", parse_user, false },
        { "Exec", "WorkingDirectory", parse_working_directory, false },
        { "Exec", "PivotRoot", parse_refused, false },
        /* Privileged: more than the default set, or kept across exec, in the host's user
         * namespace when there is no other. Dropping is for anyone. */
        { "Exec", "Capability", parse_capability, true },
        { "Exec", "DropCapability", parse_capability, false },
        { "Exec", "AmbientCapability", parse_capability, true },
        { "Exec", "NoNewPrivileges", parse_no_new_privileges, false },
        { "Exec", "KillSignal", parse_kill_signal, false },
        { "Exec", "Personality", parse_personality, false },
        { "Exec", "MachineID", parse_machine_id, false },
        /* Privileged: a file shipped with an image must not turn the user namespace off. */
        { "Exec", "PrivateUsers", parse_private_users, true },
        { "Exec", "NotifyReady", parse_notify_ready, false },
        /* Only ever adds to the deny-list. */
        { "Exec", "SystemCallFilter", parse_syscall_filter, false },
        { "Exec", "OOMScoreAdjust", parse_oom_score_adjust, false },
        { "Exec", "CPUAffinity", parse_cpu_affinity, false },
        { "Exec", "Hostname", parse_hostname, false },
        { "Exec", "Timezone", parse_timezone, false },
        /* Privileged: binds a directory of the host's journal. */
        { "Exec", "LinkJournal", parse_link_journal, true },
        { "Exec", "SuppressSync", parse_suppress_sync, false },
        { "Exec", "CGroupLayout", parse_cgroup_layout, false },
        { "Exec", "ResolvConf", parse_resolv_conf, false },
        { "Files", "ReadOnly", parse_read_only, false },
        { "Files", "Volatile", parse_volatile, false },
        { "Files", "Bind", parse_bind, true },
        { "Files", "BindReadOnly", parse_bind, true },
        { "Files", "BindUser", parse_refused, false },
        { "Files", "TemporaryFileSystem", parse_tmpfs, true },
        /* Masks paths of the container's own: takes away only. */
        { "Files", "Inaccessible", parse_inaccessible, false },
        { "Files", "Overlay", parse_overlay, true },
        { "Files", "OverlayReadOnly", parse_overlay, true },
        { "Files", "PrivateUsersChown", parse_private_users_chown, false },
        { "Files", "PrivateUsersOwnership", parse_private_users_ownership, false },
        { "Network", "Private", parse_private_network, true },
        { "Network", "VirtualEthernet", parse_virtual_ethernet, true },
        { "Network", "Bridge", parse_bridge, true },
        { "Network", "Zone", parse_zone, true },
        { "Network", "Port", parse_port, true },
        { "Network", "VirtualEthernetExtra", parse_refused, false },
        { "Network", "Interface", parse_refused, false },
        { "Network", "MACVLAN", parse_refused, false },
        { "Network", "IPVLAN", parse_refused, false },
};

static const char *const known_sections[] = { "Exec", "Files", "Network", "Resources", NULL };

static int settings_assignment(IniParser *p, const char *section, const char *key, const char *value,
                               void *userdata) {
        ParseContext *c = userdata;

        c->parser = p;
        for (size_t i = 0; i < ELEMENTSOF(setting_table); i++) {
                if (!streq(setting_table[i].section, section) || !streq(setting_table[i].key, key))
                        continue;

                /* Checked before the value is even looked at: a file we do not trust does
                 * not get to influence what the host exposes, whatever it contains. */
                if (setting_table[i].privileged && c->trust != SETTINGS_TRUSTED)
                        return add_warning(c, "ignoring privileged setting %s= in untrusted file", key);

                return setting_table[i].parse(c, key, value);
        }
        if (streq(section, "Resources"))
                return parse_resource(c, key, value);
        if (streq(section, "Exec") && rlimit_from_key(key) >= 0)
                return parse_rlimit(c, key, value);
        return INI_UNKNOWN_KEY;
}

bool settings_key_is_known(const char *section, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(setting_table); i++)
                if (streq(setting_table[i].section, section) && streq(setting_table[i].key, key))
                        return true;
        return (streq(section, "Exec") && rlimit_from_key(key) >= 0) ||
               (streq(section, "Resources") && cgroup_limit_type_from_string(key) >= 0);
}

int settings_assign(Settings *s, const char *section, const char *key, const char *value, const char *option,
                    Error *e, char ***ret_warnings) {
        IniParser p = {
                .filename = option ?: key,
        };
        ParseContext c = {
                .trust = SETTINGS_TRUSTED,
                .settings = s,
        };
        int r;

        if (!s || !section || !key || !value)
                return -EINVAL;
        if (!settings_key_is_known(section, key))
                return -ENOENT;
        r = settings_assignment(&p, section, key, value, &c);
        if (r >= 0 && ret_warnings)
                *ret_warnings = TAKE_PTR(p.warnings);
        strv_free(p.warnings);
        if (r == -EBADMSG && p.error)
                error_set(e, r, "%s", p.error);
        free(p.error);
        if (r == INI_UNKNOWN_KEY)
                return -ENOENT;
        return r < 0 ? r : 0;
}

int settings_parse(FILE *f, const char *filename, SettingsTrust trust, Settings **ret,
                   Error *e, char ***ret_warnings) {
        _cleanup_(settings_freep) Settings *s = NULL;
        ParseContext c = {
                .trust = trust,
        };
        int r;

        if (!f || !ret)
                return -EINVAL;

        r = settings_new(&s);
        if (r < 0)
                return r;
        c.settings = s;

        r = ini_parse(f, filename ?: "(settings)", known_sections, settings_assignment, &c, e,
                      ret_warnings);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

int settings_load(const char *path, SettingsTrust trust, Settings **ret, Error *e,
                  char ***ret_warnings) {
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        if (!path || !ret)
                return -EINVAL;

        r = ini_open(path, &f);
        if (r < 0)
                return r;

        return settings_parse(f, path, trust, ret, e, ret_warnings);
}
