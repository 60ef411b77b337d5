#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Container root must not reach the host: each masked and read-only path is read and
# written, device nodes, keyrings, TIOCSTI, capabilities, seccomp and fds are checked.
# PRIVATE_USERS (default no) is the --private-users= mode: test-run-security-userns.sh runs
# the same checks with pick.
. "$(dirname "$0")/lib.sh"
M=$(machine_name sec)
echo "# --private-users=${PRIVATE_USERS:-no}"
run() { "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --private-users="${PRIVATE_USERS:-no}" "$@"; }

for p in /proc/kcore /proc/keys /proc/kallsyms /proc/timer_list /proc/sched_debug /proc/kmsg; do
    [ -e "$p" ] || continue
    # masked by the null device: reads are empty, writes vanish
    expect_rc 0 run -- sh -c "echo x >$p 2>/dev/null; wc -c <$p; stat -c %t:%T $p"
    [ "$(echo "$OUT" | tr '\n' ' ')" = "0 1:3 " ] || fail "$p readable inside: $OUT"
    ok "$p is masked"
done

for p in /proc/sys/kernel/hostname /proc/sysrq-trigger /proc/sys/vm/drop_caches; do
    expect_rc 2 run -- sh -c "echo 1 >$p"
    ok "$p is read-only"
done
expect_rc 0 run -- cat /proc/sys/kernel/hostname;        ok "/proc/sys stays readable"
expect_rc 2 run -- sh -c 'echo 1 >/sys/kernel/mm/ksm/run'; ok "/sys is read-only"
expect_rc 1 run -- mkdir /sys/fs/cgroup/memory/escape;     ok "v1 controller hierarchies are read-only"
expect_rc 1 run -- mkdir /sys/fs/cgroup/x;                 ok "/sys/fs/cgroup itself is read-only"
if [ -d /sys/fs/cgroup/systemd ]; then
    expect_rc 0 run -- sh -c 'mkdir /sys/fs/cgroup/systemd/own && rmdir /sys/fs/cgroup/systemd/own'
    ok "the container's own name=systemd subtree is writable"
    expect_rc 0 run -- sh -c 'cat /proc/self/cgroup | grep name=systemd'
    [ "$OUT" = "9:name=systemd:/" ] || echo "$OUT" | grep -q ':name=systemd:/$' || fail "cgroup namespace: $OUT"
    ok "cgroup namespace root is the container's cgroup"
fi
expect_rc 1 run -- mknod /tmp/sda b 8 0;                 ok "mknod of a block device fails"
expect_rc 1 run -- keyctl show;                           ok "keyctl fails"
expect_rc 0 run -- sh -c 'grep CapBnd /proc/self/status'
bnd=$((16#$(echo "$OUT" | awk '{print $2}')))
for cap in 16 17 19 25 27; do   # SYS_MODULE SYS_RAWIO SYS_PTRACE SYS_TIME MKNOD
    [ $(( (bnd >> cap) & 1 )) = 0 ] || fail "capability $cap in the bounding set"
done
ok "bounding set lacks SYS_MODULE, SYS_RAWIO, SYS_PTRACE, SYS_TIME, MKNOD"
# The --as-pid2 init is the host's nspawnctl: container root must not reach its binary.
expect_rc 0 run --as-pid2 -- sh -c 'readlink /proc/1/exe >/dev/null 2>&1 && echo EXPOSED; cat /proc/1/exe >/dev/null 2>&1 && echo READABLE; echo done'
[ "$OUT" = done ] || fail "host binary reachable through /proc/1/exe: $OUT"; ok "the --as-pid2 init's binary is out of reach"
expect_rc 0 run -- sh -c 'grep "^Seccomp:" /proc/self/status'
[ "$(echo "$OUT" | awk '{print $2}')" = 2 ] || fail "seccomp: $OUT"; ok "seccomp filter active"
expect_rc 0 run -- sh -c 'ls /proc/self/fd | tr "\n" " "'
[ "$OUT" = "0 1 2 3 " ] || fail "leaked fds: $OUT"; ok "no fd leaks into the container"
# TIOCSTI (and its 64-bit alias) on the console pty: EPERM from seccomp, not ENOTTY
expect_rc 0 run --console=read-only -- perl -e 'for my $r (0x5412, 0x100005412) { my $c = "x"; ioctl(STDIN, $r, $c) and print "ALLOWED\n" or print "$!\n" }'
echo "$OUT" | grep -q ALLOWED && fail "TIOCSTI allowed: $OUT"
[ "$(echo "$OUT" | grep -c 'Operation not permitted')" = 2 ] || fail "TIOCSTI: $OUT"; ok "TIOCSTI is filtered, masked to 32 bits"
expect_rc 0 run -- sh -c 'stat -c %t:%T /dev/null; ls /dev | tr "\n" " "'
echo "$OUT" | head -1 | grep -qx '1:3' || fail "/dev/null"; ok "/dev is a private tmpfs with the allowed nodes"
expect_rc 0 run -- sh -c 'find / -xdev -type b 2>/dev/null | wc -l; find /dev -type b | wc -l'
[ "$(echo "$OUT" | tr '\n' ' ')" = "0 0 " ] || fail "block devices visible: $OUT"; ok "no block devices reachable"
assert_host_clean "$M"; ok "nothing left behind"
