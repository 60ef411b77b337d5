#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Bookworm machines through machined: three started and listed running; settings; console
# attach and escape; kill -9 of machined and a restart lists the same three (they kept
# running) and poweroff stops each cleanly; then, on the restarted machined, reboot (same
# supervisor, new init), kill --kill-whom=all, and kill -9 of a supervisor (MachineRemoved,
# nothing left behind).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

M1=$(machine_name a); M2=$(machine_name b); M3=$(machine_name c); M4=$(machine_name d); M5=$(machine_name e)
pool_populate "$M1" "$M2" "$M3" "$M4" "$M5"
echo "# pool on btrfs: $POOL_BTRFS"
# Settings: privileged keys count from the trusted directory, never from the pool.
mkdir -p "$WORK/etc"
echo trusted >"$WORK/hostfile"
printf '[Exec]\nEnvironment=FOO=bar\n[Files]\nBindReadOnly=%s:/hostfile\n' "$WORK/hostfile" >"$WORK/etc/$M1.nspawn"
printf '[Files]\nBindReadOnly=%s:/hostfile\n' "$WORK/hostfile" >"$POOL/$M2.nspawn"
# Limits count from both; an untrusted file may not lift the default pids limit.
printf '[Resources]\nTasksMax=500\nMemoryMax=1G\n' >>"$WORK/etc/$M1.nspawn"
printf '[Resources]\nTasksMax=100000\nMemoryMax=512M\n' >>"$POOL/$M2.nspawn"

start_bus policy
start_machined
dbus-monitor --system "type='signal',interface='org.nspawnctl.machined1.Manager'" \
    "type='signal',interface='org.freedesktop.DBus.Properties',path_namespace='/org/nspawnctl/machined1'" >"$WORK/monitor" 2>&1 &
MON=$!; CLEANUP_PIDS="$CLEANUP_PIDS $MON"
sleep 0.5

for m in $M1 $M2 $M3; do
    expect_rc 0 "$NSPAWNCTL" start "$m"
done
ok "start returns once each machine is registered"

state_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\",[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
all_running() { for m in $M1 $M2 $M3; do [ "$(state_of "$m")" = running ] || return 1; done; }
wait_until 120 all_running || { "$NSPAWNCTL" list; fail "machines did not all reach running"; }
expect_rc 0 "$NSPAWNCTL" list --json
[ "$(echo "$OUT" | grep -o '"state":"running"' | wc -l)" = 3 ] || fail "list --json: $OUT"
ok "list --json shows the three machines running"

expect_rc 0 "$NSPAWNCTL" status "$M1"
echo "$OUT" | grep -q "State: running" || fail "status state"
echo "$OUT" | grep -q "systemd-journald" || fail "status shows no processes: $OUT"
echo "$OUT" | grep -q "Console log: $STATE/logs/$M1.console" || fail "status console log"
ok "status shows state, console log and the processes of the machine's cgroup"
echo "$OUT" | grep -qE "Memory: [0-9.]+[BKMG] \(peak [0-9.]+[BKMG]\)" && echo "$OUT" | grep -qE "Tasks: [1-9]" &&
    echo "$OUT" | grep -q "OOM kills: 0" && echo "$OUT" | grep -qE "CPU: [0-9]+\.[0-9]{3}s" || fail "status usage: $OUT"
expect_rc 0 "$NSPAWNCTL" status --json "$M1"
echo "$OUT" | grep -qE '"memory_current":[0-9]+,"memory_peak":[0-9]+,"cpu_usage_nsec":[0-9]+,"tasks_current":[0-9]+,"oom_kills":0\}' ||
    fail "status --json usage: $OUT"
ok "status and status --json show memory (current, peak), CPU time, tasks and OOM kills"
cg_attr() { cat "/sys/fs/cgroup/$1/nspawnctl/$2/$3" 2>/dev/null || cat "/sys/fs/cgroup/nspawnctl/$2/$4"; }
[ "$(cg_attr pids "$M1" pids.max pids.max)" = 500 ] || fail "TasksMax=500 from the trusted file"
[ "$(cg_attr memory "$M1" memory.limit_in_bytes memory.max)" = $((1 << 30)) ] || fail "MemoryMax=1G"
[ "$(cg_attr pids "$M2" pids.max pids.max)" = 16384 ] || fail "untrusted TasksMax=100000 applied"
[ "$(cg_attr memory "$M2" memory.limit_in_bytes memory.max)" = $((512 << 20)) ] || fail "MemoryMax=512M from the pool"
[ "$(cg_attr pids "$M3" pids.max pids.max)" = 16384 ] || fail "default TasksMax"
ok "[Resources] limits reach the machines' cgroups; an untrusted file cannot lift TasksMax"

l1=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M1")
l2=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M2")
[ "$(cat "/proc/$l1/root/hostfile" 2>/dev/null)" = trusted ] || fail "trusted BindReadOnly= not applied"
tr '\0' '\n' <"/proc/$l1/environ" | grep -qx FOO=bar || fail "Environment= not applied"
[ ! -e "/proc/$l2/root/hostfile" ] || fail "BindReadOnly= from a file in the pool was honoured"
grep -q "$M2.nspawn:2: ignoring" "$WORK/machined.log" || { cat "$WORK/machined.log"; fail "no warning for the untrusted key"; }
ok "settings: BindReadOnly=/Environment= from the trusted directory applied, privileged keys in the pool ignored with a warning"

expect_rc 5 "$NSPAWNCTL" start "$M1"; expect_one_line_error
ok "starting a running machine: MachineNotStopped (exit 5, wrong state)"

set +e; printf '\035\035\035' | timeout 10 "$NSPAWNCTL" console "$M2" >"$WORK/console.out" 2>&1; rc=$?; set -e
[ $rc = 0 ] && grep -q "terminated" "$WORK/console.out" || { cat "$WORK/console.out"; fail "console escape (rc $rc)"; }
# On a terminal: raw mode while attached, the terminal's settings restored afterwards.
set +e
(sleep 2; printf '\r'; sleep 2; printf '\035\035\035'; sleep 5) | timeout 30 script -qec \
    "stty -g >'$WORK/stty.before'; '$NSPAWNCTL' console '$M2'; echo rc=\$? >'$WORK/console.rc'; stty -g >'$WORK/stty.after'" \
    /dev/null >"$WORK/console.pty" 2>&1
set -e
grep -q rc=0 "$WORK/console.rc" 2>/dev/null || { cat "$WORK/console.pty"; fail "console on a pty"; }
[ -s "$WORK/stty.before" ] && cmp -s "$WORK/stty.before" "$WORK/stty.after" || fail "terminal settings not restored"
grep -q "login:" "$WORK/console.pty" || { cat "$WORK/console.pty"; fail "no getty answer through the console"; }
ok "console on a terminal: keys reach the getty and its prompt comes back; ^]^]^] leaves, settings restored"

leaders=$(for m in $M1 $M2 $M3; do sed -n 's/^LEADER=//p' "$STATE/machines/$m"; done)
rss=$(ps -o rss= -p "$MACHINED_PID")
echo "# machined RSS with 3 machines: ${rss} KiB"
for m in $M1 $M2 $M3; do
    s=$(sed -n 's/^SUPERVISOR=//p' "$STATE/machines/$m")
    echo "# supervisor of $m RSS: $(ps -o rss= -p "$s") KiB"
done

kill9_machined
for l in $leaders; do kill -0 "$l" || fail "a machine died with machined"; done
expect_rc 6 "$NSPAWNCTL" list
start_machined
wait_until 10 all_running || { "$NSPAWNCTL" list; fail "not re-adopted"; }
now=$(for m in $M1 $M2 $M3; do "$NSPAWNCTL" status --json "$m" | sed -n 's/.*"leader":\([0-9]*\).*/\1/p'; done)
[ "$now" = "$leaders" ] || fail "leaders changed across the restart: $leaders / $now"
expect_rc 5 "$NSPAWNCTL" start "$M2"
ok "kill -9 of machined: machines keep running, a new machined lists the same three"

grep "path=/org/nspawnctl/machined1/machine/$(echo "$M1" | sed 's/-/_2d/g'); interface=org.freedesktop.DBus.Properties; member=PropertiesChanged" -A6 "$WORK/monitor" \
    | grep -q "running" || { cat "$WORK/monitor"; fail "no PropertiesChanged to running for $M1"; }
ok "the state change opening -> running is signalled with PropertiesChanged"

for m in $M1 $M2 $M3; do
    expect_rc 0 "$NSPAWNCTL" poweroff "$m"
done
for m in $M1 $M2 $M3; do
    wait_until 90 sh -c "! \"$NSPAWNCTL\" list | grep -q '^$m '" || fail "$m did not power off"
done
for l in $leaders; do wait_until 30 sh -c "! kill -0 $l 2>/dev/null" || fail "leader $l still running"; done
for m in $M1 $M2 $M3; do
    wait_until 30 test ! -e "$STATE/machines/$m" -a ! -e "$STATE/locks/$m" || fail "record of $m left"
    for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
        wait_until 30 test ! -e "$h/nspawnctl/$m" || fail "cgroup $h/nspawnctl/$m left behind"
    done
    grep -A1 'member=MachineRemoved' "$WORK/monitor" | grep -q "\"$m\"" || fail "no MachineRemoved for $m"
done
[ "$(mounts_snapshot)" = "$BASE_MOUNTS" ] || fail "mounts changed"
ok "after the restart, poweroff stops each of the three cleanly: MachineRemoved, nothing left behind"

for m in $M4 $M5; do expect_rc 0 "$NSPAWNCTL" start "$m"; done
running() { [ "$(state_of "$1")" = running ]; }
wait_until 120 running "$M4" || fail "$M4 not running"
wait_until 120 running "$M5" || fail "$M5 not running"
sup4=$(sed -n 's/^SUPERVISOR=//p' "$STATE/machines/$M4")
leader4=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M4")
expect_rc 0 "$NSPAWNCTL" reboot "$M4"
new_leader() { l=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M4" 2>/dev/null); [ -n "$l" ] && [ "$l" != 0 ] && [ "$l" != "$leader4" ]; }
wait_until 120 new_leader || fail "$M4 did not boot again"
wait_until 120 running "$M4" || fail "$M4 not running after reboot"
[ "$(sed -n 's/^SUPERVISOR=//p' "$STATE/machines/$M4")" = "$sup4" ] || fail "reboot changed the supervisor"
ok "reboot boots the machine again under the same supervisor (a new init)"

leader4=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M4")
expect_rc 0 "$NSPAWNCTL" kill --kill-whom=all --signal=KILL "$M4"
wait_until 30 sh -c "! \"$NSPAWNCTL\" list | grep -q '^$M4 '" || fail "$M4 still listed after kill all"
wait_until 30 sh -c "! kill -0 $sup4 2>/dev/null" || fail "supervisor of $M4 still running"
ok "kill --kill-whom=all --signal=KILL ends every process of the machine"

sup5=$(sed -n 's/^SUPERVISOR=//p' "$STATE/machines/$M5")
leader5=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M5")
kill -9 "$sup5"
wait_until 30 sh -c "! \"$NSPAWNCTL\" list | grep -q '^$M5 '" || fail "$M5 still listed"
wait_until 10 sh -c "grep -A1 'member=MachineRemoved' '$WORK/monitor' | grep -q '\"$M5\"'" \
    || { cat "$WORK/monitor"; fail "no MachineRemoved for $M5"; }
wait_until 30 sh -c "! kill -0 $leader5 2>/dev/null" || fail "container outlived its supervisor"
wait_until 30 test ! -e "$STATE/machines/$M5" -a ! -e "$STATE/locks/$M5" || fail "record of $M5 left"
for m in $M4 $M5; do
    for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
        wait_until 30 test ! -e "$h/nspawnctl/$m" || fail "cgroup $h/nspawnctl/$m left behind"
    done
done
mounts_same() { [ "$(mounts_snapshot)" = "$BASE_MOUNTS" ]; }
wait_until 10 mounts_same || { diff <(echo "$BASE_MOUNTS") <(mounts_snapshot) >&2 || true; fail "mounts left behind"; }
ok "kill -9 of a supervisor: gone from the list, MachineRemoved, no record, cgroup or mount left"

# Hosts without systemd: the init script starts machined and the machines listed by
# `nspawnctl enable` (which machined writes down); stopping it leaves them running; starting
# it again adopts them.
expect_rc 0 "$NSPAWNCTL" enable "$M1"
kill9_machined
init() {
    MACHINED=$MACHINED NSPAWNCTL=$NSPAWNCTL STATE_DIR=$STATE AUTOSTART=$WORK/etc/autostart \
        LOGFILE=$WORK/init.log MACHINED_OPTS="--pool=$POOL --config-dir=$WORK/etc $NET_OPTS" \
        sh "$BUILD_ROOT/units/nspawnctl-machined.init" "$@"
}
init start >"$WORK/init.out" 2>&1 || { cat "$WORK/init.out" "$WORK/init.log" >&2; fail "init start"; }
MACHINED_PID=$(cat "$STATE/machined.pid")
wait_until 120 running "$M1" || { cat "$WORK/init.log"; fail "$M1 not started by the init script"; }
expect_rc 0 init status
leader1=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M1")
expect_rc 0 init stop
MACHINED_PID=""
expect_rc 3 init status
kill -0 "$leader1" || fail "stopping machined stopped the machine"
init start >"$WORK/init.out" 2>&1 || { cat "$WORK/init.out" "$WORK/init.log" >&2; fail "init start"; }
MACHINED_PID=$(cat "$STATE/machined.pid")
wait_until 10 running "$M1" || fail "$M1 not adopted after the init script restarted machined"
[ "$(sed -n 's/^LEADER=//p' "$STATE/machines/$M1")" = "$leader1" ] || fail "$M1 was started again"
expect_rc 0 "$NSPAWNCTL" poweroff "$M1"
wait_until 90 sh -c "! \"$NSPAWNCTL\" list | grep -q '^$M1 '" || fail "$M1 did not power off"
expect_rc 0 init stop
MACHINED_PID=""
ok "the init script starts machined and the enabled machines; stop leaves them running, start adopts them"
