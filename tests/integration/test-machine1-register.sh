#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boxes registered with a real systemd-machined (issue 13): systemd-machined 252 runs on a
# private bus in a mount namespace of its own (a tmpfs on /run/systemd/machines, an empty
# directory on /var/lib/machines); machined serves only its own name (--machine1=no).
#
# systemd-machined accepts a registration only if the leader's cgroup names a systemd unit
# (RegisterMachine reads it from /proc/LEADER/cgroup). A box's cgroup is /nspawnctl/NAME,
# which names none, so here - and on a systemd host until boxes live in a unit's cgroup -
# it refuses: the first part shows that this refusal is logged once and never fails the
# start. The second part shows the whole path as it goes where the cgroup does name a unit:
# systemd-machined runs in a cgroup namespace rooted at /nspawnctl, where a box named
# NAME.service reads as the unit NAME.service; that box is registered by its supervisor,
# machinectl (on that bus) lists it, and machined unregisters it after poweroff. systemd is
# not PID 1 here: what systemd-machined does with systemd (scopes, GC by unit state) is not
# exercised - see docs/machined.md.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
SYSTEMD_MACHINED=/lib/systemd/systemd-machined
[ -x "$SYSTEMD_MACHINED" ] || fail "$SYSTEMD_MACHINED (systemd-container) is needed"
UNIFIED=/sys/fs/cgroup/unified
[ "$(stat -fc %T "$UNIFIED" 2>/dev/null)" = cgroup2fs ] || { echo "SKIP: needs the hybrid layout's $UNIFIED"; exit 77; }

M=$(machine_name reg)
U=$(machine_name unit).service
pool_populate "$M" "$U"
start_bus policy
mkdir -p "$WORK/sd-machines"
SD_PID=""
# start_systemd_machined [CGROUP]: in its own mount namespace; with CGROUP, moved there and
# in a cgroup namespace rooted at it.
start_systemd_machined() {
    unshare -m sh -c '
        [ -z "$3" ] && exec sh -c "$0" sh "$@"
        echo $$ >"$3/cgroup.procs" && exec unshare -C sh -c "$0" sh "$@"' \
        'mount -t tmpfs tmpfs /run/systemd/machines && mount --bind "$1" /var/lib/machines && exec "$2"' \
        "$WORK/sd-machines" "$SYSTEMD_MACHINED" "${1:-}" >>"$WORK/systemd-machined.log" 2>&1 &
    SD_PID=$!
    CLEANUP_PIDS="$CLEANUP_PIDS $SD_PID"
    wait_until 10 busctl --system status org.freedesktop.machine1 >/dev/null 2>&1 \
        || { cat "$WORK/systemd-machined.log" >&2; fail "systemd-machined did not take its name"; }
}
stop_systemd_machined() {
    kill "$SD_PID"; wait "$SD_PID" 2>/dev/null || true
    wait_until 10 sh -c '! busctl --system status org.freedesktop.machine1 >/dev/null 2>&1' || fail "systemd-machined did not go"
}
mctl() { unshare -m sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p /run/systemd/system && exec machinectl "$@"' sh "$@"; }
state_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\",[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
is_running() { [ "$(state_of "$1")" = running ]; }
is_gone() { [ -z "$(state_of "$1")" ]; }
registered() { busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager GetMachine s "$1" >/dev/null 2>&1; }
boot() {
    expect_rc 0 "$NSPAWNCTL" start "$1"
    wait_until 120 is_running "$1" || fail "machine $1 did not reach running"
    LEADER=$(sed -n 's/^LEADER=//p' "$STATE/machines/$1")
    CLEANUP_PIDS="$CLEANUP_PIDS $LEADER"
}
poweroff() {
    expect_rc 0 "$NSPAWNCTL" poweroff "$1"
    wait_until 120 is_gone "$1" || fail "poweroff $1"
}

start_systemd_machined
start_machined --machine1=no
[ "$(busctl --system status org.freedesktop.machine1 | sed -n 's/^PID=//p')" = "$SD_PID" ] || fail "org.freedesktop.machine1 is not systemd-machined's"
ok "systemd-machined 252 owns org.freedesktop.machine1, machined (--machine1=no) only its own name"

# --- a box whose cgroup is no unit's: refused, logged once, started anyway ---------------
boot "$M"
wait_until 10 grep -q "Could not register machine $M with systemd-machined" "$STATE/logs/$M"* \
    || { cat "$STATE/logs/$M"* >&2; fail "no word of the refused registration"; }
[ "$(cat "$STATE/logs/$M"* | grep -c "register machine")" = 1 ] || fail "the refusal was logged more than once"
registered "$M" && fail "systemd-machined registered a box whose cgroup it cannot place"
poweroff "$M"
assert_host_clean "$M"
ok "a box systemd-machined cannot place (cgroup /nspawnctl/NAME, no unit) starts anyway, with one line about it"

# --- a box whose cgroup reads as a unit: registered, listed, unregistered ----------------
stop_systemd_machined
mkdir -p "$UNIFIED/nspawnctl"
start_systemd_machined "$UNIFIED/nspawnctl"
boot "$U"
wait_until 10 registered "$U" || { cat "$STATE/logs/$U"* "$WORK/systemd-machined.log" >&2; fail "the box is not registered"; }
expect_rc 0 mctl list --no-legend
echo "$OUT" | grep -q "^$U  *container  *nspawnctl" || fail "machinectl list (systemd-machined): $OUT"
expect_rc 0 mctl show "$U"
echo "$OUT" | grep -qx "Leader=$LEADER" || fail "systemd-machined has another leader: $OUT"
echo "$OUT" | grep -qx "RootDirectory=$POOL/$U" || fail "systemd-machined has another root: $OUT"
echo "$OUT" | grep -qx "Unit=$U" || fail "systemd-machined has another unit: $OUT"
ok "a box whose cgroup names a unit is registered by its supervisor: systemd-machined's machinectl list and show give class, service, leader, root and unit"

poweroff "$U"
unregistered() { ! registered "$1"; }
wait_until 10 unregistered "$U" || fail "still registered with systemd-machined after poweroff"
expect_rc 0 mctl list --no-legend
echo "$OUT" | grep -q "^$U " && fail "machinectl still lists the box: $OUT"
grep -q "Unregistered machine $U" "$WORK/machined.log" || fail "machined did not say it unregistered the box"
assert_host_clean "$U"
ok "after poweroff machined unregistered the box from systemd-machined"

# --- without systemd-machined nothing is said -------------------------------------------
stop_systemd_machined
rm -f "$STATE"/logs/"$M"*
boot "$M"
poweroff "$M"
grep -q "register" "$STATE"/logs/"$M"* 2>/dev/null && fail "a start without systemd-machined logged about registering"
assert_host_clean "$M"
ok "without systemd-machined a box starts as before, with nothing logged about registration"
