#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-machined.sh BUILD_DIR TREE [N]
# machined with N (default 20) machines booted from TREE, on a private dbus-daemon with the
# project's policy: the time from `nspawnctl start` until the machine reports running
# (median and max), ListMachines with N machines running (busctl call and `nspawnctl
# list`, median of 21), and the RSS of machined and of the supervisors. The pool is a
# loop-backed btrfs made by core/pool.c (clones are snapshots), else plain copies.
# Targets (issue 3): supervisor under 2 MiB RSS, machined under 10 MiB with 20 machines.
set -euo pipefail
build=$(cd "$1" && pwd) tree=$2 n=${3:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
nspawnctl=$build/nspawnctl/nspawnctl machined=$build/machined/machined
image_tool=$build/tests/integration/image-tool
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -x "$tree/usr/lib/systemd/systemd" ] || { echo "bench: $tree is not a bootable tree" >&2; exit 1; }

work=$(mktemp -d /var/tmp/bench-machined.XXXXXX)
chmod 0755 "$work"
pool=$work/pool state=$work/state bus_pid="" md_pid="" btrfs=no
mkdir -p "$pool" "$state"
cleanup() {
    for f in "$state"/machines/*; do
        case "${f##*/}" in *.log | *.lock | *.console) continue ;; esac
        [ -f "$f" ] && kill -9 "$(sed -n 's/^SUPERVISOR=//p' "$f")" 2>/dev/null || true
    done
    for p in $md_pid $bus_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    for _ in $(seq 100); do ls "$state"/machines/ 2>/dev/null | grep -q . || break; sleep 0.2; done
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

cat >"$work/bus.conf" <<EOT
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>$src/units/org.nspawnctl.machined1.conf</include>
</busconfig>
EOT
dbus-daemon --config-file="$work/bus.conf" --nofork --nosyslog >/dev/null 2>&1 &
bus_pid=$!
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/bus NSPAWNCTL_STATE_DIR=$state
for _ in $(seq 100); do [ -S "$work/bus" ] && break; sleep 0.05; done
"$machined" --pool="$pool" --state-dir="$state" --config-dir="$work/etc" --runtime="$nspawnctl" >"$work/machined.log" 2>&1 &
md_pid=$!
for _ in $(seq 100); do busctl --system status org.nspawnctl.machined1 >/dev/null 2>&1 && break; sleep 0.05; done
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

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
median_ms() {
    for _ in $(seq 21); do
        a=$(date +%s%N); "$@" >/dev/null; b=$(date +%s%N)
        echo $(( (b - a) / 1000 ))
    done | median | awk '{printf "%.1f", $1/1000}'
}
[ "$("$nspawnctl" list --json | grep -o '"state":"running"' | wc -l)" = "$n" ] || { echo "bench: not all running" >&2; exit 1; }
t_list_bus=$(median_ms busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager ListMachines)
t_list_cli=$(median_ms "$nspawnctl" list)
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
printf '%-52s %s KiB idle, %s KiB with %s machines (target < 10240)\n' "machined RSS" "$rss_idle" "$rss_md" "$n"
printf '%-52s %s KiB min, %s KiB max (target < 2048)\n' "supervisor RSS" \
    "$(echo "$rss_sup" | head -1 | tr -d ' ')" "$(echo "$rss_sup" | tail -1 | tr -d ' ')"
