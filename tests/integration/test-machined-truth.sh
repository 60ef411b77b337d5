#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# start and poweroff tell the truth: start returns once the guest's init is up or fails with
# the reason (its console's last words, also in `nspawnctl log`); poweroff works with
# systemd, busybox and sysvinit guests, --wait waits, --timeout terminates (exit 8).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

FAIL=$(machine_name fail); BB=$(machine_name bb); SV=$(machine_name sv); SLOW=$(machine_name slow)
SD=$(machine_name sd)
pool_populate "$FAIL" "$BB" "$SV" "$SLOW" "$SD"
debs=$("$SOURCE_ROOT/tests/integration/init-debs.sh" "$CACHE" busybox sysvinit-core)

# Careful: paths in a guest tree may be symlinks to absolute paths (usr/sbin/halt ->
# /bin/systemctl) that a cp onto them would follow to the HOST's file. Every file is put in
# place by removing what is there first.
put() { rm -f "$2"; cp -P "$1" "$2"; }

# A boot that fails: the "init" prints why and exits 1.
rm "$POOL/$FAIL/usr/lib/systemd/systemd"
rm -f "$POOL/$FAIL/usr/lib/systemd/systemd"
printf '#!/bin/sh\necho "NSPAWNCTL-TEST: cannot find the root file system"\nexit 1\n' >"$POOL/$FAIL/usr/lib/systemd/systemd"
chmod 755 "$POOL/$FAIL/usr/lib/systemd/systemd"

# busybox as init: /sbin/init -> /bin/busybox, no systemd.
busybox_tree() {
    rm "$POOL/$1/usr/lib/systemd/systemd"
    dpkg-deb -x "$debs"/busybox_*.deb "$WORK/bb-$1"
    put "$WORK/bb-$1/bin/busybox" "$POOL/$1/usr/bin/busybox"
    ln -sfn /usr/bin/busybox "$POOL/$1/usr/sbin/init"
    rm -f "$POOL/$1/etc/inittab"
    printf '::sysinit:/bin/true\n%s\n' "$2" >"$POOL/$1/etc/inittab"
}
busybox_tree "$BB" "::shutdown:/bin/true"
# One whose shutdown hangs: poweroff --timeout must terminate it.
busybox_tree "$SLOW" "::shutdown:/bin/sleep 1000"

# sysvinit as init, with a minimal inittab whose runlevel 0 powers off.
rm "$POOL/$SV/usr/lib/systemd/systemd"
dpkg-deb -x "$debs"/sysvinit-core_*.deb "$WORK/sv"
for b in init halt poweroff reboot shutdown telinit runlevel; do
    put "$WORK/sv/sbin/$b" "$POOL/$SV/usr/sbin/$b"
done
rm -f "$POOL/$SV/etc/inittab"
cat >"$POOL/$SV/etc/inittab" <<'EOT'
id:2:initdefault:
si::sysinit:/bin/true
l0:0:wait:/sbin/halt -d -f -p
l6:6:wait:/sbin/reboot -d -f
EOT

start_bus policy
start_machined

expect_rc 1 "$NSPAWNCTL" start "$FAIL"; expect_one_line_error
echo "$ERR" | grep -q "ended before it was ready, with status 1" || fail "failed boot, reason: $ERR"
echo "$ERR" | grep -q "cannot find the root file system" || fail "failed boot, console: $ERR"
expect_rc 3 "$NSPAWNCTL" status "$FAIL"
expect_rc 0 "$NSPAWNCTL" log "$FAIL"
echo "$OUT" | grep -q "NSPAWNCTL-TEST: cannot find the root file system" || fail "log: $OUT"
expect_rc 0 "$NSPAWNCTL" log --json "$FAIL"
echo "$OUT" | grep -q '"console":\[.*cannot find the root' || fail "log --json: $OUT"
expect_rc 3 "$NSPAWNCTL" log nosuchmachine
ok "a failing boot: start exits 1 with the reason and the console's last words, kept in 'nspawnctl log'"

for m in "$BB" "$SV"; do
    expect_rc 0 "$NSPAWNCTL" start "$m"
    expect_rc 0 "$NSPAWNCTL" status "$m"
    echo "$OUT" | grep -q "State: running" || fail "$m not running once start returned: $OUT"
    expect_rc 0 "$NSPAWNCTL" poweroff --wait "$m"
    expect_rc 3 "$NSPAWNCTL" status "$m"
done
ok "busybox and sysvinit guests: start returns them running, poweroff --wait stops them"

expect_rc 0 "$NSPAWNCTL" start "$SLOW"
expect_rc 8 "$NSPAWNCTL" poweroff --timeout=3 "$SLOW"
echo "$ERR" | grep -q "did not power off within 3 s" || fail "timeout message: $ERR"
expect_rc 3 "$NSPAWNCTL" status "$SLOW"
ok "poweroff --timeout terminates a guest that does not stop, exit 8"

expect_rc 0 "$NSPAWNCTL" start "$SD"
expect_rc 0 "$NSPAWNCTL" list --json
echo "$OUT" | grep -q "\"name\":\"$SD\",[^}]*\"state\":\"running\"" || fail "systemd guest not running after start: $OUT"
expect_rc 5 "$NSPAWNCTL" start "$SD"; expect_one_line_error
expect_rc 0 "$NSPAWNCTL" poweroff --wait "$SD"
expect_rc 0 "$NSPAWNCTL" start --no-wait "$SD"
expect_rc 0 "$NSPAWNCTL" poweroff --wait "$SD"
ok "a systemd guest: start returns it running (READY=1), a second start is 'wrong state' (5), --no-wait"

for bad in "--timeout=0" "--timeout=soon" "--timeout=" "--bogus"; do
    expect_rc 2 "$NSPAWNCTL" poweroff $bad "$SD"; expect_one_line_error
done
expect_rc 2 "$NSPAWNCTL" start --no-wait; expect_one_line_error
ok "bad poweroff/start options: one line, exit 2"
