#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pool setup: a btrfs in PATH.raw on a loop device when the directory is empty, mounted
# again from the same file later, a foreign file refused, a plain directory with images
# kept as it is (copy fallback), growth when less than a third is free.
. "$(dirname "$0")/image-lib.sh"

# --- a missing pool directory becomes a loop-mounted btrfs
expect_rc 0 it setup "$POOL" 256
[ "$OUT" = btrfs ] || fail "setup said $OUT"
expect_rc 0 it info "$POOL"
grep -qx 'loop_backed=yes' <<<"$OUT" || fail "not loop backed: $OUT"
grep -qx "backing_file=$POOL.raw" <<<"$OUT" || fail "backing file: $OUT"
grep -qx 'clone=snapshot' <<<"$OUT" || fail "clone mode: $OUT"
dev=$(sed -n 's/^device=//p' <<<"$OUT")
[ "$(findmnt -rn -o FSTYPE "$POOL")" = btrfs ] || fail "pool not mounted as btrfs"
[ "$(stat -c %s "$POOL.raw")" = $((256 << 20)) ] || fail "backing file size"
[ "$(du -k "$POOL.raw" | cut -f1)" -lt $((128 << 10)) ] || fail "backing file is not sparse"
ok "empty pool directory becomes btrfs on $dev from $POOL.raw"

# --- a second setup while mounted changes nothing
expect_rc 0 it setup "$POOL"
[ "$(findmnt -rn -o TARGET | grep -cx "$POOL")" = 1 ] || fail "pool mounted twice"
ok "setup is idempotent"

# --- teardown, then setup mounts the same file again
btrfs -q subvolume create "$POOL/keep"
echo kept >"$POOL/keep/marker"
expect_rc 0 it teardown "$POOL"
findmnt "$POOL" >/dev/null && fail "still mounted after teardown"
[ -z "$(losetup -j "$POOL.raw")" ] || fail "loop device not detached by autoclear"
[ -z "$(ls -A "$POOL")" ] || fail "pool dir not empty after teardown"
expect_rc 0 it setup "$POOL"
[ "$(cat "$POOL/keep/marker")" = kept ] || fail "image lost over re-mount"
expect_rc 0 it list "$POOL"
grep -q '^keep	subvolume	rw' <<<"$OUT" || fail "list after re-mount: $OUT"
ok "re-mount of the existing backing file keeps images"

# --- a backing file that is not btrfs is refused, nothing mounted
P2=$WORK/p2
truncate -s 64M "$P2.raw"
mkfs.ext4 -q -F "$P2.raw"
loops_before=$(losetup -a | wc -l)
expect_rc 1 it setup "$P2"
findmnt "$P2" >/dev/null && fail "foreign file system mounted"
[ "$(losetup -a | wc -l)" = "$loops_before" ] || fail "loop device left attached"
rm -f "$P2.raw"
truncate -s 200M "$P2.raw"
expect_rc 1 it setup "$P2"
findmnt "$P2" >/dev/null && fail "empty file mounted"
[ "$(stat -c %s "$P2.raw")" = $((200 << 20)) ] && cmp -s -n 65536 "$P2.raw" /dev/zero ||
    fail "an empty backing file was formatted"
ok "backing file without btrfs refused ($(head -c 80 <<<"$ERR"))"

# --- a plain directory that already holds images stays plain; copies replace snapshots
P3=$WORK/p3
mkdir -p "$P3/old/etc"
echo old >"$P3/old/etc/hostname"
ln -s /usr/share/zoneinfo/UTC "$P3/old/etc/localtime"
expect_rc 0 it setup "$P3"
[ "$OUT" = plain ] || fail "setup on a non-empty plain dir said $OUT"
[ ! -e "$P3.raw" ] || fail "backing file made for a non-empty dir"
expect_rc 0 it info "$P3"
grep -qx 'btrfs=no' <<<"$OUT" && grep -qx 'clone=reflink-or-copy' <<<"$OUT" || fail "info: $OUT"
expect_rc 0 it --read-only clone "$P3" old copy
expect_rc 0 it list "$P3"
grep -q '^copy	directory	ro' <<<"$OUT" || fail "fallback clone: $OUT"
[ "$(cat "$P3/copy/etc/hostname")" = old ] || fail "fallback clone content"
[ "$(readlink "$P3/copy/etc/localtime")" = /usr/share/zoneinfo/UTC ] || fail "symlink not kept"
touch "$P3/copy/x" 2>/dev/null && fail "read-only directory image writable"
expect_rc 0 it snapshot "$P3" old s1
echo changed >"$P3/old/etc/hostname"
expect_rc 0 it restore "$P3" old s1
[ "$(cat "$P3/old/etc/hostname")" = old ] || fail "restore on a plain pool"
expect_rc 0 it remove "$P3" copy old
expect_rc 0 it list "$P3"
[ -z "$OUT" ] || fail "images left: $OUT"
no_temporaries "$P3"
ok "non-btrfs pool with images: reflink-or-copy clone, snapshot, restore, remove"

# --- somebody else's mount on the pool path is used as it is
P5=$WORK/p5
mkdir "$P5"
mount -t tmpfs tmpfs "$P5"
expect_rc 0 it setup "$P5"
[ "$OUT" = plain ] && [ "$(findmnt -rn -o FSTYPE "$P5")" = tmpfs ] || fail "mounted over a foreign mount"
[ ! -e "$P5.raw" ] || fail "backing file made for a foreign mount"
umount "$P5"
ok "an existing mount on the pool path is left alone"

# --- growth when less than a third is free
P4=$WORK/p4
expect_rc 0 it setup "$P4" 256
expect_rc 0 it grow "$P4"
[ "$OUT" = unchanged ] || fail "grew an empty pool"
size_before=$(sed -n 's/^size=//p' <<<"$(it info "$P4")")
btrfs -q subvolume create "$P4/fill"
head -c 150M /dev/urandom >"$P4/fill/data"
sync -f "$P4/fill/data"
sum=$(sha256sum <"$P4/fill/data")
expect_rc 0 it grow "$P4"
[ "$OUT" = grown ] || fail "did not grow: $OUT"
[ "$(stat -c %s "$P4.raw")" = $((512 << 20)) ] || fail "backing file not doubled"
size_after=$(sed -n 's/^size=//p' <<<"$(it info "$P4")")
[ "$size_after" -gt "$size_before" ] || fail "file system did not grow: $size_before -> $size_after"
[ "$(sha256sum <"$P4/fill/data")" = "$sum" ] || fail "data changed by growing"
expect_rc 0 it grow "$P4"
[ "$OUT" = unchanged ] || fail "grew again with enough room"
ok "pool grows from $size_before to $size_after bytes when under a third is free"

# --- three setups at once: one backing file, one mount
P6=$WORK/p6
for _ in 1 2 3; do "$IMAGE_TOOL" setup "$P6" 256 >/dev/null & done
wait
[ "$(findmnt -rn -o TARGET | grep -cx "$P6")" = 1 ] || fail "concurrent setups mounted $(findmnt -rn -o TARGET | grep -cx "$P6") times"
[ "$(ls -A "$WORK" | grep -c '^\.#p6')" = 0 ] || fail "temporary backing file left"
ok "concurrent setups: one file system, one mount"
