#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# login, shell and exec (issue 5) on a booted bookworm machine through machined and the real
# dbus-daemon with the project's policy: exit status, byte-exact pipes, separate stderr,
# errors as one line, a pty in tmux (stty size follows a resize), a getty login with a
# password set through shell, the session's processes in the machine's cgroup and PID
# namespace dying with the machine, and no fd left in machined after 100 shells.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
command -v tmux >/dev/null || fail "tmux is needed for the pty tests"

M=$(machine_name box)
pool_populate "$M"
start_bus policy
start_machined
expect_rc 0 "$NSPAWNCTL" start "$M"
state_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\",[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
is_running() { [ "$(state_of "$M")" = running ]; }
wait_until 120 is_running || { "$NSPAWNCTL" list; fail "machine did not reach running"; }
LEADER=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M")
# The machine's init too, in case its supervisor is not the one the record names.
cleanup_shell() { kill -9 "$LEADER" 2>/dev/null || true; cleanup_machined; }
trap cleanup_shell EXIT

# --- without a pty -------------------------------------------------------------------
expect_rc 42 "$NSPAWNCTL" shell "$M" -- sh -c 'exit 42'
ok "shell box -- sh -c 'exit 42' exits 42"
expect_rc 42 "$NSPAWNCTL" exec "$M" sh -c 'exit 42'
ok "exec is an alias of shell"
expect_rc 143 "$NSPAWNCTL" shell "$M" -- sh -c 'kill -TERM $$'
ok "a command killed by SIGTERM gives 143"

head -c $((10 * 1024 * 1024)) /dev/urandom >"$WORK/rand"
want=$(sha256sum <"$WORK/rand")
got=$("$NSPAWNCTL" shell "$M" -- cat <"$WORK/rand" | sha256sum)
[ "$got" = "$want" ] || fail "10 MiB through cat changed: $got / $want"
"$NSPAWNCTL" shell "$M" -- sh -c 'cat >/srv/rand' <"$WORK/rand"
"$NSPAWNCTL" shell "$M" -- cat /srv/rand >"$WORK/rand.out"
cmp "$WORK/rand" "$WORK/rand.out" || fail "cat f > out is not byte-exact"
ok "10 MiB piped through shell -- cat, and written and read back, keep their checksum"

tar -C "$SOURCE_ROOT" -c core | "$NSPAWNCTL" shell "$M" -- sh -c 'mkdir -p /srv/src && tar x -C /srv/src'
[ "$("$NSPAWNCTL" shell "$M" -- sh -c 'cd /srv/src && find core -type f | sort | xargs cat' | sha256sum)" = \
  "$(cd "$SOURCE_ROOT" && find core -type f | sort | xargs cat | sha256sum)" ] || fail "tar through shell"
ok "tar c . | shell box -- tar x works"

"$NSPAWNCTL" shell "$M" -- sh -c 'echo to-out; echo to-err >&2' >"$WORK/o" 2>"$WORK/e"
[ "$(cat "$WORK/o")" = to-out ] && [ "$(cat "$WORK/e")" = to-err ] || fail "stdout/stderr mixed: $(cat "$WORK/o") / $(cat "$WORK/e")"
ok "the command's stderr reaches nspawnctl's stderr only"

expect_rc 0 "$NSPAWNCTL" shell -E FOO=bar --chdir=/etc "$M" -- sh -c 'echo "$FOO $(pwd) $(id -un) $HOME"'
[ "$OUT" = "bar /etc root /root" ] || fail "-E/--chdir: $OUT"
expect_rc 0 "$NSPAWNCTL" shell "nobody@$M" -- sh -c 'echo "$(id -u) $USER $LOGNAME $(pwd)"'
[ "$OUT" = "65534 nobody nobody /" ] || fail "nobody@: $OUT"
expect_rc 0 "$NSPAWNCTL" shell "$M" -- sh -c 'grep ^CapBnd /proc/self/status; grep ^Seccomp: /proc/self/status; grep ^NoNewPrivs /proc/self/status'
echo "$OUT" | grep -q "Seccomp:.*2" || fail "no seccomp filter in the session: $OUT"
[ "$(echo "$OUT" | sed -n 's/^CapBnd:\s*//p')" = "$(sed -n 's/^CapBnd:\s*//p' "/proc/$LEADER/status")" ] || fail "bounding set differs from the init's: $OUT"
ok "-E, --chdir and USER@ pass through; the session has the init's bounding set and the seccomp filter"

expect_rc 127 "$NSPAWNCTL" shell "$M" -- no-such-command; expect_one_line_error
echo "$ERR" | grep -q "not found" || fail "$ERR"
expect_rc 126 "$NSPAWNCTL" shell "$M" -- /etc; expect_one_line_error
expect_rc 127 "$NSPAWNCTL" shell "$M" -- $'no\e[2Jcmd'; expect_one_line_error
printf '%s' "$ERR" | grep -q $'\e' && fail "a control character reached the terminal: $ERR"
expect_rc 2 "$NSPAWNCTL" shell $'bad\e[2Jname' -- true; expect_one_line_error
printf '%s' "$ERR" | grep -q $'\e' && fail "a control character reached the terminal: $ERR"
expect_rc 1 "$NSPAWNCTL" shell "nosuchuser@$M" -- true; expect_one_line_error
echo "$ERR" | grep -q "User nosuchuser does not exist" || fail "$ERR"
expect_rc 1 "$NSPAWNCTL" shell --chdir=/no/such/dir "$M" -- true; expect_one_line_error
expect_rc 3 "$NSPAWNCTL" shell nosuchmachine -- true; expect_one_line_error
expect_rc 3 "$NSPAWNCTL" login nosuchmachine; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" shell ../etc -- true; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" shell -E 1X=y "$M" -- true; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" shell --chdir=relative "$M" -- true; expect_one_line_error
expect_rc 7 as_nobody "$NSPAWNCTL" shell "$M" -- true; expect_one_line_error
expect_rc 7 as_nobody "$NSPAWNCTL" login "$M"; expect_one_line_error
ok "command not found (127), not executable (126), unknown user, missing directory, unknown machine, bad arguments, non-root: one line each, control characters escaped"

intro=$(busctl --system introspect org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager)
for m in OpenMachineLogin OpenMachineShell OpenMachineShellWithStatus RunInMachine; do
    echo "$intro" | grep -q "^\.$m " || fail "$m not introspected"
done
expect_rc 0 busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager \
    OpenMachineShell sssasas "$M" "" /bin/true 1 true 0
echo "$OUT" | grep -Eq '^hs [0-9]+ "/dev/pts/[0-9]+"$' || fail "OpenMachineShell reply: $OUT"
expect_rc 0 busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager \
    OpenMachineLogin s "$M"
echo "$OUT" | grep -Eq '^hs [0-9]+ "/dev/pts/[0-9]+"$' || fail "OpenMachineLogin reply: $OUT"
ok "OpenMachineShell and OpenMachineLogin answer as machine1's do (busctl), all four methods are introspected"

# --- a pty, in tmux -------------------------------------------------------------------
TMUX_SOCK=$WORK/tmux
tmx() { tmux -S "$TMUX_SOCK" "$@"; }
# pane_wait PATTERN: until the pane shows PATTERN.
pane_has() { tmx capture-pane -p -S -200 | grep -q -- "$1"; }
pane_wait() { wait_until 20 pane_has "$1" || { tmx capture-pane -p -S -200 >&2; fail "pane never showed '$1'"; }; }
tmx new-session -d -x 120 -y 40 "env DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS NSPAWNCTL_STATE_DIR=$STATE TERM=xterm $NSPAWNCTL shell $M; echo SHELL-RC=\$?; sleep 600"
CLEANUP_PIDS="$CLEANUP_PIDS $(tmx display -p '#{pid}')"
pane_wait "root@"
tmx send-keys 'echo SIZE=$(stty size) TTY=$(tty) TERM=$TERM' Enter
pane_wait "SIZE=40 120 TTY=/dev/pts/"
pane_wait "TERM=xterm"
tmx resize-window -x 90 -y 25
sleep 0.5
tmx send-keys 'echo SIZE=$(stty size)' Enter
pane_wait "SIZE=25 90"
ok "a pty shell: stty size matches the outer terminal and follows a resize (SIGWINCH)"
tmx send-keys 'exit 7' Enter
pane_wait "SHELL-RC=7"
ok "the pty shell's exit status is nspawnctl's"

# On a terminal, but with stdout redirected: no pty (the output stays byte-exact), and the
# host's terminal itself never goes into the machine: the command gets a pipe for it.
tmx kill-server
TMUX_SOCK=$WORK/tmux-sh
tmx new-session -d -x 120 -y 40 "env DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS NSPAWNCTL_STATE_DIR=$STATE PS1='host\$ ' bash --norc -i"
CLEANUP_PIDS="$CLEANUP_PIDS $(tmx display -p '#{pid}')"
pane_wait 'host\$'
tmx send-keys "$NSPAWNCTL shell $M -- cat /srv/rand >$WORK/rand.tty; echo CAT-RC=\$?" Enter
pane_wait "CAT-RC=0"
cmp "$WORK/rand" "$WORK/rand.tty" || fail "shell -- cat f > out on a terminal is not byte-exact"
tmx send-keys "$NSPAWNCTL shell --pipe $M -- sh -c 'tty; readlink /proc/self/fd/0 /proc/self/fd/1'" Enter
pane_wait "not a tty"
tmx capture-pane -p -S -200 | grep -q "pipe:.*" || { tmx capture-pane -p -S -200 >&2; fail "stdio are not pipes"; }
tmx capture-pane -p -S -200 | grep -q "^/dev/pts" && { tmx capture-pane -p -S -200 >&2; fail "a host terminal went into the machine"; }
ok "on a terminal with stdout redirected there is no pty and cat f > out is byte-exact; the host terminal is relayed, never passed in"

printf 'root:Test-Pw-%s\n' "$$" | "$NSPAWNCTL" shell "$M" -- chpasswd || fail "chpasswd"
tmx kill-server
TMUX_SOCK=$WORK/tmux2
tmx new-session -d -x 100 -y 30 "env DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS NSPAWNCTL_STATE_DIR=$STATE $NSPAWNCTL login $M; echo LOGIN-RC=\$?; sleep 600"
CLEANUP_PIDS="$CLEANUP_PIDS $(tmx display -p '#{pid}')"
pane_wait "login:"
tmx send-keys root Enter
pane_wait "Password:"
tmx send-keys "Test-Pw-$$" Enter
pane_wait "root@"
tmx send-keys 'echo LOGGED-IN-$((6*7)) $(id -un) $(cat /proc/self/loginuid)' Enter
pane_wait "LOGGED-IN-42 root 0"
ok "login: the guest's agetty prompt, a password set through shell, a shell prompt, a command runs"
tmx send-keys 'exit' Enter
pane_wait "LOGIN-RC=0"
tmx kill-server
TMUX_SOCK=$WORK/tmux3
tmx new-session -d -x 100 -y 30 "env DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS NSPAWNCTL_STATE_DIR=$STATE $NSPAWNCTL login $M; echo LOGIN-RC=\$?; stty -a | tr ' ;' '\\n\\n' | grep icanon; sleep 600"
CLEANUP_PIDS="$CLEANUP_PIDS $(tmx display -p '#{pid}')"
pane_wait "login:"
tmx send-keys C-] C-] C-]
pane_wait "LOGIN-RC=0"
pane_wait "icanon"
tmx capture-pane -p | grep -qx icanon || { tmx capture-pane -p >&2; fail "terminal not restored after ^]^]^]"; }
tmx kill-server
TMUX_SOCK=$WORK/tmux4
tmx new-session -d -x 100 -y 30 "env DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS NSPAWNCTL_STATE_DIR=$STATE $NSPAWNCTL login $M; echo LOGIN-RC=\$?; stty -a | tr ' ;' '\\n\\n' | grep icanon; sleep 600"
CLEANUP_PIDS="$CLEANUP_PIDS $(tmx display -p '#{pid}')"
pane_wait "login:"
client=$(pgrep -P "$(tmx display -p '#{pane_pid}')" -x nspawnctl)
kill -TERM "$client"
pane_wait "LOGIN-RC=143"
pane_wait "icanon"
tmx capture-pane -p | grep -qx icanon || { tmx capture-pane -p >&2; fail "terminal not restored after SIGTERM"; }
tmx kill-server
ok "^] three times leaves login, and the terminal is restored (also after SIGTERM, exit 143)"

# --- the session belongs to the machine -----------------------------------------------
# machined opens files of its own now and then (image usage, records): the baseline is the
# fewest fds over a moment, and afterwards the count must come back to it.
fd_count() { ls "/proc/$MACHINED_PID/fd" | wc -l; }
fds_before=$(for i in 1 2 3 4 5; do fd_count; sleep 0.1; done | sort -n | head -1)
for i in $(seq 100); do
    "$NSPAWNCTL" shell "$M" -- /bin/true || fail "shell $i failed"
done
for i in $(seq 10); do
    "$NSPAWNCTL" shell --pty "$M" -- /bin/true </dev/null >/dev/null || fail "pty shell $i failed"
    printf '\035\035\035' | "$NSPAWNCTL" login "$M" >/dev/null 2>&1 || fail "login $i failed"
done
"$NSPAWNCTL" shell nosuchuser@"$M" -- true 2>/dev/null && fail "unknown user worked"
first=$(ls -l "/proc/$MACHINED_PID/fd" | tail -n +2)
[ "$(echo "$first" | wc -l)" -le "$fds_before" ] || echo "$first" | sed 's/^/# right after the loop: /'
fds_back() { [ "$(fd_count)" -le "$fds_before" ]; }
wait_until 10 fds_back || true
fds_after=$(fd_count)
echo "# machined fds before: $fds_before, after 100 shells + 10 pty shells + 10 logins: $fds_after"
[ "$fds_after" -le "$fds_before" ] || { ls -l "/proc/$MACHINED_PID/fd" >&2; fail "machined leaks fds: $fds_before -> $fds_after"; }
no_helpers() { [ -z "$(pgrep -P "$MACHINED_PID" || true)" ]; }
# A getty whose terminal was hung up at the prompt (^]^]^]) would sleep 10 s before it
# exits (agetty's guard against respawn loops); its helper ends it after 2 s.
# On failure: what each helper and its payload wait in (seen once in a full run: a helper
# and its agetty still there after 20 s).
show_helpers() {
    local h p
    for h in $(pgrep -P "$MACHINED_PID"); do
        for p in "$h" $(pgrep -P "$h"); do
            ps -o pid,stat,etimes,wchan:24,cmd -p "$p" >&2 || true
            sed 's/^/  stack: /' "/proc/$p/stack" >&2 2>/dev/null || true
        done
    done
}
wait_until 20 no_helpers || { show_helpers; fail "session helpers left behind"; }
ok "100 shells, 10 pty shells and 10 logins in a row leak no fd in machined and leave no helper"

# find_sleep N: host pids of "sleep N" in the machine's cgroup.
find_sleep() { for p in $(pgrep -x sleep || true); do grep -q "/nspawnctl/$M" "/proc/$p/cgroup" 2>/dev/null && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qx "sleep $1 " && echo "$p"; done; }
"$NSPAWNCTL" shell "$M" -- sleep 1001 </dev/null >/dev/null 2>&1 &
C=$!; CLEANUP_PIDS="$CLEANUP_PIDS $C"
found_1001() { [ -n "$(find_sleep 1001)" ]; }
wait_until 10 found_1001 || fail "no session process"
kill -TERM "$C"
wait "$C" || true
gone_1001() { [ -z "$(find_sleep 1001)" ]; }
wait_until 10 gone_1001 || fail "the session lives on after its nspawnctl was killed"
ok "killing nspawnctl shell hangs its session up (SIGHUP to the command)"

# machined only starts sessions: one that runs on while machined is killed and restarted
# still ends with its own status.
"$NSPAWNCTL" shell "$M" -- sh -c 'sleep 2; echo survived; exit 5' </dev/null >"$WORK/survive.out" 2>&1 &
S=$!; CLEANUP_PIDS="$CLEANUP_PIDS $S"
sleep 0.5
kill9_machined
set +e; wait "$S"; rc=$?; set -e
[ "$rc" = 5 ] && [ "$(cat "$WORK/survive.out")" = survived ] || fail "session across kill -9 of machined: rc $rc, $(cat "$WORK/survive.out")"
start_machined
wait_until 20 is_running || fail "machine not adopted again"
expect_rc 0 "$NSPAWNCTL" shell "$M" -- true
ok "a session outlives kill -9 of machined and still reports its status; a new machined serves shells again"

"$NSPAWNCTL" shell "$M" -- sh -c 'exec sleep 1000' </dev/null >/dev/null 2>"$WORK/bg.err" &
BG=$!; CLEANUP_PIDS="$CLEANUP_PIDS $BG"
sleep_found() { [ -n "$(find_sleep 1000)" ]; }
wait_until 10 sleep_found || fail "the session's process is not in the machine's cgroup"
SP=$(find_sleep 1000 | head -1)
[ "$(readlink "/proc/$SP/ns/pid")" = "$(readlink "/proc/$LEADER/ns/pid")" ] || fail "not in the machine's PID namespace"
[ "$(readlink "/proc/$SP/ns/mnt")" = "$(readlink "/proc/$LEADER/ns/mnt")" ] || fail "not in the machine's mount namespace"
"$NSPAWNCTL" status "$M" | grep -q "sleep 1000" || fail "status does not list the session's process"
# in every hierarchy, each v1 controller too: under the machine's limits and device allow-list
grep -v ":/nspawnctl/$M/" "/proc/$SP/cgroup" && fail "the session's process is outside the machine's cgroup in some hierarchy"
ok "the session's processes are in the machine's cgroup (every hierarchy) and namespaces (status lists them)"

expect_rc 0 "$NSPAWNCTL" poweroff "$M"
sp_gone() { ! kill -0 "$SP" 2>/dev/null; }
wait_until 60 sp_gone || fail "the session outlived the machine"
set +e; wait "$BG"; rc=$?; set -e
[ "$rc" -gt 128 ] || fail "the session's nspawnctl exited $rc when the machine powered off"
record_gone() { [ ! -e "$STATE/machines/$M" ]; }
wait_until 60 record_gone || fail "machine did not go away"
ok "the session's processes die when the machine powers off (nspawnctl shell exits $rc)"

expect_rc 5 "$NSPAWNCTL" shell "$M" -- true; expect_one_line_error
echo "$ERR" | grep -q "not running" || fail "$ERR"
expect_rc 5 "$NSPAWNCTL" login "$M"; expect_one_line_error
ok "a stopped machine: 'not running' in one line, exit 5"
