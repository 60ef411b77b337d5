#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# login and shell in a machine whose PID 1 is a plain shell loop: no systemd, no D-Bus inside
# (issue 5). Booted through machined from a bookworm image without systemd's binary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
command -v tmux >/dev/null || fail "tmux is needed for the login test"

M=$(machine_name plain)
pool_populate "$M"
# /sbin/init is a symlink to systemd in bookworm; without systemd the runtime falls back to
# /sbin/init, here a script.
rm -f "$POOL/$M/usr/lib/systemd/systemd" "$POOL/$M/sbin/init"
printf '#!/bin/sh\n# PID 1 of the test: no systemd, no D-Bus.\nwhile :; do sleep 1; done\n' >"$POOL/$M/sbin/init"
chmod 0755 "$POOL/$M/sbin/init"

# No policy for machined's name on this bus: only machined's own check keeps others out.
start_bus open
# The other test runs the host's own cgroup layout; this machine gets the pure cgroup2 one
# wherever the host has a cgroup2 hierarchy (also on a hybrid host), so that a session finds
# its cgroup in either.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    export NSPAWNCTL_CGROUP_MODE=unified
fi
echo "# cgroup layout of the machine: ${NSPAWNCTL_CGROUP_MODE:-as the host}"
# Privileged mode (a trusted setting): the hostile guest below must be able to unmount its
# /dev/pts, which in a user namespace (machined's default) the kernel refuses anyway.
mkdir -p "$WORK/etc"
printf '[Exec]\nPrivateUsers=no\n' >"$WORK/etc/$M.nspawn"
start_machined
expect_rc 0 "$NSPAWNCTL" start "$M"
has_leader() { [ -n "$(sed -n 's/^LEADER=\([1-9][0-9]*\)$/\1/p' "$STATE/machines/$M" 2>/dev/null)" ]; }
wait_until 30 has_leader || fail "no leader"
LEADER=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M")
# The machine's init too, in case its supervisor is not the one the record names.
cleanup_shell() { kill -9 "$LEADER" 2>/dev/null || true; cleanup_machined; }
trap cleanup_shell EXIT

expect_rc 0 "$NSPAWNCTL" shell "$M" -- sh -c 'tr "\\0" " " </proc/1/cmdline'
[ "$OUT" = "/bin/sh /sbin/init " ] || fail "PID 1 is not the shell loop: $OUT"
expect_rc 0 "$NSPAWNCTL" shell "$M" -- sh -c 'ls /run/systemd/system 2>/dev/null; ls /run/dbus/system_bus_socket 2>/dev/null; echo none'
[ "$OUT" = none ] || fail "systemd or D-Bus runs inside: $OUT"
[ "$(awk '{print $1, $2, $3}' "/proc/$LEADER/uid_map")" = "0 0 4294967295" ] || fail "PrivateUsers=no not applied"
ok "PID 1 of the machine is a shell loop; no systemd and no D-Bus run inside"

expect_rc 42 "$NSPAWNCTL" shell "$M" -- sh -c 'exit 42'
expect_rc 0 "$NSPAWNCTL" shell "$M" -- sh -c 'echo $(hostname) $(id -un)'
[ "$OUT" = "$M root" ] || fail "$OUT"
head -c 1048576 /dev/urandom >"$WORK/rand"
[ "$("$NSPAWNCTL" shell "$M" -- cat <"$WORK/rand" | sha256sum)" = "$(sha256sum <"$WORK/rand")" ] || fail "pipe"
expect_rc 127 "$NSPAWNCTL" shell "$M" -- no-such-command; expect_one_line_error
expect_rc 7 as_nobody "$NSPAWNCTL" shell "$M" -- true; expect_one_line_error
echo "$ERR" | grep -qi "only root" || fail "$ERR"
expect_rc 7 as_nobody "$NSPAWNCTL" login "$M"; expect_one_line_error
ok "shell works without systemd inside: exit status, pipes, command not found"
ok "with a bus policy that lets anyone call, machined itself refuses non-root callers"

printf 'root:Plain-Pw-%s\n' "$$" | "$NSPAWNCTL" shell "$M" -- chpasswd || fail "chpasswd"
TMUX_SOCK=$WORK/tmux
tmx() { tmux -S "$TMUX_SOCK" "$@"; }
pane_has() { tmx capture-pane -p -S -200 | grep -q -- "$1"; }
pane_wait() { wait_until 20 pane_has "$1" || { tmx capture-pane -p -S -200 >&2; fail "pane never showed '$1'"; }; }
tmx new-session -d -x 100 -y 30 "env DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS NSPAWNCTL_STATE_DIR=$STATE $NSPAWNCTL login $M; echo LOGIN-RC=\$?; sleep 600"
CLEANUP_PIDS="$CLEANUP_PIDS $(tmx display -p '#{pid}')"
pane_wait "$M login:"
tmx send-keys root Enter
pane_wait "Password:"
tmx send-keys "Plain-Pw-$$" Enter
pane_wait "root@$M"
tmx send-keys 'echo LOGGED-IN-$((6*7)) $(tty)' Enter
pane_wait "LOGGED-IN-42 /dev/pts/"
tmx send-keys 'exit' Enter
pane_wait "LOGIN-RC=0"
tmx kill-server
ok "login without systemd inside: agetty prompt, password, prompt, command, logout"

# Without a dbus-daemon nspawnctl reaches machined on its private socket; fds pass there too.
stop_bus
expect_rc 42 "$NSPAWNCTL" shell "$M" -- sh -c 'exit 42'
[ "$("$NSPAWNCTL" shell "$M" -- cat <"$WORK/rand" | sha256sum)" = "$(sha256sum <"$WORK/rand")" ] || fail "pipe over the private socket"
ok "without a dbus-daemon: shell over machined's private socket, fds and status included"

# A hostile guest: root inside swaps /etc/passwd for a FIFO (reading it would block) and
# /dev/pts for a symlink to a directory it controls. Each start fails at once, in one line.
"$NSPAWNCTL" shell "$M" -- sh -c 'mv /etc/passwd /etc/passwd.real && mkfifo -m 0644 /etc/passwd'
expect_rc 1 timeout 20 "$NSPAWNCTL" shell "$M" -- true; expect_one_line_error
echo "$ERR" | grep -q "/etc/passwd" || fail "$ERR"
mv "$POOL/$M/etc/passwd.real" "$POOL/$M/etc/passwd"
"$NSPAWNCTL" shell "$M" -- sh -c 'umount -l /dev/pts && rmdir /dev/pts && mkdir /tmp/fake && ln -s /tmp/fake /dev/pts'
expect_rc 1 timeout 20 "$NSPAWNCTL" shell --pty "$M" -- true </dev/null; expect_one_line_error
echo "$ERR" | grep -q "pty" || fail "$ERR"
expect_rc 1 timeout 20 "$NSPAWNCTL" login "$M" </dev/null; expect_one_line_error
expect_rc 0 "$NSPAWNCTL" shell "$M" -- true
ok "a guest's FIFO for /etc/passwd or symlinked /dev/pts make the start fail at once, in one line"

"$NSPAWNCTL" shell "$M" -- sleep 1000 </dev/null >/dev/null 2>&1 &
BG=$!; CLEANUP_PIDS="$CLEANUP_PIDS $BG"
find_sleep() { for p in $(pgrep -x sleep || true); do [ "$(awk '{print $2}' "/proc/$p/stat" 2>/dev/null)" = "(sleep)" ] && grep -q "/nspawnctl/$M" "/proc/$p/cgroup" 2>/dev/null && [ "$(readlink "/proc/$p/ns/pid")" = "$(readlink "/proc/$LEADER/ns/pid")" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q "sleep 1000" && echo "$p"; done; }
sleep_found() { [ -n "$(find_sleep)" ]; }
wait_until 10 sleep_found || fail "the session is not in the machine's cgroup and PID namespace"
SP=$(find_sleep | head -1)
expect_rc 0 "$NSPAWNCTL" terminate "$M"
sp_gone() { ! kill -0 "$SP" 2>/dev/null; }
wait_until 30 sp_gone || fail "the session outlived the machine"
set +e; wait "$BG"; rc=$?; set -e
[ "$rc" = 137 ] || fail "nspawnctl shell exited $rc, not 137, when the machine was killed"
ok "the session is in the machine's cgroup and dies with it (nspawnctl shell exits 137)"
