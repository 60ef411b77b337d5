#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-image.sh BUILD_DIR TREE [SIZES_MB]
# Clone time of an image in a loop-backed btrfs pool (made by core/pool.c): a btrfs snapshot
# (image-tool clone) against `cp -a` of the same tree, for TREE as it is and for TREE padded
# with a preallocated file to each size in SIZES_MB (default "2560"; "" for TREE only).
# Each time is the median of 5, after sync; a snapshot must not grow with the size.
# Also: create from a cached template base (.base-T made from TREE, then a create).
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
    [ "$pad" -gt 0 ] && fallocate -l "${pad}M" "$pool/pad$s/padding"
    measure "pad$s"
    "$image_tool" remove "$pool" "pad$s" >/dev/null
done

# Create from a cached base: TREE stands in for the debootstrap result as
# .base-debian-bookworm; a create snapshots it and runs the template's post-setup (which
# needs systemd-networkd and systemd-resolved in the tree).
if [ -x "$tree/usr/lib/systemd/systemd-resolved" ]; then
    btrfs -q subvolume snapshot -r "$pool/tree" "$pool/.base-debian-bookworm"
    for i in 1 2 3 4 5; do
        t0=$(date +%s%N)
        "$image_tool" create "$pool" "box$i" debian-bookworm >/dev/null
        t1=$(date +%s%N); ms "$t0" "$t1"
    done | median >"$work/create"
    printf 'create from the cached base (snapshot + post-setup): %s ms\n' "$(cat "$work/create")"
else
    echo "create from a cached base: skipped, $tree has no systemd-resolved for the template"
fi
