#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-net.sh BUILD_DIR TREE [ROUNDS]
# The managed network, measured with traffic only between the host and the bench's own box:
#  - iperf3 (Debian package) from the host to a box: straight to its address (bridge, veth),
#    through a port forward at 127.0.0.1 and at the bridge's address, against the host's own
#    loopback. The iperf3 server runs in the box's network namespace (nsenter -n), so the
#    tree needs no iperf3. Median of ROUNDS (default 3) runs of 5 s each.
#  - start until running (READY=1) of a booted box on the managed network (without and with a
#    forward), against the same box in the host's namespace (Private=no, where networkd is
#    masked: fewer units) and in a namespace with lo only (Private=yes, the fair baseline);
#    and until registered (what machined and the supervisor do before the init runs);
#    median of ROUNDS starts each, the network already up.
# Targets (issue 10): a forward carries at least 0.8x the direct path; the network adds at
# most 50 ms to start-until-running.
set -euo pipefail
rounds=${3:-3}
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || { echo "bench: needs iperf3 (apt-get install iperf3)" >&2; exit 1; }
btrfs=no srv_pids=""
cleanup() {
    for p in $srv_pids; do kill "$p" 2>/dev/null || true; done
    stop_machined
    if [ $btrfs = yes ]; then
        for s in "$pool"/*; do btrfs subvolume delete "$s" >/dev/null 2>&1 || true; done
        "$image_tool" teardown "$pool" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

setup_tree() { # DIR: networkd with DHCP on host0 (paths in the tree removed before written)
    local w=$1/etc/systemd/system/multi-user.target.wants
    mkdir -p "$1/etc/systemd/network" "$w"
    rm -f "$1/etc/systemd/network/80-bench.network" "$w/systemd-networkd.service"
    printf '[Match]\nName=host0\n[Network]\nDHCP=yes\n' >"$1/etc/systemd/network/80-bench.network"
    ln -s /lib/systemd/system/systemd-networkd.service "$w/systemd-networkd.service"
}
if [ -x "$image_tool" ] && command -v mkfs.btrfs >/dev/null && [ "$("$image_tool" setup "$pool" 4096)" = btrfs ]; then
    btrfs=yes
    btrfs subvolume create "$pool/.base" >/dev/null
    cp -a "$tree/." "$pool/.base/"
    setup_tree "$pool/.base"
    for b in box fwdbox hostbox lobox; do btrfs subvolume snapshot "$pool/.base" "$pool/$b" >/dev/null; done
else
    for b in box fwdbox hostbox lobox; do cp -a "$tree" "$pool/$b"; setup_tree "$pool/$b"; done
fi
hp=$(( 30000 + $$ % 10000 )) lp=$(( 40000 + $$ % 10000 ))
mkdir -p "$work/etc"
printf '[Network]\nPort=tcp:%s:5201\n' "$hp" >"$work/etc/fwdbox.nspawn"
printf '[Network]\nPrivate=no\n' >"$work/etc/hostbox.nspawn"
printf '[Network]\nPrivate=yes\n' >"$work/etc/lobox.nspawn"

start_machined
state_of() {
    busctl --system get-property org.nspawnctl.machined1 "/org/nspawnctl/machined1/machine/$1" \
        org.nspawnctl.machined1.Machine State 2>/dev/null | sed 's/^s "\(.*\)"$/\1/'
}
start_ms() { # NAME [REGFILE]: ms from `start` until running; until registered into REGFILE
    local a b c
    a=$(date +%s%N)
    # --no-wait: back once the machine runs (registered), not once it is ready.
    "$nspawnctl" start --no-wait "$1"
    c=$(date +%s%N)
    [ -n "${2:-}" ] && echo $(( (c - a) / 1000000 )) >>"$2"
    for _ in $(seq 3000); do [ "$(state_of "$1")" = running ] && break; sleep 0.005; done
    [ "$(state_of "$1")" = running ] || { echo "bench: $1 never reached running" >&2; exit 1; }
    b=$(date +%s%N)
    echo $(( (b - a) / 1000000 ))
}
stop() {
    "$nspawnctl" poweroff "$1"
    for _ in $(seq 600); do "$nspawnctl" list | grep -q "^$1 " || break; sleep 0.1; done
}

# The first start sets the managed network up (bridge, dnsmasq): not counted.
start_ms box >/dev/null; stop box
# Neither is the first start of each kind (page cache).
for b in fwdbox hostbox lobox; do start_ms "$b" >/dev/null; stop "$b"; done
for _ in $(seq "$rounds"); do
    start_ms box "$work/managed.reg" >>"$work/managed.ms"; stop box
    start_ms fwdbox "$work/fwd.reg" >>"$work/fwd.ms"; stop fwdbox
    start_ms hostbox "$work/host.reg" >>"$work/host.ms"; stop hostbox
    start_ms lobox "$work/lo.reg" >>"$work/lo.ms"; stop lobox
done

start_ms fwdbox >/dev/null
leader=$(sed -n 's/^LEADER=//p' "$state/machines/fwdbox")
addr=$(cut -d, -f2 "$state/network/dnsmasq/dhcp-hosts/fwdbox")
gw=$(ip -4 -o addr show dev "$net_bridge" | awk '{print $4}' | cut -d/ -f1)
has_addr() { nsenter -t "$leader" -n ip -4 -o addr show dev host0 | grep -q "$addr/"; }
for _ in $(seq 600); do has_addr && break; sleep 0.1; done
has_addr || { echo "bench: box got no address" >&2; exit 1; }
nsenter -t "$leader" -n iperf3 -s -p 5201 >/dev/null 2>&1 &
srv_pids="$srv_pids $!"
iperf3 -s -B 127.0.0.1 -p "$lp" >/dev/null 2>&1 &
srv_pids="$srv_pids $!"
sleep 0.5

mbits() { # HOST PORT: receiver Mbit/s of one 5 s run
    iperf3 -c "$1" -p "$2" -t 5 -f m 2>/dev/null | awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }'
}
# Interleaved, so that a busy host slows all four alike.
for _ in $(seq "$rounds"); do
    mbits "$addr" 5201 >>"$work/direct"
    mbits 127.0.0.1 "$hp" >>"$work/fwd_lo"
    mbits "$gw" "$hp" >>"$work/fwd_br"
    mbits 127.0.0.1 "$lp" >>"$work/loop"
done
direct=$(median <"$work/direct") fwd_lo=$(median <"$work/fwd_lo") fwd_br=$(median <"$work/fwd_br") loop=$(median <"$work/loop")
stop fwdbox

# The runtime alone: `run /bin/true` with a veth on the bridge against loopback only.
for _ in $(seq $(( rounds * 3 ))); do
    time_us "$nspawnctl" run -q -D "$tree" -x -M "bench-$$" --network-bridge="$net_bridge" /bin/true >>"$work/rt_br"
    time_us "$nspawnctl" run -q -D "$tree" -x -M "bench-$$" --private-network /bin/true >>"$work/rt_lo"
done

m=$(median <"$work/managed.ms") f=$(median <"$work/fwd.ms") h=$(median <"$work/host.ms") l=$(median <"$work/lo.ms")
printf '%-58s %s Mbit/s\n' "iperf3 host -> box address (bridge + veth)" "$direct"
printf '%-58s %s Mbit/s (%.2fx direct)\n' "iperf3 host -> 127.0.0.1:$hp (forward)" "$fwd_lo" "$(awk -v a="$fwd_lo" -v b="$direct" 'BEGIN { print a / b }')"
printf '%-58s %s Mbit/s (%.2fx direct)\n' "iperf3 host -> $gw:$hp (forward, bridge address)" "$fwd_br" "$(awk -v a="$fwd_br" -v b="$direct" 'BEGIN { print a / b }')"
printf '%-58s %s Mbit/s\n' "iperf3 host loopback (no box)" "$loop"
printf '%-58s %s ms\n' "start until running, managed network (median of $rounds)" "$m"
printf '%-58s %s ms\n' "start until running, managed network + 1 forward" "$f"
printf '%-58s %s ms\n' "start until running, host network (Private=no)" "$h"
printf '%-58s %s ms\n' "start until running, lo only (Private=yes)" "$l"
printf '%-58s %s / %s / %s / %s ms\n' "start until registered: managed / +forward / host / lo" \
    "$(median <"$work/managed.reg")" "$(median <"$work/fwd.reg")" "$(median <"$work/host.reg")" "$(median <"$work/lo.reg")"
printf '%-58s %s / %s ms\n' "run /bin/true: veth on the bridge / lo only" \
    "$(median <"$work/rt_br" | awk '{printf "%.1f", $1/1000}')" "$(median <"$work/rt_lo" | awk '{printf "%.1f", $1/1000}')"
printf '%-58s %+d ms\n' "the managed network adds (vs host network)" $(( m - h ))
printf '%-58s %+d ms\n' "the managed network adds (vs lo only)" $(( m - l ))
