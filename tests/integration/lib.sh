# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the integration tests. Provides the cached bookworm tree, assertions, and a
# before/after check that a test left no mount and no cgroup behind.
set -eu

: "${NSPAWNCTL:?run through meson test}" "${SOURCE_ROOT:?}" "${BUILD_ROOT:?}"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: integration tests need root (namespaces, mounts, cgroups)"
    exit 77
fi

CACHE=${NSPAWNCTL_TEST_CACHE:-$BUILD_ROOT/test-cache}
"$SOURCE_ROOT/tests/integration/make-tree.sh" "$CACHE"
TREE=$CACHE/debian-bookworm
N=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nspawnctl-test.XXXXXX")
CLEANUP_PIDS=""

cleanup_lib() {
    for p in $CLEANUP_PIDS; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup_lib EXIT
. "$SOURCE_ROOT/tests/integration/assert.sh"

# A clear error is one line on stderr.
expect_one_line_error() {
    lines=$(printf '%s\n' "$ERR" | grep -c . || true)
    [ "$lines" = 1 ] || { printf '%s\n' "$ERR" >&2; fail "expected a one-line error, got $lines lines"; }
}

# Only mounts that could be ours: other tests run in parallel and mount their own pools.
mounts_snapshot() { awk '{print $5}' /proc/self/mountinfo | grep -F -e "$TREE" -e "$WORK" | sort || true; }

BASE_MOUNTS=$(mounts_snapshot)

# assert_host_clean NAME: no mount was added and the machine's cgroup is gone, in every
# hierarchy (each v1 controller, name=systemd, cgroup2).
assert_host_clean() {
    now=$(mounts_snapshot)
    [ "$now" = "$BASE_MOUNTS" ] || { diff <(echo "$BASE_MOUNTS") <(echo "$now") >&2 || true; fail "mounts changed"; }
    for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
        [ ! -e "$h/nspawnctl/$1" ] || fail "cgroup $h/nspawnctl/$1 left behind"
    done
    [ ! -e "/run/nspawnctl/locks/$1" ] || fail "lock of $1 left behind"
}

# wait_until SECONDS CMD...: polls CMD until it succeeds.
wait_until() {
    t=$1; shift
    end=$(( $(date +%s) + t ))
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

machine_name() { echo "t$$-$1"; }

# A unit that reports reaching multi-user on the console and then powers off (or reboots).
make_exit_unit() {
    action=$1
    cat >"$WORK/exit-$action.service" <<EOT
[Unit]
Description=Test: $action once multi-user is reached
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "NSPAWNCTL-TEST: multi-user \$(systemctl is-active multi-user.target) machine-id \$(cat /etc/machine-id)" >/dev/console; systemctl $action --no-block'
EOT
    echo "--bind-ro=$WORK/exit-$action.service:/etc/systemd/system/exit-$action.service"
}
