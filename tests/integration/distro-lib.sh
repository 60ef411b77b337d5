# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the test-distro-* tests (nspawnctl test, update, the autopkgtest backend): a
# pool of its own under $WORK with images that are hard-linked copies of cached trees
# (O(1)-ish, and the ephemeral machines never write to them), a state directory of its own,
# and one check that nothing of a test run is left behind.
. "$(dirname "$0")/lib.sh"

POOL=$WORK/pool
STATE=$WORK/state
mkdir -p "$POOL" "$STATE"

# add_image NAME TREE: NAME in the pool, a hard-linked copy of TREE (a real copy across
# file systems).
add_image() {
    cp -al "$2" "$POOL/$1" 2>/dev/null || { rm -rf "${POOL:?}/$1"; cp -a --reflink=auto "$2" "$POOL/$1"; }
}

# Everything in the pool, with modes: what a run must leave as it found it (image locks,
# empty files any image operation leaves, aside).
pool_state() {
    (cd "$POOL" && find . -maxdepth 2 -path './.#*.lck' -prune -o -printf '%p %y %m\n' | LC_ALL=C sort)
}

# Mounts below the pool or the work dir (the machines' overlays live in their own mount
# namespaces and must never show up here).
distro_mounts() { awk '{print $5}' /proc/self/mountinfo | grep -F -e "$POOL" -e "$WORK" | sort || true; }

# nothing_left PATTERN: no record, lock or console socket in our state dir, no cgroup and
# no process whose name or command line has PATTERN (the machines' names), no mount.
nothing_left() {
    pat=$1
    [ -z "$(ls -A "$STATE/machines" 2>/dev/null)" ] || { ls -l "$STATE/machines" >&2; return 1; }
    [ -z "$(ls -A "$STATE/locks" 2>/dev/null)" ] || { ls -l "$STATE/locks" >&2; return 1; }
    for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup; do
        [ -d "$h/nspawnctl" ] || continue
        if ls "$h/nspawnctl" | grep -q -e "$pat"; then ls "$h/nspawnctl" | grep -e "$pat" >&2; return 1; fi
    done
    if pgrep -f -- "$pat" >/dev/null; then pgrep -af -- "$pat" >&2; return 1; fi
    [ -z "$(distro_mounts)" ] || { distro_mounts >&2; return 1; }
    return 0
}

# assert_nothing_left PATTERN POOL_STATE_BEFORE: at once (after a normal exit everything
# must already be gone).
assert_nothing_left() {
    nothing_left "$1" || fail "something of $1 was left behind"
    [ "$(pool_state)" = "$2" ] || { diff <(echo "$2") <(pool_state) >&2 || true; fail "the pool changed"; }
}

nt() { "$NSPAWNCTL" test --pool="$POOL" --state-dir="$STATE" "$@"; }
