#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# create through machined: the first create runs debootstrap in machined's worker and its
# progress reaches nspawnctl as ImageProgress signals (package counts, not a line per
# package) while machined keeps answering other calls; the second create snapshots the
# cached base in seconds; taken names, missing templates, bad mirrors, non-root callers and
# hostile names are refused with nothing created; no machined: exit 6.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
: "${IMAGE_TOOL:?run through meson test}"
command -v debootstrap >/dev/null || fail "debootstrap is not installed"
command -v mkfs.btrfs >/dev/null || fail "mkfs.btrfs is not installed"
mirror=$("$SOURCE_ROOT/tests/integration/host-mirror.sh")

nc() { "$NSPAWNCTL" "$@"; }
call() { busctl --system -- call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager "$@"; }
# Everything in the pool but lock files (which any refused call on a name may leave).
pool_list() { (cd "$POOL" && find . -xdev ! -name '.#*.lck' | LC_ALL=C sort); }

rmdir "$POOL"
[ "$("$IMAGE_TOOL" setup "$POOL" 3072)" = btrfs ] || fail "pool setup"
start_bus policy
start_machined

busctl --system introspect --xml-interface org.nspawnctl.machined1 /org/nspawnctl/machined1 >"$WORK/intro.xml"
grep -A6 '<method name="CreateImage">' "$WORK/intro.xml" | grep -q 'name="template"' || fail "CreateImage arg names"
grep -A5 '<signal name="ImageProgress">' "$WORK/intro.xml" | grep -q 'name="total"' || fail "ImageProgress signal"
ok "introspection shows CreateImage and the ImageProgress signal with argument names"

# --- the first create runs debootstrap in machined; the bus is served meanwhile
t0=$(date +%s)
nc create box1 --mirror="$mirror" >"$WORK/create1.out" 2>"$WORK/create1.err" &
cr=$!
CLEANUP_PIDS="$CLEANUP_PIDS $cr"
wait_until 120 grep -q '^retrieving' "$WORK/create1.out" || { cat "$WORK/create1.err" >&2; fail "no progress from create"; }
l0=$(date +%s%N)
expect_rc 0 nc list-images
l1=$(date +%s%N)
kill -0 "$cr" 2>/dev/null || fail "create finished before the list: cannot tell"
ok "list-images answered in $(((l1 - l0) / 1000000)) ms while debootstrap ran in machined"
wait "$cr" || { cat "$WORK/create1.out" "$WORK/create1.err" >&2; fail "first create failed"; }
t1=$(date +%s)
out=$(cat "$WORK/create1.out")
for p in preparing retrieving extracting unpacking configuring post-setup snapshot; do
    grep -q "^$p" <<<"$out" || fail "no $p phase: $out"
done
grep -Eq '^  [0-9]+ packages$' <<<"$out" || fail "no package count: $out"
# debootstrap unpacks and configures in two rounds (required, then base packages); the
# counts run on across both.
grep -Eq '^  [0-9]+/[0-9]+ packages$' <<<"$out" || fail "no count against the total: $out"
[ "$(grep -c . <<<"$out")" -lt 30 ] || fail "progress floods: $(grep -c . <<<"$out") lines"
grep -q '^Created image box1 from template debian-bookworm' <<<"$out" || fail "no result line: $out"
expect_rc 0 "$IMAGE_TOOL" --all list "$POOL"
grep -q '^\.base-debian-bookworm	subvolume	ro' <<<"$OUT" || fail "no read-only base: $OUT"
grep -q '^box1	subvolume	rw' <<<"$OUT" || fail "no box1: $OUT"
[ "$(cat "$POOL/box1/etc/hostname")" = box1 ] || fail "hostname of box1"
no_temps=$(find "$POOL" -maxdepth 1 -name '.#*' ! -name '*.lck')
[ -z "$no_temps" ] || fail "temporaries left: $no_temps"
ok "first create through machined ran debootstrap ($((t1 - t0)) s), progress as counts: $(grep -c . <<<"$out") lines"

# --- the second create snapshots the cached base
t0=$(date +%s%N)
expect_rc 0 nc create box2
t1=$(date +%s%N)
! grep -q '^retrieving' <<<"$OUT" || fail "debootstrap ran again: $OUT"
grep -q '^snapshot' <<<"$OUT" || fail "no snapshot step: $OUT"
[ "$(cat "$POOL/box2/etc/hostname")" = box2 ] || fail "hostname of box2"
ms=$(((t1 - t0) / 1000000))
[ "$ms" -lt 30000 ] || fail "second create took $ms ms"
expect_rc 0 nc list-images
grep -Eq '^box2 +subvolume +no ' <<<"$OUT" || fail "box2 not listed: $OUT"
ok "second create snapshots the cached base: $ms ms"

# --- the created image boots through machined, reaches multi-user, powers off
# On a network of its own: in a user namespace (machined's default) a box in the host's
# network namespace may not bind the template's resolved stub on port 53 (issue 10 gives
# every box its own network).
mkdir -p "$WORK/etc"
printf '[Network]\nPrivate=yes\n' >"$WORK/etc/box2.nspawn"
expect_rc 0 nc start box2
booted() { nc status box2 2>/dev/null | grep -q "State: running"; }
wait_until 120 booted || { nc status box2 >&2 || true; fail "box2 did not reach running"; }
expect_rc 0 nc shell box2 -- systemctl is-active multi-user.target
[ "$OUT" = active ] || fail "multi-user.target in box2: $OUT"
expect_rc 0 nc shell box2 -- sh -c 'systemctl --failed --no-legend | wc -l'
[ "$OUT" = 0 ] || { nc shell box2 -- systemctl --failed >&2 || true; fail "failed units in box2"; }
expect_rc 0 nc poweroff box2
gone() { ! nc status box2 >/dev/null 2>&1; }
wait_until 60 gone || fail "box2 did not power off"
ok "the created image boots through machined to multi-user.target with no failed unit and powers off"

# --- the same on machined's private socket, without the dbus-daemon: progress still comes
expect_rc 0 env DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORK/none "$NSPAWNCTL" create box3
grep -q '^snapshot' <<<"$OUT" && grep -q '^Created image box3' <<<"$OUT" || fail "create on the private socket: $OUT"
[ "$(cat "$POOL/box3/etc/hostname")" = box3 ] || fail "hostname of box3"
ok "create on the private socket shows its progress too"

# --- refused, nothing created
before=$(pool_list)
expect_rc 4 nc create box1
grep -q "exists" <<<"$ERR" || fail "taken name: $ERR"
expect_rc 3 nc create box9 --template=no-such-template
grep -q "No template 'no-such-template'" <<<"$ERR" || fail "missing template: $ERR"
expect_rc 7 as_nobody "$NSPAWNCTL" create box9
long=$(printf 'a%.0s' $(seq 65))
for n in "" "../etc" "a/b" "-x" "x-" "a..b" ".#x" ".base-debian-bookworm" "$long" "$(printf 'a\tb')" "$(printf 'a\001b')"; do
    expect_rc 2 nc create -- "$n"
    set +e; err=$(busctl --system -- call org.nspawnctl.machined1 /org/nspawnctl/machined1 \
        org.nspawnctl.machined1.Manager CreateImage sssbb "$n" debian-bookworm "" false false 2>&1); set -e
    grep -q "Invalid image name" <<<"$err" || fail "machined accepted name '$n': $err"
done
for t in "../templates/debian-bookworm" "a/b" "" "-x"; do
    set +e; err=$(call CreateImage sssbb box9 "$t" "" false false 2>&1); set -e
    grep -q "Invalid template name" <<<"$err" || fail "machined accepted template '$t': $err"
done
for m in "garbage" "-x" "http://a b" "$(printf 'http://a\nb')" "file:"; do
    set +e; err=$(call CreateImage sssbb box9 debian-bookworm "$m" false false 2>&1); set -e
    grep -q "mirror must be" <<<"$err" || fail "machined accepted mirror '$m': $err"
done
expect_rc 2 nc create box9 --mirror="http://a b"
[ "$(pool_list)" = "$before" ] || { diff <(echo "$before") <(pool_list) >&2; fail "a refused create changed the pool"; }
ok "taken name (4), missing template (3), non-root (7), hostile names, templates and mirrors (2): nothing created"

kill9_machined
stop_bus
expect_rc 6 nc create box9
grep -q "machined is not running" <<<"$ERR" || fail "no machined: $ERR"
ok "create without machined: exit 6, one clear line"
