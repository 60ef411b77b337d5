#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nspawnctl test over three images (hard-linked copies of the cached bookworm tree under
# other names, plus the cached trixie tree): a command that passes on two and fails on one,
# as the table, the JSON and the JUnit file say; --copy and --script; --boot to
# multi-user; --template making a missing image once; bad input refused with nothing made.
# After every run nothing is left: the pool unchanged, no machine, mount or cgroup.
. "$(dirname "$0")/distro-lib.sh"
"$SOURCE_ROOT/tests/integration/make-tree.sh" "$CACHE" trixie
A=t$$-alpha B=t$$-beta C=t$$-gamma T=t$$-trixie
add_image "$A" "$TREE"; add_image "$B" "$TREE"; add_image "$C" "$TREE"
add_image "$T" "$CACHE/debian-trixie"
before=$(pool_state)

# Fails on gamma only: the machine's host name starts with its image's name.
cmd='echo "on $(hostname) $(cat /etc/debian_version)"; case $(hostname) in *-gamma-*) echo broken >&2; exit 3;; esac'
expect_rc 1 nt --image="$A,$B" --image="$C,$T" --junit="$WORK/junit.xml" -- sh -c "$cmd"
for i in "$A" "$B" "$T"; do
    grep -q "^\[$i\] on $i-" <<<"$OUT" || fail "no prefixed output of $i: $OUT"
    grep -Eq "^$i +pass +0 " <<<"$OUT" || fail "$i did not pass: $OUT"
done
grep -q "^\[$C\] broken" <<<"$OUT" || fail "stderr of $C not shown: $OUT"
grep -Eq "^$C +fail +3 .*exit status 3" <<<"$OUT" || fail "$C did not fail with 3: $OUT"
grep -q "^\[$T\] on .* 13\." <<<"$OUT" || grep -q "^\[$T\] on .* trixie" <<<"$OUT" || fail "trixie did not run: $OUT"
ok "the table: pass on three, fail (status 3) on one, exit status 1"
python3 - "$WORK/junit.xml" "$A" "$B" "$C" "$T" <<'PY' || fail "JUnit report wrong: $(cat "$WORK/junit.xml")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
assert suite.get("tests") == "4" and suite.get("failures") == "1" and suite.get("errors") == "0", suite.attrib
cases = {c.get("name"): c for c in suite.findall("testcase")}
assert sorted(cases) == sorted(sys.argv[2:]), cases
for n in (sys.argv[2], sys.argv[3], sys.argv[5]):
    assert cases[n].find("failure") is None and cases[n].find("error") is None
    assert "on " + n + "-" in cases[n].find("system-out").text
f = cases[sys.argv[4]].find("failure")
assert f is not None and "exit status 3" in f.get("message"), f
PY
ok "the JUnit file: four test cases, one failure with its output"
assert_nothing_left "t$$-" "$before"; ok "nothing left: pool, machines, mounts, cgroups"

expect_rc 0 nt --image="$A,$B" --json -- true
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["pass"] == 2 and d["fail"] == 0 and len(d["results"]) == 2, d
assert all(r["result"] == "pass" and r["exit_status"] == 0 and r["setup_usec"] > 0 for r in d["results"]), d
' "$OUT" || fail "JSON wrong: $OUT"
ok "--json: all passed, exit status 0"

# --log-dir: output in a log per image, not on stdout; --copy and --script.
mkdir -p "$WORK/src/dir"; echo payload >"$WORK/src/dir/file"
printf '#!/bin/sh\necho "script $1 $2 $(cat /srv/in/file) $(id -u)"\necho changed >/srv/in/file\n' >"$WORK/script.sh"
expect_rc 0 nt --image="$A,$T" --log-dir="$WORK/logs" --copy="$WORK/src/dir:/srv/in" --script="$WORK/script.sh" -- one two
for i in "$A" "$T"; do
    grep -q "^script one two payload 0$" "$WORK/logs/$i.log" || fail "script output of $i: $(cat "$WORK/logs/$i.log")"
    grep -Eq "^$i +pass +0 .*$WORK/logs/$i.log" <<<"$OUT" || fail "log path not in the table: $OUT"
done
! grep -q "script one" <<<"$OUT" || fail "output on stdout despite --log-dir"
[ "$(cat "$WORK/src/dir/file")" = payload ] || fail "the host's copy source changed"
ok "--log-dir, --copy (a writable copy; the host's file unchanged), --script with arguments"
assert_nothing_left "t$$-" "$before"; ok "nothing left"

# Throwaway machines are unprivileged, as machined's are: root inside is a picked host UID,
# never the host's root, and a booted one gets its own range too.
expect_rc 0 nt --image="$A" --log-dir="$WORK/userns" -- sh -c 'cat /proc/self/uid_map'
read -r inside host count <"$WORK/userns/$A.log" || true
[ "$inside" = 0 ] && [ "${host:-0}" -ge 65536 ] && [ "$count" = 65536 ] ||
    fail "not in a user namespace of its own: $(cat "$WORK/userns/$A.log")"
ok "a throwaway machine's root is host UID $host (a picked range of 65536), not the host's root"

# --boot: systemd reaches multi-user with no failed unit, the command runs inside.
expect_rc 0 nt --boot --image="$A" --log-dir="$WORK/boot" -- sh -c \
    'systemctl is-active multi-user.target && systemctl --failed --no-legend | grep . && exit 1; echo "pid1=$(cat /proc/1/comm)"'
grep -q "^active$" "$WORK/boot/$A.log" || fail "multi-user not active: $(cat "$WORK/boot/$A.log")"
grep -q "^pid1=systemd$" "$WORK/boot/$A.log" || fail "not booted: $(cat "$WORK/boot/$A.log")"
grep -q "^\[console\] .*Reached target.*Multi-User" "$WORK/boot/$A.log" || fail "no console in the log"
ok "--boot: multi-user, no failed unit, the command ran in the booted machine, console in the log"
expect_rc 1 nt --boot --image="$A" -- sh -c 'exit 7'
grep -Eq "^$A +fail +7 " <<<"$OUT" || fail "--boot fail status: $OUT"
expect_rc 1 nt --boot --image="$A" -- /no/such/command
grep -Eq "^$A +fail +127 " <<<"$OUT" || fail "--boot missing command: $OUT"
ok "--boot: a failing command's status, 127 for a missing command"
assert_nothing_left "t$$-" "$before"; ok "nothing left after booted machines"

# --template: a missing image is made once from its template (here from a template base
# the pool already has, so no debootstrap runs), an existing one is used as it is. The
# cached tree lacks systemd-resolved, which the template's Network=networkd enables: a unit
# file stands in for it (the image is not booted here).
cp -al "$TREE" "$POOL/.base-debian-bookworm"
printf '[Service]\nExecStart=/bin/true\n' >"$POOL/.base-debian-bookworm/usr/lib/systemd/system/systemd-resolved.service"
expect_rc 0 nt --template=debian-bookworm -- cat /etc/hostname
grep -q "Creating image debian-bookworm" <<<"$ERR" || fail "not created: $ERR"
grep -q "^\[debian-bookworm\] debian-bookworm$" <<<"$OUT" || fail "not run in the new image: $OUT"
[ -d "$POOL/debian-bookworm" ] || fail "no image made"
expect_rc 0 nt --template=debian-bookworm -- true
! grep -q "Creating" <<<"$ERR" || fail "made twice: $ERR"
ok "--template: made once, then used"
rm -rf "${POOL:?}/debian-bookworm" "$POOL/.base-debian-bookworm"
[ "$(pool_state)" = "$before" ] || fail "pool differs after removing the template image"

# Bad input: one line, non-zero, nothing made (no log dir, no JUnit file, no machine).
long=$(head -c 5000 /dev/zero | tr '\0' a)
bad() {
    want=$1; shift
    expect_rc "$want" nt --log-dir="$WORK/badlogs" --junit="$WORK/bad.xml" "$@"
    expect_one_line_error
    [ ! -e "$WORK/badlogs" ] && [ ! -e "$WORK/bad.xml" ] || fail "something made for: $*"
}
bad 2 -- true
bad 2 --image= -- true
bad 2 --image=, -- true
bad 2 --image="$A,,$B" -- true
bad 2 --image="../x" -- true
bad 2 --image="$(printf 'a\033[31mb')" -- true
bad 2 --image="$long" -- true
bad 2 --image="$A,$A" -- true
bad 2 --image="$A"
bad 2 --image="$A" -- ''
bad 2 --image="$A" --jobs=0 -- true
bad 2 --image="$A" --jobs=65 -- true
bad 2 --image="$A" --jobs=two -- true
bad 2 --image="$A" --jobs= -- true
bad 2 --image="$A" --timeout=0 -- true
bad 2 --image="$A" --timeout=-1 -- true
bad 2 --image="$A" --timeout=nan -- true
bad 2 --image="$A" --timeout=1e3 -- true
bad 2 --image="$A" --timeout="$long" -- true
bad 2 --image="$A" --copy=relative:/x -- true
bad 2 --image="$A" --copy="$WORK/src:/" -- true
bad 2 --image="$A" --copy="$WORK/nonexistent:/x" -- true
bad 2 --image="$A" --script="$WORK/nonexistent" -- true
bad 2 --image="$A" --script="$WORK/src" -- true
bad 2 --image="$A" --no-such-option -- true
bad 3 --image="$A,t$$-nosuch" -- true
bad 3 --template=no-such-template -- true
assert_nothing_left "t$$-" "$before"; ok "bad input: one-line errors, exit 2 or 3, nothing made"

# nspawnctl enter (used by the autopkgtest backend): a clear error for what is not there.
expect_rc 3 "$NSPAWNCTL" enter --state-dir="$STATE" "t$$-nosuch" -- true; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" enter --state-dir="$STATE" "../x" -- true; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" enter --state-dir="$STATE"; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" enter --state-dir="$STATE" "$A" -- ''; expect_one_line_error
ok "enter: no such machine (3), bad names and commands (2)"
