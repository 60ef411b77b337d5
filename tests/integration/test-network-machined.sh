#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The managed network through machined, with traffic only between the host and the test's own
# boxes: two booted bookworm boxes get addresses by DHCP (v4 and v6) from the managed dnsmasq,
# resolve their own name, each other's and a name only the test's upstream dnsmasq (on
# 127.x in the host) knows; a server in a box is reached through a forward at 127.0.0.1,
# [::1], the bridge's addresses and from the other box; a second box cannot take the port,
# nor can a forward take a port a host program holds; forwards are kept in Port=; kill -9 of
# machined leaves bridge and dnsmasq working and the next machined adopts them; kill -9 of a
# supervisor leaves no link, rule, reservation or lease. Then the bad cases: a bridge name
# taken by something that is not a bridge, no dnsmasq in PATH, an exhausted range; each a
# clear error with nothing set up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

M1=$(machine_name n1); M2=$(machine_name n2); M3=$(machine_name n3)
pool_populate "$M1" "$M2" "$M3"
mkdir -p "$WORK/etc"

# The boxes: systemd-networkd (in the tree, not enabled) with DHCP on host0, and a server on
# port 80 that answers who called, in the tree's perl.
cat >"$WORK/srv.pl" <<'EOF'
use IO::Socket::IP;
my $s = IO::Socket::IP->new(LocalHost => "::", LocalPort => 80, Listen => 5, ReuseAddr => 1, V6Only => 0)
    or die "listen: $!";
while (my $c = $s->accept) { print $c "hello from " . $c->peerhost . "\n"; close $c; }
EOF
# Paths in a guest tree are removed before they are written: one may be a symlink that would
# be followed on the host.
for m in $M1 $M2 $M3; do
    r=$POOL/$m w=$POOL/$m/etc/systemd/system/multi-user.target.wants
    mkdir -p "$r/etc/systemd/network" "$w"
    rm -f "$r/etc/systemd/network/80-test.network" "$r/usr/local/bin/srv.pl" "$r/etc/systemd/system/srv.service" \
        "$w/systemd-networkd.service" "$w/srv.service"
    printf '[Match]\nName=host0\n[Network]\nDHCP=yes\n' >"$r/etc/systemd/network/80-test.network"
    ln -s /lib/systemd/system/systemd-networkd.service "$w/systemd-networkd.service"
    cp "$WORK/srv.pl" "$r/usr/local/bin/srv.pl"
    printf '[Service]\nExecStart=/usr/bin/perl /usr/local/bin/srv.pl\n[Install]\nWantedBy=multi-user.target\n' \
        >"$r/etc/systemd/system/srv.service"
    ln -s /etc/systemd/system/srv.service "$w/srv.service"
done

# The test's own upstream DNS, on a loopback address of its own.
UP=127.83.$(( ($$ >> 8) % 250 + 1 )).$(( $$ % 250 + 1 ))
dnsmasq --keep-in-foreground --port=53 --listen-address="$UP" --bind-interfaces --no-resolv --no-hosts \
    --address=/upstream.test/10.11.12.13 --log-queries --log-facility="$WORK/upstream.log" &
UP_PID=$!
CLEANUP_PIDS="$CLEANUP_PIDS $UP_PID"
NET_OPTS="--network-bridge=$NET_BRIDGE --network-table=$NET_TABLE --network-dns=$UP"

start_bus policy
start_machined

# --- DHCP, DNS ----------------------------------------------------------------------------
printf '[Network]\nPort=tcp:18%03d:80\n' $(( $$ % 1000 )) >"$WORK/etc/$M1.nspawn"
HP=18$(printf %03d $(( $$ % 1000 )))
expect_rc 0 "$NSPAWNCTL" start "$M1"
expect_rc 0 "$NSPAWNCTL" start "$M2"
ip -br link show "$NET_BRIDGE" | grep -q UP || fail "bridge $NET_BRIDGE not up"
GW4=$(ip -4 -o addr show dev "$NET_BRIDGE" | awk '{print $4}' | cut -d/ -f1)
GW6=$(ip -6 -o addr show dev "$NET_BRIDGE" scope global | awk '{print $4}' | grep '/64$' | cut -d/ -f1)
[ -n "$GW4" ] && [ -n "$GW6" ] || fail "bridge addresses: $(ip -o addr show dev "$NET_BRIDGE")"
addr_of() { "$NSPAWNCTL" list --json | grep -o "\"name\":\"$1\"[^}]*" | grep -o '"addresses":\[[^]]*\]'; }
has_v4v6() { a=$(addr_of "$1"); echo "$a" | grep -q "\"${GW4%.*}\." && echo "$a" | grep -q "\"${GW6%::*}::"; }
for m in $M1 $M2; do
    wait_until 120 has_v4v6 "$m" || { "$NSPAWNCTL" list; cat "$STATE/network/dnsmasq/dnsmasq.log"; fail "$m got no DHCP addresses"; }
done
grep -q "DHCPACK($NET_BRIDGE)" "$STATE/network/dnsmasq/dnsmasq.log" || fail "no DHCPv4 ack in dnsmasq's log"
grep -q "DHCPREPLY($NET_BRIDGE)" "$STATE/network/dnsmasq/dnsmasq.log" || fail "no DHCPv6 reply in dnsmasq's log"
expect_rc 0 "$NSPAWNCTL" list
echo "$OUT" | grep -E "^$M1 .* ${GW4%.*}\." >/dev/null || fail "list shows no address: $OUT"
A1=$(addr_of "$M1" | grep -o "\"${GW4%.*}\.[0-9]*\"" | tr -d '"')
# machined's default: each box in a user namespace of its own, the network made for it there.
for m in $M1 $M2; do
    [ "$(sed -n 's/^UID_RANGE=//p' "$STATE/machines/$m")" = 65536 ] || fail "$m runs without a user namespace"
done
ok "two boxes, each in its own user namespace, get IPv4 and IPv6 addresses by DHCP from the managed dnsmasq; list shows them"

expect_rc 0 "$NSPAWNCTL" shell "$M2" -- sh -c "getent hosts $M2 && getent hosts $M1 && getent hosts upstream.test"
echo "$OUT" | grep -q "$M2" && echo "$OUT" | grep -q "$M1" || fail "box names: $OUT"
echo "$OUT" | grep -q "^10.11.12.13 *upstream.test" || fail "upstream name: $OUT"
grep -q "query\[A\] upstream.test" "$WORK/upstream.log" || fail "the upstream was not asked"
expect_rc 0 "$NSPAWNCTL" shell "$M2" -- getent hosts "$M1.nspawnctl.internal"
# The boxes ask DHCP for the tree's host name: a name a box asks for never gets into DNS.
expect_rc 2 "$NSPAWNCTL" shell "$M2" -- getent hosts "$(cat "$POOL/$M1/etc/hostname")"
ok "a box resolves its own name, the other box's (bare and with the domain) and the upstream's name, not the one it asks for"

# --- forwards -----------------------------------------------------------------------------
srv_up() { "$NSPAWNCTL" shell "$M1" -- systemctl is-active -q srv; }
wait_until 60 srv_up || fail "the server in $M1 did not start"
fetch() { curl -s --http0.9 --max-time 5 "$1"; }
for url in "http://127.0.0.1:$HP/" "http://[::1]:$HP/" "http://$GW4:$HP/" "http://[$GW6]:$HP/"; do
    got=$(fetch "$url") || true
    echo "$got" | grep -q "^hello from" || fail "forward at $url: '$got'"
done
expect_rc 0 "$NSPAWNCTL" shell "$M2" -- perl -MIO::Socket::IP -e \
    'for my $h (@ARGV) { my $s = IO::Socket::IP->new(PeerHost => $h, PeerPort => '"$HP"', Timeout => 5) or die "$h: $@\n"; print "$h: ", scalar <$s>; }' \
    "$GW4" "$GW6"
[ "$(echo "$OUT" | grep -c 'hello from')" = 2 ] || fail "from the other box: $OUT"
ok "the forward answers at 127.0.0.1, [::1], both bridge addresses, and from the other box"

# What the box's port hands to lo is only ever an answer to a forward: a connection the box
# opens to the ::1 path's address never arrives "from lo" (a host firewall may trust lo).
LB6=${GW6%::1}::ffff
perl -MIO::Socket::IP -e '$s = IO::Socket::IP->new(LocalHost => "::", LocalPort => $ARGV[0], Listen => 5, V6Only => 1) or die;
    while ($c = $s->accept) { print $c "host\n"; close $c }' "$((HP + 5))" &
HS_PID=$!; CLEANUP_PIDS="$CLEANUP_PIDS $HS_PID"
wait_until 10 sh -c "ss -ltn | grep -q ':$((HP + 5)) '" || fail "host listener"
probe() { "$NSPAWNCTL" shell "$M1" -- perl -MIO::Socket::IP -e \
    '$s = IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => $ARGV[1], Timeout => 3) or exit 1; print scalar <$s>' "$1" "$((HP + 5))"; }
expect_rc 0 probe "$GW6"; [ "$OUT" = host ] || fail "the host's bridge address: $OUT"
expect_rc 1 probe "$LB6"
kill "$HS_PID"
ok "a box cannot reach the host through the ::1 return path (it would look like lo)"

expect_rc 0 "$NSPAWNCTL" port "$M1" list --json
[ "$OUT" = "[{\"protocol\":\"tcp\",\"host\":$HP,\"container\":80}]" ] || fail "port list: $OUT"
expect_rc 0 "$NSPAWNCTL" status "$M1"
echo "$OUT" | grep -q "Address: " && echo "$OUT" | grep -q "Forwards: tcp $HP -> 80" || fail "status: $OUT"
expect_rc 0 "$NSPAWNCTL" status "$M1" --json
echo "$OUT" | grep -q "\"ports\":\[{\"protocol\":\"tcp\",\"host\":$HP,\"container\":80}\]" || fail "status --json: $OUT"
echo "$OUT" | grep -q "\"addresses\":\[\"$A1\"" || fail "status --json addresses: $OUT"
reply=$(busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager \
    GetMachineAddresses s "$M1")
echo "$reply" | grep -q "^a(iay) [0-9]* 2 4 $(echo "$A1" | tr . ' ')" || fail "GetMachineAddresses: $reply"
ok "port list, status and GetMachineAddresses (a(iay)) show the addresses and the forward"

# A second box cannot take the port, neither live nor by its settings at start.
expect_rc 4 "$NSPAWNCTL" port "$M2" add "$HP:80"; expect_one_line_error
echo "$ERR" | grep -q "already forwarded to machine $M1" || fail "message: $ERR"
[ ! -e "$WORK/etc/$M2.nspawn" ] || fail "a refused forward was written to the settings"
printf '[Network]\nPort=%s\n' "$HP" >"$WORK/etc/$M3.nspawn"
expect_rc 4 "$NSPAWNCTL" start "$M3"; expect_one_line_error
ip link show "vb-$M3" >/dev/null 2>&1 && fail "a refused start left vb-$M3"
[ ! -e "$STATE/network/dnsmasq/dhcp-hosts/$M3" ] || fail "a refused start left a reservation"
nft list table inet "$NET_TABLE" | grep -q "box-$M3-" && fail "a refused start left chains"
rm "$WORK/etc/$M3.nspawn"
# Nor a port a program on the host holds.
HL=$((HP + 1))
perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0], Listen => 1) or die; sleep 600' "$HL" &
HL_PID=$!; CLEANUP_PIDS="$CLEANUP_PIDS $HL_PID"
wait_until 10 sh -c "ss -ltn | grep -q ':$HL '" || fail "host listener"
expect_rc 4 "$NSPAWNCTL" port "$M2" add "$HL:80"; expect_one_line_error
echo "$ERR" | grep -q "in use by a program on the host" || fail "message: $ERR"
kill "$HL_PID"
ok "a host port another box or a host program holds is refused, with nothing set up"

# Live add and remove, kept in the settings.
expect_rc 0 "$NSPAWNCTL" port "$M2" add "udp:$((HP + 2)):53"
grep -qx "Port=udp:$((HP + 2)):53" "$WORK/etc/$M2.nspawn" || fail "Port= not written"
nft list chain inet "$NET_TABLE" "box-$M2-pre" | grep -q "udp dport $((HP + 2))" || fail "rule not added"
expect_rc 0 "$NSPAWNCTL" port "$M2" remove "udp:$((HP + 2))"
grep -q "^Port=" "$WORK/etc/$M2.nspawn" && fail "Port= not removed"
nft list chain inet "$NET_TABLE" "box-$M2-pre" | grep -q "dport" && fail "rule not removed"
expect_rc 3 "$NSPAWNCTL" port "$M2" remove "udp:$((HP + 2))"; expect_one_line_error
# A live forward to a box started without any answers on ::1 too.
expect_rc 0 "$NSPAWNCTL" port "$M2" add "$((HP + 3)):80"
got=$(fetch "http://[::1]:$((HP + 3))/") || true
echo "$got" | grep -q "^hello from" || fail "live forward at [::1]: '$got'"
expect_rc 0 "$NSPAWNCTL" port "$M2" remove "$((HP + 3))"
for bad in 0 65536 tcp: 80:80:80 sctp:80 -1 abc ""; do
    expect_rc 2 "$NSPAWNCTL" port "$M2" add "$bad"; expect_one_line_error
done
ok "port add/remove change a running box at once and its Port= lines; bad specs are refused"

# --- kill -9 of machined --------------------------------------------------------------------
DNSMASQ=$(cat "$STATE/network/dnsmasq/dnsmasq.pid")
kill9_machined
kill -0 "$DNSMASQ" || fail "dnsmasq died with machined"
got=$(fetch "http://127.0.0.1:$HP/") || true
echo "$got" | grep -q "^hello from" || fail "forward after kill -9 of machined: '$got'"
expect_rc 0 nsenter -t "$(sed -n 's/^LEADER=//p' "$STATE/machines/$M2")" -n -m -- getent hosts "$M1"
start_machined
[ "$(cat "$STATE/network/dnsmasq/dnsmasq.pid")" = "$DNSMASQ" ] && kill -0 "$DNSMASQ" || fail "dnsmasq was not adopted"
grep -q "Managed network on $NET_BRIDGE is up (dnsmasq pid $DNSMASQ)" "$WORK/machined.log" || fail "no adoption in the log"
expect_rc 0 "$NSPAWNCTL" port "$M1" list
ok "kill -9 of machined: bridge, dnsmasq and forwards keep working; the next machined adopts dnsmasq"

# A reboot (same supervisor, a new init): the forwards stay, also at ::1.
L1=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M1")
expect_rc 0 "$NSPAWNCTL" reboot "$M1"
rebooted() { l=$(sed -n 's/^LEADER=//p' "$STATE/machines/$M1" 2>/dev/null); [ -n "$l" ] && [ "$l" != 0 ] && [ "$l" != "$L1" ]; }
wait_until 120 rebooted || fail "$M1 did not boot again"
back() { answers() { fetch "$1" | grep -q "^hello from"; }; answers "http://127.0.0.1:$HP/" && answers "http://[::1]:$HP/"; }
wait_until 120 back || { nft list ruleset; fail "forwards after the reboot"; }
ok "after a reboot the box's forwards answer again at 127.0.0.1 and [::1]"

# --- kill -9 of a supervisor ----------------------------------------------------------------
S2=$(sed -n 's/^SUPERVISOR=//p' "$STATE/machines/$M2")
MAC2=$(cut -d, -f1 "$STATE/network/dnsmasq/dhcp-hosts/$M2")
kill -9 "$S2"
gone() { ! ip link show "vb-$M2" >/dev/null 2>&1 && ! nft list table inet "$NET_TABLE" | grep -q "box-$M2-" &&
         ! nft list table netdev "$NET_TABLE" 2>/dev/null | grep -q "box-$M2-" &&
         [ ! -e "$STATE/network/dnsmasq/dhcp-hosts/$M2" ] && [ ! -e "$STATE/network/dnsmasq/hosts/$M2" ] &&
         ! grep -q "$MAC2" "$STATE/network/dnsmasq/leases"; }
wait_until 30 gone || { ip link; nft list ruleset; cat "$STATE/network/dnsmasq/leases"; fail "kill -9 of a supervisor left network state"; }
ok "kill -9 of a supervisor: no vb- link, nft chain, reservation, name or lease of the box remains"

expect_rc 0 "$NSPAWNCTL" poweroff "$M1"
wait_until 90 sh -c "! \"$NSPAWNCTL\" list | grep -q '^$M1 '" || fail "$M1 did not power off"
wait_until 30 sh -c "! ip link show vb-$M1 >/dev/null 2>&1" || fail "vb-$M1 left"
nft list table inet "$NET_TABLE" | grep -q "box-$M1-" && fail "chains of $M1 left"
grep -v '^duid' "$STATE/network/dnsmasq/leases" | grep -q . && fail "leases left: $(cat "$STATE/network/dnsmasq/leases")"
ok "poweroff: nothing of the box's network stays"
stop_machined() { [ -n "$MACHINED_PID" ] && kill "$MACHINED_PID" 2>/dev/null && wait "$MACHINED_PID" 2>/dev/null || true; MACHINED_PID=""; }
stop_machined
network_teardown

# --- bad configurations: each a clear error, nothing set up ----------------------------------
for opt in --network=maybe --network-bridge=a/b --network-table=1x --network-ipv4=10.0.0.0/8 \
           --network-ipv4=fd00::/64 --network-ipv6=fd00::/48 --network-dns=nameserver --network-domain=a..b; do
    expect_rc 1 "$MACHINED" --pool="$POOL" --state-dir="$WORK/bad-state" --no-bus "$opt"
    expect_one_line_error
done
[ ! -e "$WORK/bad-state" ] || fail "a refused option left a state directory"
ok "machined refuses bad network options with one line each"

net_nothing() { # BRIDGE TABLE STATEDIR: no table, no dnsmasq
    ! nft list table inet "$2" >/dev/null 2>&1 && [ ! -e "$3/network/dnsmasq/dnsmasq.pid" ] &&
        [ ! -e "$3/network/managed.state" ]
}
# A link of the bridge's name that is not a bridge.
ip link add "$NET_BRIDGE" type veth peer name "t$$p0"
start_machined
expect_rc 1 "$NSPAWNCTL" start "$M3"; expect_one_line_error
echo "$ERR" | grep -q "a link of that name exists and is not a bridge" || fail "message: $ERR"
ip -d link show "$NET_BRIDGE" | grep -q "veth" || fail "the veth was touched"
net_nothing "$NET_BRIDGE" "$NET_TABLE" "$STATE" || fail "half-configured after a non-bridge"
expect_rc 0 "$NSPAWNCTL" list; echo "$OUT" | grep -q "^$M3 " && fail "$M3 started anyway"
stop_machined
ip link del "$NET_BRIDGE"
network_teardown
ok "a link of the bridge's name that is not a bridge: start refused, nothing set up"

# No dnsmasq.
PATH=/usr/bin:/bin start_machined
expect_rc 1 "$NSPAWNCTL" start "$M3"; expect_one_line_error
echo "$ERR" | grep -q "dnsmasq not found in PATH" || fail "message: $ERR"
! ip link show "$NET_BRIDGE" >/dev/null 2>&1 || fail "bridge left without dnsmasq"
net_nothing "$NET_BRIDGE" "$NET_TABLE" "$STATE" || fail "half-configured without dnsmasq"
stop_machined
ok "no dnsmasq in PATH: start refused with a clear error, no bridge, table or state"

# An exhausted range: a /30 holds one box.
for _ in $(seq 20); do
    S4=10.$(( RANDOM % 200 + 20 )).$(( RANDOM % 250 )).$(( (RANDOM % 60) * 4 ))/30
    ! ip -4 route show | grep -q "^${S4%.*}\." && break
done
start_machined --network-ipv4="$S4"
expect_rc 0 "$NSPAWNCTL" start "$M3"
expect_rc 1 "$NSPAWNCTL" start "$M2"; expect_one_line_error
echo "$ERR" | grep -q "range is exhausted" || fail "message: $ERR"
ip link show "vb-$M2" >/dev/null 2>&1 && fail "an exhausted range left vb-$M2"
[ ! -e "$STATE/network/dnsmasq/dhcp-hosts/$M2" ] || fail "an exhausted range left a reservation"
expect_rc 0 "$NSPAWNCTL" terminate "$M3"
wait_until 30 sh -c "! \"$NSPAWNCTL\" list | grep -q '^$M3 '" || fail "$M3 not terminated"
stop_machined
network_teardown
ok "an exhausted address range: the second box is refused, nothing of it set up"
