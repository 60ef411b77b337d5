#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --ephemeral: whatever the container does, the tree is byte-for-byte unchanged.
. "$(dirname "$0")/lib.sh"
M=$(machine_name eph)
manifest() {
    (cd "$TREE" && find . -printf '%p %y %m %U:%G %s %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum
}
before=$(manifest)
expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" -- sh -c \
    'echo changed >/etc/hostname; rm -f /usr/bin/less /etc/os-release; mkdir /new; touch /var/x; chmod 000 /etc/passwd'
ok "ephemeral command changed files"
expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --boot "$(make_exit_unit poweroff)" -- systemd.wants=exit-poweroff.service
ok "ephemeral boot"
after=$(manifest)
[ "$before" = "$after" ] || fail "the tree changed"
ok "the tree is byte-for-byte unchanged"
assert_host_clean "$M"; ok "nothing left behind"
