#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's main command, `tools/setup.sh --demo`, against this test's machined and pool
# (it finds a running machined through NSPAWNCTL_STATE_DIR and takes the pool and the box's
# name from NSPAWNCTL_POOL and NSPAWNCTL_BOX): with the box already in the pool, stopped, it
# boots it, checks multi-user.target through a shell in it and powers it off; a second run
# does the same again. (Creating the box from the template is test-image-create's.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

B=$(machine_name box)
pool_populate "$B"
start_bus policy
start_machined
export NSPAWNCTL_BUILD_DIR=$BUILD_ROOT NSPAWNCTL_POOL=$POOL NSPAWNCTL_BOX=$B

for round in first second; do
    expect_rc 0 "$SOURCE_ROOT/tools/setup.sh" --demo
    echo "$OUT" | grep -q "^setup: booting $B\$" || fail "$round run did not boot the stopped box: $OUT $ERR"
    echo "$OUT" | grep -q "^setup: demo OK" || fail "$round run: $OUT $ERR"
    echo "$OUT" | grep -q "^setup: creating" && fail "$round run created the box again: $OUT"
    "$NSPAWNCTL" status "$B" | grep -q 'State: stopped' || fail "$round run left $B $("$NSPAWNCTL" status "$B")"
    ok "tools/setup.sh --demo, $round run: the stopped box booted to multi-user.target, a shell ran, it powered off"
done
