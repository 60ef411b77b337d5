#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nspawnctl test when things go wrong: --timeout stops the one machine that hangs (result
# timeout) while the others pass; SIGINT midway stops every machine in order (exit 130,
# results error/skipped, table and JUnit written); kill -9 of the CLI takes its machines
# along (PR_SET_PDEATHSIG, the runtime's cleanup guards). Every time nothing is left: the
# pool unchanged, no machine, no mount, no cgroup, no process.
. "$(dirname "$0")/distro-lib.sh"
A=t$$-alpha B=t$$-beta C=t$$-gamma
add_image "$A" "$TREE"; add_image "$B" "$TREE"; add_image "$C" "$TREE"
before=$(pool_state)

# --timeout: beta hangs (and ignores SIGTERM); the others finish.
hang='case $(hostname) in *-beta-*) trap "" TERM; echo hanging; while :; do sleep 1; done;; esac; echo done'
expect_rc 1 nt --image="$A,$B,$C" --timeout=3 --junit="$WORK/t.xml" -- sh -c "$hang"
grep -Eq "^$B +timeout +- .*timeout of 3.0 s" <<<"$OUT" || fail "beta not timed out: $OUT"
grep -Eq "^$A +pass " <<<"$OUT" && grep -Eq "^$C +pass " <<<"$OUT" || fail "others did not pass: $OUT"
grep -q 'failures="1"' "$WORK/t.xml" && grep -q 'type="timeout"' "$WORK/t.xml" || fail "JUnit: $(cat "$WORK/t.xml")"
ok "--timeout: the hanging machine is stopped and marked timeout, the others pass"
assert_nothing_left "t$$-" "$before"; ok "nothing left after a timeout"

# SIGINT midway: two machines run a long sleep, the third waits its turn (--jobs=2).
"$NSPAWNCTL" test --pool="$POOL" --state-dir="$STATE" --image="$A,$B,$C" --jobs=2 --log-dir="$WORK/int" \
    --junit="$WORK/int.xml" -- sh -c 'echo up; exec sleep 600' >"$WORK/int.out" 2>&1 &
cli=$!
CLEANUP_PIDS="$CLEANUP_PIDS $cli"
up() { [ "$(cat "$WORK/int/$A.log" "$WORK/int/$B.log" 2>/dev/null | grep -c '^up$')" = 2 ]; }
wait_until 60 up || fail "machines did not come up: $(cat "$WORK/int.out")"
kill -INT "$cli"
set +e; wait "$cli"; rc=$?; set -e
[ "$rc" = 130 ] || fail "exit status after SIGINT: $rc, $(cat "$WORK/int.out")"
grep -Eq "^$A +error .*interrupted" "$WORK/int.out" && grep -Eq "^$B +error .*interrupted" "$WORK/int.out" ||
    fail "running machines not marked interrupted: $(cat "$WORK/int.out")"
grep -Eq "^$C +skipped " "$WORK/int.out" || fail "queued machine not skipped: $(cat "$WORK/int.out")"
grep -q 'errors="2"' "$WORK/int.xml" && grep -q 'skipped="1"' "$WORK/int.xml" || fail "JUnit: $(cat "$WORK/int.xml")"
ok "SIGINT: exit 130, running machines error (interrupted), the queued one skipped, JUnit written"
assert_nothing_left "t$$-" "$before"; ok "nothing left after SIGINT"

# kill -9 of the CLI, plain and booted machines: they die with it; the runtime's guards
# clean up (asynchronously: waited for, bounded).
for mode in "" --boot; do
    rm -rf "$WORK/k9"
    "$NSPAWNCTL" test --pool="$POOL" --state-dir="$STATE" --image="$A,$B" $mode --log-dir="$WORK/k9" \
        -- sh -c 'echo up; exec sleep 600' >"$WORK/k9.out" 2>&1 &
    cli=$!
    CLEANUP_PIDS="$CLEANUP_PIDS $cli"
    k9up() { [ "$(cat "$WORK/k9/$A.log" "$WORK/k9/$B.log" 2>/dev/null | grep -c '^up$')" = 2 ]; }
    wait_until 120 k9up || fail "machines did not come up ($mode): $(cat "$WORK/k9.out")"
    pgrep -f -- "--machine=$A-t" >/dev/null || fail "no runtime of $A running before kill -9"
    kill -9 "$cli"
    wait "$cli" 2>/dev/null || true
    wait_until 30 nothing_left "t$$-" || { nothing_left "t$$-" || true; fail "left behind after kill -9 ($mode)"; }
    [ "$(pool_state)" = "$before" ] || fail "the pool changed after kill -9 ($mode)"
    ok "kill -9 of the CLI ${mode:-(plain)}: machines, cgroups, records, locks and mounts gone"
done
