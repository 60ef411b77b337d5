#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-shell.sh BUILD_DIR TREE [N]
# One machine booted from TREE under machined, on a private dbus-daemon with the project's
# policy; then, alternating on the same machine, N (default 101) runs each of
# `nspawnctl shell box -- /bin/true` (D-Bus call, machined forks, cgroup + setns, user,
# bounding set, seccomp, exec, exit status back) and `nsenter -a -t LEADER /bin/true`.
# Prints the medians and their ratio. Target (issue 5): shell at most 5x nsenter.
set -euo pipefail
build=$(cd "$1" && pwd) tree=$2 n=${3:-101}
src=$(cd "$(dirname "$0")/.." && pwd)
nspawnctl=$build/nspawnctl/nspawnctl machined=$build/machined/machined
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -x "$tree/usr/lib/systemd/systemd" ] || { echo "bench: $tree is not a bootable tree" >&2; exit 1; }
command -v nsenter >/dev/null || { echo "bench: nsenter (util-linux) is needed" >&2; exit 1; }

work=$(mktemp -d /var/tmp/bench-shell.XXXXXX)
chmod 0755 "$work"
pool=$work/pool state=$work/state bus_pid="" md_pid="" leader=""
mkdir -p "$pool" "$state"
cleanup() {
    [ -n "$leader" ] && kill -9 "$leader" 2>/dev/null || true
    for f in "$state"/machines/*; do
        case "${f##*/}" in *.log | *.lock | *.console) continue ;; esac
        [ -f "$f" ] && kill -9 "$(sed -n 's/^SUPERVISOR=//p' "$f")" 2>/dev/null || true
    done
    for p in $md_pid $bus_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    for _ in $(seq 100); do ls "$state"/machines/ 2>/dev/null | grep -q . || break; sleep 0.2; done
    rm -rf "$work"
}
trap cleanup EXIT

cp -a "$tree" "$pool/box"
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
for _ in $(seq 100); do [ -S "$work/bus" ] && break; sleep 0.1; done
"$machined" --pool="$pool" --state-dir="$state" --config-dir="$work/etc" --runtime="$nspawnctl" >"$work/machined.log" 2>&1 &
md_pid=$!
for _ in $(seq 100); do busctl --system status org.nspawnctl.machined1 >/dev/null 2>&1 && break; sleep 0.1; done
"$nspawnctl" start box
for _ in $(seq 1200); do "$nspawnctl" list --json | grep -q '"state":"running"' && break; sleep 0.1; done
leader=$(sed -n 's/^LEADER=//p' "$state/machines/box")
[ -n "$leader" ] || { echo "bench: the machine did not come up" >&2; exit 1; }

# One run of CMD..., in microseconds.
time_us() {
    local s e
    s=$(date +%s%N)
    "$@" >/dev/null
    e=$(date +%s%N)
    echo $(( (e - s) / 1000 ))
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Warm caches for both, then alternate so that load from others hits both alike.
for _ in 1 2 3; do "$nspawnctl" shell box -- /bin/true; nsenter -a -t "$leader" /bin/true; done
: >"$work/shell" ; : >"$work/nsenter"
for _ in $(seq "$n"); do
    time_us "$nspawnctl" shell box -- /bin/true >>"$work/shell"
    time_us nsenter -a -t "$leader" /bin/true >>"$work/nsenter"
done
s=$(median <"$work/shell") ns=$(median <"$work/nsenter")
printf 'shell box -- /bin/true      median %6d us (n=%d)\n' "$s" "$n"
printf 'nsenter -a -t LEADER true   median %6d us (n=%d)\n' "$ns" "$n"
awk -v a="$s" -v b="$ns" 'BEGIN { printf "ratio shell/nsenter         %.2fx (target <= 5x)\n", a / b }'
