#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Three bookworm machines through machined: started and listed running; console attach and
# escape; kill -9 of machined and a restart lists the same three (they kept running);
# kill -9 of one supervisor removes it (MachineRemoved, nothing left behind); poweroff
# stops the others cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

M1=$(machine_name a); M2=$(machine_name b); M3=$(machine_name c)
pool_populate "$M1" "$M2" "$M3"
echo "# pool on btrfs: $POOL_BTRFS"
# Settings: privileged keys count from the trusted directory, never from the pool.
mkdir -p "$WORK/etc"
echo trusted >"$WORK/hostfile"
printf '[Exec]\nEnvironment=FOO=bar\n[Files]\nBindReadOnly=%s:/hostfile\n' "$WORK/hostfile" >"$WORK/etc/$M1.nspawn"
printf '[Files]\nBindReadOnly=%s:/hostfile\n' "$WORK/hostfile" >"$POOL/$M2.nspawn"

start_bus policy
start_machined
dbus-monitor --system "type='signal',interface='org.nspawnctl.machined1.Manager'" >"$WORK/monitor" 2>&1 &
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
echo "$OUT" | grep -q "Console log: $STATE/machines/$M1.log" || fail "status console log"
ok "status shows state, console log and the processes of the machine's cgroup"

l1=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M1")
l2=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M2")
[ "$(cat "/proc/$l1/root/hostfile" 2>/dev/null)" = trusted ] || fail "trusted BindReadOnly= not applied"
tr '\0' '\n' <"/proc/$l1/environ" | grep -qx FOO=bar || fail "Environment= not applied"
[ ! -e "/proc/$l2/root/hostfile" ] || fail "BindReadOnly= from a file in the pool was honoured"
grep -q "$M2.nspawn:2: ignoring" "$WORK/machined.log" || { cat "$WORK/machined.log"; fail "no warning for the untrusted key"; }
ok "settings: BindReadOnly=/Environment= from the trusted directory applied, privileged keys in the pool ignored with a warning"

expect_rc 4 "$NSPAWNCTL" start "$M1"; expect_one_line_error
ok "starting a running machine: MachineExists (exit 4)"

set +e; printf '\035\035\035' | timeout 10 "$NSPAWNCTL" console "$M2" >"$WORK/console.out" 2>&1; rc=$?; set -e
[ $rc = 0 ] && grep -q "terminated" "$WORK/console.out" || { cat "$WORK/console.out"; fail "console escape (rc $rc)"; }
ok "console attaches and ^]^]^] leaves it"

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
expect_rc 4 "$NSPAWNCTL" start "$M2"
ok "kill -9 of machined: machines keep running, a new machined lists the same three"

# A dbus-monitor started before the restart lost nothing: the bus stayed up.
sup3=$(sed -n 's/^SUPERVISOR=//p' "$STATE/machines/$M3")
leader3=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M3")
kill -9 "$sup3"
wait_until 30 sh -c "! \"$NSPAWNCTL\" list | grep -q '^$M3 '" || fail "$M3 still listed"
wait_until 10 grep -A1 'member=MachineRemoved' "$WORK/monitor" | grep -q "\"$M3\"" \
    || { cat "$WORK/monitor"; fail "no MachineRemoved for $M3"; }
wait_until 30 sh -c "! kill -0 $leader3 2>/dev/null" || fail "container outlived its supervisor"
wait_until 30 test ! -e "$STATE/machines/$M3" -a ! -e "$STATE/machines/$M3.lock" || fail "record of $M3 left"
for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
    wait_until 30 test ! -e "$h/nspawnctl/$M3" || fail "cgroup $h/nspawnctl/$M3 left behind"
done
grep -q "$POOL/$M3" /proc/self/mountinfo && fail "mount of $M3 left behind"
ok "kill -9 of a supervisor: machine gone from the list, MachineRemoved, no record, cgroup or mount left"

for m in $M1 $M2; do
    expect_rc 0 "$NSPAWNCTL" poweroff "$m"
done
for m in $M1 $M2; do
    wait_until 90 sh -c "! \"$NSPAWNCTL\" list | grep -q '^$m '" || fail "$m did not power off"
done
for l in $leaders; do wait_until 30 sh -c "! kill -0 $l 2>/dev/null" || fail "leader $l still running"; done
for m in $M1 $M2; do
    wait_until 30 test ! -e "$STATE/machines/$m" || fail "record of $m left"
    for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
        wait_until 30 test ! -e "$h/nspawnctl/$m" || fail "cgroup $h/nspawnctl/$m left behind"
    done
done
grep -q "$POOL/" /proc/self/mountinfo && fail "mounts left behind"
[ "$(mounts_snapshot)" = "$BASE_MOUNTS" ] || fail "mounts changed"
grep -A1 'member=MachineRemoved' "$WORK/monitor" | grep -q "\"$M1\"" || fail "no MachineRemoved for $M1"
ok "poweroff stops the others cleanly: gone from the list, nothing left behind"
