/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* machined reads records that root-owned supervisors write, but a record is still input:
 * whatever the text, the parser must not crash, and what it accepts must be what machined
 * relies on (a valid name, a real pid, absolute paths without control characters). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machine-record.h"
#include "macro.h"
#include "names.h"
#include "util/util.h"

static void check_path(const char *p) {
        if (!p)
                return;
        if (p[0] != '/' || !utf8_is_valid(p))
                abort();
        for (const char *c = p; *c; c++)
                if ((unsigned char) *c < ' ' || *c == 0x7f)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *) data, size);
        MachineRecord r = {};

        if (!s)
                return 0;
        if (machine_record_parse(s, &r) < 0)
                return 0;
        if (!machine_name_is_valid(r.name) || r.supervisor == 0 || r.supervisor > INT32_MAX ||
            r.leader > INT32_MAX || !machine_state_to_string(r.state))
                abort();
        check_path(r.root);
        check_path(r.console_socket);
        check_path(r.console_log);
        check_path(r.cgroup);
        if (r.cgroup && strstr(r.cgroup, "/.."))
                abort();
        /* What was accepted writes back as the same record. */
        _cleanup_free_ char *text = NULL;
        MachineRecord again = {};
        if (machine_record_format(&r, &text) < 0 || machine_record_parse(text, &again) < 0)
                abort();
        machine_record_done(&again);
        machine_record_done(&r);
        return 0;
}
