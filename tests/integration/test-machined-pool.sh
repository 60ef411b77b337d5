#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# machined sets up its pool at startup (core/pool.c): an empty pool directory off btrfs
# becomes a btrfs in POOL.raw on a loop device, images made there through machined are
# subvolumes, a restart mounts the same file again with the images in it, a restart while
# it is mounted does not mount it twice, and a plain pool that already holds images stays
# as it is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
command -v mkfs.btrfs >/dev/null || fail "mkfs.btrfs is not installed"
[ -e /dev/loop-control ] || { echo "SKIP: no loop device support"; exit 77; }
grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || { echo "SKIP: no btrfs"; exit 77; }

P2=$WORK/plain
OWN_LOOPS=""
cleanup_machined_pool() {
    rc=$?
    set +e
    for p in $MACHINED_PID $BUS_PID; do kill -9 "$p" 2>/dev/null; done
    # Only what this test made: the mounts of its two pools, and the loop devices it saw
    # attached to its own POOL.raw (autoclear detaches them with the umount; losetup -d
    # is for one that was attached but never mounted, and checks the backing file first).
    for m in "$POOL" "$P2"; do
        while findmnt -rn -o TARGET | grep -qxF "$m"; do umount "$m" || break; done
    done
    for l in $OWN_LOOPS; do
        [ "$(cat "/sys/block/${l#/dev/}/loop/backing_file" 2>/dev/null)" = "$POOL.raw" ] &&
            losetup -d "$l"
    done
    MACHINED_PID="" BUS_PID=""
    cleanup_machined
    exit $rc
}
trap cleanup_machined_pool EXIT

pool_device() { findmnt -rn -o SOURCE --mountpoint "$POOL" 2>/dev/null || true; }
stop_machined() {
    kill "$MACHINED_PID"
    wait "$MACHINED_PID" 2>/dev/null || true
    MACHINED_PID=""
    rm -f "$STATE/private"
}
mount_count() { findmnt -rn -o TARGET | grep -cxF "$1" || true; }

# --- an empty pool directory becomes btrfs in POOL.raw
rmdir "$POOL"  # missing altogether: machined makes it
start_bus policy
start_machined
dev=$(pool_device)
[ -n "$dev" ] || { cat "$WORK/machined.log" >&2; fail "pool not mounted"; }
OWN_LOOPS="$OWN_LOOPS $dev"
[ "$(findmnt -rn -o FSTYPE --mountpoint "$POOL")" = btrfs ] || fail "pool is not btrfs"
[ -f "$POOL.raw" ] || fail "no $POOL.raw"
[ "$(cat "/sys/block/${dev#/dev/}/loop/backing_file")" = "$POOL.raw" ] || fail "$dev is not backed by $POOL.raw"
[ "$(du -k "$POOL.raw" | cut -f1)" -lt $((256 << 10)) ] || fail "$POOL.raw is not sparse"
[ -z "$(ls -A "$WORK" | grep '^\.#pool\.raw' || true)" ] || fail "temporary backing file left"
raw_ino=$(stat -c %i "$POOL.raw")
ok "machined made the empty pool a btrfs on $dev from $POOL.raw"

# --- images made there through machined are subvolumes
mkdir -p "$WORK/small/etc"
echo small >"$WORK/small/etc/hostname"
tar -C "$WORK/small" -cf "$WORK/small.tar" .
expect_rc 0 "$NSPAWNCTL" import-tar "$WORK/small.tar" one
expect_rc 0 "$NSPAWNCTL" clone one two
for i in one two; do
    btrfs subvolume show "$POOL/$i" >/dev/null 2>&1 || fail "$i is not a subvolume"
done
expect_rc 0 "$NSPAWNCTL" list-images
grep -Eq '^one +subvolume ' <<<"$OUT" && grep -Eq '^two +subvolume ' <<<"$OUT" || fail "list-images: $OUT"
expect_rc 0 "$NSPAWNCTL" image-status two
grep -q 'CloneMode: snapshot' <<<"$OUT" || fail "image-status: $OUT"
ok "import and clone through machined make subvolumes in the new pool"

# --- a restart while mounted mounts nothing twice
stop_machined
start_machined
[ "$(mount_count "$POOL")" = 1 ] || fail "pool mounted $(mount_count "$POOL") times"
ok "a restart of machined with the pool mounted leaves one mount"

# --- after an umount (as at reboot) a restart mounts the same file again
stop_machined
umount "$POOL"
wait_until 10 sh -c "[ -z \"\$(losetup -j '$POOL.raw')\" ]" || fail "loop device not detached by autoclear"
[ -z "$(ls -A "$POOL")" ] || fail "pool dir not empty below the mount"
start_machined
dev2=$(pool_device)
[ -n "$dev2" ] || { cat "$WORK/machined.log" >&2; fail "pool not mounted again"; }
OWN_LOOPS="$OWN_LOOPS $dev2"
[ "$(stat -c %i "$POOL.raw")" = "$raw_ino" ] || fail "$POOL.raw was made anew"
[ "$(cat "/sys/block/${dev2#/dev/}/loop/backing_file")" = "$POOL.raw" ] || fail "$dev2 is not backed by $POOL.raw"
[ "$(cat "$POOL/two/etc/hostname")" = small ] || fail "image lost over the re-mount"
expect_rc 0 "$NSPAWNCTL" list-images --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert sorted(i["name"] for i in d)==["one","two"] and all(i["type"]=="subvolume" for i in d), d' <<<"$OUT" ||
    fail "list-images after the re-mount: $OUT"
ok "restarted machined mounted the same $POOL.raw again on $dev2, images kept"

# --- a plain pool that already holds images is left as it is
stop_machined
mkdir -p "$P2/old/etc"
echo old >"$P2/old/etc/hostname"
"$MACHINED" --pool="$P2" --state-dir="$STATE" --config-dir="$WORK/etc" $NET_OPTS \
    >>"$WORK/machined.log" 2>&1 &
MACHINED_PID=$!
wait_until 10 test -S "$STATE/private" || fail "machined did not start on $P2"
wait_until 10 busctl --system status org.nspawnctl.machined1 >/dev/null 2>&1 || fail "no bus name"
[ ! -e "$P2.raw" ] && [ "$(mount_count "$P2")" = 0 ] || fail "a pool with images was made btrfs"
expect_rc 0 "$NSPAWNCTL" clone old new
expect_rc 0 "$NSPAWNCTL" list-images
grep -Eq '^new +directory ' <<<"$OUT" || fail "copy fallback: $OUT"
[ "$(cat "$P2/new/etc/hostname")" = old ] || fail "copy content"
expect_rc 0 "$NSPAWNCTL" image-status new
grep -q 'CloneMode: reflink-or-copy' <<<"$OUT" && grep -q 'Type: directory' <<<"$OUT" || fail "image-status: $OUT"
ok "a plain pool with images stays plain; clone copies, and image-status says so"
