#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nspawnctl run: exit codes, PID 1, host name, environment, user, binds, pipes.
. "$(dirname "$0")/lib.sh"
run() { "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" "$@"; }
M=$(machine_name basic)

expect_rc 0 run /bin/true;                          ok "true exits 0"
expect_rc 42 run -- sh -c 'exit 42';                ok "exit status propagates"
expect_rc 127 run /no/such/command;                 ok "missing command exits 127"
printf '%s' "$ERR" | grep -q "Failed to execute /no/such/command" || fail "exec error message"
expect_one_line_error;                              ok "exec error is one line"
expect_rc 0 run -- sh -c 'echo $$';                 [ "$OUT" = 1 ] || fail "pid 1 is $OUT"; ok "command is PID 1"
expect_rc 0 run hostname;                           [ "$OUT" = "$M" ] || fail "hostname $OUT"; ok "hostname from -M"
expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" --read-only hostname
[ "$OUT" = debian-bookworm ] || fail "default hostname $OUT"; ok "default hostname is the directory name"
expect_rc 0 run -E FOO=bar -E FOO=baz -- sh -c 'echo $FOO $container'
[ "$OUT" = "baz nspawnctl" ] || fail "env: $OUT"; ok "setenv and container="
expect_rc 0 run --chdir=/etc pwd;                   [ "$OUT" = /etc ] || fail "chdir $OUT"; ok "chdir"
expect_rc 0 run -u nobody -- sh -c 'id -u; id -g; grep CapEff /proc/self/status'
[ "$(echo "$OUT" | head -2 | tr '\n' ' ')" = "65534 65534 " ] || fail "user: $OUT"
echo "$OUT" | grep -q 'CapEff:.*0000000000000000' || fail "user keeps capabilities: $OUT"
ok "user switch drops capabilities"
expect_rc 1 run -u nosuchuser true;                 expect_one_line_error; ok "unknown user refused"
expect_rc 0 run --as-pid2 -- sh -c 'echo $$; cat /proc/1/comm'
[ "$(echo "$OUT" | tr '\n' ' ')" = "2 nspawnctl-init " ] || fail "as-pid2: $OUT"; ok "as-pid2 runs the command as PID 2"
expect_rc 7 run --as-pid2 -- sh -c 'exit 7';        ok "as-pid2 propagates the status"

mkdir -p "$WORK/src"; echo hello >"$WORK/src/file"
expect_rc 0 run --bind="$WORK/src:/mnt/src" -- sh -c 'cat /mnt/src/file; echo new >/mnt/src/new'
[ "$OUT" = hello ] && [ "$(cat "$WORK/src/new")" = new ] || fail "bind rw"; ok "bind is writable"
expect_rc 1 run --bind-ro="$WORK/src:/mnt/src" -- touch /mnt/src/other
[ ! -e "$WORK/src/other" ] || fail "bind-ro written"; ok "bind-ro is read-only"
expect_rc 0 run --tmpfs=/srv -- sh -c 'grep " /srv " /proc/self/mountinfo | grep -c tmpfs'
[ "$OUT" = 1 ] || fail "tmpfs"; ok "tmpfs"
expect_rc 1 "$NSPAWNCTL" run -q -D "$TREE" --read-only -- touch /etc/x;   ok "read-only root"
expect_rc 0 run --private-network -- sh -c 'ls /sys/class/net | tr "\n" " "'
[ "$OUT" = "lo " ] || fail "private network: $OUT"; ok "private network has only lo"

head -c 3000000 /dev/urandom >"$WORK/blob"
"$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" -- cat <"$WORK/blob" >"$WORK/blob.out"
cmp -s "$WORK/blob" "$WORK/blob.out" || fail "pipe not byte-exact"; ok "stdin to stdout through the container is byte-exact"

# interactive console on a real pty: the output of a command reaches the terminal
# (script's stdin stays open: at EOF script would type an EOF character into the pty)
expect_rc 0 sh -c "sleep 2 | script -qec \"$NSPAWNCTL run -q -D $TREE -x -M $M -- sh -c 'tty; echo on-the-console'\" /dev/null"
echo "$OUT" | grep -qE '^/dev/(console|pts/[0-9]+)' || fail "interactive: $OUT"
echo "$OUT" | grep -q 'on-the-console' || fail "interactive output: $OUT"
ok "interactive console is a pty"

assert_host_clean "$M"; ok "nothing left behind"
