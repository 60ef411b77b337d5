/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where the runtime finds a machine's settings itself, the way systemd-nspawn's
 * load_settings() does: NAME.nspawn in the trusted directories first - the admin's config
 * directory (/etc/nspawnctl), /etc/systemd/nspawn, the state directory (/run/nspawnctl),
 * /run/systemd/nspawn -, then next to the image, where privileged keys are ignored (the
 * pool is the guest's, see docs/security.md). The first file found is the only one read. */

#include "error.h"
#include "settings.h"

typedef struct SettingsSearch {
        const char *config_dir; /* NULL: /etc/nspawnctl */
        const char *state_dir;  /* NULL: skipped */
        const char *image;      /* the tree; NULL: nothing next to it */
} SettingsSearch;

/* Returns 1 with the path and its trust level, or 0 when there is no settings file. A file
 * that is not a regular one (or, next to the image, a symlink) is -EBADFD. */
int settings_find(const char *name, const SettingsSearch *s, char **ret_path, SettingsTrust *ret_trust);

/* settings_find() and settings_load(): *ret is NULL when there is no file. Warnings of the
 * parser (ignored keys) go to *ret_warnings. On a syntax error returns -EBADMSG with
 * "FILE:LINE: what" in e. */
int settings_load_for_machine(const char *name, const SettingsSearch *s, Settings **ret, char ***ret_warnings,
                              Error *e);
