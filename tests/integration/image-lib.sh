# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the image pool tests. Gives each test its own work dir with a pool on a
# loop-mounted btrfs (made by the code under test), assertions, and a trap that unmounts
# whatever is mounted below the work dir and detaches loop devices the test attached
# itself, also when the test fails.
set -eu

: "${IMAGE_TOOL:?run through meson test}" "${SOURCE_ROOT:?}" "${BUILD_ROOT:?}"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: image pool tests need root (loop devices, mounts, btrfs ioctls)"
    exit 77
fi
if ! grep -qw btrfs /proc/filesystems && ! modprobe btrfs 2>/dev/null; then
    echo "SKIP: no btrfs in this kernel"
    exit 77
fi
[ -e /dev/loop-control ] || { echo "SKIP: no loop device support"; exit 77; }

N=0
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/nspawnctl-image-test.XXXXXX")
POOL=$WORK/pool
OWN_LOOPS=""

cleanup_image_lib() {
    rc=$?
    set +e
    for p in ${CLEANUP_PIDS:-}; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    # Innermost first.
    findmnt -rn -o TARGET | grep "^$WORK" | sort -r | while read -r m; do umount "$m"; done
    for l in $OWN_LOOPS; do losetup -d "$l" 2>/dev/null; done
    # Read-only subvolumes and immutable files cannot be removed by rm alone; they only
    # exist on the pool file systems, which are unmounted by now.
    chattr -R -i "$WORK" 2>/dev/null
    rm -rf "$WORK"
    exit $rc
}
trap cleanup_image_lib EXIT
. "$SOURCE_ROOT/tests/integration/assert.sh"

it() { "$IMAGE_TOOL" "$@"; }

# Everything in the pool, hidden entries included, except lock files: the state that a
# refused operation must leave unchanged.
pool_state() {
    # (directory sizes change with lock files, so only files have their size listed)
    (cd "$1" && find . -path './.#*.lck' -prune -o -type f -printf '%p f %s %m\n' -o \
        -printf '%p %y %m\n' | LC_ALL=C sort)
}

# tree_list DIR: one line per file with type, mode, owner, size, link target and
# checksum, sorted - two trees with the same list have the same content.
tree_list() {
    (
        cd "$1"
        # (directory sizes depend on the file system's bookkeeping, not on content)
        find . -type d -printf '%p d %m %U:%G\n' -o -printf '%p %y %m %U:%G %s %l\n' | LC_ALL=C sort
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
    )
}

no_temporaries() {
    left=$(find "$1" -maxdepth 3 -name '.#*' ! -name '*.lck' | head -n 5)
    [ -z "$left" ] || fail "temporaries left: $left"
}

# The cached bookworm tree (debootstrap once, then reused).
cached_tree() {
    CACHE=${NSPAWNCTL_TEST_CACHE:-$BUILD_ROOT/test-cache}
    "$SOURCE_ROOT/tests/integration/make-tree.sh" "$CACHE"
    TREE=$CACHE/debian-bookworm
}
