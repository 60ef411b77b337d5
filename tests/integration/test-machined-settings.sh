#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Settings of machines started through machined (docs/settings.md): a refused key fails
# `nspawnctl start` with FILE:LINE and a non-zero exit, nothing left running; the settings'
# warnings (unknown keys, privileged keys in the pool's untrusted file) reach the user on
# start; KillSignal= is what PowerOffMachine sends; a booted box has its settings (host name,
# masks, rlimits, OOM score, bounding set) and powers off cleanly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

M1=$(machine_name refused)
M2=$(machine_name killsig)
M3=$(machine_name pool)
M4=$(machine_name booted)
pool_populate "$M1" "$M2" "$M3" "$M4"
mkdir -p "$WORK/etc" "$WORK/w"
start_bus policy
start_machined

state_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\",[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
gone() { [ -z "$(state_of "$1")" ]; }

# --- a refused key: the start fails with FILE:LINE -------------------------------------------
printf '[Exec]\nBoot=yes\nPivotRoot=/sysroot\n' >"$WORK/etc/$M1.nspawn"
before=$(state_snapshot)
expect_rc 1 "$NSPAWNCTL" start "$M1"; expect_one_line_error
echo "$ERR" | grep -qF "$WORK/etc/$M1.nspawn:3: PivotRoot= is not supported" || fail "refused key: $ERR"
gone "$M1" || fail "$M1 runs"
[ "$(state_snapshot | grep -v '/logs/')" = "$(echo "$before" | grep -v '/logs/')" ] || fail "a refused start left something behind"
set +e
gdbus call --system --dest org.nspawnctl.machined1 --object-path /org/nspawnctl/machined1 \
    --method org.nspawnctl.machined1.Manager.StartMachine "$M1" >"$WORK/e" 2>&1
set -e
grep -q 'org.nspawnctl.machined1.BadSettings' "$WORK/e" && grep -qF 'PivotRoot= is not supported' "$WORK/e" ||
    fail "StartMachine: $(cat "$WORK/e")"
printf '[Exec]\nBoot=yes\nLinkJournal=host\n' >"$WORK/etc/$M1.nspawn"
expect_rc 1 "$NSPAWNCTL" start "$M1"; expect_one_line_error
echo "$ERR" | grep -qF "$WORK/etc/$M1.nspawn:3: LinkJournal=host is not supported (only no and auto)" || fail "$ERR"
printf '[Exec]\nBoot=yes\nAmbientCapability=CAP_KILL\n' >"$WORK/etc/$M1.nspawn"
expect_rc 1 "$NSPAWNCTL" start "$M1"; expect_one_line_error
echo "$ERR" | grep -qF 'AmbientCapability= does not go with booting an init' || fail "$ERR"
gone "$M1" || fail "$M1 runs"
ok "a refused key or value fails the start: FILE:LINE, exit 1, BadSettings, nothing running"

# --- warnings reach the user; KillSignal= is PowerOffMachine's signal ---------------------------
cat >"$WORK/etc/$M2.nspawn" <<EOT
[Exec]
Boot=no
Parameters=/bin/sh -c 'trap "echo usr1 >/w/sig; exit 0" USR1; trap "echo term >/w/sig; exit 0" TERM; touch /w/ready; while :; do sleep 0.1; done'
KillSignal=SIGUSR1
Bogus=1
[Files]
Bind=$WORK/w:/w
EOT
expect_rc 0 "$NSPAWNCTL" start "$M2"
echo "$ERR" | grep -qF "$WORK/etc/$M2.nspawn:5: unknown key Bogus= in section [Exec], ignoring" || fail "start warnings: $ERR"
wait_until 30 test -e "$WORK/w/ready" || fail "$M2 did not come up"
grep -qx 'KILL_SIGNAL=10' "$STATE/machines/$M2" || fail "record: $(cat "$STATE/machines/$M2")"
expect_rc 0 "$NSPAWNCTL" poweroff --wait "$M2"
[ "$(cat "$WORK/w/sig")" = usr1 ] || fail "poweroff sent $(cat "$WORK/w/sig")"
busctl --system introspect org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager |
    grep -E '^\.StartMachineEx +method +st +oas ' >/dev/null || fail "StartMachineEx (st) -> (oas) not on the interface"
ok "start prints the settings' warnings (StartMachineEx); poweroff sends KillSignal="

# --- the pool's file is untrusted: its privileged keys are ignored, and the user is told -------
cat >"$POOL/$M3.nspawn" <<'EOT'
[Exec]
Boot=no
Parameters=/bin/sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
Hostname=from-pool
Capability=CAP_SYS_TIME
DropCapability=CAP_NET_RAW
SystemCallFilter=~sethostname
SuppressSync=yes
EOT
expect_rc 0 "$NSPAWNCTL" start "$M3"
echo "$ERR" | grep -qF "$POOL/$M3.nspawn:5: ignoring privileged setting Capability= in untrusted file" ||
    fail "untrusted warning: $ERR"
expect_rc 0 "$NSPAWNCTL" shell "$M3" -- sh -c 'hostname; grep CapBnd /proc/1/status /proc/self/status;
    hostname changed 2>/dev/null && echo SETHOSTNAME; dd if=/dev/zero of=/tmp/x bs=1 count=1 oflag=sync 2>/dev/null || echo NO-O_SYNC'
[ "$(echo "$OUT" | head -1)" = from-pool ] || fail "Hostname= from the pool: $OUT"
echo "$OUT" | grep -q SETHOSTNAME && fail "SystemCallFilter= does not hold for a session: $OUT"
echo "$OUT" | grep -q NO-O_SYNC || fail "SuppressSync= does not hold for a session: $OUT"
grep -qx 'SYSCALL_DENY=sethostname' "$STATE/machines/$M3" && grep -qx 'SUPPRESS_SYNC=yes' "$STATE/machines/$M3" ||
    fail "record: $(cat "$STATE/machines/$M3")"
bnd=$((16#$(echo "$OUT" | awk '/1\/status:CapBnd/ {print $2}')))
[ $(( (bnd >> 25) & 1 )) = 0 ] && [ $(( (bnd >> 13) & 1 )) = 0 ] || fail "bounding set: $OUT"
[ "$(echo "$OUT" | awk '/CapBnd/ {print $2}' | uniq | wc -l)" = 1 ] || fail "the session's bounding set is not the init's: $OUT"
expect_rc 0 "$NSPAWNCTL" poweroff --wait "$M3"
ok "an untrusted Capability= is ignored with a warning on start; its DropCapability=, SystemCallFilter=~, SuppressSync= hold for a shell session too"

# --- a booted box with its settings ----------------------------------------------------------------
# systemd inside sets the host name from /etc/hostname when there is one (as under nspawn).
rm -f "$POOL/$M4/etc/hostname"
cat >"$WORK/etc/$M4.nspawn" <<'EOT'
[Exec]
Hostname=booted-host
LimitNOFILE=4096:8192
OOMScoreAdjust=100
DropCapability=CAP_NET_RAW
Timezone=copy
[Files]
Inaccessible=/srv
EOT
expect_rc 0 "$NSPAWNCTL" start "$M4"
[ -z "$ERR" ] || fail "start of $M4 warned: $ERR"
expect_rc 0 "$NSPAWNCTL" shell "$M4" -- sh -c 'hostname; cat /proc/1/oom_score_adj; awk "/open files/ {print \$5}" /proc/1/limits;
    stat -c %a /srv; ls /srv 2>/dev/null; test -L /etc/localtime && echo LINK; grep CapBnd /proc/1/status; systemctl is-system-running --wait'
[ "$(echo "$OUT" | sed -n 1,4p | tr '\n' ' ')" = "booted-host 100 8192 0 " ] || fail "booted box: $OUT"
bnd=$((16#$(echo "$OUT" | awk '/CapBnd/ {print $2}')))
[ $(( (bnd >> 13) & 1 )) = 0 ] || fail "DropCapability=: $OUT"
echo "$OUT" | tail -1 | grep -qx running || fail "not running cleanly: $OUT"
expect_rc 0 "$NSPAWNCTL" poweroff --wait "$M4"
ok "a booted box has its settings: host name, OOM score, rlimit, mask, timezone copy, bounding set; no failed unit"

for m in "$M1" "$M2" "$M3" "$M4"; do assert_host_clean "$m"; done
ok "nothing left behind"
