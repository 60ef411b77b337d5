#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The CLI tells the truth (issue 12): every exit code and message means what it says
# (destinations that exist, racing clones and snapshots, a failed post-setup, an unknown
# template), a start never races a remove of its image (100 times), failed operations leave
# nothing in the pool (no temporary, no lock file, no console socket), status of a stopped
# box, --json on every verb that prints data, list-templates, import-tar of a rootfs tarball
# with device nodes, progress of import and export, MODIFIED that follows the box.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
: "${IMAGE_TOOL:?run through meson test}" "${STATIC_INIT:?run through meson test}"
command -v mkfs.btrfs >/dev/null || fail "mkfs.btrfs is not installed"

nc() { "$NSPAWNCTL" "$@"; }
BOX=$(machine_name box)
pool_populate "$BOX"
[ "$POOL_BTRFS" = yes ] || fail "the pool is not btrfs"
# A tree that boots in a moment: the static init only.
mini_tree() { btrfs subvolume create "$1" >/dev/null; mkdir -p "$1/usr" "$1/lib/systemd"; cp "$STATIC_INIT" "$1/lib/systemd/systemd"; }
mini_tree "$POOL/.mini"
btrfs property set -ts "$POOL/.mini" ro true
# Everything in the pool but lock files, and the lock files alone.
pool_list() { (cd "$POOL" && find . -xdev ! -name '.#*.lck' | LC_ALL=C sort); }
locks() { (cd "$POOL" && find . -maxdepth 1 -name '.#*.lck' | LC_ALL=C sort); }
json_ok() { python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$1" || fail "not JSON: $1"; }

mkdir -p "$WORK/etc"
printf '[Exec]\nBoot=yes\n# a comment\n\n[Resources]\nMemoryMax=1G\n' >"$WORK/etc/$BOX.nspawn"
start_bus policy
start_machined

# --- exit codes and messages that mean what they say
echo data >"$WORK/file"
expect_rc 4 nc copy-to "$BOX" "$WORK/file" /etc/hostname; expect_one_line_error
grep -q "'/etc/hostname' exists already in image '$BOX'" <<<"$ERR" || fail "copy-to onto an existing file: $ERR"
expect_rc 4 nc copy-from "$BOX" /etc/hostname "$WORK/file"; expect_one_line_error
grep -q "'$WORK/file' exists already" <<<"$ERR" || fail "copy-from onto an existing file: $ERR"
grep -q "An image" <<<"$ERR" && fail "copy-from talks of an image: $ERR"
expect_rc 1 nc copy-from "$BOX" /no/such/file "$WORK/new"; expect_one_line_error
grep -q "No such file" <<<"$ERR" || fail "copy-from of a missing file: $ERR"
touch "$WORK/exists.tar"
expect_rc 4 nc export-tar "$BOX" "$WORK/exists.tar"; expect_one_line_error
grep -q "'$WORK/exists.tar' exists already" <<<"$ERR" || fail "export-tar onto an existing file: $ERR"
ok "copy-to, copy-from and export-tar onto what exists: exit 4 naming the destination; a missing path is exit 1, no missing image"

pids=""
for i in $(seq 10); do nc clone "$BOX" "$BOX-c" >"$WORK/clone$i.out" 2>"$WORK/clone$i.err" & pids="$pids $!"; done
wins=0; losses=0
for p in $pids; do if wait "$p"; then wins=$((wins + 1)); else losses=$((losses + 1)); fi; done
[ "$wins" = 1 ] || fail "parallel clones: $wins succeeded"
for i in $(seq 10); do
    [ -s "$WORK/clone$i.err" ] || continue
    grep -q "An image '$BOX-c' exists already" "$WORK/clone$i.err" || fail "a losing clone says: $(cat "$WORK/clone$i.err")"
done
pids=""
for i in $(seq 10); do nc snapshot "$BOX" snap >"$WORK/snap$i.out" 2>"$WORK/snap$i.err" & pids="$pids $!"; done
wins=0; rcs=""
for p in $pids; do set +e; wait "$p"; rc=$?; set -e; rcs="$rcs $rc"; [ $rc = 0 ] && wins=$((wins + 1)); done
[ "$wins" = 1 ] || fail "parallel snapshots: $wins succeeded"
[ "$(tr ' ' '\n' <<<"$rcs" | grep -c '^4$')" = 9 ] || fail "losing snapshots exit with:$rcs"
for i in $(seq 10); do
    [ -s "$WORK/snap$i.err" ] || continue
    grep -q "Image '$BOX' has a snapshot 'snap' already" "$WORK/snap$i.err" || fail "a losing snapshot says: $(cat "$WORK/snap$i.err")"
done
ok "ten parallel clones to one name and ten snapshots to one name: one wins, nine are told the destination exists (exit 4)"

# A template whose post-setup fails: a base without systemd-networkd.
btrfs subvolume create "$POOL/.base-debian-bookworm" >/dev/null
mkdir -p "$POOL/.base-debian-bookworm/etc" "$POOL/.base-debian-bookworm/usr"
echo base >"$POOL/.base-debian-bookworm/etc/hostname"
btrfs property set -ts "$POOL/.base-debian-bookworm" ro true
before=$(pool_list); locks_before=$(locks)
expect_rc 1 nc create "$BOX-ps" --template=debian-bookworm; expect_one_line_error
grep -q "post-setup failed" <<<"$ERR" || fail "failed post-setup: $ERR"
[ "$(pool_list)" = "$before" ] || { diff <(echo "$before") <(pool_list) >&2 || true; fail "a failed create left something"; }
[ "$(locks)" = "$locks_before" ] || fail "a failed create left lock files: $(locks)"
expect_rc 3 nc create "$BOX-nt" --template=no-such-template; expect_one_line_error
grep -q "No template 'no-such-template'; available: .*debian-bookworm" <<<"$ERR" || fail "unknown template: $ERR"
ok "a failed post-setup exits 1 and leaves the pool as it was; an unknown template (exit 3) lists the available ones"

expect_rc 0 nc list-templates
grep -q "^debian-bookworm " <<<"$OUT" || fail "list-templates: $OUT"
expect_rc 0 nc list-templates --json; json_ok "$OUT"
grep -q '"name":"debian-bookworm","description":' <<<"$OUT" || fail "list-templates --json: $OUT"
expect_rc 0 nc list-templates --no-legend
grep -q TEMPLATE <<<"$OUT" && fail "--no-legend shows the legend"
ok "list-templates, with --json and --no-legend"

# --- leftovers: lock files of names that hold nothing, temporaries
printf 'not a tar' >"$WORK/bad.tar"
expect_rc 1 nc import-tar "$WORK/bad.tar" "$BOX-bad"
expect_rc 0 nc clone "$BOX" "$BOX-r1"
expect_rc 0 nc rename "$BOX-r1" "$BOX-r2"
expect_rc 0 nc remove "$BOX-r2" "$BOX-c"
expect_rc 3 nc remove "$BOX-never"
for n in "$BOX-bad" "$BOX-r1" "$BOX-r2" "$BOX-c" "$BOX-never" "$BOX-ps" "$BOX-nt"; do
    [ ! -e "$POOL/.#$n.lck" ] || fail "lock file of $n left: $(locks)"
done
[ -z "$(find "$POOL" -maxdepth 1 -name '.#*.tmp*')" ] || fail "temporaries left"
ok "no lock file stays for a name that holds no image (refused import, rename, remove, missing name)"

# --- status of a stopped box, --json everywhere
expect_rc 0 nc status "$BOX"
grep -q "State: stopped" <<<"$OUT" || fail "status of a stopped box: $OUT"
grep -q "Settings: $WORK/etc/$BOX.nspawn" <<<"$OUT" || fail "status: no settings file: $OUT"
grep -q "Boot=yes" <<<"$OUT" && grep -q "MemoryMax=1G" <<<"$OUT" || fail "status: no settings: $OUT"
grep -q "a comment" <<<"$OUT" && fail "status shows comments: $OUT"
expect_rc 0 nc status --json "$BOX"; json_ok "$OUT"
grep -q '"state":"stopped"' <<<"$OUT" && grep -q '"settings":\["\[Exec\]","Boot=yes"' <<<"$OUT" || fail "status --json: $OUT"
expect_rc 3 nc status "$BOX-nothing"; expect_one_line_error
grep -q "No machine or image '$BOX-nothing'" <<<"$ERR" || fail "status of nothing: $ERR"
expect_rc 0 nc image-status --json "$BOX"; json_ok "$OUT"
grep -q '"name":"'"$BOX"'"' <<<"$OUT" && grep -q '"read_only":false' <<<"$OUT" && grep -q '"os_release":"Debian' <<<"$OUT" \
    || fail "image-status --json: $OUT"
for v in list list-images; do
    expect_rc 0 nc $v --json; json_ok "$OUT"
    [ "$(nc $v --json | tail -c1 | od -An -c | tr -d ' ')" = '\n' ] || fail "$v --json does not end with a newline"
done
expect_rc 0 nc clean --json; json_ok "$OUT"
expect_rc 0 nc list-snapshots --json "$BOX"; json_ok "$OUT"
grep -q '"name":"snap"' <<<"$OUT" || fail "list-snapshots --json: $OUT"
ok "status of a stopped box: 'stopped', its settings file and assignments (exit 0; 3 only when nothing exists); --json on status, image-status, list, list-images, list-snapshots, list-templates, clean"

# --- the start/remove race, 100 times
RACE=$(machine_name race)
started=0; removed=0; both=0
for i in $(seq 100); do
    btrfs subvolume snapshot "$POOL/.mini" "$POOL/$RACE" >/dev/null
    nc start "$RACE" >"$WORK/race-start.out" 2>"$WORK/race-start.err" & sp=$!
    nc remove "$RACE" >"$WORK/race-rm.out" 2>"$WORK/race-rm.err" & rp=$!
    set +e; wait $sp; src=$?; wait $rp; rrc=$?; set -e
    if [ $src = 0 ]; then
        started=$((started + 1))
        [ -d "$POOL/$RACE" ] || fail "run $i: start reported the machine running, its image was removed ($(cat "$WORK/race-rm.err"))"
        [ $rrc != 0 ] || fail "run $i: both start and remove succeeded"
        grep -q "is in use by its running machine\|is busy: another operation" "$WORK/race-rm.err" \
            || fail "run $i: remove of a starting machine's image says: $(cat "$WORK/race-rm.err")"
        nc terminate "$RACE" >/dev/null
        wait_until 30 sh -c "\"$NSPAWNCTL\" status $RACE 2>/dev/null | grep -q 'State: stopped'" || fail "run $i: did not stop"
        nc remove "$RACE" >/dev/null || { sleep 1; nc remove "$RACE" >/dev/null; }
    else
        [ $rrc = 0 ] && removed=$((removed + 1))
        [ $rrc != 0 ] && both=$((both + 1))
        grep -q "No image\|busy" "$WORK/race-start.err" || fail "run $i: a lost start says: $(cat "$WORK/race-start.err")"
        [ ! -d "$POOL/$RACE" ] || nc remove "$RACE" >/dev/null
    fi
    [ ! -d "$POOL/$RACE" ] || btrfs subvolume delete "$POOL/$RACE" >/dev/null
done
ok "start and remove raced 100 times: $started starts won (image kept, remove refused), $removed removes won, $both neither; never a running machine without its image"
[ -z "$(find "$STATE" -type s ! -name private)" ] || fail "sockets left in the state dir: $(find "$STATE" -type s)"
[ ! -e "$POOL/.#$RACE.lck" ] || fail "lock file of the removed race image left"

# A start that fails leaves no console socket behind.
FAILBOX=$(machine_name fail)
mini_tree "$POOL/$FAILBOX"
rm "$POOL/$FAILBOX/lib/systemd/systemd"
printf '#!/bin/false\n' >"$POOL/$FAILBOX/lib/systemd/systemd"; chmod 755 "$POOL/$FAILBOX/lib/systemd/systemd"
set +e; nc start "$FAILBOX" >/dev/null 2>&1; rc=$?; set -e
[ $rc != 0 ] || fail "a boot without a working init succeeded"
[ -z "$(find "$STATE" -type s ! -name private)" ] || fail "a failed start left sockets: $(find "$STATE" -type s)"
ok "a failed start leaves no console socket"

# --- snapshot and export of a running box: a note; MODIFIED follows the box
RUN=$(machine_name run)
btrfs subvolume snapshot "$POOL/.mini" "$POOL/$RUN" >/dev/null
expect_rc 0 nc start "$RUN"
expect_rc 0 nc snapshot "$RUN" s1
grep -q "machine $RUN is running; the snapshot is its disk as it is at this moment" <<<"$ERR" || fail "snapshot of a running box: $ERR"
expect_rc 0 nc export-tar "$RUN" "$WORK/run.tar"
grep -q "machine $RUN is running" <<<"$ERR" || fail "export of a running box: $ERR"
expect_rc 0 nc terminate "$RUN"
expect_rc 0 nc snapshot "$BOX" s2
[ -z "$ERR" ] || fail "snapshot of a stopped box says: $ERR"
ok "snapshot and export-tar of a running box note on stderr that the copy is of a running disk"

mod() { nc list-images --json | python3 -c 'import json,sys; print([i["modified"] for i in json.load(sys.stdin) if i["name"]==sys.argv[1]][0])' "$1"; }
sync
m0=$(mod "$BOX")
echo change >"$POOL/$BOX/var/tmp/changed"
sync
m1=$(mod "$BOX")
[ "$m1" -gt "$m0" ] || fail "MODIFIED did not follow a change deep in the box: $m0 -> $m1"
ok "list-images MODIFIED follows a change deep in the box"

# --- import-tar of a rootfs tarball with device nodes; progress of import and export
R=$WORK/rootfs
mkdir -p "$R/dev" "$R/etc" "$R/usr"
echo imported >"$R/etc/hostname"
mknod "$R/dev/null" c 1 3; mknod "$R/dev/zero" c 1 5; mknod "$R/dev/loop9" b 7 9
tar -C "$R" -cf "$WORK/rootfs.tar" .
expect_rc 0 nc import-tar "$WORK/rootfs.tar" "$BOX-imp"
grep -q "Skipped 3 device nodes" <<<"$ERR" || fail "import of a tarball with device nodes: $ERR"
[ "$(cat "$POOL/$BOX-imp/etc/hostname")" = imported ] || fail "imported content"
[ -z "$(find "$POOL/$BOX-imp" -type c -o -type b)" ] || fail "device nodes were imported"
mkfifo "$R/dev/fifo"
tar -C "$R" -cf "$WORK/fifo.tar" .
expect_rc 1 nc import-tar "$WORK/fifo.tar" "$BOX-fifo"
grep -q "fifo" <<<"$ERR" || fail "a fifo is still refused: $ERR"
[ ! -e "$POOL/$BOX-fifo" ] && [ ! -e "$POOL/.#$BOX-fifo.lck" ] || fail "a refused import left something"
ok "import-tar skips device nodes with a warning naming how many; a fifo is still refused, leaving nothing"

# Piped: quiet. On a terminal (script gives one): bytes and rate.
PROG=$(machine_name prog)
btrfs subvolume snapshot "$POOL/.mini" "$POOL/$PROG" >/dev/null
dd if=/dev/urandom of="$POOL/$PROG/usr/big" bs=1M count=24 status=none
expect_rc 0 nc export-tar "$PROG" "$WORK/quiet.tar"
[ -z "$OUT$ERR" ] || fail "export-tar piped is not quiet: $OUT$ERR"
script -qec "\"$NSPAWNCTL\" export-tar $PROG $WORK/tty.tar" /dev/null >"$WORK/tty.out" 2>&1 || { cat "$WORK/tty.out"; fail "export-tar on a terminal"; }
grep -aEq "exporting +[0-9.]+[KMG]" "$WORK/tty.out" || fail "no export progress on a terminal: $(cat -v "$WORK/tty.out")"
script -qec "\"$NSPAWNCTL\" import-tar $WORK/tty.tar $PROG-tty" /dev/null >"$WORK/tty2.out" 2>&1 || { cat "$WORK/tty2.out"; fail "import-tar on a terminal"; }
grep -aEq "importing +[0-9.]+[KMG] of [0-9.]+[KMG]" "$WORK/tty2.out" || fail "no import progress on a terminal: $(cat -v "$WORK/tty2.out")"
ok "import-tar and export-tar show bytes and rate on a terminal, nothing when piped"

# --- a create that fails on a full pool leaves the pool as it was (a small loop-mounted
# ext4 pool, where an image is a copy of the base, through the image core)
SMALL=$WORK/small
mkdir -p "$SMALL"
truncate -s 96M "$WORK/small.img"
mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 "$WORK/small.img"
mount -o loop "$WORK/small.img" "$SMALL"
cleanup_small() { umount "$SMALL" 2>/dev/null || umount -l "$SMALL" 2>/dev/null || true; cleanup_machined; }
trap cleanup_small EXIT
mkdir -p "$SMALL/.base-debian-bookworm/etc" "$SMALL/.base-debian-bookworm/usr"
head -c 60M /dev/urandom >"$SMALL/.base-debian-bookworm/usr/blob"
chmod 700 "$SMALL"
sync
small_list() { (cd "$SMALL" && find . -xdev | LC_ALL=C sort); }
before=$(small_list); free_before=$(df --output=avail "$SMALL" | tail -1)
expect_rc 1 "$IMAGE_TOOL" create "$SMALL" full debian-bookworm
[ "$(small_list)" = "$before" ] || { diff <(echo "$before") <(small_list) >&2 || true; fail "a create on a full pool left something"; }
sync
[ "$(df --output=avail "$SMALL" | tail -1)" = "$free_before" ] || fail "a create on a full pool used space: $free_before -> $(df --output=avail "$SMALL" | tail -1)"
umount "$SMALL"
ok "a create that fails on a full pool leaves it as it was (no temporary, no lock file, the space free again)"
