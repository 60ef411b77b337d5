/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>

#include "util/build-id.h"

typedef struct BuildIdSearch {
        const char *soname;
        uint8_t *id;
        int result;
} BuildIdSearch;

#define NOTE_ALIGN(n) (((n) + 3u) & ~3u)

static int note_build_id(const uint8_t *p, size_t size, uint8_t *ret) {
        while (size >= sizeof(ElfW(Nhdr))) {
                const ElfW(Nhdr) *n = (const ElfW(Nhdr) *) p;
                size_t name = NOTE_ALIGN(n->n_namesz), desc = NOTE_ALIGN(n->n_descsz);

                if (name > size - sizeof *n || desc > size - sizeof *n - name)
                        return -ENODATA;
                if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
                    memcmp(p + sizeof *n, "GNU", 4) == 0 && n->n_descsz > 0 && n->n_descsz <= BUILD_ID_MAX) {
                        memcpy(ret, p + sizeof *n + name, n->n_descsz);
                        return (int) n->n_descsz;
                }
                p += sizeof *n + name + desc;
                size -= sizeof *n + name + desc;
        }
        return -ENODATA;
}

static int on_object(struct dl_phdr_info *info, size_t size, void *userdata) {
        BuildIdSearch *s = userdata;
        bool main_program = info->dlpi_name == NULL || info->dlpi_name[0] == 0;

        /* The main program comes first, with an empty name. */
        if (s->soname ? main_program || !strstr(info->dlpi_name, s->soname) : !main_program)
                return 0;
        s->result = -ENODATA;
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                if (ph->p_type != PT_NOTE)
                        continue;
                int r = note_build_id((const uint8_t *) (info->dlpi_addr + ph->p_vaddr), ph->p_memsz, s->id);
                if (r > 0) {
                        s->result = r;
                        break;
                }
        }
        return 1;
}

int build_id_of(const char *soname, uint8_t ret[BUILD_ID_MAX]) {
        BuildIdSearch s = { .soname = soname, .id = ret, .result = -ENOENT };

        (void) dl_iterate_phdr(on_object, &s);
        return s.result;
}
