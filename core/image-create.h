/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "image.h"

/* Creating images from templates (core/template.h). The first create of template T builds
 * the hidden read-only base image ".base-T" in the pool (debootstrap into a temporary,
 * the template's post-setup, read-only, renamed into place); every create snapshots that
 * base (seconds instead of minutes) and applies the post-setup again for its own host
 * name. IMAGE_CREATE_REFRESH builds a new base first and swaps it in atomically; images
 * made from the old base are independent snapshots and stay as they are. */

typedef enum CreatePhase {
        CREATE_PHASE_PREPARING,  /* resolving, fetching indexes, checking signatures */
        CREATE_PHASE_RETRIEVING, /* downloading packages: total not known yet */
        CREATE_PHASE_EXTRACTING,
        CREATE_PHASE_UNPACKING,
        CREATE_PHASE_CONFIGURING,
        CREATE_PHASE_POST_SETUP,
        CREATE_PHASE_SNAPSHOT, /* the base exists: taking the image from it */
        /* Not create's, but told the same way (machined's ImageProgress): import-tar and
         * export-tar, counts in KiB of the tar stream, the total 0 when not known. */
        CREATE_PHASE_IMPORTING,
        CREATE_PHASE_EXPORTING,
        _CREATE_PHASE_MAX,
        _CREATE_PHASE_INVALID = -EINVAL,
} CreatePhase;

const char *create_phase_to_string(CreatePhase p);
CreatePhase create_phase_from_string(const char *s);

/* A mirror debootstrap may be given: an http, https, ftp or file URL of sane length, one
 * word. */
bool mirror_url_is_valid(const char *url);

typedef struct CreateProgress {
        CreatePhase phase;
        unsigned current; /* packages done in this phase */
        unsigned total;   /* packages retrieved (0 while retrieving) */
        const char *package; /* the one just handled, or NULL */
} CreateProgress;

typedef void (*CreateProgressFunc)(const CreateProgress *p, void *userdata);

/* Feeds one line of debootstrap output to the progress parser; returns 1 and fills *ret
 * when it changes the progress, 0 for lines that say nothing new. */
typedef struct CreateProgressParser {
        CreatePhase phase;
        unsigned retrieved, extracted, unpacked, configured;
        char package[128];
} CreateProgressParser;
int create_progress_parse_line(CreateProgressParser *p, const char *line, CreateProgress *ret);

typedef enum ImageCreateFlags {
        IMAGE_CREATE_REFRESH = 1 << 0,   /* rebuild the template's base first */
        IMAGE_CREATE_READ_ONLY = 1 << 1, /* the new image is read-only */
} ImageCreateFlags;

/* search_dirs NULL: template_default_search_dirs(). mirror NULL: $NSPAWNCTL_MIRROR, else
 * the host's apt sources. On a failure of debootstrap (-EPROTO) or of the template,
 * e says why in one line. */
int image_create_from_template(const char *pool, const char *name, const char *template_name,
                               const char *const *search_dirs, const char *mirror,
                               ImageCreateFlags flags, CreateProgressFunc progress,
                               void *userdata, Error *e);
