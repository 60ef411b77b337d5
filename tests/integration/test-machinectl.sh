#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The real machinectl (systemd-container 252) against machined serving org.freedesktop.machine1
# on a private bus (issue 13): every machinectl verb that talks to machine1, on a booted
# bookworm box and on images of a btrfs pool. machinectl refuses to run unless systemd is
# PID 1, which it tells by /run/systemd/system: it runs in a private mount namespace with a
# tmpfs on /run that has that directory, and nothing else changes for it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
command -v machinectl >/dev/null || fail "machinectl (systemd-container) is needed"
command -v tmux >/dev/null || fail "tmux is needed for machinectl login"

M=$(machine_name box)
IMG=$(machine_name img)
pool_populate "$M" "$IMG"
start_bus policy
start_machined
wait_until 10 busctl --system status org.freedesktop.machine1 >/dev/null 2>&1 || fail "machined did not take org.freedesktop.machine1"
ok "machined (--machine1=auto) owns org.freedesktop.machine1 where nobody else does"

# mctl ARGS...: machinectl as on a systemd host, on the test's bus.
mctl() { unshare -m sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -p /run/systemd/system && exec machinectl "$@"' sh "$@"; }

state_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\",[^}]*" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'; }
is_running() { [ "$(state_of "$M")" = running ]; }
is_gone() { [ -z "$(state_of "$M")" ]; }
leader() { sed -n 's/^LEADER=//p' "$STATE/machines/$M" 2>/dev/null; }
boot() {
    expect_rc 0 "$NSPAWNCTL" start "$M"
    wait_until 120 is_running || { "$NSPAWNCTL" list; fail "machine did not reach running"; }
    LEADER=$(leader)
    CLEANUP_PIDS="$CLEANUP_PIDS $LEADER"
}
boot

# --- list, status, show -------------------------------------------------------------------
expect_rc 0 mctl list --no-legend
echo "$OUT" | grep -q "^$M  *container  *nspawnctl  *debian  *12 " || { echo "$OUT" >&2; fail "list: $OUT"; }
echo "$OUT" | grep -q "^\.host" && fail "list shows .host without --all"
expect_rc 0 mctl list --all --no-legend
echo "$OUT" | grep -q "^\.host  *host" || fail "list --all has no .host: $OUT"
ok "machinectl list: the box with its class, service and os-release (debian 12); --all adds .host"

expect_rc 0 mctl status "$M" --no-pager
echo "$OUT" | grep -q "Leader: $LEADER" || { echo "$OUT" >&2; fail "status has no leader $LEADER"; }
echo "$OUT" | grep -q "Root: $POOL/$M" || fail "status has no root: $OUT"
echo "$OUT" | grep -q "OS: Debian GNU/Linux 12 (bookworm)" || fail "status has no OS: $OUT"
expect_rc 0 mctl show --all "$M"
for want in "Name=$M" "Class=container" "Service=nspawnctl" "Leader=$LEADER" "RootDirectory=$POOL/$M" "State=running" "Unit="; do
    echo "$OUT" | grep -qx "$want" || { echo "$OUT" >&2; fail "show has no $want"; }
done
expect_rc 0 mctl show
echo "$OUT" | grep -qx "PoolPath=$POOL" || fail "show (manager) has no PoolPath: $OUT"
ok "machinectl status (leader, root, OS) and show (the Machine and Manager properties)"

# --- images --------------------------------------------------------------------------------
expect_rc 0 mctl list-images --no-legend
echo "$OUT" | grep -q "^$IMG " || fail "list-images: $OUT"
echo "$OUT" | grep -q "^$M " || fail "list-images: $OUT"
echo "guest-$IMG" >"$POOL/$IMG/etc/hostname"
expect_rc 0 mctl image-status "$IMG" --no-pager
echo "$OUT" | grep -q "Hostname: guest-$IMG" || { echo "$OUT" >&2; fail "image-status has no hostname"; }
echo "$OUT" | grep -q "OS: Debian GNU/Linux 12 (bookworm)" || fail "image-status has no OS: $OUT"
ok "machinectl list-images and image-status (hostname and os-release read from the image)"

expect_rc 0 mctl clone "$IMG" "$IMG-c"
[ -d "$POOL/$IMG-c/etc" ] || fail "clone made nothing"
expect_rc 0 mctl rename "$IMG-c" "$IMG-r"
[ -d "$POOL/$IMG-r/etc" ] && [ ! -e "$POOL/$IMG-c" ] || fail "rename"
expect_rc 0 mctl read-only "$IMG-r"
expect_rc 0 mctl show-image "$IMG-r"
echo "$OUT" | grep -qx "ReadOnly=yes" || fail "read-only did not stick: $OUT"
expect_rc 0 mctl read-only "$IMG-r" false
expect_rc 0 mctl show-image "$IMG-r"
echo "$OUT" | grep -qx "ReadOnly=no" || fail "read-only false did not stick: $OUT"
expect_rc 0 mctl remove "$IMG-r"
[ ! -e "$POOL/$IMG-r" ] || fail "remove left $POOL/$IMG-r"
expect_rc 1 mctl remove "$IMG-nope"
echo "$ERR" | grep -q "No image '$IMG-nope'" || fail "remove of a missing image: $ERR"
ok "machinectl clone, rename, read-only (and back), remove; a missing image is a clear error"

# --- shell and login ---------------------------------------------------------------------
expect_rc 0 mctl shell "$M" /bin/sh -c 'echo SHELL-$((6*7)) $(id -un)' </dev/null
echo "$OUT" | grep -q "SHELL-42 root" || fail "machinectl shell: $OUT / $ERR"
expect_rc 0 mctl shell "nobody@$M" /bin/sh -c 'echo AS-$(id -un)' </dev/null
echo "$OUT" | grep -q "AS-nobody" || fail "machinectl shell nobody@: $OUT / $ERR"
ok "machinectl shell NAME COMMAND and USER@NAME run in the box"

TMUX_SOCK=$WORK/tmux
tmx() { tmux -S "$TMUX_SOCK" "$@"; }
pane_has() { tmx capture-pane -p -S -200 | grep -q -- "$1"; }
pane_wait() { wait_until 20 pane_has "$1" || { tmx capture-pane -p -S -200 >&2; fail "pane never showed '$1'"; }; }
tmx new-session -d -x 100 -y 30 "env DBUS_SYSTEM_BUS_ADDRESS=$DBUS_SYSTEM_BUS_ADDRESS unshare -m sh -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec machinectl login $M'; echo LOGIN-RC=\$?; sleep 600"
CLEANUP_PIDS="$CLEANUP_PIDS $(tmx display -p '#{pid}')"
pane_wait "login:"
tmx send-keys C-] C-] C-]
pane_wait "LOGIN-RC=0"
tmx kill-server
ok "machinectl login shows the box's getty prompt and leaves on ^]^]^]"

# --- copy-to, copy-from: inside the box's mount namespace ---------------------------------
head -c 100000 /dev/urandom >"$WORK/blob"
expect_rc 0 mctl copy-to "$M" "$WORK/blob" /tmp/blob
[ ! -e "$POOL/$M/tmp/blob" ] || fail "copy-to wrote into the image tree, not the box's /tmp (a tmpfs)"
[ "$("$NSPAWNCTL" shell "$M" -- sha256sum /tmp/blob | cut -d' ' -f1)" = "$(sha256sum <"$WORK/blob" | cut -d' ' -f1)" ] || fail "copy-to content"
"$NSPAWNCTL" shell "$M" -- sh -c 'echo from-guest-tmpfs >/tmp/g; ln -sfn /etc /root/etc-link'
expect_rc 0 mctl copy-from "$M" /tmp/g "$WORK/g"
[ "$(cat "$WORK/g")" = from-guest-tmpfs ] || fail "copy-from content"
# An absolute symlink in the box resolves inside the box, never on the host.
echo marker >"$WORK/marker-$$"
expect_rc 0 mctl copy-to "$M" "$WORK/marker-$$" "/root/etc-link/marker-$$"
[ ! -e "/etc/marker-$$" ] || { rm -f "/etc/marker-$$"; fail "copy-to followed a guest symlink onto the host"; }
"$NSPAWNCTL" shell "$M" -- test -f "/etc/marker-$$" || fail "copy-to through a guest symlink did not land in the box's /etc"
expect_rc 1 mctl copy-to "$M" "$WORK/blob" /tmp/blob
echo "$ERR" | grep -q "File exists" || fail "copy-to onto an existing file: $ERR"
"$NSPAWNCTL" shell "$M" -- sh -c 'mkfifo /tmp/fifo'
expect_rc 1 mctl copy-from "$M" /tmp/fifo "$WORK/fifo"
[ ! -e "$WORK/fifo" ] || fail "copy-from made something of a fifo"
ok "machinectl copy-to/copy-from go through the box's mount namespace (its tmpfs /tmp), guest symlinks stay inside, existing files and fifos are refused"

# --- bind ------------------------------------------------------------------------------------
mkdir -p "$WORK/bindsrc"; echo bound >"$WORK/bindsrc/f"
expect_rc 0 mctl bind --mkdir "$M" "$WORK/bindsrc" /mnt/b
[ "$("$NSPAWNCTL" shell "$M" -- cat /mnt/b/f)" = bound ] || fail "bind: not visible in the box"
"$NSPAWNCTL" shell "$M" -- sh -c 'echo from-box >/mnt/b/w'
[ "$(cat "$WORK/bindsrc/w")" = from-box ] || fail "bind: not writable"
expect_rc 0 mctl bind --read-only --mkdir "$M" "$WORK/bindsrc" /mnt/ro
expect_rc 1 "$NSPAWNCTL" shell "$M" -- touch /mnt/ro/x
"$NSPAWNCTL" shell "$M" -- sh -c 'ln -s /etc /root/bind-link'
expect_rc 1 mctl bind "$M" "$WORK/bindsrc" /root/bind-link
echo "$ERR" | grep -q "symlink" || fail "bind onto a symlink: $ERR"
expect_rc 0 "$NSPAWNCTL" bind "$M" "$WORK/bindsrc" /srv/nb --mkdir --read-only
[ "$("$NSPAWNCTL" shell "$M" -- cat /srv/nb/f)" = bound ] || fail "nspawnctl bind"
grep -q "$WORK/bindsrc" /proc/self/mountinfo && fail "bind left a mount on the host"
expect_rc 2 "$NSPAWNCTL" bind "$M" relative /srv/x; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" bind "$M" "$WORK/bindsrc" ""; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" bind "../etc" "$WORK/bindsrc"; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" bind "$M"; expect_one_line_error
expect_rc 3 "$NSPAWNCTL" bind "nosuch-$$" "$WORK/bindsrc"; expect_one_line_error
expect_rc 1 "$NSPAWNCTL" bind "$M" "$WORK/no-such-source" /srv/y --mkdir; expect_one_line_error
"$NSPAWNCTL" shell "$M" -- test ! -e /srv/y || fail "a failed bind created its destination"
ok "machinectl bind (--mkdir, --read-only) and nspawnctl bind mount live into the box; a symlink destination, bad names and paths are refused; nothing on the host"

# --- set-limit, clean --------------------------------------------------------------------
if [ "$POOL_BTRFS" = yes ]; then
    expect_rc 0 mctl set-limit "$IMG" 1G
    expect_rc 0 mctl show-image "$IMG"
    echo "$OUT" | grep -qx "Limit=1073741824" || fail "image limit: $OUT"
    expect_rc 0 mctl set-limit 1500M
    expect_rc 0 mctl show
    echo "$OUT" | grep -qx "PoolLimit=1572864000" || fail "pool limit: $OUT"
    echo "$OUT" | grep -q "^PoolUsage=[0-9]" || fail "pool usage: $OUT"
    btrfs qgroup show -re "$POOL" >"$WORK/qg" 2>&1 || fail "qgroups: $(cat "$WORK/qg")"
    ok "machinectl set-limit IMAGE and set-limit (pool) set btrfs quota limits, show reads them back"
    btrfs subvolume create "$POOL/.base-t$$" >/dev/null
    expect_rc 0 mctl clean
    echo "$OUT$ERR" | grep -q "Removed image '.base-t$$'" || fail "clean: $OUT $ERR"
    [ ! -e "$POOL/.base-t$$" ] || fail "clean left .base-t$$"
    [ -d "$POOL/$IMG" ] || fail "clean removed a visible image"
    ok "machinectl clean removes hidden images (template bases) and keeps the others"
fi

# --- hostile guest files -------------------------------------------------------------
m1() { busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager "$@"; }
"$NSPAWNCTL" shell "$M" -- sh -c 'cp --remove-destination /usr/lib/os-release /root/os-release.saved &&
    printf "ID=evil\nPRETTY_NAME=\"a\033]0;pwned\007\302\233""2Jb\"\nNAME=\"\377\376\"\n" >/etc/os-release.new &&
    mv -f /etc/os-release.new /etc/os-release'
expect_rc 0 m1 GetMachineOSRelease s "$M"
echo "$OUT" | grep -qF '"PRETTY_NAME" "a\\x1b]0;pwned\\x07\\xc2\\x9b2Jb"' || fail "escape sequences not escaped: $OUT"
echo "$OUT" | grep -qF '"NAME" "\\xff\\xfe"' || fail "invalid UTF-8 not escaped: $OUT"
expect_rc 0 mctl status "$M" --no-pager
echo "$OUT" | grep -q "$(printf '\033')" && fail "machinectl status printed a raw ESC"
"$NSPAWNCTL" shell "$M" -- sh -c 'rm /etc/os-release && mkfifo /etc/os-release'
expect_rc 1 m1 GetMachineOSRelease s "$M"
echo "$ERR" | grep -q "no regular text file" || fail "a FIFO as os-release: $ERR"
"$NSPAWNCTL" shell "$M" -- sh -c 'rm /etc/os-release && truncate -s 600M /etc/os-release'
expect_rc 1 m1 GetMachineOSRelease s "$M"
echo "$ERR" | grep -q "no regular text file" || fail "a 600 MB os-release: $ERR"
"$NSPAWNCTL" shell "$M" -- sh -c 'rm /etc/os-release && ln -s ../usr/lib/os-release /etc/os-release'
expect_rc 0 m1 GetMachineOSRelease s "$M"
echo "$OUT" | grep -q '"ID" "debian"' || fail "os-release not restored: $OUT"
ok "guest os-release: escape sequences and invalid UTF-8 escaped before the bus, a FIFO and a 600 MB file refused at once"

expect_rc 0 m1 GetMachineUIDShift s "$M"
[ "$OUT" = "u 0" ] || fail "UID shift without a user namespace: $OUT"
expect_rc 0 m1 GetMachineAddresses s "$M"
echo "$OUT" | grep -q "^a(iay) [0-9]" || fail "GetMachineAddresses: $OUT"
expect_rc 0 m1 OpenMachinePTY s "$M"
echo "$OUT" | grep -q '^hs [0-9]* "/dev/pts/[0-9]*"' || fail "OpenMachinePTY: $OUT"
expect_rc 0 m1 OpenMachineRootDirectory s "$M"
echo "$OUT" | grep -q '^h [0-9]' || fail "OpenMachineRootDirectory: $OUT"
expect_rc 0 m1 MapFromMachineUser su "$M" 1000
[ "$OUT" = "u 1000" ] || fail "MapFromMachineUser without a user namespace: $OUT"
expect_rc 1 m1 MapToMachineUser u 1000
echo "$ERR" | grep -q "No machine maps host UID 1000" || fail "MapToMachineUser: $ERR"
expect_rc 1 m1 GetMachine s "../etc"
expect_rc 1 m1 CopyToMachine sss "$M" relative /tmp/x
echo "$ERR" | grep -q "must be absolute" || fail "relative copy path: $ERR"
expect_rc 1 m1 BindMountMachine sssbb .host /tmp /tmp false false
expect_rc 1 m1 KillMachine ssi .host leader 15
expect_rc 1 as_nobody busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager CopyToMachine sss "$M" /etc/passwd /tmp/p
echo "$ERR" | grep -q "Access denied\|Only root" || fail "a non-root CopyToMachine: $ERR"
expect_rc 0 as_nobody busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager GetMachineOSRelease s "$M"
ok "GetMachineUIDShift (0 without a user namespace), GetMachineAddresses, OpenMachinePTY, OpenMachineRootDirectory, Map*User; bad names and paths, .host and non-root callers refused"

# --- reboot, kill, terminate, poweroff -------------------------------------------------
old=$LEADER
expect_rc 0 mctl reboot "$M"
new_leader() { l=$(leader); [ -n "$l" ] && [ "$l" != "$old" ] && is_running; }
wait_until 120 new_leader || fail "reboot: no new leader"
LEADER=$(leader); CLEANUP_PIDS="$CLEANUP_PIDS $LEADER"
ok "machinectl reboot boots the box again (new init $LEADER)"
expect_rc 0 mctl kill --kill-whom=leader --signal=SIGRTMIN+4 "$M"
wait_until 120 is_gone || fail "kill -s RTMIN+4 to the leader did not power it off"
ok "machinectl kill --kill-whom=leader --signal=SIGRTMIN+4 powers the box off"
boot
expect_rc 0 mctl terminate "$M"
wait_until 60 is_gone || fail "terminate"
ok "machinectl terminate"
boot
expect_rc 0 mctl poweroff "$M"
wait_until 120 is_gone || fail "poweroff"
assert_host_clean "$M"
ok "machinectl poweroff; nothing left behind"
