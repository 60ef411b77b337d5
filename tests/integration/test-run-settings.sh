#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every systemd.nspawn(5) key whose effect can be seen from inside (docs/settings.md), set in a
# trusted settings file (STATEDIR/NAME.nspawn) of `nspawnctl run -D TREE -x`, in the privileged
# mode and in a user namespace (--private-users=pick): capabilities, no_new_privs, a denied
# system call, rlimits, the OOM score, the CPU affinity, the host name, the machine ID, masks,
# overlays, the volatile modes, the kill signal, /etc/localtime, the journal link, the
# personality, PID 2, SuppressSync=; refused keys and values fail with FILE:LINE; the same as
# command line options; nothing is left behind.
. "$(dirname "$0")/lib.sh"
M=$(machine_name set)
STATE=$WORK/state
mkdir -p "$STATE"
FILE=$STATE/$(basename "$TREE").nspawn
JOURNAL_ID=""
JOURNAL_PARENT_MADE=no

cleanup_settings() {
    if [ -n "$JOURNAL_ID" ]; then
        rm -rf "/var/log/journal/$JOURNAL_ID"
        [ "$JOURNAL_PARENT_MADE" = yes ] && rmdir /var/log/journal 2>/dev/null || true
    fi
    cleanup_lib
}
trap cleanup_settings EXIT

# settings LINE...: the machine's settings file, one argument a line.
settings() { printf '%s\n' "$@" >"$FILE"; }
run() { "$NSPAWNCTL" run -q -D "$TREE" -M "$M" --state-dir="$STATE" --private-users="$PU" "$@"; }
runx() { run -x "$@"; }
bit() { echo $(( ($((16#$1)) >> $2) & 1 )); }
status_field() { echo "$OUT" | awk -v k="$1:" '$1 == k { print $2 }'; }

for PU in no pick; do
    echo "# --private-users=$PU"

    # --- capabilities and no_new_privs ------------------------------------------------
    settings '[Exec]' 'Capability=CAP_IPC_LOCK' 'DropCapability=CAP_NET_RAW CAP_KILL' 'NoNewPrivileges=yes'
    expect_rc 0 runx -- cat /proc/self/status
    bnd=$(status_field CapBnd)
    [ "$(bit "$bnd" 14)" = 1 ] || fail "Capability=CAP_IPC_LOCK not in CapBnd $bnd"
    [ "$(bit "$bnd" 13)" = 0 ] && [ "$(bit "$bnd" 5)" = 0 ] || fail "DropCapability= left them in $bnd"
    [ "$(bit "$bnd" 21)" = 1 ] || fail "CAP_SYS_ADMIN dropped too: $bnd"
    [ "$(status_field NoNewPrivs)" = 1 ] || fail "NoNewPrivileges=yes: $(status_field NoNewPrivs)"
    ok "Capability= and DropCapability= shape the bounding set, NoNewPrivileges= sets no_new_privs"

    settings '[Exec]' 'User=nobody' 'AmbientCapability=CAP_NET_BIND_SERVICE'
    expect_rc 0 runx -- sh -c 'id -u; grep -E "^Cap(Amb|Eff)" /proc/self/status'
    [ "$(echo "$OUT" | head -1)" = 65534 ] || fail "User=nobody: $OUT"
    [ "$(status_field CapAmb)" = 0000000000000400 ] && [ "$(status_field CapEff)" = 0000000000000400 ] ||
        fail "AmbientCapability=: $OUT"
    ok "AmbientCapability= reaches a command run as another user (CapAmb, CapEff)"
    settings '[Exec]' 'AmbientCapability=CAP_SYS_TIME'
    expect_rc 2 runx true; expect_one_line_error
    echo "$ERR" | grep -q 'AmbientCapability=CAP_SYS_TIME is not in the bounding set' || fail "$ERR"
    ok "an ambient capability outside the bounding set is refused"

    # --- system calls ------------------------------------------------------------------
    settings '[Exec]'
    expect_rc 0 runx -- hostname changed-inside
    settings '[Exec]' 'SystemCallFilter=~sethostname @swap'
    expect_rc 1 runx -- hostname changed-inside
    expect_rc 0 runx -- sh -c 'grep "^Seccomp:" /proc/self/status'
    [ "$(echo "$OUT" | awk '{print $2}')" = 2 ] || fail "no seccomp filter: $OUT"
    ok "SystemCallFilter=~sethostname denies what root could do without it"
    settings '[Exec]' 'SystemCallFilter=keyctl'
    expect_rc 1 runx true; expect_one_line_error
    [ "$ERR" = "nspawnctl: $FILE:2: SystemCallFilter=keyctl is not supported: it would allow what the project's system call filter denies (docs/settings.md)" ] ||
        fail "allow-list entry: $ERR"
    expect_rc 1 runx -- keyctl show
    ok "SystemCallFilter= cannot lift the project's deny-list"
    settings '[Exec]' 'SuppressSync=yes'
    expect_rc 0 runx -- sh -c 'sync && echo synced; dd if=/dev/zero of=/tmp/x bs=1 count=1 oflag=sync 2>&1 || true'
    echo "$OUT" | grep -q synced && echo "$OUT" | grep -q 'Invalid argument' || fail "SuppressSync=: $OUT"
    ok "SuppressSync=yes: sync() is a no-op, O_SYNC is refused"

    # --- resources ---------------------------------------------------------------------
    settings '[Exec]' 'LimitNOFILE=100:200' 'LimitCORE=0' 'OOMScoreAdjust=500' 'CPUAffinity=0'
    expect_rc 0 runx -- sh -c 'ulimit -n; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj; grep Cpus_allowed_list /proc/self/status'
    [ "$(echo "$OUT" | tr '\n' ' ' | tr -s '\t ' ' ')" = "100 200 0 500 Cpus_allowed_list: 0 " ] || fail "limits: $OUT"
    ok "LimitNOFILE=, LimitCORE=, OOMScoreAdjust= and CPUAffinity= reach the payload"

    # --- identity ----------------------------------------------------------------------
    settings '[Exec]' 'Hostname=inside' 'MachineID=0123456789abcdef0123456789abcdef' 'Personality=x86'
    expect_rc 0 runx -- sh -c 'hostname; cat /etc/machine-id; echo $container_uuid; uname -m'
    [ "$(echo "$OUT" | tr '\n' ' ')" = "inside 0123456789abcdef0123456789abcdef 01234567-89ab-cdef-0123-456789abcdef i686 " ] ||
        fail "identity: $OUT"
    ok "Hostname=, MachineID= (empty machine-id in the tree) and Personality=x86"
    settings '[Exec]' 'ProcessTwo=yes' "Parameters=/bin/sh -c 'echo \$\$'"
    expect_rc 0 runx
    [ "$OUT" = 2 ] || fail "ProcessTwo=: $OUT"
    ok "ProcessTwo=yes runs the command as PID 2"

    # --- files -------------------------------------------------------------------------
    mkdir -p "$WORK/bind/secret-dir" "$WORK/low" "$WORK/up"
    echo secret >"$WORK/bind/secret-dir/f"; echo low >"$WORK/low/a"
    settings '[Files]' 'Inaccessible=/etc/shadow' 'Inaccessible=/srv' "Bind=$WORK/bind:/mnt/b" \
        'Inaccessible=/mnt/b/secret-dir'
    expect_rc 0 runx -- sh -c 'cat /etc/shadow /mnt/b/secret-dir/f 2>/dev/null; touch /srv/x 2>/dev/null && echo WRITABLE;
        stat -c %a /etc/shadow /srv /mnt/b/secret-dir'
    [ "$(echo "$OUT" | tr '\n' ' ')" = "0 0 0 " ] || fail "Inaccessible=: $OUT"
    if [ "$PU" = pick ]; then
        # Made before the container's mount table was copied (or as part of the bind): locked.
        expect_rc 0 runx -- sh -c 'umount /etc/shadow 2>/dev/null && echo UNMOUNTED; umount /mnt/b/secret-dir 2>/dev/null && echo UNMOUNTED; true'
        [ -z "$OUT" ] || fail "a mask could be unmounted in a user namespace: $OUT"
    fi
    ok "Inaccessible= masks files and directories, also inside a bind (locked in a user namespace)"
    settings '[Files]' 'Inaccessible=/no/such/path'
    expect_rc 1 runx true; expect_one_line_error
    echo "$ERR" | grep -q 'Inaccessible= path /no/such/path does not exist' || fail "$ERR"

    settings '[Files]' "Overlay=$WORK/low:$WORK/up:/mnt/ov" "OverlayReadOnly=$WORK/low:$WORK/up:/mnt/ro" \
        'Overlay=+/opt::/opt'
    expect_rc 0 runx -- sh -c 'cat /mnt/ov/a; echo new >/mnt/ov/new; echo more >>/mnt/ov/a; touch /mnt/ro/x 2>/dev/null && echo RO-WRITABLE;
        cat /mnt/ro/new; touch /opt/in-tmpfs-upper && echo opt-ok'
    [ "$(echo "$OUT" | tr '\n' ' ')" = "low new opt-ok " ] || fail "overlays: $OUT"
    [ "$(cat "$WORK/up/new")" = new ] && [ "$(cat "$WORK/low/a")" = low ] && [ "$(stat -c %u "$WORK/up/a")" = 0 ] ||
        fail "the top layer on the host"
    [ ! -e "$TREE/opt/in-tmpfs-upper" ] || fail "the empty top layer wrote to the tree"
    rm -rf "$WORK/up"/* "$WORK"/.#work.up
    ok "Overlay= writes to its top layer (owned by root on the host), OverlayReadOnly= is read-only, an empty top layer is a tmpfs"

    settings '[Files]' 'Volatile=yes'
    expect_rc 0 run -- sh -c 'stat -f -c %T /; touch /usr/x 2>/dev/null && echo USR-WRITABLE; ls /etc/debian_version 2>/dev/null;
        touch /etc/new && echo etc-ok'
    [ "$(echo "$OUT" | tr '\n' ' ')" = "tmpfs etc-ok " ] || fail "Volatile=yes: $OUT"
    ok "Volatile=yes: a tmpfs root, the tree's /usr read-only, nothing else of the tree"
    settings '[Files]' 'Volatile=state'
    expect_rc 0 run -- sh -c 'touch /etc/x 2>/dev/null && echo ETC-WRITABLE; stat -f -c %T /var; touch /var/new && echo var-ok'
    [ "$(echo "$OUT" | tr '\n' ' ')" = "tmpfs var-ok " ] || fail "Volatile=state: $OUT"
    ok "Volatile=state: the tree read-only, /var a tmpfs"
    settings '[Files]' 'Volatile=overlay'
    expect_rc 0 run -- sh -c 'touch /etc/volatile-test && echo ok'
    [ "$OUT" = ok ] && [ ! -e "$TREE/etc/volatile-test" ] || fail "Volatile=overlay: $OUT"
    ok "Volatile=overlay: writes land in a tmpfs, the tree stays as it was"
    settings '[Exec]' 'Ephemeral=yes'
    expect_rc 0 run -- touch /ephemeral-test
    [ ! -e "$TREE/ephemeral-test" ] || fail "Ephemeral=yes wrote to the tree"
    settings '[Exec]' 'Ephemeral=yes' '[Files]' 'Volatile=yes'
    expect_rc 2 run true; expect_one_line_error
    ok "Ephemeral=yes from the file; with Volatile= refused"

    # --- /etc/localtime --------------------------------------------------------------------
    host_sum=$(md5sum </etc/localtime | cut -d' ' -f1)
    settings '[Exec]' 'Timezone=copy'
    expect_rc 0 runx -- sh -c 'test -L /etc/localtime && echo LINK; md5sum </etc/localtime | cut -d" " -f1'
    [ "$OUT" = "$host_sum" ] || fail "Timezone=copy: $OUT"
    settings '[Exec]' 'Timezone=delete'
    expect_rc 0 runx -- sh -c 'test -e /etc/localtime || test -L /etc/localtime || echo gone'
    [ "$OUT" = gone ] || fail "Timezone=delete: $OUT"
    settings '[Exec]' 'Timezone=bind'
    expect_rc 0 runx -- sh -c 'md5sum </etc/localtime | cut -d" " -f1; echo x >/etc/localtime 2>/dev/null && echo WRITABLE; true'
    [ "$OUT" = "$host_sum" ] || fail "Timezone=bind: $OUT"
    if zone=$(readlink /etc/localtime | sed -n 's|.*zoneinfo/||p') && [ -n "$zone" ] && [ -f "$TREE/usr/share/zoneinfo/$zone" ]; then
        settings '[Exec]' 'Timezone=symlink'
        expect_rc 0 runx -- readlink /etc/localtime
        [ "$OUT" = "../usr/share/zoneinfo/$zone" ] || fail "Timezone=symlink: $OUT"
    fi
    settings '[Exec]' 'Timezone=copy' '[Files]' 'ReadOnly=yes'
    expect_rc 1 run true; expect_one_line_error
    echo "$ERR" | grep -q 'Timezone=copy needs a writable tree' || fail "$ERR"
    ok "Timezone= copy, delete, bind, symlink as nspawn; copy into a read-only tree refused"

    # --- the kill signal -------------------------------------------------------------------
    rm -f "$WORK/ready" "$WORK/sig"
    settings '[Exec]' 'KillSignal=SIGUSR1' "[Files]" "Bind=$WORK:/w"
    # nspawnctl itself in the background (not a shell function's subshell): it gets the TERM.
    "$NSPAWNCTL" run -q -D "$TREE" -M "$M" --state-dir="$STATE" --private-users="$PU" -x -- \
        sh -c 'trap "echo usr1 >/w/sig; exit 42" USR1; trap "echo term >/w/sig; exit 43" TERM; touch /w/ready; while :; do sleep 0.1; done' \
        </dev/null >/dev/null 2>&1 &
    RUN_PID=$!
    CLEANUP_PIDS="$CLEANUP_PIDS $RUN_PID"
    wait_until 30 test -e "$WORK/ready" || fail "the container did not come up"
    kill -TERM "$RUN_PID"
    set +e; wait "$RUN_PID"; rc=$?; set -e
    [ "$rc" = 42 ] && [ "$(cat "$WORK/sig")" = usr1 ] || fail "KillSignal=SIGUSR1: exit $rc, $(cat "$WORK/sig" 2>&1)"
    ok "KillSignal= is what a stop request sends to PID 1"

    assert_host_clean "$M"
done

# --- the journal link (the host's /var/log/journal/ID for the container's machine ID) --------
JOURNAL_ID=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
[ -d /var/log/journal ] || { mkdir /var/log/journal; JOURNAL_PARENT_MADE=yes; }
mkdir "/var/log/journal/$JOURNAL_ID"
PU=pick
settings '[Exec]' 'LinkJournal=auto' "MachineID=$JOURNAL_ID"
expect_rc 0 runx -- sh -c "touch /var/log/journal/$JOURNAL_ID/from-inside && grep -c ' /var/log/journal/$JOURNAL_ID ' /proc/self/mountinfo"
[ "$OUT" = 1 ] && [ -e "/var/log/journal/$JOURNAL_ID/from-inside" ] || fail "LinkJournal=auto: $OUT"
settings '[Exec]' 'LinkJournal=auto' 'MachineID=0123456789abcdef0123456789abcdef'
expect_rc 0 runx -- sh -c 'test -d /var/log/journal/0123456789abcdef0123456789abcdef && echo MADE; true'
[ -z "$OUT" ] || fail "LinkJournal=auto without the host's directory: $OUT"
ok "LinkJournal=auto binds the host's /var/log/journal/ID when it is there, and only then"

# --- refused keys, unknown keys ---------------------------------------------------------------
PU=no
for kv in Exec:PivotRoot=/sysroot Files:BindUser=nobody; do
    key=${kv#*:}; key=${key%%=*}
    settings "[${kv%%:*}]" "${kv#*:}"
    expect_rc 1 runx true; expect_one_line_error
    [ "$ERR" = "nspawnctl: $FILE:2: $key= is not supported" ] || fail "$key=: $ERR"
done
for kv in 'Interface=eth1' 'MACVLAN=eth1' 'IPVLAN=eth1' 'VirtualEthernetExtra=ve-x:host0'; do
    settings '[Network]' "$kv"
    expect_rc 1 runx true; expect_one_line_error
    [ "$ERR" = "nspawnctl: $FILE:2: ${kv%%=*}= is not supported" ] || fail "$kv: $ERR"
done
settings '[Exec]' 'LinkJournal=try-guest'
expect_rc 1 runx true; expect_one_line_error
[ "$ERR" = "nspawnctl: $FILE:2: LinkJournal=try-guest is not supported (only no and auto)" ] || fail "$ERR"
ok "refused keys stop the start with FILE:LINE: KEY= is not supported"
settings '[Exec]' 'Bogus=1' '[Nope]' 'X=1'
expect_rc 0 runx true
echo "$ERR" | grep -qF "$FILE:2: unknown key Bogus= in section [Exec], ignoring" &&
    echo "$ERR" | grep -qF "$FILE:3: unknown section [Nope], ignoring" || fail "warnings: $ERR"
ok "unknown keys and sections are warnings the user sees"
rm -f "$FILE"

# --- the same as options ------------------------------------------------------------------
expect_rc 0 runx --capability=CAP_IPC_LOCK --drop-capability=CAP_KILL --no-new-privileges=yes \
    --rlimit=RLIMIT_NOFILE=64:128 --oom-score-adjust=300 --cpu-affinity=0 --hostname=opt-host \
    --uuid=fedcba98-7654-3210-fedc-ba9876543210 --system-call-filter='~sethostname' --inaccessible=/srv \
    --personality=x86 --timezone=delete --link-journal=no --suppress-sync=yes -- \
    sh -c 'cat /proc/self/status; ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj; hostname; cat /etc/machine-id; uname -m;
        hostname x 2>/dev/null && echo SETHOSTNAME; ls /srv 2>/dev/null; test -e /etc/localtime && echo LOCALTIME; true'
bnd=$(status_field CapBnd)
[ "$(bit "$bnd" 14)" = 1 ] && [ "$(bit "$bnd" 5)" = 0 ] && [ "$(status_field NoNewPrivs)" = 1 ] || fail "options: caps $OUT"
[ "$(echo "$OUT" | sed -n '/^Cpus_allowed_list/p' | awk '{print $2}')" = 0 ] || fail "--cpu-affinity"
[ "$(echo "$OUT" | grep -v ':' | tr '\n' ' ')" = "64 128 300 opt-host fedcba9876543210fedcba9876543210 i686 " ] || fail "options: $OUT"
expect_rc 0 run --volatile -- stat -f -c %T /
[ "$OUT" = tmpfs ] || fail "--volatile: $OUT"
expect_rc 0 runx --overlay-ro="$WORK/low:$WORK/up:/mnt/ro" -- cat /mnt/ro/a
[ "$OUT" = low ] || fail "--overlay-ro: $OUT"
ok "each key as nspawn's option of run"
for o in --capability=CAP_NOPE --drop-capability= --ambient-capability=all --no-new-privileges=maybe \
    --system-call-filter=keyctl --rlimit=NOFILE --rlimit=NOPE=1 --rlimit=NOFILE=x --oom-score-adjust=2000 \
    --cpu-affinity=x --hostname=-x --uuid=xyz --inaccessible=relative --overlay=/a --overlay-ro=/a \
    --volatile=maybe --kill-signal=SIGNOPE --timezone=utc --link-journal=host --personality=arm64 \
    --suppress-sync=perhaps "--hostname=$(printf 'a\033[2J')"; do
    expect_rc 2 runx "$o" true; expect_one_line_error
done
ok "bad option values: one line, exit 2"
assert_host_clean "$M"
ok "nothing left behind"
