#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# machined's API without booting anything: introspection with argument names, listing,
# named errors for hostile input with nothing created, non-root callers refused (by the
# policy and by machined itself), records tracked (MachineNew/MachineRemoved, stale ones
# ignored), and the private-socket fallback with no dbus-daemon at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

call() { busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager "$@"; }

# A record whose supervisor died while machined was down must not come back.
mkdir -p "$STATE/machines"
sleep 0.01 & dead=$!; wait $dead
printf 'NAME=stale\nSUPERVISOR=%s\nSUPERVISOR_START=1\nSTATE=running\n' "$dead" >"$STATE/machines/stale"

start_bus policy
start_machined

busctl --system introspect --xml-interface org.nspawnctl.machined1 /org/nspawnctl/machined1 >"$WORK/intro.xml"
for m in ListMachines GetMachine GetMachineByPID StartMachine PowerOffMachine RebootMachine TerminateMachine KillMachine; do
    grep -q "<method name=\"$m\">" "$WORK/intro.xml" || fail "method $m missing"
done
grep -A4 '<method name="KillMachine">' "$WORK/intro.xml" | grep -q 'name="whom"' || fail "KillMachine arg names"
grep -A3 '<method name="StartMachine">' "$WORK/intro.xml" | grep -q '<arg type="s" name="name" direction="in"/>' || fail "StartMachine arg names"
grep -q '<signal name="MachineRemoved">' "$WORK/intro.xml" || fail "signals"
ok "busctl introspect shows the methods with argument names"

expect_rc 0 "$NSPAWNCTL" list
echo "$OUT" | grep -q "0 machines listed" || fail "list on an empty pool: $OUT"
expect_rc 0 "$NSPAWNCTL" list --json
[ "$OUT" = "[]" ] || fail "list --json on an empty pool: $OUT"
ok "list on an empty pool (table and JSON); a stale record is ignored"

# Errors with names of their own, nothing created.
mkdir -p "$POOL/noinit/etc" "$POOL/noinit/usr" "$POOL/linkinit/sbin" "$POOL/linkinit/usr" "$POOL/badsettings/sbin"
ln -s /bin/sh "$POOL/linkinit/sbin/init"      # resolves inside the tree: nothing there
cp /bin/true "$POOL/badsettings/sbin/init"
printf '[Exec]\nthis is not a setting\n' >"$POOL/badsettings.nspawn"
ln -s / "$POOL/evil"
before=$(state_snapshot)
expect_rc 3 "$NSPAWNCTL" start nosuchimage; expect_one_line_error
echo "$ERR" | grep -q "No image" || fail "NoSuchImage message: $ERR"
expect_rc 3 "$NSPAWNCTL" start evil
expect_rc 1 "$NSPAWNCTL" start noinit; echo "$ERR" | grep -q "has no init" || fail "ImageHasNoInit: $ERR"
expect_rc 1 "$NSPAWNCTL" start linkinit; echo "$ERR" | grep -q "has no init" || fail "host init through a symlink: $ERR"
expect_rc 1 "$NSPAWNCTL" start badsettings; echo "$ERR" | grep -q "badsettings.nspawn:2" || fail "BadSettings file:line: $ERR"
expect_rc 3 "$NSPAWNCTL" poweroff nosuchmachine
expect_rc 3 "$NSPAWNCTL" status nosuchmachine
set +e; busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager GetMachine s nope 2>"$WORK/e"; set -e
grep -q "No machine 'nope' known" "$WORK/e" || fail "NoSuchMachine over the bus"
gdbus call --system --dest org.nspawnctl.machined1 --object-path /org/nspawnctl/machined1 \
    --method org.nspawnctl.machined1.Manager.StartMachine noinit 2>&1 | grep -q "org.nspawnctl.machined1.ImageHasNoInit" \
    || fail "error name ImageHasNoInit"
gdbus call --system --dest org.nspawnctl.machined1 --object-path /org/nspawnctl/machined1 \
    --method org.nspawnctl.machined1.Manager.GetMachine nope 2>&1 | grep -q "org.nspawnctl.machined1.NoSuchMachine" \
    || fail "error name NoSuchMachine"
mkdir -p "$POOL/linksettings/sbin" "$POOL/linksettings/usr"; cp /bin/true "$POOL/linksettings/sbin/init"
ln -s /etc/passwd "$POOL/linksettings.nspawn"
expect_rc 1 "$NSPAWNCTL" start linksettings; echo "$ERR" | grep -q "not a regular file" || fail "symlinked settings: $ERR"
# One init list for the check and the exec: a tree whose only init is /lib/systemd/systemd
# (a real /lib, not merged-/usr) starts through machined.
mkdir -p "$POOL/libinit/usr" "$POOL/libinit/lib/systemd"; cp "$STATIC_INIT" "$POOL/libinit/lib/systemd/systemd"
expect_rc 0 "$NSPAWNCTL" start libinit
expect_rc 0 "$NSPAWNCTL" status libinit
echo "$OUT" | grep -q "Root: $POOL/libinit" || fail "status of libinit: $OUT"
expect_rc 0 "$NSPAWNCTL" poweroff libinit
wait_until 30 sh -c "\"$NSPAWNCTL\" status libinit | grep -q 'State: stopped'" || fail "libinit did not power off"
rm -rf "$POOL/libinit"
ok "a tree whose only init is /lib/systemd/systemd starts through machined"
before=$(state_snapshot)
# A second machined on the same state dir must not take the private socket over.
set +e; "$MACHINED" --pool="$POOL" --state-dir="$STATE" $NET_OPTS --no-bus >"$WORK/second.log" 2>&1; rc=$?; set -e
[ $rc != 0 ] && grep -q "already" "$WORK/second.log" || { cat "$WORK/second.log"; fail "second machined on the same state dir"; }
expect_rc 0 env DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORK/none "$NSPAWNCTL" list  # the first one still answers privately
[ "$(state_snapshot)" = "$before" ] || fail "a refused start created something"
ok "NoSuchImage, ImageHasNoInit (also through a host symlink), BadSettings with file:line, NoSuchMachine; nothing created"

# Hostile names (docs/security.md): refused by the CLI and by machined itself, nothing created.
long=$(printf 'a%.0s' $(seq 65))
for n in "" "../etc" "a/b" "-x" "x-" "a..b" "$long" "$(printf 'a\tb')" "$(printf 'a\001b')" "$(printf '\xff\xfe')" ".#foo" "." \
         "$(printf 'a\033]0;owned\007b')"; do
    expect_rc 2 "$NSPAWNCTL" start -- "$n"; expect_one_line_error
    # Echoed escaped: no control character reaches the terminal.
    printf '%s' "$ERR" | LC_ALL=C grep -q '[[:cntrl:]]' && fail "raw control characters in: $ERR"
    if printf '%s' "$n" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then
        # "--": the name may start with '-'. busctl prints the message, which only
        # InvalidName carries.
        set +e; busctl --system -- call org.nspawnctl.machined1 /org/nspawnctl/machined1 \
            org.nspawnctl.machined1.Manager StartMachine s "$n" >"$WORK/o" 2>&1; rc=$?; set -e
        [ $rc != 0 ] && grep -q "Invalid machine name" "$WORK/o" || { cat "$WORK/o"; fail "machined accepted name '$n'"; }
    fi
done
expect_rc 2 "$NSPAWNCTL" kill --signal=NOPE foo
expect_rc 2 "$NSPAWNCTL" kill --kill-whom=everyone foo
expect_rc 2 "$NSPAWNCTL" kill --signal= foo
expect_rc 2 "$NSPAWNCTL" list --state-dir=
huge=$(printf 'x%.0s' $(seq 5000))
for args in "kill --signal=$huge foo" "kill --signal=999 foo" "kill --signal=-1 foo" "kill --kill-whom=$huge foo" \
            "kill --kill-whom= foo" "list --json=yes" "list --bogus" "list extra" "status" "status a b" \
            "start" "start a b" "poweroff --bogus x" "console" "enable" "disable a b"; do
    expect_rc 2 "$NSPAWNCTL" $args
done
expect_rc 2 "$NSPAWNCTL" status "$long$long$long"
[ "$(state_snapshot)" = "$before" ] || fail "a hostile name created something"
ok "every hostile name and bad option value is refused (CLI exit 2, InvalidName from machined), nothing created"

# Records: MachineNew/MachineRemoved, properties, GetMachineByPID, signals to the leader.
dbus-monitor --system "type='signal',interface='org.nspawnctl.machined1.Manager'" >"$WORK/monitor" 2>&1 &
MON=$!; CLEANUP_PIDS="$CLEANUP_PIDS $MON"
sleep 0.5
fake_machine fake1
wait_until 5 sh -c "\"$NSPAWNCTL\" list | grep -q '^fake1 .*running'" || fail "fake1 not listed"
[ "$(busctl --system get-property org.nspawnctl.machined1 /org/nspawnctl/machined1/machine/fake1 org.nspawnctl.machined1.Machine Leader)" = "u $FAKE_LEADER" ] \
    || fail "Leader property"
call GetMachineByPID u "$FAKE_LEADER" | grep -q machine/fake1 || fail "GetMachineByPID"
busctl --system tree org.nspawnctl.machined1 | grep -q machine/fake1 || fail "node enumerator"
expect_rc 0 "$NSPAWNCTL" status fake1
echo "$OUT" | grep -q "State: running" || fail "status: $OUT"
expect_rc 0 "$NSPAWNCTL" list --json
echo "$OUT" | grep -q "\"name\":\"fake1\",\"class\":\"container\",\"service\":\"nspawnctl\",\"state\":\"running\",\"leader\":$FAKE_LEADER" \
    || fail "list --json: $OUT"
busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1/machine/fake1 \
    org.nspawnctl.machined1.Machine Kill si leader 18 || fail "Machine.Kill on the object"
set +e; busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1/machine/fake1 \
    org.nspawnctl.machined1.Machine Kill si everyone 18 2>"$WORK/e"; set -e
grep -q "Invalid kill target" "$WORK/e" || fail "Kill with a bad target"
set +e; busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1/machine/fake1 \
    org.nspawnctl.machined1.Machine Kill si leader 0 2>"$WORK/e"; set -e
grep -q "Invalid signal" "$WORK/e" || fail "Kill with signal 0"
kill -0 "$FAKE_LEADER" || fail "SIGCONT killed the leader"
ok "a record appears as a machine: list, list --json, status, properties, GetMachineByPID, tree, Machine.Kill"

# Non-root: may list, may not change anything (refused by the policy file).
expect_rc 0 as_nobody "$NSPAWNCTL" list
echo "$OUT" | grep -q fake1 || fail "nobody cannot list"
for v in terminate poweroff reboot kill start; do
    expect_rc 7 as_nobody "$NSPAWNCTL" $v fake1; expect_one_line_error
done
kill -0 "$FAKE_LEADER" || fail "leader was signalled for a non-root caller"
ok "a non-root caller may list but is refused every change (exit 7)"

expect_rc 0 "$NSPAWNCTL" kill --kill-whom=leader --signal=USR1 fake1
wait_until 5 sh -c "! kill -0 $FAKE_LEADER 2>/dev/null" || fail "kill did not reach the leader"
ok "kill --kill-whom=leader --signal=USR1 reaches the leader"
expect_rc 5 "$NSPAWNCTL" terminate fake1
ok "terminate of a machine whose init is gone: MachineNotRunning (exit 5)"

kill "$FAKE_SUP"
wait_until 5 sh -c "! \"$NSPAWNCTL\" list | grep -q fake1" || fail "fake1 still listed after its supervisor died"
wait_until 5 grep -q 'member=MachineRemoved' "$WORK/monitor" || { cat "$WORK/monitor"; fail "no MachineRemoved"; }
grep -A1 'member=MachineNew' "$WORK/monitor" | grep -q '"fake1"' || fail "no MachineNew for fake1"
grep -A1 'member=MachineRemoved' "$WORK/monitor" | grep -q '"fake1"' || fail "MachineRemoved names fake1"
ok "a dead supervisor drops the machine: MachineNew and MachineRemoved emitted"

# machined refuses non-root callers itself, even on a bus whose policy lets them through.
fake_machine fake2
kill9_machined; stop_bus
start_bus open
start_machined
expect_rc 0 as_nobody "$NSPAWNCTL" list
echo "$OUT" | grep -q fake2 || fail "fake2 not re-adopted"
expect_rc 7 as_nobody "$NSPAWNCTL" terminate fake2
# sd-bus' privileged-method check or machined's euid check, both in machined.
echo "$ERR" | grep -qE "Only root|not permitted" || fail "machined's own check: $ERR"
expect_rc 7 as_nobody "$NSPAWNCTL" start noinit
kill -0 "$FAKE_LEADER" || fail "leader signalled"
ok "machined itself refuses a non-root caller when the bus policy does not"

# No dbus-daemon at all: the private socket serves the same API, to root only.
kill9_machined; stop_bus
start_machined
expect_rc 0 "$NSPAWNCTL" list
echo "$OUT" | grep -q fake2 || fail "private socket: $OUT"
expect_rc 0 "$NSPAWNCTL" status fake2
expect_rc 3 "$NSPAWNCTL" start nosuchimage
expect_rc 0 "$NSPAWNCTL" kill --kill-whom=leader --signal=TERM fake2
wait_until 5 sh -c "! kill -0 $FAKE_LEADER 2>/dev/null" || fail "kill over the private socket"
expect_rc 7 as_nobody "$NSPAWNCTL" list; expect_one_line_error
[ $(( 0$(stat -c %a "$STATE/private") & 077 )) = 0 ] || fail "private socket mode"
ok "with no dbus-daemon the private socket serves list/status/start/kill, root only"

# A dbus-daemon that comes (back) later is joined without a restart of machined.
start_bus policy
wait_until 15 busctl --system status org.nspawnctl.machined1 >/dev/null 2>&1 \
    || { tail -5 "$WORK/machined.log" >&2; fail "machined did not join a dbus-daemon started after it"; }
expect_rc 0 as_nobody "$NSPAWNCTL" list
echo "$OUT" | grep -q fake2 || fail "list over the late bus"
stop_bus
start_bus policy
wait_until 15 busctl --system status org.nspawnctl.machined1 >/dev/null 2>&1 || fail "machined did not rejoin a restarted dbus-daemon"
stop_bus
ok "machined joins a dbus-daemon that starts after it, and rejoins a restarted one"

kill "$FAKE_SUP"
wait_until 5 sh -c "! \"$NSPAWNCTL\" list | grep -q fake2" || fail "fake2 still listed"
kill9_machined

# A supervisor that dies before it reports: the start fails with its last words; one that
# reports a taken name (on the report fd of its contract, fd 3) is MachineExists.
mkdir -p "$POOL/okimg/sbin" "$POOL/okimg/usr"; cp /bin/true "$POOL/okimg/sbin/init"
cat >"$WORK/fake-supervisor" <<'EOT'
#!/bin/sh
echo "fake-supervisor: boom $*" >&2
[ -n "$FAKE_REPORT" ] && echo "$FAKE_REPORT" >&3
exit 3
EOT
chmod +x "$WORK/fake-supervisor"
"$MACHINED" --pool="$POOL" --state-dir="$STATE" --config-dir="$WORK/etc" --supervisor="$WORK/fake-supervisor" $NET_OPTS \
    >>"$WORK/machined.log" 2>&1 &
MACHINED_PID=$!
wait_until 10 test -S "$STATE/private" || fail "machined did not start"
expect_rc 1 "$NSPAWNCTL" start okimg; expect_one_line_error
echo "$ERR" | grep -q "without a report: fake-supervisor: boom --machine=okimg --image=$POOL/okimg --state-dir=$STATE --config-dir=$WORK/etc --report-fd=3 --network-table=$NET_TABLE --network-bridge=$NET_BRIDGE --network-dns-stub=$STATE/network/resolv.conf" \
    || fail "early supervisor death: $ERR"
kill9_machined
FAKE_REPORT="FAILED name-taken 17 Machine okimg is already running." "$MACHINED" --pool="$POOL" --state-dir="$STATE" \
    --config-dir="$WORK/etc" --supervisor="$WORK/fake-supervisor" $NET_OPTS >>"$WORK/machined.log" 2>&1 &
MACHINED_PID=$!
wait_until 10 test -S "$STATE/private" || fail "machined did not start"
expect_rc 4 "$NSPAWNCTL" start okimg; expect_one_line_error
echo "$ERR" | grep -q "Machine okimg is already running" || fail "report of a taken name: $ERR"
kill9_machined
ok "a supervisor dying before it reports fails the start with its last words; a report says why"
expect_rc 6 "$NSPAWNCTL" list; expect_one_line_error
echo "$ERR" | grep -q "machined is not running" || fail "message: $ERR"
expect_rc 6 "$NSPAWNCTL" list --state-dir="/$huge"; expect_one_line_error
expect_rc 6 "$NSPAWNCTL" start --state-dir=/nonexistent foo; expect_one_line_error
ok "machined not running: one clear line, exit 6"

# D-Bus activation: the installed activation file, pointed at the build tree.
sed -e "s|^Exec=.*|Exec=$MACHINED --pool=$POOL --state-dir=$STATE --config-dir=$WORK/etc $NET_OPTS|" \
    "$BUILD_ROOT/units/org.nspawnctl.machined1.service" >"$WORK/services/org.nspawnctl.machined1.service"
start_bus policy
expect_rc 0 "$NSPAWNCTL" list
MACHINED_PID=$(busctl --system status org.nspawnctl.machined1 | sed -n 's/^PID=//p')
[ -n "$MACHINED_PID" ] || fail "machined was not activated"
echo "$OUT" | grep -q "0 machines listed" || fail "list through an activated machined: $OUT"
kill9_machined
stop_bus
ok "the D-Bus activation file starts machined on the first call"

# enable/disable on a host without systemd: machined keeps the autostart list of the init
# script (in its config directory), for images that exist.
start_machined --no-bus
mkdir -p "$POOL/m1/usr" "$POOL/m2/usr"
expect_rc 0 "$NSPAWNCTL" enable m1
expect_rc 0 "$NSPAWNCTL" enable m2
expect_rc 0 "$NSPAWNCTL" enable m1
[ "$(grep -v '^#' "$WORK/etc/autostart")" = "$(printf 'm1\nm2')" ] || fail "autostart: $(cat "$WORK/etc/autostart")"
expect_rc 0 "$NSPAWNCTL" disable m1
[ "$(grep -v '^#' "$WORK/etc/autostart")" = "m2" ] || fail "disable"
expect_rc 3 "$NSPAWNCTL" enable m3; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" enable ../etc
expect_rc 7 as_nobody "$NSPAWNCTL" enable m3
kill9_machined
rm -rf "$POOL/m1" "$POOL/m2"
ok "enable/disable: machined maintains the autostart list, for existing images only"

for v in list status start poweroff reboot terminate kill enable disable console; do
    expect_rc 0 "$NSPAWNCTL" $v --help
    echo "$OUT" | grep -q "nspawnctl $v" || fail "$v --help"
done
ok "--help on every machine verb"
