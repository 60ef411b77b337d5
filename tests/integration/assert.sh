# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by lib.sh and image-lib.sh after they set their EXIT trap: TAP-style results and
# exit-code checks, the same for every integration test.

# meson ends a test that times out with SIGTERM: leave through the EXIT trap then too.
trap 'exit 143' TERM; trap 'exit 130' INT; trap 'exit 129' HUP

ok() { N=$((N + 1)); echo "ok $N - $*"; }
fail() { echo "not ok - $*" >&2; exit 1; }

# expect_rc WANT CMD...: CMD must exit with WANT; its output is in $OUT and $ERR.
expect_rc() {
    want=$1; shift
    set +e
    "$@" >"$WORK/out" 2>"$WORK/err"
    got=$?
    set -e
    OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
    [ "$got" = "$want" ] || { cat "$WORK/err" >&2; fail "expected exit $want, got $got: $*"; }
}
