#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every bad input: one clear line, a non-zero exit, nothing created or left behind.
. "$(dirname "$0")/lib.sh"
M=$(machine_name err)
bad() { want=$1; shift; expect_rc "$want" "$NSPAWNCTL" run -q "$@"; expect_one_line_error; }

bad 2 -D "$WORK/missing" true;                ok "missing directory"
mkdir -p "$WORK/empty";     bad 1 -D "$WORK/empty" -M "$M" true;   ok "directory without /usr"
echo "$ERR" | grep -q "lacks /usr" || fail "message: $ERR"
mkdir -p "$WORK/noinit/usr/bin"; bad 1 -D "$WORK/noinit" -M "$M" --boot; ok "boot of a tree without init"
echo "$ERR" | grep -q "no init" || fail "message: $ERR"
for api in proc sys; do
    mkdir -p "$WORK/sym-$api/usr"; ln -s /"$api" "$WORK/sym-$api/$api"
    bad 1 -D "$WORK/sym-$api" -M "$M" true; ok "/$api as a symlink is refused"
    echo "$ERR" | grep -q "symlink" || fail "message: $ERR"
done
bad 1 -D "$TREE" -x -M "$M" --bind="$WORK/nonexistent:/mnt" true; ok "missing bind source"
bad 2 -D "$TREE" -x -M "$M" --bind=relative:/mnt true;            ok "relative bind source"
bad 2 -D "$TREE" -x -M "$M" --bind=/tmp:/a/../b true;              ok "bind destination with .."
mkdir -p "$WORK/escape"
expect_rc 1 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --bind="$WORK/escape:/usr/bin/awk" true
echo "$ERR" | grep -q "symlink" || fail "symlinked bind target: $ERR"; expect_one_line_error
ok "bind target that is a symlink (awk -> /etc/alternatives/awk) is refused"
bad 2 -D "$TREE" -M "" true;                  ok "empty machine name"
bad 2 -D "$TREE" -M "../etc" true;            ok "machine name ../etc"
bad 2 -D "$TREE" -M "$(printf 'a%.0s' $(seq 65))" true; ok "65-byte machine name"
bad 2 -D "$TREE" -M "-x" true;                ok "machine name -x"
bad 2 -D "$TREE" --console=bogus true;        ok "bad console mode"
bad 2 -D "$TREE" --console= true;             ok "empty console mode"
bad 2 -D "$TREE" -E "=x" true;                ok "bad setenv"
bad 2 -D "$TREE" -E "" true;                  ok "empty setenv"
bad 2 -D "$TREE" --kill-timeout=soon true;    ok "garbage kill timeout"
bad 2 -D "$TREE" --chdir=relative true;       ok "relative chdir"
bad 2 -D "$TREE" --tmpfs= true;               ok "empty tmpfs"
bad 2 -D "$TREE" --register=maybe true;       ok "bad boolean"
bad 2 -D "" true;                             ok "empty directory"
bad 2 -D "$TREE" --bind="$(printf '/%.0s' $(seq 5000))x" true; ok "very long bind spec"
bad 2 -D "$TREE" --boot --as-pid2;            ok "conflicting options"
bad 2 -D /;                                   ok "the host root is refused"
bad 2 -D "$TREE" --no-such-option;            ok "unknown option"
assert_host_clean "$M"; ok "nothing left behind"
