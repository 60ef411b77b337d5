#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --boot: systemd reaches multi-user.target; poweroff exits 0, reboot 133; SIGTERM halts
# it; the machine record follows READY=1; kill -9 of the supervisor leaves nothing.
. "$(dirname "$0")/lib.sh"
M=$(machine_name boot)
STATE=$WORK/state

expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --boot "$(make_exit_unit poweroff)" -- systemd.wants=exit-poweroff.service
echo "$OUT" | grep -q "NSPAWNCTL-TEST: multi-user active" || { echo "$OUT" | tail -20; fail "multi-user not reached"; }
ok "boot reaches multi-user.target and powers off with exit 0"
echo "$OUT" | grep -qE "NSPAWNCTL-TEST: multi-user active machine-id [0-9a-f]{32}" || fail "machine-id not initialised"
ok "an empty /etc/machine-id is initialised at boot"
echo "$OUT" | grep -q "FAILED" && { echo "$OUT" | grep FAILED; fail "a unit failed during boot"; }
ok "no unit failed during boot"
assert_host_clean "$M"

# The cgroup-v2 layout (what a modern systemd host gives), also on a hybrid host whose
# cgroup2 hierarchy has no controllers: systemd inside must still boot.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    expect_rc 0 env NSPAWNCTL_CGROUP_MODE=unified "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --boot "$(make_exit_unit poweroff)" -- systemd.wants=exit-poweroff.service
    echo "$OUT" | grep -q "NSPAWNCTL-TEST: multi-user active" || fail "v2 layout: multi-user not reached"
    ok "boot with the cgroup v2 layout reaches multi-user.target"
    assert_host_clean "$M"
fi

expect_rc 133 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --boot "$(make_exit_unit reboot)" -- systemd.wants=exit-reboot.service
ok "reboot inside exits 133"
assert_host_clean "$M"

# --restart-on-reboot: the first boot reboots, the second powers off (a marker on a bind
# mount remembers which is which); the supervisor survives the reboot as the same process.
mkdir -p "$WORK/marker"
cat >"$WORK/once.service" <<'EOT'
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'if [ -e /mnt/marker/rebooted ]; then echo "NSPAWNCTL-TEST: second boot" >/dev/console; systemctl poweroff --no-block; else touch /mnt/marker/rebooted; systemctl reboot --no-block; fi'
EOT
expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --boot --restart-on-reboot --bind="$WORK/marker:/mnt/marker" \
    --bind-ro="$WORK/once.service:/etc/systemd/system/once.service" -- systemd.wants=once.service
echo "$OUT" | grep -q "NSPAWNCTL-TEST: second boot" || fail "no second boot"
[ "$(echo "$OUT" | grep -c "Welcome to")" = 2 ] || fail "expected two boots"
ok "--restart-on-reboot boots again after a reboot, then powers off with 0"
assert_host_clean "$M"

# A booted machine registered in a private state dir: opening -> running on READY=1.
record_state() { sed -n 's/^STATE=//p' "$STATE/machines/$M" 2>/dev/null; }
record_field() { sed -n "s/^$1=//p" "$STATE/machines/$M" 2>/dev/null; }
is_running() { [ "$(record_state)" = running ]; }
start_bg() {
    "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --boot --console=passive --register=yes --state-dir="$STATE" \
        >"$WORK/bg.out" 2>&1 &
    BG=$!
    CLEANUP_PIDS="$CLEANUP_PIDS $BG"
    wait_until 60 is_running || fail "machine never reported running"
}

start_bg
ok "machine record goes to running after READY=1"
[ "$(record_field SUPERVISOR)" = "$BG" ] || fail "record SUPERVISOR"
rss=$(ps -o rss= -p "$BG")
echo "# supervisor RSS: ${rss} KiB ($(ps -o comm= -p "$BG"))"
leader=$(record_field LEADER)
[ -n "$leader" ] && kill -0 "$leader" || fail "record LEADER"
grep -q "Welcome to" "$STATE/logs/$M.console" || fail "console log"
ok "record names supervisor and leader; console log is written"
kill -TERM "$BG"
set +e; wait "$BG"; rc=$?; set -e
[ "$rc" = 0 ] || fail "SIGTERM: exit $rc"
ok "SIGTERM halts the booted machine cleanly (exit 0)"
[ ! -e "$STATE/machines/$M" ] || fail "record left behind"
assert_host_clean "$M"; ok "record, lock and cgroup removed"

# A command as PID 1 without a handler ignores SIGTERM: the second SIGTERM kills it.
"$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" -- sleep 1000 &
cmd=$!
CLEANUP_PIDS="$CLEANUP_PIDS $cmd"
wait_until 20 test -e "/sys/fs/cgroup/systemd/nspawnctl/$M" -o -e "/sys/fs/cgroup/nspawnctl/$M" || fail "command did not start"
sleep 0.3
kill -TERM "$cmd"; sleep 0.3; kill -0 "$cmd" || fail "first SIGTERM already ended a command without handler"
kill -TERM "$cmd"
set +e; wait "$cmd"; rc=$?; set -e
[ "$rc" = 137 ] || fail "second SIGTERM: exit $rc"
ok "a second SIGTERM kills the container (exit 137)"
assert_host_clean "$M"

start_bg
leader=$(record_field LEADER)
kill -9 "$BG"
wait "$BG" 2>/dev/null || true
wait_until 20 sh -c "! kill -0 $leader 2>/dev/null" || fail "container survived its supervisor"
ok "kill -9 of the supervisor takes the container down"
wait_until 20 test ! -e "/sys/fs/cgroup/systemd/nspawnctl/$M" -a ! -e "$STATE/machines/$M" -a ! -e "$STATE/locks/$M" \
    || fail "cleanup after kill -9"
assert_host_clean "$M"; ok "kill -9 leaves no mount, cgroup, record or lock"
