#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# nspawnctl run's networking, daemonless, with traffic only between the host and the test's
# own containers: a veth (ve-NAME <-> host0), a private namespace with lo only, a zone bridge
# shared by two containers and removed with its last member, port forwards that follow the
# container's address (127.0.0.1 and the link's address), kill -9 of a supervisor leaving no
# link or rule, --resolv-conf's modes, a booted tree in the host's namespace that changes no
# host link and listens on no host port; and every bad option a clear one-line error with
# nothing left behind.
. "$(dirname "$0")/lib.sh"

M=$(machine_name nr); M2=$(machine_name nr2); M3=$(machine_name nr3)
ZONE=z$$ TABLE=t$$run
ZBR=vz-$ZONE
PIDS=""
cleanup_net() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null || true; done
    # The supervisors' guards remove links and chains; give them a moment, then make sure.
    for _ in $(seq 50); do ip link show "$ZBR" >/dev/null 2>&1 || break; sleep 0.1; done
    for l in "ve-$M" "vb-$M" "vb-$M2" "$ZBR"; do ip link del "$l" 2>/dev/null || true; done
    nft delete table inet "$TABLE" 2>/dev/null || true
    mountpoint -q "$WORK/merged" 2>/dev/null && umount "$WORK/merged"
    cleanup_lib
}
trap cleanup_net EXIT
run() { "$NSPAWNCTL" run -q -D "$TREE" -x --kill-timeout=2 "$@"; }
# bg LOG ARGS...: run in the background; $! is nspawnctl itself, so signals reach it.
bg() { local log=$1; shift; "$NSPAWNCTL" run -q -D "$TREE" -x --kill-timeout=2 "$@" >"$log" 2>&1 & }
link_gone() { ! ip link show "$1" >/dev/null 2>&1; }

# --- links ----------------------------------------------------------------------------------
expect_rc 0 run -M "$M" -n -- sh -c 'ip -o link show host0; ip -o link show lo'
echo "$OUT" | grep -q "host0" && echo "$OUT" | grep "lo:" | grep -q "UP" || fail "veth inside: $OUT"
link_gone "ve-$M" || fail "ve-$M left after the container ended"
bg "$WORK/v.log" -M "$M" -n -- sleep 1000
PIDS="$PIDS $!"; SUP=$!
wait_until 20 ip link show "ve-$M" >/dev/null 2>&1 || fail "no ve-$M on the host"
[ "$(ip -o link show "ve-$M" | grep -o 'link-netnsid [0-9]*' | wc -l)" = 1 ] || fail "ve-$M has no peer in a namespace"
kill "$SUP"; wait "$SUP" 2>/dev/null || true
wait_until 20 link_gone "ve-$M" || fail "ve-$M left after SIGTERM"
bg "$WORK/v2.log" -M "$M" -n -p "$(( 20000 + $$ % 10000 + 7 ))" --nft-table="$TABLE" -- sleep 1000
SUP=$!; PIDS="$PIDS $SUP"
wait_until 20 sh -c "nft list table inet $TABLE 2>/dev/null | grep -q 'chain box-$M-pre'" || fail "no chains for ve-$M"
kill -9 "$SUP"
v_gone() { link_gone "ve-$M" && ! nft list table inet "$TABLE" 2>/dev/null | grep -q "box-$M-"; }
wait_until 30 v_gone || fail "kill -9: ve-$M or its chains left"
ok "--network-veth: ve-NAME on the host, host0 (and lo up) inside, gone when the container ends, also after kill -9"

# With a user namespace the network namespace is the payload's, made after the setup began.
expect_rc 0 run -M "$M" -n --private-users=pick -- sh -c 'ip -o link show host0; ip -o link show lo; cat /proc/self/uid_map'
echo "$OUT" | grep -q "host0" && echo "$OUT" | grep "lo:" | grep -q "UP" || fail "veth inside a user namespace: $OUT"
[ "$(echo "$OUT" | tail -n 1 | awk '{print $3}')" = 65536 ] || fail "no user namespace: $OUT"
link_gone "ve-$M" || fail "ve-$M left after the container (user namespace) ended"
ok "--network-veth with --private-users=pick: host0 in the payload's namespace"

expect_rc 0 run -M "$M" --private-network -- ip -o addr
[ "$(echo "$OUT" | awk '{print $2}' | sort -u)" = lo ] || fail "private network: $OUT"
ok "--private-network: lo only"

# --- a zone, forwards following the container's address ---------------------------------------
for _ in $(seq 20); do
    NET=10.$(( RANDOM % 200 + 20 )).$(( RANDOM % 250 + 1 ))
    ip -4 route show | grep -q "^$NET\." || break
done
HP=$(( 20000 + $$ % 10000 ))
cat >"$WORK/srv.pl" <<'EOF'
use IO::Socket::IP;
my $s = IO::Socket::IP->new(LocalHost => "::", LocalPort => 80, Listen => 5, ReuseAddr => 1, V6Only => 0) or die "$!";
while (my $c = $s->accept) { print $c "hello from " . $c->peerhost . "\n"; close $c; }
EOF
bg "$WORK/a.log" -M "$M" --network-zone="$ZONE" -p "$HP:80" --nft-table="$TABLE" --bind-ro="$WORK/srv.pl:/srv.pl" -- sh -c \
    "ip link set host0 up && ip addr add $NET.2/24 dev host0 && ip route add default via $NET.1 && exec perl /srv.pl"
SUP_A=$!; PIDS="$PIDS $SUP_A"
wait_until 20 ip link show "$ZBR" >/dev/null 2>&1 || { cat "$WORK/a.log"; fail "no zone bridge $ZBR"; }
ip addr add "$NET.1/24" dev "$ZBR"
[ "$(cat "/sys/class/net/vb-$M/master/ifindex" 2>/dev/null)" = "$(cat "/sys/class/net/$ZBR/ifindex")" ] || fail "vb-$M not a port of $ZBR"
fetch() { curl -s --http0.9 --max-time 5 "$1" || true; }
answers() { fetch "$1" | grep -q "^hello from"; }
wait_until 20 answers "http://$NET.1:$HP/" || { nft list table inet "$TABLE"; cat "$WORK/a.log"; fail "forward at $NET.1:$HP"; }
answers "http://127.0.0.1:$HP/" || fail "forward at 127.0.0.1:$HP"
ok "--network-zone + --port: the forward follows the address the container gave itself, at 127.0.0.1 and the link"

bg "$WORK/b.log" -M "$M2" --network-zone="$ZONE" -- sleep 1000
SUP_B=$!; PIDS="$PIDS $SUP_B"
wait_until 20 ip link show "vb-$M2" >/dev/null 2>&1 || fail "no vb-$M2"
[ "$(ls "/sys/class/net/$ZBR/brif" | sort | tr '\n' ' ')" = "$(printf '%s\n' "vb-$M" "vb-$M2" | sort | tr '\n' ' ')" ] \
    || fail "zone ports: $(ls "/sys/class/net/$ZBR/brif")"
expect_rc 1 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M3" -n -p "$HP" --nft-table="$TABLE" -- true
expect_one_line_error
echo "$ERR" | grep -q "already forwarded to machine $M" || fail "message: $ERR"
link_gone "ve-$M3" || fail "a refused start left ve-$M3"
ok "a second container joins the zone; a third cannot take the forwarded port"

kill -9 "$SUP_A"
chains_of() { nft list table inet "$TABLE" 2>/dev/null | grep -c "chain box-$1-" || true; }
a_gone() { link_gone "vb-$M" && [ "$(chains_of "$M")" = 0 ]; }
wait_until 30 a_gone || { ip link; nft list ruleset; fail "kill -9 of the supervisor left vb-$M or its chains"; }
ip link show "$ZBR" >/dev/null 2>&1 || fail "the zone went while it had a member"
kill "$SUP_B"; wait "$SUP_B" 2>/dev/null || true
wait_until 30 link_gone "$ZBR" || fail "the zone bridge stayed after its last member"
ok "kill -9 of a supervisor: its link and nft chains go; the zone goes with its last member"

# --- bad options: one line, exit 2 (usage) or 1, nothing left --------------------------------
for p in "" 0 65536 abc tcp: 80:80:80 sctp:80 -5 "1 2"; do
    expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" -n -p "$p" true; expect_one_line_error
done
expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" -p 8080 true; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --private-network -p 8080 true; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" -n --network-zone=a true; expect_one_line_error
for z in "" a.b thirteen-char "a b" "$(printf 'z%.0s' $(seq 100))"; do
    expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --network-zone="$z" true; expect_one_line_error
done
for b in "" a/b "a b" 0123456789abcdef; do
    expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --network-bridge="$b" true; expect_one_line_error
done
for t in "" 1abc "a;b" "a b" "$(printf 't%.0s' $(seq 300))"; do
    expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" -n --nft-table="$t" true; expect_one_line_error
done
expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --resolv-conf=bogus true; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" -n -p "$(printf '8%.0s' $(seq 300))" true; expect_one_line_error
expect_rc 2 "$NSPAWNCTL" run -q -D "$TREE" -M "$M" --read-only --resolv-conf=copy-host true; expect_one_line_error
expect_rc 1 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --network-bridge=lo true; expect_one_line_error
echo "$ERR" | grep -q "lo is not a bridge" || fail "message: $ERR"
expect_rc 1 "$NSPAWNCTL" run -q -D "$TREE" -x -M "$M" --network-bridge="t$$none" true; expect_one_line_error
echo "$ERR" | grep -q "does not exist" || fail "message: $ERR"
link_gone "vb-$M" && link_gone "ve-$M" || fail "a refused start left a link"
assert_host_clean "$M"
ok "bad port specs, zones, bridges, tables, resolv.conf modes: one line each; not a bridge, no bridge: nothing left"

# --- resolv.conf --------------------------------------------------------------------------------
# A tree of our own on top of the cached one, so its /etc/resolv.conf can be what we need.
mkdir -p "$WORK/upper/etc" "$WORK/work" "$WORK/merged"
# Changes to the upper directory are only seen reliably through a new mount.
remount() {
    mountpoint -q "$WORK/merged" && umount "$WORK/merged"
    mount -t overlay overlay -o "lowerdir=$TREE,upperdir=$WORK/upper,workdir=$WORK/work" "$WORK/merged"
}
R() { "$NSPAWNCTL" run -q -D "$WORK/merged" -x -M "$M" "$@"; }
HOSTRC=$(cat /etc/resolv.conf)
echo "nameserver 192.0.2.53 # the tree's" >"$WORK/upper/etc/resolv.conf"
remount
expect_rc 0 R --resolv-conf=off cat /etc/resolv.conf;        [ "$OUT" = "nameserver 192.0.2.53 # the tree's" ] || fail "off: $OUT"
expect_rc 0 R --resolv-conf=copy-host cat /etc/resolv.conf;  [ "$OUT" = "$HOSTRC" ] || fail "copy-host: $OUT"
expect_rc 0 R cat /etc/resolv.conf;                          [ "$OUT" = "$HOSTRC" ] || fail "auto, host network: $OUT"
expect_rc 0 R --private-network cat /etc/resolv.conf;        [ "$OUT" = "nameserver 192.0.2.53 # the tree's" ] || fail "auto, private: $OUT"
expect_rc 0 R --resolv-conf=bind-host sh -c 'cat /etc/resolv.conf; grep -c " /etc/resolv.conf " /proc/self/mountinfo'
[ "$OUT" = "$(printf '%s\n1' "$HOSTRC")" ] || fail "bind-host: $OUT"
expect_rc 1 R --resolv-conf=delete cat /etc/resolv.conf
expect_rc 0 R --resolv-conf=copy-uplink cat /etc/resolv.conf; [ "$OUT" = "$HOSTRC" ] || fail "copy-uplink without resolved: $OUT"
[ "$(cat "$WORK/upper/etc/resolv.conf")" = "nameserver 192.0.2.53 # the tree's" ] || fail "an ephemeral run changed the tree"
# The template's symlink to resolved's stub: in the host's namespace the file goes where it
# points (the container's own /run); with a private network it is the guest's business.
ln -sf ../run/systemd/resolve/stub-resolv.conf "$WORK/upper/etc/resolv.conf"
remount
expect_rc 0 R cat /etc/resolv.conf;                          [ "$OUT" = "$HOSTRC" ] || fail "auto over the stub symlink: $OUT"
expect_rc 0 R sh -c 'test -L /etc/resolv.conf && echo link'; [ "$OUT" = link ] || fail "the symlink was replaced"
expect_rc 1 R --private-network cat /etc/resolv.conf
expect_rc 0 R --resolv-conf=replace-host sh -c 'test -L /etc/resolv.conf || cat /etc/resolv.conf'
[ "$OUT" = "$HOSTRC" ] || fail "replace-host over a symlink: $OUT"
ok "--resolv-conf: off, copy-host, auto (host and private), bind-host, delete, copy-uplink, the stub symlink, replace-host"

# --- host mode: a booted tree leaves the host's network alone -----------------------------------
mkdir -p "$WORK/upper/etc/systemd/network" "$WORK/upper/etc/systemd/system/multi-user.target.wants" "$WORK/ctl"
# What the old template did: networkd with DHCP on eth* too.
printf '[Match]\nName=host0 eth*\n[Network]\nDHCP=yes\n' >"$WORK/upper/etc/systemd/network/80-old.network"
ln -sf /lib/systemd/system/systemd-networkd.service "$WORK/upper/etc/systemd/system/multi-user.target.wants/"
cat >"$WORK/upper/etc/systemd/system/probe.service" <<'EOF'
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl is-enabled systemd-networkd >/ctl/networkd 2>&1; cat /etc/resolv.conf >/ctl/resolv; touch /ctl/ready; while [ ! -e /ctl/go ]; do sleep 0.2; done; systemctl poweroff --no-block'
EOF
remount
uplinks=$(ip -o route show default | awk '{print $5}' | sort -u)
links_state() { for l in lo $uplinks; do ip -o addr show dev "$l" | sed 's/ valid_lft.*//'; ip -o link show dev "$l" | sed 's/ qlen.*//'; done; }
before=$(links_state)
"$NSPAWNCTL" run -q -D "$WORK/merged" -x -M "$M" --boot --console=read-only --bind="$WORK/ctl:/ctl" \
    -- systemd.wants=probe.service >"$WORK/boot.log" 2>&1 &
SUP=$!; PIDS="$PIDS $SUP"
wait_until 120 test -e "$WORK/ctl/ready" || { cat "$WORK/boot.log"; fail "the booted tree did not reach the probe"; }
grep -q masked "$WORK/ctl/networkd" || fail "networkd not masked in host mode: $(cat "$WORK/ctl/networkd")"
[ "$(cat "$WORK/ctl/resolv")" = "$HOSTRC" ] || fail "host mode resolv.conf: $(cat "$WORK/ctl/resolv")"
box_listeners() {
    ss -lntupH | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u | while read -r p; do
        grep -q "/nspawnctl/$M\(/\|$\)" "/proc/$p/cgroup" 2>/dev/null && echo "$p $(cat "/proc/$p/comm")"
    done || true
}
[ -z "$(box_listeners)" ] || fail "the box listens in the host's namespace: $(box_listeners)"
[ "$(links_state)" = "$before" ] || { diff <(echo "$before") <(links_state) >&2 || true; fail "host links changed"; }
touch "$WORK/ctl/go"
wait "$SUP" || fail "the booted tree did not power off cleanly"
ok "host mode: networkd and resolved masked, resolv.conf the host's, no listener of the box, no host link changed"
umount "$WORK/merged"
assert_host_clean "$M"
