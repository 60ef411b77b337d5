#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Machines through machined get a user namespace by default (issue 9): an existing image
# (the cached tree copied into the pool) boots with its own UID range and no failed unit,
# shell works in it, a trusted Bind=...:owneridmap makes a host user's directory the box
# user's, an untrusted PrivateUsers=no is ignored, and after poweroff nothing on disk has
# changed owner or mode, nor is anything owned by a shifted UID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

M=$(machine_name box)
M2=$(machine_name other)
pool_populate "$M" "$M2"

# A box user (1000) with a project directory in the image, and a host user's (4321) project.
echo "dev:x:1000:1000::/home/dev:/bin/sh" >>"$POOL/$M/etc/passwd"
echo "dev:x:1000:" >>"$POOL/$M/etc/group"
mkdir -p "$POOL/$M/home/dev/proj"
chown -R 1000:1000 "$POOL/$M/home/dev"
mkdir -p "$WORK/proj"
echo hello >"$WORK/proj/from-host"
chown -R 4321:4321 "$WORK/proj"
mkdir -p "$WORK/etc"
printf '[Files]\nBind=%s:/home/dev/proj:owneridmap\n' "$WORK/proj" >"$WORK/etc/$M.nspawn"
# Next to the image, so untrusted: it must not switch the user namespace off.
printf '[Exec]\nPrivateUsers=no\n' >"$POOL/$M2.nspawn"

owners() { find "$POOL/$M" -xdev -printf '%P %U:%G %m %y\n' | sort; }
owners >"$WORK/before"

start_bus policy
start_machined
state_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\",[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
running() { [ "$(state_of "$1")" = running ]; }
leader_of() { sed -n 's/^LEADER=//p' "$STATE/machines/$1"; }
for m in "$M" "$M2"; do expect_rc 0 "$NSPAWNCTL" start "$m"; done
wait_until 120 running "$M" || { "$NSPAWNCTL" list; fail "$M did not reach running"; }
wait_until 120 running "$M2" || { "$NSPAWNCTL" list; fail "$M2 did not reach running"; }
L=$(leader_of "$M"); L2=$(leader_of "$M2")
cleanup_box() { kill -9 "$L" "$L2" 2>/dev/null || true; cleanup_machined; }
trap cleanup_box EXIT

read -r inside shift count <"/proc/$L/uid_map"
[ "$inside" = 0 ] && [ "$count" = 65536 ] && [ "$shift" -ge $((0x80000)) ] || fail "uid_map of $M: $inside $shift $count"
[ "$(stat -c %u "/proc/$L")" = "$shift" ] || fail "the init of $M is not host UID $shift"
read -r _ shift2 _ <"/proc/$L2/uid_map"
[ "$shift2" -ge $((0x80000)) ] && [ "$shift2" != "$shift" ] || fail "uid_map of $M2: $(cat "/proc/$L2/uid_map")"
grep -q "ignoring privileged setting PrivateUsers=" "$WORK/machined.log" || fail "no warning for the untrusted PrivateUsers="
ok "machined starts machines with a user namespace of their own ($shift, $shift2); an untrusted PrivateUsers=no is ignored"

expect_rc 0 "$NSPAWNCTL" shell "$M" -- sh -c 'id -u; awk "{print \$2}" /proc/self/uid_map; systemctl is-system-running --wait; systemctl --failed --no-legend --plain | wc -l'
[ "$(echo "$OUT" | tr '\n' ' ')" = "0 $shift running 0 " ] || fail "shell: $OUT"
ok "shell into it: root of the machine's user namespace; systemd is running with no failed unit"

expect_rc 0 "$NSPAWNCTL" shell "dev@$M" -- sh -c 'stat -c "%U:%G" /home/dev/proj /home/dev/proj/from-host; echo box >/home/dev/proj/from-box; cat /home/dev/proj/from-host'
[ "$(echo "$OUT" | tr '\n' ' ')" = "dev:dev dev:dev hello " ] || fail "owneridmap inside: $OUT"
[ "$(stat -c %u:%g "$WORK/proj/from-box")" = 4321:4321 ] || fail "from-box on the host: $(stat -c %u:%g "$WORK/proj/from-box")"
ok "Bind=...:owneridmap: the host user's directory is the box user's, what it writes is the host user's"

expect_rc 0 "$NSPAWNCTL" poweroff "$M"
expect_rc 0 "$NSPAWNCTL" poweroff "$M2"
gone() { ! "$NSPAWNCTL" list | grep -q "^$1 "; }
wait_until 60 gone "$M" || fail "$M did not power off"
wait_until 60 gone "$M2" || fail "$M2 did not power off"
wait_until 20 sh -c "! kill -0 $L 2>/dev/null && ! kill -0 $L2 2>/dev/null" || fail "an init outlived poweroff"
[ -z "$(ls -A "$STATE/uidranges" 2>/dev/null)" ] || fail "range locks left: $(ls "$STATE/uidranges")"
ok "poweroff ends both; their UID ranges are released"

owners >"$WORK/after"
changed=$(awk 'NR == FNR { b[$1] = $0; next } ($1 in b) && b[$1] != $0 { print b[$1] " -> " $0 }' "$WORK/before" "$WORK/after")
[ -z "$changed" ] || { echo "$changed" | head >&2; fail "owners or modes changed on disk"; }
shifted=$(find "$POOL/$M" -xdev \( -uid +65535 -o -gid +65535 \) | head -5)
[ -z "$shifted" ] || fail "files owned by shifted IDs on disk: $shifted"
echo "# files in the image: $(wc -l <"$WORK/before") before, $(wc -l <"$WORK/after") after the boot"
ok "the image booted unprivileged with nothing rewritten: no owner or mode changed, nothing written as a shifted UID"
