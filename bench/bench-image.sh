#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-image.sh BUILD_DIR TREE [SIZES_MB]
# Clone time of an image in a loop-backed btrfs pool (made by core/pool.c): a btrfs snapshot
# (image-tool clone) against `cp -a` of the same tree, for TREE as it is (the test tree is
# about 250 MB) and for TREE padded with a file of written data (not fallocate: cp would
# skip unwritten extents) to each size in SIZES_MB (default "2560"; "" for TREE only).
# Snapshot times are the median of 5, cp -a times the median of 3, after sync; a snapshot
# must not grow with the size.
# Also: create from a cached template base, by the core function and through machined. When TREE has what the template's post-setup
# needs, .base-T is a snapshot of TREE; else the first create runs debootstrap (timed too,
# mirror from tests/integration/host-mirror.sh) and the base it keeps is reused.
set -euo pipefail
build=$(cd "$1" && pwd) tree=$2 sizes=${3-2560}
image_tool=$build/tests/integration/image-tool
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
[ -d "$tree/etc" ] || { echo "bench: $tree is not a tree" >&2; exit 1; }

work=$(mktemp -d /var/tmp/bench-image.XXXXXX)
pool=$work/pool
cleanup() {
    "$image_tool" teardown "$pool" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

tree_mb=$(du -sm "$tree" | cut -f1)
max=$tree_mb
for s in $sizes; do [ "$s" -gt "$max" ] && max=$s; done
"$image_tool" setup "$pool" $(( max * 3 + 1024 )) >/dev/null

ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME: median clone and cp -a times of image NAME
measure() {
    local name=$1 i t0 t1
    for i in 1 2 3 4 5; do
        sync; t0=$(date +%s%N)
        "$image_tool" clone "$pool" "$name" "snap$i" >/dev/null
        t1=$(date +%s%N); ms "$t0" "$t1"
    done | median >"$work/snap"
    for i in 1 2 3; do
        sync; t0=$(date +%s%N)
        cp -a --reflink=never "$pool/$name" "$work/copy$i"; sync
        t1=$(date +%s%N); ms "$t0" "$t1"
        rm -rf "$work/copy$i"
    done | median >"$work/cp"
    used=$(du -sm "$pool/$name" | cut -f1)
    printf '%-10s %6s MiB   snapshot clone %5s ms   cp -a %7s ms\n' "$name" "$used" \
        "$(cat "$work/snap")" "$(cat "$work/cp")"
    for i in 1 2 3 4 5; do "$image_tool" remove "$pool" "snap$i" >/dev/null; done
}

btrfs -q subvolume create "$pool/tree"
cp -a --reflink=auto "$tree/." "$pool/tree/"
measure tree
for s in $sizes; do
    "$image_tool" clone "$pool" tree "pad$s" >/dev/null
    pad=$(( s - tree_mb ))
    [ "$pad" -gt 0 ] && dd if=/dev/zero of="$pool/pad$s/padding" bs=1M count="$pad" \
        conv=fsync status=none
    measure "pad$s"
    "$image_tool" remove "$pool" "pad$s" >/dev/null
done

# Create from a cached base: TREE stands in for the debootstrap result as
# .base-debian-bookworm; a create snapshots it and runs the template's post-setup (which
# needs systemd-networkd and systemd-resolved in the tree).
src=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$tree/usr/lib/systemd/systemd-resolved" ]; then
    btrfs -q subvolume snapshot -r "$pool/tree" "$pool/.base-debian-bookworm"
elif command -v debootstrap >/dev/null && mirror=$("$src/tests/integration/host-mirror.sh"); then
    t0=$(date +%s%N)
    "$image_tool" --mirror "$mirror" create "$pool" box0 debian-bookworm >/dev/null
    t1=$(date +%s%N)
    printf 'first create (debootstrap, post-setup, base kept): %s ms\n' "$(ms "$t0" "$t1")"
else
    echo "create from a cached base: skipped, no base (no debootstrap or no mirror)"
    exit 0
fi
for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    "$image_tool" create "$pool" "box$i" debian-bookworm >/dev/null
    t1=$(date +%s%N); ms "$t0" "$t1"
done | median >"$work/create"
printf 'create from the cached base (snapshot + post-setup): %s ms\n' "$(cat "$work/create")"

# The same through machined (CreateImage on its private socket, worker, ImageProgress
# signals): what `nspawnctl create` costs a user once the base is cached.
machined=$build/machined/machined nspawnctl=$build/nspawnctl/nspawnctl
"$machined" --pool="$pool" --state-dir="$work/state" --no-bus \
    >"$work/machined.log" 2>&1 &
machined_pid=$!
trap 'kill "$machined_pid" 2>/dev/null; wait "$machined_pid" 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [ -S "$work/state/private" ] && break; sleep 0.1; done
for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/none "$nspawnctl" create "bus$i" \
        --state-dir="$work/state" >/dev/null
    t1=$(date +%s%N); ms "$t0" "$t1"
done | median >"$work/create-bus"
printf 'nspawnctl create through machined from the cached base: %s ms\n' "$(cat "$work/create-bus")"
