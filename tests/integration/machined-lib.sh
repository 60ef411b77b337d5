# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the machined tests after lib.sh: a private dbus-daemon with the project's policy,
# a machined on a temp pool and state dir, and a trap that kills exactly what was started.
: "${MACHINED:?run through meson test}"
. "$SOURCE_ROOT/tests/integration/bus-conf.sh"

POOL=$WORK/pool
STATE=$WORK/state
mkdir -p "$POOL" "$STATE"
# The bus socket lives in WORK; a non-root caller must be able to reach it.
chmod 0755 "$WORK"
BUS_PID=""
MACHINED_PID=""
# The managed network of this test's machined: names of its own, so that parallel runs never
# share a bridge or a table; no DNS upstream outside this machine.
NET_BRIDGE=t$$n0
NET_TABLE=t$$net
NET_OPTS="--network-bridge=$NET_BRIDGE --network-table=$NET_TABLE --network-dns=127.0.0.1"
export NSPAWNCTL_STATE_DIR=$STATE
# Never talk to a real system bus by accident: the test's own, whether or not it runs.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORK/bus

# network_teardown [STATEDIR [BRIDGE TABLE]]: what a machined's managed network left: its
# dnsmasq (by the pid it wrote, if it is one), its bridge and tables.
network_teardown() {
    local st=${1:-$STATE} br=${2:-$NET_BRIDGE} tb=${3:-$NET_TABLE} pid
    pid=$(cat "$st/network/dnsmasq/dnsmasq.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dnsmasq ]; then
        kill "$pid" 2>/dev/null || true
    fi
    ip link del "$br" 2>/dev/null || true
    nft delete table inet "$tb" 2>/dev/null || true
    nft delete table netdev "$tb" 2>/dev/null || true
    rm -rf "$st/network"
}

cleanup_machined() {
    # Machines first (their supervisors clean up after themselves), then machined and bus.
    for f in "$STATE"/machines/*; do
        [ -f "$f" ] || continue
        # (a record may go away meanwhile: that must not end the cleanup under set -e)
        s=$(sed -n 's/^SUPERVISOR=//p' "$f" 2>/dev/null || true)
        [ -n "$s" ] && kill -9 "$s" 2>/dev/null || true
    done
    for p in $MACHINED_PID $BUS_PID; do kill -9 "$p" 2>/dev/null || true; done
    network_teardown
    # The supervisors' cleanup guards remove records, cgroups and mounts; wait for them.
    end=$(( $(date +%s) + 20 ))
    while ls "$STATE"/machines/ 2>/dev/null | grep -q . && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
    # The pool's btrfs: made by pool_populate, or by machined itself on an empty pool
    # (POOL.raw on a loop device with autoclear, which the umount detaches).
    # A container that is still going away may keep it busy for a moment; as a last resort
    # a lazy unmount, so that the loop device goes when its last user does.
    tries=0
    while findmnt -rn -o TARGET | grep -qxF "$POOL"; do
        "${IMAGE_TOOL:-false}" teardown "$POOL" >/dev/null 2>&1 || umount "$POOL" 2>/dev/null || true
        tries=$((tries + 1))
        if [ $tries -ge 50 ]; then
            echo "warning: pool $POOL busy, unmounting lazily" >&2
            umount -l "$POOL" || true
            break
        fi
        sleep 0.2
    done
    cleanup_lib
}
trap cleanup_machined EXIT

start_bus() {
    # $1: "policy" (the project's policy file) or "open" (see write_bus_conf).
    write_bus_conf "$WORK/bus.conf" "$WORK" "${1:-policy}"
    rm -f "$WORK/bus"
    dbus-daemon --config-file="$WORK/bus.conf" --nofork --nosyslog >"$WORK/bus.log" 2>&1 &
    BUS_PID=$!
    export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORK/bus
    wait_until 10 test -S "$WORK/bus" || fail "dbus-daemon did not start"
}

stop_bus() {
    [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null && wait "$BUS_PID" 2>/dev/null || true
    BUS_PID=""
    rm -f "$WORK/bus"
}

start_machined() {
    # shellcheck disable=SC2086
    "$MACHINED" --pool="$POOL" --state-dir="$STATE" --config-dir="$WORK/etc" $NET_OPTS "$@" \
        >>"$WORK/machined.log" 2>&1 &
    MACHINED_PID=$!
    wait_until 10 test -S "$STATE/private" || { cat "$WORK/machined.log" >&2; fail "machined did not start"; }
    if [ -n "$BUS_PID" ]; then
        wait_until 10 busctl --system status org.nspawnctl.machined1 >/dev/null 2>&1 \
            || { cat "$WORK/machined.log" >&2; fail "machined did not take its bus name"; }
    fi
}

kill9_machined() {
    kill -9 "$MACHINED_PID"
    wait "$MACHINED_PID" 2>/dev/null || true
    MACHINED_PID=""
    rm -f "$STATE/private"
}

# pool_populate NAME...: the cached bookworm tree as images NAME... . The pool is made
# btrfs by core/pool.c (image-tool setup: a loop-backed file system in WORK) and each image
# is a snapshot of one copy, as in a real pool; without btrfs tools, plain copies.
POOL_BTRFS=no
pool_populate() {
    if [ -x "${IMAGE_TOOL:-}" ] && command -v mkfs.btrfs >/dev/null && command -v btrfs >/dev/null; then
        [ "$("$IMAGE_TOOL" setup "$POOL" 2048)" = btrfs ] || fail "pool setup"
        POOL_BTRFS=yes
        btrfs subvolume create "$POOL/.base" >/dev/null
        cp -a "$TREE/." "$POOL/.base/"
        for m in "$@"; do btrfs subvolume snapshot "$POOL/.base" "$POOL/$m" >/dev/null; done
        # The pool's own mount is the test's, not a machine's.
        BASE_MOUNTS=$(mounts_snapshot)
    else
        for m in "$@"; do cp -a "$TREE" "$POOL/$m"; done
    fi
}

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# state_snapshot: everything in the pool and state dir, to prove a refused call made nothing.
state_snapshot() { (cd "$WORK" && find pool state -xdev | sort); }

# fake_machine NAME: a record as a supervisor writes it, for a "supervisor" and "leader"
# that are sleep processes; prints nothing, sets FAKE_SUP and FAKE_LEADER.
fake_machine() {
    sleep 600 & FAKE_SUP=$!
    sleep 600 & FAKE_LEADER=$!
    CLEANUP_PIDS="$CLEANUP_PIDS $FAKE_SUP $FAKE_LEADER"
    ss=$(awk '{print $22}' "/proc/$FAKE_SUP/stat")
    ls=$(awk '{print $22}' "/proc/$FAKE_LEADER/stat")
    cat >"$STATE/machines/.#$1.tmp" <<EOT
NAME=$1
ID=0123456789abcdef0123456789abcdef
CLASS=container
SERVICE=nspawnctl
ROOT=$POOL/$1
STATE=running
SUPERVISOR=$FAKE_SUP
SUPERVISOR_START=$ss
LEADER=$FAKE_LEADER
LEADER_START=$ls
TIMESTAMP=$(( $(date +%s) * 1000000 ))
TIMESTAMP_MONOTONIC=1
CGROUP=(null)
EOT
    mv "$STATE/machines/.#$1.tmp" "$STATE/machines/$1"
}
