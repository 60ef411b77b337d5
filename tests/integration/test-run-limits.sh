#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Resource limits (issue 11): MemoryMax= and the OOM killer inside the box while the box
# keeps running, with the usage showing the kill and the peak; TasksMax=; CPUQuota=; the
# v1 mappings of the weights; a limit changed while the box runs. With the host's layout
# and with the unified one.
. "$(dirname "$0")/lib.sh"
M=$(machine_name lim)
mkdir -p "$WORK/x"
usage() { "$CGROUP_TOOL" usage "$M" | sed -n "s/^$1=//p"; }
# The box's script: what it was asked to do, then wait until the test lets it go.
hold='echo $$ >/x/ready; while [ ! -e /x/go ]; do sleep 0.1; done'
start_box() { # start_box OPTIONS... -- SCRIPT
    rm -f "$WORK/x/"*
    "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --bind="$WORK/x:/x" "$@" </dev/null &
    SUP=$!; CLEANUP_PIDS=$SUP
    wait_until 60 test -s "$WORK/x/ready" || fail "box did not start"
}
stop_box() {
    touch "$WORK/x/go"; wait "$SUP" || fail "box exited $?"; CLEANUP_PIDS=""
    assert_host_clean "$M"
}
swap_opt=""
[ "$(wc -l </proc/swaps)" -le 1 ] || swap_opt=--property=MemorySwapMax=0

for layout in "" --cgroup-layout=unified; do
    what="${layout:-host layout}"
    # --- MemoryMax=64M: the hog dies inside, the box lives on ---------------------------
    start_box $layout --property=MemoryMax=64M $swap_opt -- sh -c "
        perl -e '\$x = q(a) x (256 * 1024 * 1024); print qq(survived\n)' >/x/hog-out; echo \$? >/x/hog; $hold"
    [ "$(cat "$WORK/x/hog")" = 137 ] || fail "hog ended with $(cat "$WORK/x/hog") ($what)"
    [ ! -s "$WORK/x/hog-out" ] || fail "hog survived ($what)"
    kill -0 "$SUP" || fail "box gone ($what)"
    oom=$(usage oom_kills); peak=$(usage memory_peak); cur=$(usage memory_current)
    [ "$oom" -ge 1 ] || fail "oom_kills=$oom ($what)"
    [ "$peak" -ge $((48 << 20)) ] && [ "$peak" -le $((64 << 20)) ] || fail "memory_peak=$peak ($what)"
    [ "$cur" -lt $((64 << 20)) ] || fail "memory_current=$cur ($what)"
    [ "$(usage tasks_current)" -ge 1 ] && [ "$(usage cpu_usage_nsec)" -gt 0 ] || fail "usage: $("$CGROUP_TOOL" usage "$M")"
    stop_box
    ok "MemoryMax=64M: the OOM killer ends the hog inside, the box keeps running, usage shows $oom kill(s) and a peak of $((peak >> 20)) MiB ($what)"

    # --- TasksMax=100: the 101st task cannot be made ----------------------------------------
    expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" $layout --property=TasksMax=100 -- perl -e '
        my $n = 1; for (1 .. 300) { my $p = fork(); last unless defined $p; if (!$p) { sleep 30; exit 0 } $n++ }
        print "$n\n"; kill 9, -1;'
    [ "$OUT" = 100 ] || fail "TasksMax=100 reached $OUT tasks ($what)"
    ok "TasksMax=100: the 101st task cannot fork ($what)"

    # --- CPUQuota=50%: two busy loops get about half a core --------------------------------
    expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" $layout --property=CPUQuota=50% -- sh -c '
        used() { # CPU time of the box in usec, from its own cgroup
            if [ -f /sys/fs/cgroup/cpu.stat ]; then sed -n "s/^usage_usec //p" /sys/fs/cgroup/cpu.stat
            else echo $(( $(cat /sys/fs/cgroup/cpuacct/cpuacct.usage) / 1000 )); fi; }
        sh -c "while :; do :; done" & a=$!; sh -c "while :; do :; done" & b=$!
        sleep 0.5; u0=$(used); t0=$(date +%s%6N); sleep 3; u1=$(used); t1=$(date +%s%6N)
        kill $a $b; echo $(( (u1 - u0) * 1000 / (t1 - t0) ))'
    [ "$OUT" -lt 750 ] || fail "CPUQuota=50% got $OUT/1000 of a core ($what)"
    [ "$OUT" -gt 50 ] || fail "the busy loops did not run: $OUT/1000 ($what)"
    ok "CPUQuota=50%: two busy loops got $OUT/1000 of a core ($what)"
done

# --- what each limit becomes on this host ------------------------------------------------
start_box --property=CPUWeight=200 --property=MemoryHigh=32M --property=IOWeight=200 --property=MemoryMax=1G -- sh -c "$hold"
if [ -d /sys/fs/cgroup/memory ] && ! grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
    d=/sys/fs/cgroup
    [ "$(cat $d/cpu/nspawnctl/"$M"/cpu.shares)" = 2048 ] || fail "cpu.shares"
    [ "$(cat $d/memory/nspawnctl/"$M"/memory.soft_limit_in_bytes)" = $((32 << 20)) ] || fail "soft limit"
    [ "$(cat $d/memory/nspawnctl/"$M"/memory.limit_in_bytes)" = $((1 << 30)) ] || fail "memory limit"
    w=$(cat $d/blkio/nspawnctl/"$M"/blkio.bfq.weight 2>/dev/null || cat $d/blkio/nspawnctl/"$M"/blkio.weight)
    [ "$w" = 109 ] || [ "$w" = 1000 ] || fail "blkio weight $w"
    ok "v1: CPUWeight=200 is cpu.shares 2048, MemoryHigh= the soft limit, IOWeight=200 a blkio weight"
else
    d=/sys/fs/cgroup/nspawnctl/$M
    [ "$(cat "$d/cpu.weight")" = 200 ] || fail "cpu.weight"
    [ "$(cat "$d/memory.high")" = $((32 << 20)) ] || fail "memory.high"
    ok "v2: cpu.weight, memory.high"
fi
stop_box

# --- a limit changed while the box runs ------------------------------------------------
start_box --property=TasksMax=100 -- sh -c "$hold; perl -e '
    my \$n = 2; for (1 .. 300) { my \$p = fork(); last unless defined \$p; if (!\$p) { sleep 30; exit 0 } \$n++ }
    print qq(\$n\n); kill 9, -1;' >/x/n"
expect_rc 0 "$CGROUP_TOOL" set "$M" TasksMax=20
touch "$WORK/x/go"; wait "$SUP" || true; CLEANUP_PIDS=""
[ "$(cat "$WORK/x/n")" = 20 ] || fail "TasksMax=20 set live, reached $(cat "$WORK/x/n")"
assert_host_clean "$M"
ok "TasksMax= lowered while the box runs takes effect"
expect_rc 1 "$CGROUP_TOOL" set "$M" TasksMax=20; ok "no limit set on a box that is gone"

# --- delegation to a container root that is not host root (user namespaces) -------------
start_box -- sh -c "$hold"
expect_rc 0 "$CGROUP_TOOL" delegate "$M" 123456
for h in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd /sys/fs/cgroup; do
    [ -d "$h/nspawnctl/$M/payload" ] || continue
    [ "$(stat -c %u "$h/nspawnctl/$M/payload" "$h/nspawnctl/$M/payload/cgroup.procs" | sort -u)" = 123456 ] ||
        fail "payload not delegated in $h"
    [ "$(stat -c %u "$h/nspawnctl/$M")" = 0 ] || fail "the limits' level was given away in $h"
done
for c in pids memory devices; do
    [ ! -d "/sys/fs/cgroup/$c/nspawnctl/$M/payload" ] || [ "$(stat -c %u "/sys/fs/cgroup/$c/nspawnctl/$M/payload")" = 0 ] ||
        fail "v1 $c delegated"
done
stop_box
ok "delegation gives the payload cgroup (cgroup2, name=systemd) to the container's root, never its limits or a v1 controller"
