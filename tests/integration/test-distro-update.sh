#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nspawnctl update: the upgrade runs in a machine on a copy of the image, which replaces
# the image (one RENAME_EXCHANGE) only when the upgrade succeeded. A command after "--"
# stands in for apt where the swap logic is tested; one run uses the real default (apt-get
# update && upgrade against the host's Debian mirror, as the debootstrap tests do).
. "$(dirname "$0")/distro-lib.sh"
IMG=t$$-upd
add_image "$IMG" "$TREE"
upd() { "$NSPAWNCTL" update --pool="$POOL" --state-dir="$STATE" "$@"; }
temporaries() { ls -A "$POOL" | grep -F ".#$IMG" | grep -v '\.lck$' || true; }
ino() { stat -c %i "$POOL/$IMG"; }

# Success: the new tree is swapped in, the old one is gone.
old=$(ino)
expect_rc 0 upd "$IMG" -- sh -c 'echo upgraded >/etc/nspawnctl-upgraded; [ ! -e /etc/nspawnctl-upgraded.old ]'
[ "$(cat "$POOL/$IMG/etc/nspawnctl-upgraded")" = upgraded ] || fail "the change is not in the image"
[ "$(ino)" != "$old" ] || fail "the image was changed in place, not swapped"
[ -z "$(temporaries)" ] || fail "temporaries left: $(temporaries)"
grep -q "Updated image $IMG" <<<"$OUT" || fail "no success message: $OUT"
ok "a successful upgrade is swapped in atomically; nothing else left in the pool"
assert_nothing_left "$IMG" "$(pool_state)"

# Failure: the image is as it was.
before=$(pool_state); old=$(ino)
expect_rc 1 upd "$IMG" -- sh -c 'echo half >/etc/half-upgraded; exit 3'
[ ! -e "$POOL/$IMG/etc/half-upgraded" ] && [ "$(ino)" = "$old" ] || fail "a failed upgrade changed the image"
grep -q "failed (exit status 3); the image is unchanged" <<<"$ERR" || fail "no clear error: $ERR"
[ -z "$(temporaries)" ] || fail "temporaries left after a failure: $(temporaries)"
assert_nothing_left "$IMG" "$before"; ok "a failed upgrade leaves the image unchanged"

# Refused while the image's machine runs (its name lock is held), and nothing is copied.
"$NSPAWNCTL" run -q -D "$POOL/$IMG" -x -M "$IMG" --state-dir="$STATE" --settings=no --as-pid2 -- sleep 600 &
runner=$!
CLEANUP_PIDS="$CLEANUP_PIDS $runner"
wait_until 30 test -e "$STATE/locks/$IMG" || fail "the machine did not start"
expect_rc 5 upd "$IMG" -- true
expect_one_line_error
grep -q "is running" <<<"$ERR" || fail "no clear error: $ERR"
[ -z "$(temporaries)" ] && [ "$(ino)" = "$old" ] || fail "something was made while refusing"
kill "$runner"; wait "$runner" || true
ok "refused (exit 5) while the image's machine runs"

# kill -9 of update while its machine runs: the machine dies with it, the image is
# unchanged, and the temporary it leaves is what `clean` removes.
# (not through upd(): a function in the background is a subshell, and kill -9 must hit nspawnctl)
"$NSPAWNCTL" update --pool="$POOL" --state-dir="$STATE" "$IMG" -- sh -c 'echo running; exec sleep 600' >"$WORK/k9.out" 2>&1 &
cli=$!
CLEANUP_PIDS="$CLEANUP_PIDS $cli"
wait_until 60 grep -q '^running$' "$WORK/k9.out" || fail "the update machine did not run: $(cat "$WORK/k9.out")"
kill -9 "$cli"; wait "$cli" 2>/dev/null || true
wait_until 30 nothing_left "$IMG" || fail "the update's machine outlived kill -9"
[ "$(ino)" = "$old" ] && [ ! -e "$POOL/$IMG/etc/half-upgraded" ] || fail "the image changed"
"$IMAGE_TOOL" clean "$POOL" >/dev/null
[ -z "$(temporaries)" ] || fail "clean left temporaries: $(temporaries)"
assert_nothing_left "$IMG" "$before"; ok "kill -9 during the upgrade: image unchanged, machine gone, temporary cleaned"

# Bad input: a clear error, nothing made.
expect_rc 2 upd; expect_one_line_error
expect_rc 2 upd "../$IMG"; expect_one_line_error
expect_rc 2 upd "$IMG" -- ''; expect_one_line_error
expect_rc 2 upd --pool= "$IMG"; expect_one_line_error
expect_rc 3 upd "t$$-nosuch"; expect_one_line_error
[ "$(pool_state)" = "$before" ] || fail "bad input changed the pool"
ok "bad input: one-line errors, nothing made"

# The real thing: apt-get update && apt-get -y upgrade in the machine (host network).
expect_rc 0 upd "$IMG"
grep -q "Reading package lists" <<<"$OUT" && grep -q "Updated image $IMG" <<<"$OUT" || fail "apt did not run: $OUT"
[ -z "$(temporaries)" ] || fail "temporaries left: $(temporaries)"
ok "the default upgrade (apt-get update, upgrade, clean) runs and is swapped in"
