#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nspawnctl run --private-users=pick (issue 9): container root is an unprivileged host UID and
# every mount it inherits is locked. Each escape that works for root in the host's user
# namespace is tried and must fail, with the host unchanged afterwards; the tree, binds and
# tmpfs are owned as their options say; UID ranges are disjoint, the same for a name each
# start, locked while in use and released after kill -9 of the supervisor; systemd boots to
# multi-user with no failed unit in the hybrid and the unified layout.
. "$(dirname "$0")/lib.sh"
M=$(machine_name uns)
STATE=$WORK/state
run() { "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --private-users=pick --state-dir="$STATE" "$@"; }
no_locks_left() { [ -z "$(ls -A "$STATE/uidranges" 2>/dev/null)" ] || fail "range locks left: $(ls "$STATE/uidranges")"; }

# --- the user namespace ------------------------------------------------------------------
expect_rc 0 run -- sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u:%g / /usr/bin/env /etc/passwd /dev /dev/null /run /tmp /dev/shm /sys/fs/cgroup/systemd'
read -r inside shift count <<<"$(echo "$OUT" | head -1)"
[ "$inside" = 0 ] && [ "$count" = 65536 ] && [ $((shift % 65536)) = 0 ] && [ "$shift" -ge $((0x80000)) ] &&
    [ "$shift" -lt $((0x6FFF0000)) ] || fail "uid_map: $OUT"
[ "$(echo "$OUT" | sed -n 2p | awk '{print $1, $2, $3}')" = "0 $shift 65536" ] || fail "gid_map: $OUT"
[ "$(echo "$OUT" | tail -n +3 | sort -u | tr '\n' ' ')" = "0 0:0 " ] || fail "owners inside: $OUT"
ok "container root is host UID $shift (65536 UIDs and GIDs); the tree, /dev, /run, /tmp and its cgroup are its root's"
expect_rc 0 run -- sh -c 'touch /etc/new && mkdir /var/newdir && stat -c %u:%g /etc/new /var/newdir && su -s /bin/sh nobody -c "id -u"'
[ "$(echo "$OUT" | tr '\n' ' ')" = "0:0 0:0 65534 " ] || fail "files made inside: $OUT"
ok "files made by container root are its own; users of the image (nobody) work"

# --- each escape of issue 9, tried as container root ------------------------------------
# 1. cgroup v1 release_agent (CVE-2022-0492): a v1 hierarchy may even mount, but its
#    release_agent is the initial user namespace's only, and its cgroups are not ours.
ra_before=$(cat /sys/fs/cgroup/pids/release_agent 2>/dev/null || true)
expect_rc 0 run -- sh -c "mkdir -p /tmp/cg; mount -t cgroup -o pids cgroup /tmp/cg 2>/dev/null || exit 0
    echo /usr/bin/touch >/tmp/cg/release_agent 2>/dev/null && echo AGENT
    mkdir /tmp/cg/esc-$M 2>/dev/null && echo MKDIR; true"
[ -z "$OUT" ] || fail "release_agent route: $OUT"
[ "$(cat /sys/fs/cgroup/pids/release_agent 2>/dev/null || true)" = "$ra_before" ] || fail "host release_agent changed"
[ ! -e "/sys/fs/cgroup/pids/esc-$M" ] || { rmdir "/sys/fs/cgroup/pids/esc-$M"; fail "cgroup made at the host's pids root"; }
ok "1. cgroup v1 release_agent: not writable, no cgroup at the host's root; the host's is unchanged"

# 3. /proc/sys: remount rw, a fresh procfs (also from a nested user namespace), unmasking.
core_before=$(cat /proc/sys/kernel/core_pattern)
host_before=$(cat /proc/sys/kernel/hostname)
expect_rc 0 run -- sh -c 'mount -o remount,bind,rw /proc/sys 2>/dev/null && echo REMOUNT
    mkdir -p /tmp/p; mount -t proc proc /tmp/p 2>/dev/null && echo FRESHPROC
    unshare -Urmpf sh -c "mount -t proc proc /tmp/p" 2>/dev/null && echo NESTEDPROC
    echo "|/bin/false %p" >/proc/sys/kernel/core_pattern 2>/dev/null && echo WROTE
    echo evil >/proc/sys/kernel/hostname 2>/dev/null && echo HOSTNAME
    for m in /proc/sys /proc/kallsyms /proc/timer_list /proc/sysrq-trigger; do umount $m 2>/dev/null && echo UNMOUNT $m; umount -l $m 2>/dev/null && echo UNMOUNT-L $m; done
    true'
[ -z "$OUT" ] || fail "/proc/sys route: $OUT"
[ "$(cat /proc/sys/kernel/core_pattern)" = "$core_before" ] && [ "$(cat /proc/sys/kernel/hostname)" = "$host_before" ] ||
    fail "host sysctl changed"
ok "3. /proc/sys: no rw remount, no fresh or nested procfs, no write to kernel.*, masks cannot be unmounted; host sysctls unchanged"

# 4. devtmpfs: the host's disks (and the pool's loop device) stay out of reach.
expect_rc 0 run -- sh -c 'mkdir -p /tmp/d; mount -t devtmpfs devtmpfs /tmp/d 2>/dev/null && echo DEVTMPFS
    mknod /tmp/loop b 7 0 2>/dev/null && echo MKNOD; ls /dev | grep -E "^(loop|sd|vd|nvme)"; true'
[ -z "$OUT" ] || fail "devices: $OUT"
ok "4. devtmpfs cannot be mounted, no block device can be made or seen"

# 5. /sys: remount of the host's superblock, ro or rw, a fresh sysfs, a write.
sys_before=$(findmnt -n -o OPTIONS /sys | cut -d, -f1)
expect_rc 0 run -- sh -c 'mount -o remount,ro /sys 2>/dev/null && echo RO; mount -o remount,rw /sys 2>/dev/null && echo RW
    mount -o remount,bind,rw /sys 2>/dev/null && echo BINDRW; mkdir -p /tmp/s; mount -t sysfs sysfs /tmp/s 2>/dev/null && echo SYSFS
    echo 1 >/sys/kernel/mm/ksm/run 2>/dev/null && echo KSM; true'
[ -z "$OUT" ] || fail "/sys route: $OUT"
[ "$(findmnt -n -o OPTIONS /sys | cut -d, -f1)" = "$sys_before" ] || fail "host /sys changed to $(findmnt -n -o OPTIONS /sys)"
touch /sys/kernel/mm/ksm/run 2>/dev/null || true
ok "5. /sys: no remount ro or rw, no fresh sysfs, no write; the host's /sys is still $sys_before"

# 6. the freezer hierarchy: no cgroup at the host's root.
expect_rc 0 run -- sh -c "mkdir -p /tmp/f; mount -t cgroup -o freezer cgroup /tmp/f 2>/dev/null || exit 0
    mkdir /tmp/f/esc-$M 2>/dev/null && echo MKDIR; echo FROZEN >/tmp/f/freezer.state 2>/dev/null && echo FREEZE; true"
[ -z "$OUT" ] || fail "freezer route: $OUT"
[ ! -e "/sys/fs/cgroup/freezer/esc-$M" ] || { rmdir "/sys/fs/cgroup/freezer/esc-$M"; fail "cgroup at the host's freezer root"; }
ok "6. freezer hierarchy: no cgroup made, nothing frozen at the host's root"
assert_host_clean "$M"

# --- binds and tmpfs ---------------------------------------------------------------------
mkdir -p "$WORK/b-root" "$WORK/b-user"
echo x >"$WORK/b-root/f"
chown 1000:1000 "$WORK/b-root/f"
chown 4321:4321 "$WORK/b-user"
expect_rc 0 run --bind="$WORK/b-root:/mnt/r" --bind="$WORK/b-root:/mnt/n:noidmap" --bind="$WORK/b-user:/mnt/u:norbind,rootidmap" \
    --bind-ro="$WORK/b-root:/mnt/ro" --tmpfs=/srv/t:uid=1000,gid=1000,mode=0700 -- sh -c '
    stat -c "%n %u:%g" /mnt/r /mnt/r/f /mnt/n /mnt/u /srv/t; stat -c %a /srv/t
    touch /mnt/r/by-root /mnt/u/by-root
    touch /mnt/ro/x 2>/dev/null && echo RO-WRITABLE; mount -o remount,bind,rw /mnt/ro 2>/dev/null && echo RO-REMOUNTED
    mount -o remount,bind,suid,dev /mnt/r 2>/dev/null && echo FLAGS-CLEARED; true'
[ "$(echo "$OUT" | tr '\n' ' ')" = "/mnt/r 0:0 /mnt/r/f 1000:1000 /mnt/n 65534:65534 /mnt/u 0:0 /srv/t 1000:1000 700 " ] ||
    fail "bind owners: $OUT"
[ "$(stat -c %u:%g "$WORK/b-root/by-root")" = 0:0 ] && [ "$(stat -c %u:%g "$WORK/b-user/by-root")" = 4321:4321 ] ||
    fail "files made through binds: $(stat -c '%n %u:%g' "$WORK/b-root/by-root" "$WORK/b-user/by-root")"
ok "binds: idmap (default) shows host owners as they are, noidmap as nobody, rootidmap the source's owner as root; tmpfs uid= is the container's"
ok "a --bind-ro stays read-only and a bind keeps nosuid,nodev (locked flags)"
expect_rc 1 run --tmpfs=/srv/t:uid=70000 true; expect_one_line_error
echo "$ERR" | grep -q "outside the container's range" || fail "tmpfs uid: $ERR"
ok "a tmpfs uid= outside the range: one line, exit 1"
assert_host_clean "$M"

# Symlinked mount targets are refused as without a user namespace (the late mounts too).
mkdir -p "$WORK/escape" "$WORK/sym-proc/usr"
ln -s /proc "$WORK/sym-proc/proc"
expect_rc 1 run --bind="$WORK/escape:/usr/bin/awk" true; expect_one_line_error
echo "$ERR" | grep -q "symlink" || fail "symlinked bind target: $ERR"
expect_rc 1 run --tmpfs=/usr/bin/awk true; expect_one_line_error
echo "$ERR" | grep -q "symlink" || fail "symlinked tmpfs target: $ERR"
expect_rc 1 "$NSPAWNCTL" run -q -D "$WORK/sym-proc" -M "$M" --private-users=pick --state-dir="$STATE" true
echo "$ERR" | grep -q "symlink" || fail "symlinked /proc: $ERR"; expect_one_line_error
ok "symlinked bind and tmpfs targets and a symlinked /proc are refused in one line"
assert_host_clean "$M"

# --- refused values ----------------------------------------------------------------------
for v in "" maybe Pick 1000:0 4294967295 4294901760 -1 " 1" 1000:1:1 0x10000; do
    expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --private-users="$v" true; expect_one_line_error
done
ok "--private-users= garbage, empty, COUNT 0, overflow, a range past 4294967294: one line, exit 2"
expect_rc 1 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --state-dir="$STATE" --private-users=yes true; expect_one_line_error
echo "$ERR" | grep -q "shifted" || fail "yes on a root-owned tree: $ERR"
ok "--private-users=yes on a tree owned by root (no range to take): one line, exit 1"
expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --private-users=identity -- sh -c 'cat /proc/self/uid_map'
[ "$(echo $OUT)" = "0 0 65536" ] || fail "identity: $OUT"
expect_rc 0 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --private-users=$((0x70000000)):65536 -- sh -c 'cat /proc/self/uid_map; stat -c %u /etc'
[ "$(echo $OUT)" = "0 $((0x70000000)) 65536 0" ] || fail "fixed range: $OUT"
ok "identity and UID:COUNT map as given, the tree ID-mapped to them"
assert_host_clean "$M"; no_locks_left

# --- UID ranges ----------------------------------------------------------------------
A=$(machine_name ra)
B=$(machine_name rb)
# PID 1 is a shell that leaves on SIGTERM, so that one TERM ends a machine cleanly.
start_bg() {
    "$NSPAWNCTL" run -q -D "$TREE" -x -M "$1" --private-users=pick --state-dir="$STATE" -- \
        sh -c 'trap "exit 0" TERM; sleep 1000 & wait' >/dev/null 2>&1 &
    SUP=$!
    CLEANUP_PIDS="$CLEANUP_PIDS $SUP"
    wait_until 20 leader_of "$1" >/dev/null || fail "$1 did not start"
}
# The container's processes live in its payload subcgroup; its init is the one whose parent
# (the supervisor) is not in there.
leader_of() {
    for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
        procs=$(cat "$h/nspawnctl/$1/payload/cgroup.procs" 2>/dev/null) || continue
        for p in $procs; do
            pp=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || continue
            case " $(echo $procs) " in *" $pp "*) ;; *) echo "$p"; return 0 ;; esac
        done
    done
    return 1
}
shift_of() { awk 'NR == 1 { print $2 }' "/proc/$(leader_of "$1")/uid_map"; }
stop_bg() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }

start_bg "$A"; SUP_A=$SUP
start_bg "$B"; SUP_B=$SUP
sa=$(shift_of "$A"); sb=$(shift_of "$B")
[ -n "$sa" ] && [ -n "$sb" ] && [ "$sa" != "$sb" ] && [ $(( sa > sb ? sa - sb : sb - sa )) -ge 65536 ] || fail "ranges $sa $sb"
[ "$(stat -c %u "/proc/$(leader_of "$A")")" = "$sa" ] || fail "A's init is not host UID $sa"
[ -e "$STATE/uidranges/$sa" ] && [ -e "$STATE/uidranges/$sb" ] || fail "locks: $(ls "$STATE/uidranges")"
ok "two machines get disjoint ranges ($sa, $sb), each locked while it runs"
stop_bg "$SUP_A"
[ ! -e "$STATE/uidranges/$sa" ] || fail "range of a stopped machine still locked"
start_bg "$A"; SUP_A=$SUP
[ "$(shift_of "$A")" = "$sa" ] || fail "A got $(shift_of "$A") the second time, $sa the first"
stop_bg "$SUP_A"
ok "the same name gets the same range on the next start"
# Someone else (here: a held lock, as a running machine holds it) has A's range.
# (It waits for the lock: the probe below takes it for a moment too.)
( exec 9>"$STATE/uidranges/$sa" && flock -w 10 9 && exec sleep 1000 ) >/dev/null 2>&1 &
HOLDER=$!
CLEANUP_PIDS="$CLEANUP_PIDS $HOLDER"
wait_until 10 sh -c "! flock -n '$STATE/uidranges/$sa' true" || fail "could not hold the lock"
start_bg "$A"; SUP_A=$SUP
s2=$(shift_of "$A")
[ "$s2" != "$sa" ] && [ "$s2" != "$sb" ] || fail "a held range was given out again: $s2"
stop_bg "$SUP_A"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
rm -f "$STATE/uidranges/$sa"
ok "a range held by another is not given out: A took $s2 meanwhile"
start_bg "$A"; SUP_A=$SUP
leader=$(leader_of "$A")
kill -9 "$SUP_A"
wait "$SUP_A" 2>/dev/null || true
wait_until 20 sh -c "! kill -0 $leader 2>/dev/null" || fail "container outlived its supervisor"
wait_until 20 test ! -e "$STATE/uidranges/$sa" || fail "range still locked after kill -9 of the supervisor"
start_bg "$A"; SUP_A=$SUP
[ "$(shift_of "$A")" = "$sa" ] || fail "range not given back after kill -9"
stop_bg "$SUP_A"
stop_bg "$SUP_B"
ok "kill -9 of the supervisor: the guard releases the range once the container is gone"
assert_host_clean "$A"; assert_host_clean "$B"; no_locks_left

# --- boot --------------------------------------------------------------------------------
cat >"$WORK/report.service" <<'EOT'
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "NSPAWNCTL-TEST: multi-user $(systemctl is-active multi-user.target) failed=$(systemctl --failed --no-legend --plain | wc -l) uid_map=$(awk "{print \\$2}" /proc/self/uid_map)" >/dev/console; systemctl poweroff --no-block'
EOT
boot_ok() {
    echo "$OUT" | grep -q "NSPAWNCTL-TEST: multi-user active failed=0 uid_map=[1-9]" || { echo "$OUT" | tail -30 >&2; fail "$1: $(echo "$OUT" | grep NSPAWNCTL-TEST)"; }
    ! echo "$OUT" | grep -q FAILED || { echo "$OUT" | grep FAILED >&2; fail "$1: a unit failed"; }
}
expect_rc 0 run --boot --bind-ro="$WORK/report.service:/etc/systemd/system/report.service" -- systemd.wants=report.service
boot_ok "hybrid"
ok "boot in the host's (hybrid) layout: multi-user, no failed unit at boot or shutdown, poweroff exits 0"
assert_host_clean "$M"
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    expect_rc 0 env NSPAWNCTL_CGROUP_MODE=unified "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --private-users=pick \
        --state-dir="$STATE" --boot --bind-ro="$WORK/report.service:/etc/systemd/system/report.service" -- systemd.wants=report.service
    boot_ok "unified"
    ok "boot in the unified layout: multi-user, no failed unit"
    assert_host_clean "$M"
fi
no_locks_left
