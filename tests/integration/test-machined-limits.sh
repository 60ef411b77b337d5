#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nspawnctl set-limit through machined (SetMachineLimits): a limit changed on a running
# machine takes effect at once and is kept in its settings file, so a restart has it;
# --runtime changes only the running machine; "NAME=" unsets; bad input refused with one
# line; a pool file (untrusted) is not given a limit it would not honour.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

M1=$(machine_name la); M2=$(machine_name lb)
pool_populate "$M1" "$M2"
mkdir -p "$WORK/etc"
start_bus policy
start_machined

# A cgroup attribute of a machine, whichever hierarchy has it: $1 v1 controller, $2 v1 file,
# $3 cgroup2 file.
attr() { cat "/sys/fs/cgroup/$2/nspawnctl/$1/$3" 2>/dev/null || cat "/sys/fs/cgroup/nspawnctl/$1/$4"; }
state_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\",[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
running() { [ "$(state_of "$1")" = running ]; }
gone() { [ -z "$(state_of "$1")" ]; }

expect_rc 0 "$NSPAWNCTL" start "$M1"
wait_until 120 running "$M1" || fail "$M1 not running"
[ "$(attr "$M1" pids pids.max pids.max)" = 16384 ] || fail "default TasksMax"
obj=$(busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager GetMachine s "$M1" | cut -d'"' -f2)
for p in MemoryCurrent MemoryPeak CPUUsageNSec TasksCurrent; do
    v=$(busctl --system get-property org.nspawnctl.machined1 "$obj" org.nspawnctl.machined1.Machine $p | cut -d' ' -f2)
    [ "$v" -gt 0 ] && [ "$v" != 18446744073709551615 ] || fail "$p=$v"
done
[ "$(busctl --system get-property org.nspawnctl.machined1 "$obj" org.nspawnctl.machined1.Machine OOMKills)" = "t 0" ] || fail OOMKills
ok "the machine object has MemoryCurrent, MemoryPeak, CPUUsageNSec, TasksCurrent and OOMKills"

expect_rc 0 "$NSPAWNCTL" set-limit "$M1" TasksMax=300 MemoryMax=256M CPUQuota=150%
[ "$(attr "$M1" pids pids.max pids.max)" = 300 ] || fail "TasksMax live"
[ "$(attr "$M1" memory memory.limit_in_bytes memory.max)" = $((256 << 20)) ] || fail "MemoryMax live"
grep -qx 'TasksMax=300' "$WORK/etc/$M1.nspawn" && grep -qx 'MemoryMax=256M' "$WORK/etc/$M1.nspawn" ||
    fail "not kept: $(cat "$WORK/etc/$M1.nspawn")"
ok "set-limit changes a running machine at once and keeps the limits in its settings file"

expect_rc 0 "$NSPAWNCTL" set-limit --runtime "$M1" TasksMax=200
[ "$(attr "$M1" pids pids.max pids.max)" = 200 ] || fail "--runtime live"
grep -qx 'TasksMax=300' "$WORK/etc/$M1.nspawn" || fail "--runtime written to the file"
ok "set-limit --runtime changes only the running machine"

expect_rc 0 "$NSPAWNCTL" set-limit "$M1" CPUQuota=
grep -q CPUQuota "$WORK/etc/$M1.nspawn" && fail "CPUQuota= did not unset"
q=$(cat "/sys/fs/cgroup/cpu/nspawnctl/$M1/cpu.cfs_quota_us" 2>/dev/null || cut -d' ' -f1 "/sys/fs/cgroup/nspawnctl/$M1/cpu.max")
[ "$q" = -1 ] || [ "$q" = max ] || fail "CPUQuota= left the quota at $q"
ok "LIMIT= unsets: removed from the file, the running machine back to no quota"

expect_rc 0 "$NSPAWNCTL" poweroff "$M1"
wait_until 60 gone "$M1" || fail "$M1 did not stop"
expect_rc 0 "$NSPAWNCTL" set-limit "$M1" MemoryMax=300M
grep -qx 'MemoryMax=300M' "$WORK/etc/$M1.nspawn" || fail "not kept while stopped"
expect_rc 5 "$NSPAWNCTL" set-limit --runtime "$M1" TasksMax=5; expect_one_line_error
expect_rc 0 "$NSPAWNCTL" start "$M1"
wait_until 120 running "$M1" || fail "$M1 not running again"
[ "$(attr "$M1" pids pids.max pids.max)" = 300 ] || fail "TasksMax after restart"
[ "$(attr "$M1" memory memory.limit_in_bytes memory.max)" = $((300 << 20)) ] || fail "MemoryMax after restart"
ok "a restart has the kept limits, also those set while the machine was stopped; --runtime needs it running"

# Bad input: one line, nothing changed.
cp "$WORK/etc/$M1.nspawn" "$WORK/before"
expect_rc 2 "$NSPAWNCTL" set-limit "$M1" Bogus=1; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" set-limit "$M1" MemoryMax=lots; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" set-limit "$M1"; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" set-limit ../x TasksMax=5; expect_one_line_error
expect_rc 1 busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager \
    SetMachineLimits sbas "$M1" false 1 CPUWeight=0
cmp -s "$WORK/before" "$WORK/etc/$M1.nspawn" || fail "a refused set-limit changed the file"
[ "$(attr "$M1" pids pids.max pids.max)" = 300 ] || fail "a refused set-limit changed the machine"
ok "bad limits are refused with one line, machined checks them too; nothing changes"
if id nobody >/dev/null 2>&1; then
    expect_rc 7 setpriv --reuid=nobody --regid=nogroup --clear-groups "$NSPAWNCTL" set-limit "$M1" TasksMax=5
    ok "set-limit is root's only"
fi

# A pool file (next to the image, untrusted) may carry limits, but not a TasksMax above the default.
printf '[Exec]\nBoot=yes\n' >"$POOL/$M2.nspawn"
expect_rc 0 "$NSPAWNCTL" set-limit "$M2" MemoryMax=128M
grep -qx 'MemoryMax=128M' "$POOL/$M2.nspawn" && grep -qx 'Boot=yes' "$POOL/$M2.nspawn" || fail "pool file: $(cat "$POOL/$M2.nspawn")"
expect_rc 2 "$NSPAWNCTL" set-limit "$M2" TasksMax=50000; expect_one_line_error
ls -a "$POOL" | grep -q '^\.#' && fail "temporary file left in the pool"
ok "the limits go to the machine's own settings file; a pool file is not given a TasksMax it would ignore"

expect_rc 0 "$NSPAWNCTL" poweroff "$M1"
wait_until 60 gone "$M1" || fail "$M1 did not stop"
assert_host_clean "$M1"; ok "nothing left behind"
