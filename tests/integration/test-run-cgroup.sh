#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The container's cgroup in every hierarchy and what that stops in privileged mode (issue 9,
# reproductions 1, 4 and 6): the v1 release_agent, cgroup trees of the host, block devices
# through a devtmpfs (v1 devices controller and cgroup2 BPF), a fork bomb; the layout per
# guest; nothing left in any hierarchy after an exit or a kill -9 of the supervisor.
. "$(dirname "$0")/lib.sh"
M=$(machine_name cg)
run() { "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" "$@"; }
# (boxes in the background are started without run(): $! must be the supervisor itself)

# The cgroup hierarchies the host has mounted (mount points).
hierarchies() { awk '$5 ~ "^/sys/fs/cgroup(/[^/]+)?$" && / - cgroup2? / {print $5}' /proc/self/mountinfo; }
[ -n "$(hierarchies)" ] || fail "no cgroup hierarchy found on the host"
in_every_hierarchy() { for h in $(hierarchies); do [ -d "$h/nspawnctl/$1/payload" ] || return 1; done; }
in_no_hierarchy() { for h in $(hierarchies); do [ ! -e "$h/nspawnctl/$1" ] || return 1; done; }

mkdir -p "$WORK/x"
# A box that says where it is, then waits until the test lets it go.
hold() { echo "sh -c 'echo \$\$ >/x/ready; while [ ! -e /x/go ]; do sleep 0.1; done'"; }

# --- its own cgroup everywhere ---------------------------------------------------------
"$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --bind="$WORK/x:/x" -- sh -c "$(hold)" </dev/null &
CLEANUP_PIDS="$!"; sup=$!
wait_until 30 test -s "$WORK/x/ready" || fail "box did not start"
wait_until 10 in_every_hierarchy "$M" || fail "not in every hierarchy: $(ls -d /sys/fs/cgroup/*/nspawnctl/"$M" 2>&1)"
for h in $(hierarchies); do
    grep -q . "$h/nspawnctl/$M/payload/cgroup.procs" || fail "no process in $h/nspawnctl/$M/payload"
done
ok "the container has its own cgroup in each of $(hierarchies | wc -l) hierarchies"
[ "$(cat /sys/fs/cgroup/pids/nspawnctl/"$M"/pids.max 2>/dev/null || cat /sys/fs/cgroup/nspawnctl/"$M"/pids.max)" = 16384 ] ||
    fail "default TasksMax"
ok "default TasksMax=16384"
touch "$WORK/x/go"; wait "$sup"; CLEANUP_PIDS=""; rm -f "$WORK/x/go" "$WORK/x/ready"
assert_host_clean "$M"; ok "nothing left in any hierarchy after exit"

expect_rc 0 run -- sh -c 'cut -d: -f3 /proc/self/cgroup | sort -u'
[ "$OUT" = / ] || fail "cgroup namespace root: $OUT"; ok "the cgroup namespace root is the container's own in every hierarchy"

# --- reproduction 1: release_agent -----------------------------------------------------
cat >"$WORK/x/agent.sh" <<EOF
#!/bin/sh
touch $WORK/x/PWNED
EOF
chmod +x "$WORK/x/agent.sh"
for c in $(awk '$5 ~ "^/sys/fs/cgroup/" && / - cgroup / {n=split($NF, o, ","); for (i=1;i<=n;i++) if (o[i] != "rw" && o[i] != "ro" && o[i] != "relatime" && o[i] != "xattr") print o[i]}' /proc/self/mountinfo | sort -u); do
    expect_rc 0 run --bind="$WORK/x:/x" -- sh -c "
        mkdir -p /tmp/cg; mount -t cgroup -o $c cgroup /tmp/cg || exit 3
        ls /tmp/cg/release_agent 2>/dev/null && echo VISIBLE
        echo $WORK/x/agent.sh >/tmp/cg/release_agent 2>/dev/null && echo WRITTEN
        mkdir /tmp/cg/a && echo 1 >/tmp/cg/a/notify_on_release && sh -c 'echo \$\$ >/tmp/cg/a/cgroup.procs'
        rmdir /tmp/cg/a 2>/dev/null; echo done"
    [ "$OUT" = done ] || fail "-o $c: $OUT"
done
[ ! -e "$WORK/x/PWNED" ] || fail "the release agent ran on the host"
ok "no v1 hierarchy mounted inside shows or takes a release_agent"
for o in none,name=t$$ net_cls perf_event; do
    expect_rc 0 run -- sh -c "mkdir -p /tmp/cg; mount -t cgroup -o $o cgroup /tmp/cg 2>/dev/null && ls /tmp/cg; echo rc=\$?"
    echo "$OUT" | grep -q release_agent && fail "a new hierarchy ($o) shows a release_agent"
done
ok "no new v1 hierarchy (named, or an unbound controller) can be made inside"

# --- reproduction 6: host cgroup trees --------------------------------------------------
if [ -d /sys/fs/cgroup/freezer ]; then
    "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --bind="$WORK/x:/x" -- sh -c "mkdir /tmp/f; mount -t cgroup -o freezer cgroup /tmp/f; mkdir /tmp/f/escape-$$; ls /tmp/f > /x/freezer; $(hold)" </dev/null &
    CLEANUP_PIDS="$!"; sup=$!
    wait_until 30 test -s "$WORK/x/ready" || fail "box did not start"
    [ ! -e /sys/fs/cgroup/freezer/escape-$$ ] || fail "a cgroup made at the host's freezer root"
    [ -d /sys/fs/cgroup/freezer/nspawnctl/"$M"/payload/escape-$$ ] || fail "the freezer mount is not the container's subtree"
    grep -q nspawnctl "$WORK/x/freezer" && fail "host cgroups visible: $(cat "$WORK/x/freezer")"
    touch "$WORK/x/go"; wait "$sup"; CLEANUP_PIDS=""; rm -f "$WORK/x/go" "$WORK/x/ready"
    assert_host_clean "$M"
    ok "the freezer hierarchy mounted inside is the container's subtree, and goes with it"
fi

# A fork bomb ends at the pids limit (bounded: 300 forks at most).
expect_rc 0 run --property=TasksMax=40 -- perl -e '
    my $n = 1; for (1 .. 300) { my $p = fork(); last unless defined $p; if (!$p) { sleep 30; exit 0 } $n++ }
    print "$n\n"; kill 9, -1;'
[ "$OUT" = 40 ] || fail "fork bomb reached $OUT tasks"; ok "a fork bomb stops at the pids limit"

# --- reproduction 4: block devices through a devtmpfs ------------------------------------
devices_closed() { # $1: how the policy is set ("" or an environment assignment)
    expect_rc 0 env $1 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" $2 -- sh -c '
        mkdir /tmp/d /tmp/p; mount -t devtmpfs devtmpfs /tmp/d || exit 3
        n=0; for b in /tmp/d/*; do [ -b "$b" ] || continue; n=$((n+1))
            head -c 1 "$b" >/dev/null 2>&1 && echo "OPENED $b"
            mount -o ro "$b" /tmp/p 2>/dev/null && echo "MOUNTED $b"
        done
        head -c 1 /tmp/d/kmsg >/dev/null 2>&1 && echo "OPENED kmsg"
        head -c 1 /tmp/d/mem >/dev/null 2>&1 && echo "OPENED mem"
        echo x >/dev/null && head -c 4 /dev/urandom | wc -c && echo "blocks $n"'
    echo "$OUT" | grep -q OPENED && fail "device opened ($1 $2): $OUT"
    echo "$OUT" | grep -q MOUNTED && fail "block device mounted ($1 $2): $OUT"
    echo "$OUT" | grep -q '^blocks [1-9]' || fail "no block device to try ($1 $2): $OUT"
    [ "$(echo "$OUT" | head -1)" = 4 ] || fail "allowed devices broken ($1 $2): $OUT"
}
if [ -d /sys/fs/cgroup/devices ]; then
    devices_closed "" ""; ok "v1 devices controller: no block device opens or mounts, /dev works"
fi
devices_closed NSPAWNCTL_DEVICE_POLICY=bpf ""; ok "cgroup2 BPF device program: no block device opens or mounts, /dev works"
devices_closed NSPAWNCTL_DEVICE_POLICY=bpf --cgroup-layout=unified; ok "the same with the unified layout"
expect_rc 0 sh -c "sleep 2 | NSPAWNCTL_DEVICE_POLICY=bpf script -qec \"$NSPAWNCTL run -q -D $TREE -x -M $M -- sh -c 'tty; echo on-the-console >/dev/console'\" /dev/null"
echo "$OUT" | grep -q 'on-the-console' || fail "console with BPF policy: $OUT"; ok "the console pty is allowed by the BPF program"
expect_rc 2 env NSPAWNCTL_DEVICE_POLICY=bogus "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" true
expect_one_line_error; ok "a bad NSPAWNCTL_DEVICE_POLICY is refused"

# --- layout per guest ------------------------------------------------------------------
layout() { expect_rc 0 "$@" -- stat -fc %T /sys/fs/cgroup; echo "$OUT"; }
[ "$(layout run)" = tmpfs ] || fail "bookworm on a hybrid host: $OUT"
ok "bookworm (systemd 252) gets the host's hybrid layout"
[ "$(layout run --cgroup-layout=unified)" = cgroup2fs ] || fail "--cgroup-layout=unified: $OUT"
[ "$(NSPAWNCTL_CGROUP_MODE=unified layout run)" = cgroup2fs ] || fail "NSPAWNCTL_CGROUP_MODE=unified: $OUT"
[ "$(NSPAWNCTL_CGROUP_MODE=unified layout run --cgroup-layout=hybrid)" = tmpfs ] || fail "option over environment: $OUT"
ok "--cgroup-layout= and NSPAWNCTL_CGROUP_MODE choose, the option first"
expect_rc 2 run --cgroup-layout=v2 true; expect_one_line_error; ok "a bad --cgroup-layout is refused"

# A tree whose systemd is 257 (the bookworm tree with the library's name added, on an overlay).
mkdir -p "$WORK/new/upper/usr/lib/systemd" "$WORK/new/work" "$WORK/new/root"
touch "$WORK/new/upper/usr/lib/systemd/libsystemd-shared-257.so"
mount -t overlay overlay -o "lowerdir=$TREE,upperdir=$WORK/new/upper,workdir=$WORK/new/work" "$WORK/new/root"
trap 'umount "$WORK/new/root" 2>/dev/null; cleanup_lib' EXIT
[ "$(layout "$NSPAWNCTL" run -q -D "$WORK/new/root" -x -M "$M")" = cgroup2fs ] || fail "systemd 257 tree: $OUT"
ok "a tree with systemd 257 gets the unified layout on this host"
[ "$(layout "$NSPAWNCTL" run -q -D "$WORK/new/root" -x -M "$M" --cgroup-layout=hybrid)" = tmpfs ] || fail "override: $OUT"
ok "--cgroup-layout=hybrid overrides the choice"
umount "$WORK/new/root"; trap cleanup_lib EXIT

# --- bad limits ------------------------------------------------------------------------
expect_rc 2 run --property=Bogus=1 true;            expect_one_line_error; ok "unknown property refused"
expect_rc 2 run --property=MemoryMax=lots true;     expect_one_line_error; ok "bad size refused"
expect_rc 2 run --property=CPUQuota=50 true;        expect_one_line_error; ok "quota without % refused"
expect_rc 2 run --property=MemoryMax true;          expect_one_line_error; ok "property without a value refused"
if [ -d /sys/fs/cgroup/memory ] && ! grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
    expect_rc 1 run --property=MemorySwapMax=1G true; expect_one_line_error
    echo "$ERR" | grep -q MemoryMax || fail "swap without memory: $ERR"
    ok "MemorySwapMax= without MemoryMax= refused on cgroup v1"
fi
assert_host_clean "$M"; ok "nothing left after refused starts"

# --- kill -9 of the supervisor -------------------------------------------------------------
"$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --bind="$WORK/x:/x" -- sh -c "$(hold)" </dev/null &
sup=$!; CLEANUP_PIDS="$sup"
wait_until 30 test -s "$WORK/x/ready" || fail "box did not start"
wait_until 10 in_every_hierarchy "$M" || fail "not in every hierarchy"
kill -9 "$sup"; wait "$sup" 2>/dev/null || true; CLEANUP_PIDS=""
wait_until 30 in_no_hierarchy "$M" || fail "cgroups left after kill -9: $(ls -d /sys/fs/cgroup/*/nspawnctl/"$M" 2>&1)"
wait_until 10 test ! -e "/run/nspawnctl/locks/$M" || fail "lock left"
assert_host_clean "$M"; ok "kill -9 of the supervisor: the guard removes the cgroup from every hierarchy"
