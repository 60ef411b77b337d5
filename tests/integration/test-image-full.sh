#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A pool that fills up in the middle of an import or of a clone's fallback copy keeps no
# half image: the temporary is removed, no name appears, and the pool works afterwards.
. "$(dirname "$0")/image-lib.sh"

space_used() { sync -f "$1"; df -B1 --output=used "$1" | tail -n1; }

# --- import of an archive larger than a 300 MB btrfs pool
expect_rc 0 it setup "$POOL" 300
mkdir -p "$WORK/src/etc"
echo big >"$WORK/src/etc/hostname"
head -c 400M /dev/urandom >"$WORK/src/blob"
tar -C "$WORK/src" -cf "$WORK/big.tar" .
rm -rf "$WORK/src"
used_before=$(space_used "$POOL")
expect_rc 1 it import-tar "$POOL" "$WORK/big.tar" big
grep -q 'No space left on device' <<<"$ERR" || fail "not reported as a full disk: $ERR"
expect_rc 0 it --all list "$POOL"
[ -z "$OUT" ] || fail "an image appeared: $OUT"
[ ! -e "$POOL/big" ] || fail "half image under the real name"
no_temporaries "$POOL"
btrfs subvolume sync "$POOL" >/dev/null
used_after=$(space_used "$POOL")
[ $((used_after - used_before)) -lt $((16 << 20)) ] || fail "space not given back: $used_before -> $used_after"
ok "import that fills the pool: ENOSPC, no image, no temporary, space given back"

# --- kill -9 in the middle of an import: a hidden leftover, never a half image; clean
# removes it once nobody holds its lock
P3=$WORK/p3
expect_rc 0 it setup "$P3" 1024
"$IMAGE_TOOL" import-tar "$P3" "$WORK/big.tar" big >/dev/null 2>&1 &
imp=$!
CLEANUP_PIDS=$imp
for _ in $(seq 100); do
    t=$(find "$P3" -maxdepth 1 -name '.#big.tmp*' | head -n1)
    [ -n "$t" ] && [ "$(du -sm "$t" 2>/dev/null | cut -f1)" -gt 20 ] && break
    sleep 0.1
done
[ -n "$t" ] || fail "import did not start"
kill -9 "$imp"; wait "$imp" 2>/dev/null || true; CLEANUP_PIDS=""
for _ in $(seq 50); do pgrep -f -- "-C $P3/.#big" >/dev/null || break; sleep 0.1; done
pgrep -f -- "-C $P3/.#big" >/dev/null && fail "tar outlived the killed import"
[ ! -e "$P3/big" ] || fail "half image under the real name after kill -9"
expect_rc 0 it list "$P3"
[ -z "$OUT" ] || fail "listed after kill -9: $OUT"
expect_rc 0 it clean "$P3"
no_temporaries "$P3"
expect_rc 0 it teardown "$P3"
ok "kill -9 during an import leaves only a hidden temporary, which clean removes"

mkdir -p "$WORK/small/etc"; echo small >"$WORK/small/etc/hostname"
tar -C "$WORK/small" -czf "$WORK/small.tar.gz" .
expect_rc 0 it import-tar "$POOL" "$WORK/small.tar.gz" small
[ "$(cat "$POOL/small/etc/hostname")" = small ] || fail "pool unusable after filling up"
ok "the pool works after that"

# --- removal works on a full pool
btrfs -q subvolume create "$POOL/filler"
head -c 400M /dev/zero >"$POOL/filler/zero" 2>/dev/null || true
expect_rc 0 it remove "$POOL" filler
[ ! -e "$POOL/filler" ] || fail "filler still there"
ok "remove works on a full pool"

# --- the fallback copy of a clone on a full non-btrfs pool (ext4 on our own loop device)
P2=$WORK/plain
mkdir "$P2"
truncate -s 64M "$WORK/plain.img"
mkfs.ext4 -q -F "$WORK/plain.img"
loop=$(losetup --find --show "$WORK/plain.img")
OWN_LOOPS="$loop"
mount "$loop" "$P2"
rmdir "$P2/lost+found"
mkdir -p "$P2/src/etc"
echo src >"$P2/src/etc/hostname"
head -c 40M /dev/urandom >"$P2/src/blob"
expect_rc 0 it setup "$P2"
[ "$OUT" = plain ] || fail "ext4 pool with an image: $OUT"
used_before=$(space_used "$P2")
expect_rc 1 it clone "$P2" src dst
grep -q 'No space left on device' <<<"$ERR" || fail "clone not refused for space: $ERR"
expect_rc 0 it list "$P2"
[ "$(cut -f1 <<<"$OUT")" = src ] || fail "images after the failed clone: $OUT"
[ ! -e "$P2/dst" ] || fail "half clone under the real name"
no_temporaries "$P2"
used_after=$(space_used "$P2")
[ $((used_after - used_before)) -lt $((1 << 20)) ] || fail "space not given back: $used_before -> $used_after"
ok "clone copy that fills a plain pool: ENOSPC, no image, no temporary"
