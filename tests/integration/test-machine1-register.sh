#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boxes registered with a real systemd-machined (issue 13): systemd-machined 252 runs on a
# private bus in a mount namespace of its own (a tmpfs on /run/systemd/machines, an empty
# directory on /var/lib/machines); machined serves only its own name (--machine1=no). A box
# started by machined is registered by its supervisor, machinectl (on that bus) lists it, and
# it is gone from systemd-machined after poweroff (machined unregisters it). systemd is not
# PID 1 here: what systemd-machined would do with systemd (scope units, GC by unit state) is
# not exercised - see docs/machined.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
SYSTEMD_MACHINED=/lib/systemd/systemd-machined
[ -x "$SYSTEMD_MACHINED" ] || fail "$SYSTEMD_MACHINED (systemd-container) is needed"

M=$(machine_name reg)
pool_populate "$M"
start_bus policy
mkdir -p "$WORK/sd-machines"
unshare -m sh -c 'mount -t tmpfs tmpfs /run/systemd/machines && mount --bind "$1" /var/lib/machines && exec "$2"' \
    sh "$WORK/sd-machines" "$SYSTEMD_MACHINED" >"$WORK/systemd-machined.log" 2>&1 &
SD_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $SD_PID"
wait_until 10 busctl --system status org.freedesktop.machine1 >/dev/null 2>&1 \
    || { cat "$WORK/systemd-machined.log" >&2; fail "systemd-machined did not take its name"; }
start_machined --machine1=no
sd_owner=$(busctl --system status org.freedesktop.machine1 | sed -n 's/^PID=//p')
[ "$sd_owner" = "$SD_PID" ] || fail "org.freedesktop.machine1 is not systemd-machined's ($sd_owner, not $SD_PID)"
ok "systemd-machined 252 owns org.freedesktop.machine1, machined (--machine1=no) only its own name"

mctl() { unshare -m sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p /run/systemd/system && exec machinectl "$@"' sh "$@"; }
state_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\",[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
is_running() { [ "$(state_of "$M")" = running ]; }
is_gone() { [ -z "$(state_of "$M")" ]; }
expect_rc 0 "$NSPAWNCTL" start "$M"
wait_until 120 is_running || fail "machine did not reach running"
LEADER=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M")
CLEANUP_PIDS="$CLEANUP_PIDS $LEADER"

registered() { busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager GetMachine s "$M" >/dev/null 2>&1; }
if ! wait_until 10 registered; then
    cat "$WORK/systemd-machined.log" "$STATE"/logs/"$M"* >&2 2>/dev/null || true
    fail "the box is not registered with systemd-machined"
fi
expect_rc 0 mctl list --no-legend
echo "$OUT" | grep -q "^$M  *container  *nspawnctl" || fail "machinectl list (systemd-machined): $OUT"
expect_rc 0 mctl show "$M"
echo "$OUT" | grep -qx "Leader=$LEADER" || fail "systemd-machined has another leader: $OUT"
echo "$OUT" | grep -qx "RootDirectory=$POOL/$M" || fail "systemd-machined has another root: $OUT"
ok "the box is registered with systemd-machined: machinectl list and show give its class, service, leader and root"

expect_rc 0 "$NSPAWNCTL" poweroff "$M"
wait_until 120 is_gone || fail "poweroff"
wait_until 10 sh -c '! busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager GetMachine s "$1" >/dev/null 2>&1' sh "$M" \
    || fail "the box is still registered with systemd-machined after poweroff"
expect_rc 0 mctl list --no-legend
echo "$OUT" | grep -q "^$M " && fail "machinectl still lists the box: $OUT"
grep -q "Unregistered machine $M" "$WORK/machined.log" || fail "machined did not say it unregistered the box"
ok "after poweroff machined unregistered the box: systemd-machined no longer knows it"

# Without systemd-machined, a start is not held back and nothing is logged about it.
kill "$SD_PID"; wait "$SD_PID" 2>/dev/null || true
wait_until 10 sh -c '! busctl --system status org.freedesktop.machine1 >/dev/null 2>&1' || fail "systemd-machined did not go"
expect_rc 0 "$NSPAWNCTL" start "$M"
wait_until 120 is_running || fail "machine did not start without systemd-machined"
grep -q "register" "$STATE"/logs/"$M"* 2>/dev/null && fail "a start without systemd-machined logged about registering"
expect_rc 0 "$NSPAWNCTL" poweroff "$M"
wait_until 120 is_gone || fail "poweroff"
assert_host_clean "$M"
ok "without systemd-machined a box starts as before, with nothing logged about registration"
