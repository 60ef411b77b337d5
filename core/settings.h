/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

typedef struct BindMount {
        char *source;      /* absolute host path */
        char *destination; /* absolute path inside the container */
        bool read_only;
        bool recursive;    /* rbind (default) or "norbind" */
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
} Settings;

typedef enum SettingsTrust {
        SETTINGS_UNTRUSTED, /* a file next to an image in the pool: privileged keys ignored */
        SETTINGS_TRUSTED,   /* /etc/nspawnctl or /run/nspawnctl */
} SettingsTrust;

Settings *settings_free(Settings *s);

/* Parses a systemd.nspawn-style file. On a syntax error returns -EBADMSG and sets
 * *ret_error to "FILE:LINE: what is wrong". Keys that are privileged (Bind, BindReadOnly,
 * TemporaryFileSystem, PrivateNetwork) are skipped in an untrusted file, and a
 * "FILE:LINE: ignoring ..." line is appended to *ret_warnings for each. */
int settings_parse(FILE *f, const char *filename, SettingsTrust trust, Settings **ret,
                   char **ret_error, char ***ret_warnings);
int settings_load(const char *path, SettingsTrust trust, Settings **ret, char **ret_error,
                  char ***ret_warnings);

/* "SRC[:DST[:OPTIONS]]" as in --bind= and Bind=; OPTIONS is "rbind" or "norbind".
 * SRC must be absolute; DST (default SRC) must be absolute; neither may contain ".."
 * components. Returns -EINVAL on a bad spec. */
int bind_mount_parse(const char *spec, bool read_only, BindMount *ret);
void bind_mount_done(BindMount *b);
void bind_mounts_free(BindMount *b, size_t n);
/* Absolute, normalized, no ".." component, no control characters. */
bool path_is_safe_absolute(const char *p);
