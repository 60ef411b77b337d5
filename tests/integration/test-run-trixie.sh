#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A guest whose systemd refuses cgroup v1 (trixie: 257) boots on this host with no setting
# at all: the runtime reads the guest's systemd version and gives it the unified layout,
# also on a hybrid host; limits apply as for any other guest. The trixie tree is made once
# (debootstrap, cached next to bookworm's, under the same lock).
. "$(dirname "$0")/lib.sh"
M=$(machine_name trixie)
"$SOURCE_ROOT/tests/integration/make-tree.sh" "$CACHE" trixie
TRIXIE=$CACHE/debian-trixie

cat >"$WORK/report.service" <<'EOT'
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "NSPAWNCTL-TEST: $(systemctl is-active multi-user.target) failed=[$(systemctl --failed --no-legend --plain | tr "\\n" " ")] $(stat -fc %%T /sys/fs/cgroup) $(systemctl --version | head -1)" >/dev/console; systemctl poweroff --no-block'
EOT
boot() {
    expect_rc 0 env -u NSPAWNCTL_CGROUP_MODE "$NSPAWNCTL" run -q -D "$TRIXIE" -x -M "$M" --boot "$@" \
        --bind-ro="$WORK/report.service:/etc/systemd/system/report.service" -- systemd.wants=report.service
    echo "$OUT" | grep "NSPAWNCTL-TEST:" || { echo "$OUT" | tail -20; fail "multi-user not reached"; }
}
line=$(boot --property=MemoryMax=512M --property=TasksMax=2000)
echo "$line" | grep -q "NSPAWNCTL-TEST: active failed=\[\] cgroup2fs systemd 2[5-9][0-9]" || fail "trixie: $line"
ok "trixie (systemd >= 256) boots to multi-user with no failed unit on the unified layout it got by itself"
assert_host_clean "$M"; ok "nothing left behind"
