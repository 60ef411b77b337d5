#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Image operations on a loop-mounted btrfs pool with a real bookworm tree: clone in O(1),
# snapshot/restore, read-only, rename/remove with snapshots, refusals that change nothing
# (existing names, images in use or locked, hostile names), clean, copy-to/copy-from that
# cannot leave the tree.
. "$(dirname "$0")/image-lib.sh"
cached_tree

expect_rc 0 it setup "$POOL" 2048
btrfs -q subvolume create "$POOL/bookworm"
cp -a --reflink=auto "$TREE/." "$POOL/bookworm/"
expect_rc 0 it --usage show "$POOL" bookworm
grep -q '^os=Debian GNU/Linux 12 (bookworm)$' <<<"$OUT" || fail "os-release: $OUT"
usage=$(awk -F'\t' 'NR==1 {print $5}' <<<"$OUT")
[ "$usage" -gt $((150 << 20)) ] || fail "usage of the tree: $usage"
ok "bookworm tree in the pool ($((usage >> 20)) MiB)"

# --- clone in O(1): no data copied
sync -f "$POOL"
used_before=$(df -B1 --output=used "$POOL" | tail -n1)
t0=$(date +%s%N)
expect_rc 0 it clone "$POOL" bookworm c1
t1=$(date +%s%N)
sync -f "$POOL"
used_after=$(df -B1 --output=used "$POOL" | tail -n1)
grown=$((used_after - used_before))
[ "$grown" -lt $((8 << 20)) ] || fail "clone used $grown bytes: data was copied"
excl=$(btrfs filesystem du -s --raw "$POOL/c1" | awk 'NR==2 {print $2}')
[ "$excl" -lt $((1 << 20)) ] || fail "clone has $excl exclusive bytes"
diff <(tree_list "$POOL/bookworm") <(tree_list "$POOL/c1") >/dev/null || fail "clone differs"
expect_rc 0 it list "$POOL"
grep -q '^c1	subvolume	rw' <<<"$OUT" || fail "list: $OUT"
ok "clone of $((usage >> 20)) MiB: $grown bytes more in use, $excl exclusive, $(((t1 - t0) / 1000000)) ms"

# --- snapshot, change, restore
expect_rc 0 it snapshot "$POOL" c1 before
echo changed >"$POOL/c1/etc/hostname"
rm "$POOL/c1/etc/os-release"
echo new >"$POOL/c1/root/new-file"
expect_rc 0 it list-snapshots "$POOL" c1
grep -q '^before	subvolume	ro' <<<"$OUT" || fail "list-snapshots: $OUT"
expect_rc 0 it restore "$POOL" c1 before
[ "$(cat "$POOL/c1/etc/hostname")" = debian-bookworm ] || fail "hostname not restored"
[ -L "$POOL/c1/etc/os-release" ] || [ -f "$POOL/c1/etc/os-release" ] || fail "removed file not back"
[ ! -e "$POOL/c1/root/new-file" ] || fail "added file still there"
diff <(tree_list "$POOL/bookworm") <(tree_list "$POOL/c1") >/dev/null || fail "restored tree differs"
expect_rc 0 it list "$POOL"
grep -q '^c1	subvolume	rw' <<<"$OUT" || fail "restored image not writable: $OUT"
expect_rc 4 it snapshot "$POOL" c1 before
no_temporaries "$POOL"
ok "snapshot, change a file, restore: the file is back"

# --- refusals change nothing
state=$(pool_state "$POOL")
expect_rc 4 it clone "$POOL" c1 bookworm
expect_rc 4 it rename "$POOL" c1 bookworm
expect_rc 3 it clone "$POOL" nosuch c9
expect_rc 3 it remove "$POOL" nosuch
expect_rc 5 it --in-use c1 remove "$POOL" c1
expect_rc 5 it --in-use c1 rename "$POOL" c1 c9
expect_rc 5 it --in-use c1 restore "$POOL" c1 before
diff <(echo "$state") <(pool_state "$POOL") >&2 || fail "pool changed by a refused operation"
ok "clone/rename onto an existing name, remove/rename/restore of an image in use: refused, nothing changed"

# --- per-image locks
"$IMAGE_TOOL" lock "$POOL" c1 60 >"$WORK/lock.out" &
CLEANUP_PIDS=$!
for _ in $(seq 50); do grep -q locked "$WORK/lock.out" && break; sleep 0.1; done
grep -q locked "$WORK/lock.out" || fail "lock holder did not start"
expect_rc 5 it remove "$POOL" c1
expect_rc 5 it clone "$POOL" bookworm c1
# A snapshot (like a clone's source) waits for the holder rather than failing: of two
# snapshots racing for one name the second is told that it exists (test-cli-truth).
"$IMAGE_TOOL" snapshot "$POOL" c1 s2 >"$WORK/snap.out" 2>&1 &
snap=$!
expect_rc 0 it clone "$POOL" bookworm c2
kill "$CLEANUP_PIDS"; wait "$CLEANUP_PIDS" 2>/dev/null || true; CLEANUP_PIDS=""
wait "$snap" || { cat "$WORK/snap.out"; fail "the snapshot waiting for the lock failed"; }
expect_rc 0 it remove-snapshot "$POOL" c1 s2
expect_rc 0 it remove "$POOL" c2
diff <(echo "$state") <(pool_state "$POOL") >&2 || fail "pool changed while locked"
ok "an operation on a locked image is refused (a snapshot waits); other images are not blocked"

# --- hostile names: refused, nothing created
long=$(printf 'a%.0s' $(seq 65))
for name in "" "../etc" "a/b" "-x" "x-" "a..b" "$long" $'a\001b' $'\xff' ".#x" ".base-x" "." ".." \
    "a b" "/abs" ".snapshots"; do
    expect_rc 1 it clone "$POOL" bookworm "$name"
    expect_rc 1 it rename "$POOL" c1 "$name"
    expect_rc 1 it snapshot "$POOL" c1 "$name"
    expect_rc 1 it remove "$POOL" "$name"
    expect_rc 1 it read-only "$POOL" "$name"
done
expect_rc 1 it restore "$POOL" c1 ../../bookworm
expect_rc 1 it remove-snapshot "$POOL" c1 ../c1
diff <(echo "$state") <(pool_state "$POOL") >&2 || fail "pool changed by a hostile name"
ok "hostile names refused (empty, ../etc, a/b, -x, x-, a..b, 65 bytes, control, bad UTF-8, .#x, ...)"

# --- read-only
expect_rc 0 it read-only "$POOL" c1 yes
touch "$POOL/c1/x" 2>/dev/null && fail "read-only image writable"
expect_rc 0 it list "$POOL"
grep -q '^c1	subvolume	ro' <<<"$OUT" || fail "list: $OUT"
expect_rc 0 it clone "$POOL" c1 c1w
touch "$POOL/c1w/x" || fail "clone of a read-only image not writable"
expect_rc 0 it read-only "$POOL" c1 no
touch "$POOL/c1/x" || fail "image still read-only"
rm "$POOL/c1/x"
expect_rc 0 it --read-only clone "$POOL" bookworm ro1
expect_rc 0 it list "$POOL"
grep -q '^ro1	subvolume	ro' <<<"$OUT" || fail "--read-only clone: $OUT"
expect_rc 0 it remove "$POOL" c1w ro1
ok "read-only on and off; read-only clones; clone of a read-only image is writable"

# --- rename and remove take the snapshots along
expect_rc 0 it rename "$POOL" c1 c3
[ -d "$POOL/.snapshots/c3/before" ] && [ ! -e "$POOL/.snapshots/c1" ] || fail "snapshots not renamed"
expect_rc 0 it list-snapshots "$POOL" c3
grep -q '^before' <<<"$OUT" || fail "snapshots after rename: $OUT"
expect_rc 0 it remove-snapshot "$POOL" c3 before
expect_rc 0 it snapshot "$POOL" c3 again
expect_rc 0 it remove "$POOL" c3
[ ! -e "$POOL/c3" ] && [ ! -e "$POOL/.snapshots/c3" ] || fail "remove left the image or its snapshots"
expect_rc 0 it list "$POOL"
[ "$(cut -f1 <<<"$OUT")" = bookworm ] || fail "list after remove: $OUT"
no_temporaries "$POOL"
ok "rename moves snapshots, remove deletes them"

# --- directory (not subvolume) image in a btrfs pool: clone falls back to a reflink copy
mkdir -p "$POOL/plain/etc"
echo plain >"$POOL/plain/etc/hostname"
head -c 20M /dev/urandom >"$POOL/plain/blob"
sync -f "$POOL"
used_before=$(df -B1 --output=used "$POOL" | tail -n1)
expect_rc 0 it clone "$POOL" plain plain2
sync -f "$POOL"
used_after=$(df -B1 --output=used "$POOL" | tail -n1)
[ $((used_after - used_before)) -lt $((8 << 20)) ] || fail "fallback copy did not reflink"
cmp "$POOL/plain/blob" "$POOL/plain2/blob" || fail "fallback copy differs"
expect_rc 0 it list "$POOL"
grep -q '^plain	directory' <<<"$OUT" && grep -q '^plain2	subvolume' <<<"$OUT" || fail "types: $OUT"
expect_rc 0 it remove "$POOL" plain plain2
ok "directory image cloned by reflink copy into a new subvolume"

# --- clean removes leftovers nobody works on, keeps those being built
btrfs -q subvolume create "$POOL/.#ghost.tmpabc123"
btrfs -q subvolume snapshot -r "$POOL/bookworm" "$POOL/.#ghost.tmpdef456"
mkdir -p "$POOL/.#busy.tmpXYZ789/etc"
mkdir -p "$POOL/.snapshots/bookworm/.#s.tmp000000" "$POOL/.snapshots/gone/old"
"$IMAGE_TOOL" lock "$POOL" busy 60 >"$WORK/lock.out" &
CLEANUP_PIDS=$!
for _ in $(seq 50); do grep -q locked "$WORK/lock.out" && break; sleep 0.1; done
expect_rc 0 it clean "$POOL"
[ ! -e "$POOL/.#ghost.tmpabc123" ] && [ ! -e "$POOL/.#ghost.tmpdef456" ] || fail "leftovers kept"
[ ! -e "$POOL/.snapshots/bookworm/.#s.tmp000000" ] || fail "snapshot leftover kept"
[ ! -e "$POOL/.snapshots/gone" ] || fail "snapshots of a removed image kept"
[ -d "$POOL/.#busy.tmpXYZ789" ] || fail "clean removed a temporary that is being built"
kill "$CLEANUP_PIDS"; wait "$CLEANUP_PIDS" 2>/dev/null || true; CLEANUP_PIDS=""
expect_rc 0 it clean "$POOL"
[ ! -e "$POOL/.#busy.tmpXYZ789" ] || fail "unlocked leftover kept"
[ -z "$(find "$POOL" -maxdepth 1 -name '.#*')" ] || fail "clean left: $(ls -A "$POOL")"
[ -d "$POOL/bookworm/etc" ] || fail "clean touched an image"
ok "clean removes unlocked temporaries, lock files and orphaned snapshots only"

# --- copy-to / copy-from stay inside the tree
expect_rc 0 it clone "$POOL" bookworm cp
ln -s / "$POOL/cp/escape"
ln -s ../../../../../../.. "$POOL/cp/etc/dots"
echo payload >"$WORK/payload"
expect_rc 0 it copy-to "$POOL" cp "$WORK/payload" /escape/tmp/payload-in
[ -f "$POOL/cp/tmp/payload-in" ] || fail "copy-to did not land in the tree"
[ ! -e /tmp/payload-in ] || fail "copy-to followed a symlink out of the tree"
expect_rc 0 it copy-to "$POOL" cp "$WORK/payload" /etc/dots/root/
[ -f "$POOL/cp/root/payload" ] || fail "copy-to into a directory"
[ ! -e /root/payload ] || fail "copy-to followed .. out of the tree"
expect_rc 4 it copy-to "$POOL" cp "$WORK/payload" /root/payload
expect_rc 0 it copy-from "$POOL" cp /escape/etc/hostname "$WORK/h"
[ "$(cat "$WORK/h")" = debian-bookworm ] || fail "copy-from read $(cat "$WORK/h")"
mkdir "$WORK/dir"
expect_rc 0 it copy-from "$POOL" cp /etc/dots/etc/apt "$WORK/dir"
[ -d "$WORK/dir/apt" ] && diff -r "$POOL/cp/etc/apt" "$WORK/dir/apt" >/dev/null || fail "copy-from of a directory"
expect_rc 1 it copy-from "$POOL" cp /dev/null "$WORK/null"
[ ! -e "$WORK/null" ] || fail "device node copied out"
mkdir -p "$WORK/srcdir/sub"; echo a >"$WORK/srcdir/sub/a"; ln -s /etc/shadow "$WORK/srcdir/link"
expect_rc 0 it copy-to "$POOL" cp "$WORK/srcdir" /opt/srcdir
[ "$(cat "$POOL/cp/opt/srcdir/sub/a")" = a ] && [ "$(readlink "$POOL/cp/opt/srcdir/link")" = /etc/shadow ] ||
    fail "copy-to of a directory"
ok "copy-to/copy-from resolve paths inside the tree; device nodes are not copied out"
