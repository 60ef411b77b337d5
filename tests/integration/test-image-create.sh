#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Create from a template: the first create runs debootstrap once into the hidden read-only
# base .base-debian-bookworm; a second create only snapshots it; --refresh rebuilds the base
# and leaves images made from the old one alone.
. "$(dirname "$0")/image-lib.sh"
: "${NSPAWNCTL:?run through meson test}"
mirror=$("$SOURCE_ROOT/tests/integration/host-mirror.sh")
command -v debootstrap >/dev/null || fail "debootstrap is not installed"

expect_rc 0 it setup "$POOL" 3072
base="$POOL/.base-debian-bookworm"

t0=$(date +%s)
expect_rc 0 it --mirror "$mirror" create "$POOL" box1 debian-bookworm
t1=$(date +%s)
grep -q '^retrieving' <<<"$OUT" && grep -q '^configuring' <<<"$OUT" || fail "no debootstrap progress: $OUT"
[ "$(grep -c . <<<"$OUT")" -lt 40 ] || fail "progress floods: $(grep -c . <<<"$OUT") lines"
expect_rc 0 it --all list "$POOL"
grep -q '^\.base-debian-bookworm	subvolume	ro' <<<"$OUT" || fail "no read-only base: $OUT"
grep -q '^box1	subvolume	rw' <<<"$OUT" || fail "no box1: $OUT"
[ "$(cat "$POOL/box1/etc/hostname")" = box1 ] || fail "hostname of box1"
[ "$(cat "$base/etc/hostname")" = debian-bookworm ] || fail "hostname of the base"
[ ! -s "$POOL/box1/etc/machine-id" ] || fail "machine-id not empty"
[ -x "$POOL/box1/usr/lib/systemd/systemd" ] || fail "no systemd in the image"
[ -z "$(ls "$POOL/box1/var/cache/apt/archives/" | grep '\.deb$' || true)" ] || fail "package cache kept"
no_temporaries "$POOL"
ok "first create ran debootstrap ($((t1 - t0)) s) and kept a read-only base"

t0=$(date +%s%N)
expect_rc 0 it --mirror "$mirror" create "$POOL" box2 debian-bookworm
t1=$(date +%s%N)
! grep -q '^retrieving' <<<"$OUT" || fail "debootstrap ran again"
grep -q '^snapshot' <<<"$OUT" || fail "no snapshot step: $OUT"
[ "$(cat "$POOL/box2/etc/hostname")" = box2 ] || fail "hostname of box2"
sync -f "$POOL"
excl=$(btrfs filesystem du -s --raw "$POOL/box2" | awk 'NR==2 {print $2}')
[ "$excl" -lt $((1 << 20)) ] || fail "second create copied data: $excl exclusive bytes"
ok "second create snapshots the base: $(((t1 - t0) / 1000000)) ms, $excl bytes of its own"

# The created image boots: systemd reaches multi-user.target and powers off (ephemeral
# run, so the image itself stays as it is).
cat >"$WORK/exit-poweroff.service" <<EOT
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "NSPAWNCTL-TEST: multi-user \$(systemctl is-active multi-user.target) \$(hostname)" >/dev/console; systemctl poweroff --no-block'
EOT
expect_rc 0 "$NSPAWNCTL" run -q -D "$POOL/box2" -x -M "t$$-box2" --boot \
    --bind-ro="$WORK/exit-poweroff.service:/etc/systemd/system/exit-poweroff.service" \
    -- systemd.wants=exit-poweroff.service
grep -q "NSPAWNCTL-TEST: multi-user active" <<<"$OUT" || { tail -20 <<<"$OUT"; fail "box2 did not boot"; }
! grep -q "FAILED" <<<"$OUT" || { grep FAILED <<<"$OUT"; fail "a unit failed in box2"; }
ok "the created image boots to multi-user.target with no failed unit"

state=$(pool_state "$POOL")
expect_rc 4 it create "$POOL" box1 debian-bookworm
expect_rc 3 it create "$POOL" box9 no-such-template
expect_rc 1 it create "$POOL" ../box debian-bookworm
expect_rc 1 it create "$POOL" box9 ../templates/debian-bookworm
expect_rc 1 it create "$POOL" .base-debian-bookworm debian-bookworm
diff <(echo "$state") <(pool_state "$POOL") >&2 || fail "pool changed by a refused create"
ok "create onto an existing name, of a missing template, with hostile names: refused"

echo "mine" >"$POOL/box1/root/keep"
base_id_before=$(btrfs subvolume show "$base" | awk '/Subvolume ID:/ {print $3}')
expect_rc 0 it --refresh --mirror "$mirror" create "$POOL" box3 debian-bookworm
grep -q '^retrieving' <<<"$OUT" || fail "--refresh did not rebuild the base"
base_id_after=$(btrfs subvolume show "$base" | awk '/Subvolume ID:/ {print $3}')
[ "$base_id_before" != "$base_id_after" ] || fail "base not replaced"
[ "$(cat "$POOL/box1/root/keep")" = mine ] || fail "an image made from the old base changed"
expect_rc 0 it --all list "$POOL"
[ "$(grep -c '^\.base-' <<<"$OUT")" = 1 ] || fail "more than one base: $OUT"
btrfs subvolume sync "$POOL" >/dev/null
no_temporaries "$POOL"
ok "--refresh rebuilds the base in place; existing images stay"
