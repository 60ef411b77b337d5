#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-machined.sh BUILD_DIR TREE [N]
# machined with N (default 20) machines booted from TREE, on a private dbus-daemon with the
# project's policy: the time from `nspawnctl start` until the machine reports running
# (median and max), ListMachines with N machines running (busctl call and `nspawnctl
# list`, median of 21), `set-limit` on a running machine, and the RSS of machined and of
# the supervisors. The pool is a loop-backed btrfs made by core/pool.c (clones are
# snapshots), else plain copies.
# Targets (issue 3): supervisor under 2 MiB RSS, machined under 10 MiB with 20 machines.
set -euo pipefail
n=${3:-20}
. "$(dirname "$0")/lib.sh"
btrfs=no
cleanup() {
    stop_machined
    if [ $btrfs = yes ]; then
        for s in "$pool"/*; do btrfs subvolume delete "$s" >/dev/null 2>&1 || true; done
        "$image_tool" teardown "$pool" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Every systemd inside takes several inotify instances, all counted against root: the
# default of 128 per user runs out at about 18 machines. Raised for the run, restored after.
inotify_old=$(sysctl -n fs.inotify.max_user_instances)
if [ "$inotify_old" -lt $(( n * 16 + 128 )) ]; then
    sysctl -q -w fs.inotify.max_user_instances=$(( n * 16 + 128 ))
    trap 'cleanup; sysctl -q -w fs.inotify.max_user_instances=$inotify_old' EXIT
fi

if [ -x "$image_tool" ] && command -v mkfs.btrfs >/dev/null && [ "$("$image_tool" setup "$pool" 4096)" = btrfs ]; then
    btrfs=yes
    btrfs subvolume create "$pool/.base" >/dev/null
    cp -a "$tree/." "$pool/.base/"
    for i in $(seq "$n"); do btrfs subvolume snapshot "$pool/.base" "$pool/b$i" >/dev/null; done
else
    for i in $(seq "$n"); do cp -a "$tree" "$pool/b$i"; done
fi

start_machined
rss_idle=$(ps -o rss= -p "$md_pid")

state_of() {
    busctl --system get-property org.nspawnctl.machined1 "/org/nspawnctl/machined1/machine/$1" \
        org.nspawnctl.machined1.Machine State 2>/dev/null | sed 's/^s "\(.*\)"$/\1/'
}
# Machines are started one after the other, so each start is timed on a host that runs the
# ones before it: the last is the slowest.
for i in $(seq "$n"); do
    a=$(date +%s%N)
    "$nspawnctl" start "b$i"
    for _ in $(seq 3000); do [ "$(state_of "b$i")" = running ] && break; sleep 0.02; done
    [ "$(state_of "b$i")" = running ] || {
        echo "bench: b$i never reached running; its console:" >&2
        tail -n 15 "$state/machines/b$i.log" >&2 || true
        exit 1
    }
    b=$(date +%s%N)
    echo $(( (b - a) / 1000000 ))
done >"$work/start.ms"

median_ms() {
    for _ in $(seq 21); do time_us "$@"; done | median | awk '{printf "%.1f", $1/1000}'
}
[ "$("$nspawnctl" list --json | grep -o '"state":"running"' | wc -l)" = "$n" ] || { echo "bench: not all running" >&2; exit 1; }
t_list_bus=$(median_ms busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager ListMachines)
t_list_cli=$(median_ms "$nspawnctl" list)
t_limit=$(median_ms "$nspawnctl" set-limit --runtime b1 TasksMax=4000 MemoryMax=1G)
rss_md=$(ps -o rss= -p "$md_pid")
sups=$(for i in $(seq "$n"); do sed -n 's/^SUPERVISOR=//p' "$state/machines/b$i"; done)
rss_sup=$(for s in $sups; do ps -o rss= -p "$s"; done | sort -n)

for i in $(seq "$n"); do "$nspawnctl" poweroff "b$i"; done
for _ in $(seq 600); do "$nspawnctl" list | grep -q '^b[0-9]' || break; sleep 0.2; done

printf '%-52s %s\n' "pool" "$([ $btrfs = yes ] && echo "btrfs (snapshots)" || echo "plain copies")"
printf '%-52s %s ms (median), %s ms (max)\n' "start until running, $n machines one by one" \
    "$(median <"$work/start.ms")" "$(sort -n "$work/start.ms" | tail -1)"
printf '%-52s %s ms\n' "ListMachines (busctl call), $n running, median of 21" "$t_list_bus"
printf '%-52s %s ms\n' "nspawnctl list (+ GetAll per machine), median of 21" "$t_list_cli"
printf '%-52s %s ms\n' "set-limit --runtime (2 limits), median of 21" "$t_limit"
printf '%-52s %s KiB idle, %s KiB with %s machines (target < 10240)\n' "machined RSS" "$rss_idle" "$rss_md" "$n"
printf '%-52s %s KiB min, %s KiB max (target < 2048)\n' "supervisor RSS" \
    "$(echo "$rss_sup" | head -1 | tr -d ' ')" "$(echo "$rss_sup" | tail -1 | tr -d ' ')"
