/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "macro.h"

/* Declarative debootstrap recipes (templates/NAME.template), in the INI dialect of
 * .nspawn files:
 *
 *   [Template]  Description=, Distribution=, Suite= (required), Variant= (required:
 *               minbase|buildd|fakechroot), Components= (default "main"), Include=
 *               (space separated Debian package names, repeatable, accumulates)
 *   [PostSetup] Hostname= (default: the image name), MachineId=empty|uninitialized|keep,
 *               RootLogin= (any of "console" "pts"), Network=networkd|none
 *
 * Unlike .nspawn files a template is a closed format: an unknown section or key is an
 * error, so that a typo cannot silently drop part of the setup. */

typedef enum MachineIdMode {
        MACHINE_ID_KEEP,          /* leave what debootstrap wrote */
        MACHINE_ID_EMPTY,         /* empty /etc/machine-id: systemd initialises it at boot */
        MACHINE_ID_UNINITIALIZED, /* "uninitialized": the same plus ConditionFirstBoot=yes */
        _MACHINE_ID_MODE_MAX,
        _MACHINE_ID_MODE_INVALID = -EINVAL,
} MachineIdMode;

typedef enum TemplateNetwork {
        TEMPLATE_NETWORK_NONE,
        TEMPLATE_NETWORK_NETWORKD, /* systemd-networkd + resolved, DHCP on host0 and eth* */
        _TEMPLATE_NETWORK_MAX,
        _TEMPLATE_NETWORK_INVALID = -EINVAL,
} TemplateNetwork;

typedef enum RootLogin {
        ROOT_LOGIN_CONSOLE = 1 << 0,
        ROOT_LOGIN_PTS = 1 << 1,
} RootLogin;

typedef struct Template {
        char *name;         /* the NAME of NAME.template */
        char *path;         /* where it was loaded from */
        char *description;
        char *distribution; /* "debian" */
        char *suite;        /* "bookworm" */
        char *variant;      /* debootstrap --variant= */
        char **components;  /* debootstrap --components= */
        char **include;     /* debootstrap --include= */
        char *hostname;     /* NULL: the image name */
        MachineIdMode machine_id;
        unsigned root_login; /* RootLogin flags */
        TemplateNetwork network;
} Template;

const char *machine_id_mode_to_string(MachineIdMode m);
MachineIdMode machine_id_mode_from_string(const char *s);
const char *template_network_to_string(TemplateNetwork n);
TemplateNetwork template_network_from_string(const char *s);

Template *template_free(Template *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Template *, template_free);

/* Debian policy: [a-z0-9][a-z0-9.+-]+ */
bool debian_package_name_is_valid(const char *s);

/* Parses an already opened template. name must follow the image name rule. On a syntax
 * or validation error returns -EBADMSG with e "FILE:LINE: message" (LINE 0 for
 * what is missing at the end, e.g. "Suite= is required"). */
int template_parse(FILE *f, const char *filename, const char *name, Template **ret, Error *e);
/* /etc/nspawnctl/templates, PKGDATADIR/templates, then SOURCE_ROOT/templates (so that
 * an uninstalled build finds the templates of its own tree); NULL-terminated. */
const char *const *template_default_search_dirs(void);

/* Looks for NAME.template in search_dirs in order (NULL-terminated; callers pass
 * /etc/nspawnctl/templates, the installed data dir, then the source tree) and parses the
 * first one found. -EINVAL for an invalid name, -ENOENT when no dir has it. */
int template_load(const char *name, const char *const *search_dirs, Template **ret, Error *e);
/* Names of all templates in search_dirs, sorted, each once (an earlier dir shadows a later
 * one, as template_load() does). Files whose name is not a valid template name are
 * skipped. */
int template_list(const char *const *search_dirs, char ***ret);

/* The argv for debootstrap building the template into target from mirror. */
int template_debootstrap_argv(const Template *t, const char *target, const char *mirror, char ***ret);

/* Applies [PostSetup] to the tree at root_fd. Every path is resolved inside the tree
 * (openat2 RESOLVE_IN_ROOT, or refusing every symlink where openat2 is missing) and every
 * file is replaced by rename, so nothing the tree contains can redirect a write to the
 * host. -EINVAL if the host name (Hostname= or image_name) is not a valid machine name;
 * -ENOENT if Network=networkd but the tree lacks systemd-networkd or systemd-resolved. */
int template_post_setup(const Template *t, int root_fd, const char *image_name);
/* For tests: pretend openat2() is missing, to exercise the component-walking fallback. */
void template_set_openat2_enabled(bool b);

/* The Debian mirror of the host's apt configuration: deb822 files
 * (APT_DIR/sources.list.d/ *.sources, in name order) first, then one-line
 * APT_DIR/sources.list and APT_DIR/sources.list.d/ *.list. Only "deb" entries for a Debian
 * suite (not -security) with the main component and an http, https, ftp or file URI count;
 * disabled stanzas, deb-src, cdrom and security entries are skipped. -ENOENT if none.
 * Callers check $NSPAWNCTL_MIRROR first, as tests/integration/host-mirror.sh does. */
int host_apt_mirror(char **ret);
int host_apt_mirror_at(const char *apt_dir, char **ret);
/* The same for the contents of one file; -ENOENT if it has no usable entry. */
int apt_mirror_from_deb822(const char *contents, char **ret);
int apt_mirror_from_one_line(const char *contents, char **ret);
