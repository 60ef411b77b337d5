# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the machined benches after they set `set -euo pipefail`, with BUILD_DIR TREE as
# $1 $2: the paths, a work dir under /var/tmp (a tree does not fit in a small /tmp), a
# private dbus-daemon with the same policy the tests use, and a machined on a pool there.
build=$(cd "$1" && pwd) tree=$2
src=$(cd "$(dirname "$0")/.." && pwd)
nspawnctl=$build/nspawnctl/nspawnctl machined=$build/machined/machined
image_tool=$build/tests/integration/image-tool
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -x "$tree/usr/lib/systemd/systemd" ] || { echo "bench: $tree is not a bootable tree" >&2; exit 1; }

SOURCE_ROOT=$src
. "$src/tests/integration/bus-conf.sh"

work=$(mktemp -d "/var/tmp/$(basename "$0" .sh).XXXXXX")
# The bus socket lives in work; machined's helpers must reach it.
chmod 0755 "$work"
pool=$work/pool state=$work/state bus_pid="" md_pid=""
mkdir -p "$pool" "$state"
# machined's managed network under names of the bench's own (MACHINED_NETWORK=no: none).
net_bridge=b$$n0 net_table=b$$net
net_opts="--network=${MACHINED_NETWORK:-yes} --network-bridge=$net_bridge --network-table=$net_table --network-dns=127.0.0.1"

# Kills the machines' supervisors, then machined and the bus, and waits for the supervisors'
# cleanup guards to remove the records. The bench's own cleanup removes the work dir.
stop_machined() {
    for f in "$state"/machines/*; do
        case "${f##*/}" in *.log | *.lock | *.console) continue ;; esac
        [ -f "$f" ] && kill -9 "$(sed -n 's/^SUPERVISOR=//p' "$f")" 2>/dev/null || true
    done
    for p in $md_pid $bus_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    for _ in $(seq 100); do ls "$state"/machines/ 2>/dev/null | grep -q . || break; sleep 0.2; done
    local pid
    pid=$(cat "$state/network/dnsmasq/dnsmasq.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dnsmasq ]; then kill "$pid" 2>/dev/null || true; fi
    ip link del "$net_bridge" 2>/dev/null || true
    nft delete table inet "$net_table" 2>/dev/null || true
    nft delete table netdev "$net_table" 2>/dev/null || true
}

start_machined() {
    write_bus_conf "$work/bus.conf" "$work"
    dbus-daemon --config-file="$work/bus.conf" --nofork --nosyslog >/dev/null 2>&1 &
    bus_pid=$!
    export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/bus NSPAWNCTL_STATE_DIR=$state
    for _ in $(seq 200); do [ -S "$work/bus" ] && break; sleep 0.05; done
    # shellcheck disable=SC2086
    "$machined" --pool="$pool" --state-dir="$state" --config-dir="$work/etc" $net_opts \
        >"$work/machined.log" 2>&1 &
    md_pid=$!
    for _ in $(seq 200); do busctl --system status org.nspawnctl.machined1 >/dev/null 2>&1 && break; sleep 0.05; done
}

# time_us CMD...: one run of CMD, in microseconds, timed by median-ms.py (not through bash
# and date, which cost about as much as the short commands measured).
time_us() {
    python3 "$src/bench/median-ms.py" 1 "$work/time-us.out" "$@" | awk '{printf "%d\n", $1 * 1000}'
}

# The median of the numbers on stdin, one a line.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
