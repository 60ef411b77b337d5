#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Images through machined and nspawnctl on a loop-mounted btrfs pool: introspection, list
# (also --json and for non-root), status with os-release, clone/rename/remove/read-only,
# snapshot/restore, export/import with a crafted archive refused, named errors for hostile
# names and taken names, removal/rename/restore of an image a booted machine runs refused,
# and the bus served while a long import runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
: "${IMAGE_TOOL:?run through meson test}"

cleanup_image_bus() {
    rc=$?
    set +e
    for p in $MACHINED_PID $BUS_PID ${CLEANUP_PIDS:-}; do kill -9 "$p" 2>/dev/null; done
    for f in "$STATE"/machines/*; do
        s=$(sed -n 's/^SUPERVISOR=//p' "$f" 2>/dev/null)
        [ -n "$s" ] && kill -9 "$s" 2>/dev/null
    done
    end=$(( $(date +%s) + 20 ))
    while ls "$STATE"/machines/ 2>/dev/null | grep -q . && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
    network_teardown
    findmnt -rn -o TARGET | grep "^$WORK" | sort -r | while read -r m; do umount "$m"; done
    cleanup_lib
    exit $rc
}
trap cleanup_image_bus EXIT

call() { busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager "$@"; }
nc() { "$NSPAWNCTL" "$@"; }

rmdir "$POOL"
[ "$("$IMAGE_TOOL" setup "$POOL" 2048)" = btrfs ] || fail "pool setup"
btrfs -q subvolume create "$POOL/bookworm"
cp -a --reflink=auto "$TREE/." "$POOL/bookworm/"
start_bus policy
start_machined

busctl --system introspect --xml-interface org.nspawnctl.machined1 /org/nspawnctl/machined1 >"$WORK/intro.xml"
for m in ListImages GetImage CloneImage RemoveImage RenameImage MarkImageReadOnly SnapshotImage \
    ListImageSnapshots RestoreImage RemoveImageSnapshot ExportImageTar ImportImageTar CopyToImage \
    CopyFromImage CleanImages ListMachines; do
    grep -q "<method name=\"$m\">" "$WORK/intro.xml" || fail "method $m missing"
done
grep -A4 '<method name="CloneImage">' "$WORK/intro.xml" | grep -q 'name="new_name"' || fail "CloneImage arg names"
path=$(call GetImage s bookworm | awk '{print $2}' | tr -d '"')
busctl --system introspect --xml-interface org.nspawnctl.machined1 "$path" >"$WORK/image.xml"
for p in Name Path Type ReadOnly CreationTimestamp ModificationTimestamp Usage; do
    grep -q "<property name=\"$p\"" "$WORK/image.xml" || fail "image property $p missing"
done
busctl --system tree org.nspawnctl.machined1 | grep -q "/org/nspawnctl/machined1/image/bookworm" ||
    fail "image objects not enumerated"
ok "introspection: image methods with argument names, image objects with properties"

expect_rc 0 nc list-images
grep -Eq '^bookworm +subvolume +no ' <<<"$OUT" || fail "list-images: $OUT"
expect_rc 0 nc list-images --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["name"]=="bookworm" and d[0]["type"]=="subvolume" and d[0]["usage"]>100<<20, d' <<<"$OUT" ||
    fail "list-images --json: $OUT"
expect_rc 0 as_nobody "$NSPAWNCTL" list-images
grep -q '^bookworm ' <<<"$OUT" || fail "non-root list-images: $OUT"
expect_rc 0 nc image-status bookworm
grep -q 'OSRelease: Debian GNU/Linux 12 (bookworm)' <<<"$OUT" && grep -q 'Type: subvolume' <<<"$OUT" ||
    fail "image-status: $OUT"
ok "list-images (table, --json, non-root) and image-status with the OS"

expect_rc 0 nc clone bookworm c1
expect_rc 0 nc clone --read-only bookworm c2
expect_rc 0 nc list-images
grep -Eq '^c1 +subvolume +no ' <<<"$OUT" && grep -Eq '^c2 +subvolume +yes ' <<<"$OUT" || fail "clones: $OUT"
expect_rc 0 nc read-only c2 no
expect_rc 0 nc rename c2 c3
expect_rc 0 nc snapshot c3 s1
echo changed >"$POOL/c3/etc/hostname"
expect_rc 0 nc restore c3 s1
[ "$(cat "$POOL/c3/etc/hostname")" = debian-bookworm ] || fail "restore over the bus"
expect_rc 0 nc list-snapshots c3 --json
grep -q '"name":"s1"' <<<"$OUT" || fail "list-snapshots: $OUT"
expect_rc 0 nc remove-snapshot c3 s1
expect_rc 0 nc remove c3
[ ! -e "$POOL/c3" ] || fail "c3 still there"
ok "clone, read-only, rename, snapshot, restore, remove over the bus"

state=$(state_snapshot)
expect_rc 4 nc clone bookworm c1
expect_rc 4 nc rename c1 bookworm
expect_rc 3 nc remove nosuch
expect_rc 7 as_nobody "$NSPAWNCTL" clone bookworm c9
for n in "../etc" "a/b" "x-" "a..b" ".#x" ".base-x" "$(printf 'a%.0s' $(seq 65))"; do
    expect_rc 2 nc clone bookworm "$n"
    set +e; err=$(call CloneImage ssb bookworm "$n" false 2>&1); set -e
    grep -qi "invalid image name" <<<"$err" || fail "machined accepted '$n': $err"
done
[ "$(state_snapshot | grep -v '\.#.*\.lck$')" = "$(grep -v '\.#.*\.lck$' <<<"$state")" ] ||
    fail "refused calls changed the pool"
ok "taken names, missing images, non-root callers and hostile names: refused with named errors"

long=$(printf 'x%.0s' $(seq 5000))
for args in "create x --template=" "create x --template=$long" "create x --template=../t" \
    "create x --mirror=" "create x --mirror=garbage" "create x --mirror=-x" "create x --pool=" \
    "create x --pool=relative" "list-images --read-only" "list-images --state-dir=" \
    "read-only c1 maybe" "clone c1" "clone" "remove" "snapshot c1" "import-tar $WORK/x.tar" \
    "clone c1 $long" "export-tar $long $WORK/x.tar"; do
    # shellcheck disable=SC2086
    expect_rc 2 nc $args
done
[ "$(state_snapshot | grep -v '\.#.*\.lck$')" = "$(grep -v '\.#.*\.lck$' <<<"$state")" ] ||
    fail "bad options changed the pool"
ok "image verb options with empty, garbage and very long values: usage errors, nothing changed"

expect_rc 0 nc export-tar c1 "$WORK/c1.tar.zst"
expect_rc 0 nc import-tar "$WORK/c1.tar.zst" c4
expect_rc 0 nc copy-from c4 /etc/hostname "$WORK/hostname"
[ "$(cat "$WORK/hostname")" = debian-bookworm ] || fail "copy-from"
echo hello >"$WORK/hello"
expect_rc 0 nc copy-to c4 "$WORK/hello" /root/hello
[ "$(cat "$POOL/c4/root/hello")" = hello ] || fail "copy-to"
expect_rc 3 nc copy-to nosuch "$WORK/hello" /root/hello
expect_rc 3 nc copy-from nosuch /etc/hostname "$WORK/nosuch-hostname"
[ ! -e "$WORK/nosuch-hostname" ] || fail "copy-from a missing image made a file"
python3 - "$WORK/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    m = tarfile.TarInfo("../evil"); m.size = 1; t.addfile(m, io.BytesIO(b"x"))
PY
expect_rc 1 nc import-tar "$WORK/evil.tar" c5
grep -q "Refused archive member '../evil'" <<<"$ERR" || fail "no reason: $ERR"
[ ! -e "$POOL/c5" ] || fail "refused archive imported"
ok "export-tar, import-tar, copy-to, copy-from over the bus; a crafted archive refused with its reason"

# --- a booted machine's image cannot be removed, renamed or restored
expect_rc 0 nc snapshot c1 before
expect_rc 0 nc start c1
wait_until 120 sh -c "\"$NSPAWNCTL\" list | grep -q '^c1 .*running'" || { nc list; fail "c1 did not boot"; }
expect_rc 5 nc remove c1
expect_rc 5 nc rename c1 c9
expect_rc 5 nc restore c1 before
[ -d "$POOL/c1/etc" ] && [ ! -e "$POOL/c9" ] || fail "running image touched"
expect_rc 0 nc poweroff c1
wait_until 90 sh -c "! \"$NSPAWNCTL\" list | grep -q '^c1 '" || fail "c1 did not power off"
wait_until 30 sh -c "! grep -q '$POOL/c1' /proc/self/mountinfo" || fail "mounts of c1 left"
expect_rc 0 nc remove c1
ok "a clone boots through machined; remove/rename/restore refused while it runs, fine after"

# --- the bus is served while a long import runs
mkdir -p "$WORK/big"
head -c 600M /dev/zero >"$WORK/big/zero"
tar -C "$WORK/big" -cf "$WORK/big.tar" .
rm -rf "$WORK/big"
"$NSPAWNCTL" import-tar "$WORK/big.tar" big >"$WORK/import.out" 2>&1 &
imp=$!
CLEANUP_PIDS="$CLEANUP_PIDS $imp"
wait_until 30 pgrep -f -- "-xpf - -C $POOL/.#big.tmp" >/dev/null || fail "import did not start"
expect_rc 0 nc list-images
grep -q '^bookworm ' <<<"$OUT" || fail "list during import: $OUT"
kill -0 "$imp" 2>/dev/null || fail "import finished before the list: cannot tell"
wait "$imp" || { cat "$WORK/import.out" >&2; fail "import failed"; }
[ -s "$POOL/big/zero" ] || fail "import incomplete"
ok "list-images answered while a 600 MB import was running"

# --- list-images with many images: the usage walk happens once per image, not per list
for i in $(seq 1 24); do btrfs -q subvolume snapshot "$POOL/bookworm" "$POOL/many$i"; done
sync -f "$POOL/bookworm"
ms_of() { t0=$(date +%s%N); "$@" >"$WORK/list.json"; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
# The first list walks 24 new images in a worker; machined answers others meanwhile.
t0=$(date +%s%N)
nc list-images --json >"$WORK/list.json" &
lst=$!
CLEANUP_PIDS="$CLEANUP_PIDS $lst"
sleep 0.3
expect_rc 0 call GetImage s bookworm
kill -0 "$lst" 2>/dev/null || fail "the first list finished before GetImage: cannot tell"
wait "$lst" || fail "list-images failed"
t1=$(date +%s%N)
first=$(((t1 - t0) / 1000000))
second=$(ms_of nc list-images --json)
usage_of() { python3 -c 'import json,sys; print(next(i["usage"] for i in json.load(open(sys.argv[1])) if i["name"]==sys.argv[2]))' "$WORK/list.json" "$1"; }
u_before=$(usage_of many7)
[ "$(usage_of many8)" = "$u_before" ] && [ "$u_before" -gt $((100 << 20)) ] || fail "usage of snapshots: $(cat "$WORK/list.json")"
[ "$second" -lt 1000 ] && [ "$second" -lt "$first" ] || fail "second list of 26 images took $second ms (first $first ms)"
head -c 8M /dev/urandom >"$POOL/many7/grown"
sync -f "$POOL/many7/grown"
expect_rc 0 nc list-images --json
echo "$OUT" >"$WORK/list.json"
u_after=$(usage_of many7)
[ "$u_after" -ge $((u_before + (8 << 20))) ] || fail "usage of a changed image not updated: $u_before -> $u_after"
[ "$(usage_of many8)" = "$u_before" ] || fail "usage of an unchanged image changed"
for i in $(seq 1 24); do btrfs -q subvolume delete "$POOL/many$i" >/dev/null; done
ok "list-images of 26 images: $first ms (GetImage answered meanwhile), then $second ms from the usage cache; a changed image is walked again"

expect_rc 0 nc clean
expect_rc 0 nc remove big c4 bookworm
expect_rc 0 nc list-images --json
[ "$OUT" = "[]" ] || fail "images left: $OUT"
ok "clean and remove leave an empty pool"
