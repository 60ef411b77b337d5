#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 9, reproduction 2 (docs/security.md, "The pool"): guest root (nspawnctl run, privileged
# mode) makes a set-uid root shell and a 0666 device node in its tree; an unprivileged host
# user can neither reach them (the pool is 0700) nor, with the directory opened up by the
# test, run the shell with root's rights or open the node (the pool's mount is nosuid,nodev).
# Inside the machine set-uid binaries still work. A pool left by an older version (0755,
# mounted without the flags) is fixed by the next setup.
. "$(dirname "$0")/image-lib.sh"
cached_tree
NSPAWNCTL=${NSPAWNCTL:?run through meson test}
M=t$$-pool
# setpriv keeps its capabilities until its own execve(), whose path lookup would still pass
# a 0700 directory: the user's shell execs the command, as a real user's would.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- /bin/sh -c 'exec "$@"' sh "$@"; }
mount_opts() { findmnt -rn -o OPTIONS --target "$1" | head -n1; }
has_opt() { tr ',' '\n' <<<"$(mount_opts "$1")" | grep -qx "$2"; }

expect_rc 0 it setup "$POOL" 1024
[ "$(stat -c %a "$POOL")" = 700 ] || fail "pool directory is $(stat -c %a "$POOL")"
has_opt "$POOL" nosuid && has_opt "$POOL" nodev || fail "pool mounted with $(mount_opts "$POOL")"
ok "a new pool is 0700 and its btrfs mounted nosuid,nodev"

btrfs -q subvolume create "$POOL/box"
cp -a --reflink=auto "$TREE/." "$POOL/box/"
# What guest root does: a set-uid copy of a shell, and a device node of its own that anyone
# may open (a hard link to the tree's 0666 console, reached through a bind of / that shows
# what the machine's /dev covers; mknod itself is not in the bounding set).
expect_rc 0 timeout 120 "$NSPAWNCTL" run -q -D "$POOL/box" -M "$M" -- sh -c \
    'cp /bin/bash /opt/suid-sh && chmod 4755 /opt/suid-sh && mount --bind / /mnt &&
     ln /mnt/dev/console /mnt/opt/console && chmod 0666 /mnt/opt/console && umount /mnt'
[ -u "$POOL/box/opt/suid-sh" ] && [ -c "$POOL/box/opt/console" ] || fail "the guest could not plant its files"
# The machine's own mount of its tree is not nosuid: su, sudo, ping keep working inside.
expect_rc 0 timeout 120 "$NSPAWNCTL" run -q -D "$POOL/box" -M "$M" -u nobody -- /opt/suid-sh -p -c 'id -u'
[ "$OUT" = 0 ] || fail "set-uid does not work inside the machine: $OUT"
ok "guest root planted a set-uid root shell and a 0666 device node; set-uid works inside"

# An unprivileged host user cannot even reach them.
chmod 0711 "$WORK"
expect_rc 1 as_nobody stat "$POOL/box/opt"
expect_rc 126 as_nobody "$POOL/box/opt/suid-sh" -p -c 'id -u'
expect_rc 1 as_nobody dd if="$POOL/box/opt/console" of=/dev/null count=0 status=none
expect_rc 1 as_nobody cat "$POOL/box/etc/hostname"
ok "the pool is closed to other users"

# With the directory opened up (by the test, not by anything the project does), the mount
# flags still hold: the shell runs as the user, the node does not open.
chmod 0755 "$POOL"
expect_rc 0 as_nobody "$POOL/box/opt/suid-sh" -p -c 'id -u'
[ "$OUT" = 65534 ] || fail "a set-uid binary in the pool gave uid $OUT"
for node in "$POOL/box/opt/console" "$POOL/box/dev/console" "$POOL/box/dev/null"; do
    expect_rc 1 as_nobody dd if="$node" of=/dev/null count=0 status=none
    grep -q "Permission denied" <<<"$ERR" || fail "$node: $ERR"
done
ok "nosuid: the set-uid shell ran as 65534; nodev: the tree's device nodes do not open"

# A pool as an older version left it: 0755, mounted without nosuid,nodev. Setup fixes it.
mount -o remount,suid,dev "$POOL"
has_opt "$POOL" nosuid && fail "remount did not take"
expect_rc 0 it setup "$POOL"
[ "$(stat -c %a "$POOL")" = 700 ] || fail "old pool still $(stat -c %a "$POOL")"
has_opt "$POOL" nosuid && has_opt "$POOL" nodev || fail "old pool still mounted with $(mount_opts "$POOL")"
# and the directory below the mount, that a umount would uncover
expect_rc 0 it teardown "$POOL"
chmod 0755 "$POOL"
expect_rc 0 it setup "$POOL"
[ "$(stat -c %a "$POOL")" = 700 ] && has_opt "$POOL" nodev || fail "re-mounted pool: $(stat -c %a "$POOL") $(mount_opts "$POOL")"
expect_rc 0 it teardown "$POOL"
[ "$(stat -c %a "$POOL")" = 700 ] || fail "directory below the mount is $(stat -c %a "$POOL")"
expect_rc 0 it setup "$POOL"
ok "a pool left 0755 and mounted without nosuid,nodev is fixed by the next setup"

# Images keep working: clone, and a machine on the clone.
expect_rc 0 it clone "$POOL" box box2
expect_rc 0 timeout 120 "$NSPAWNCTL" run -q -D "$POOL/box2" -M "$M" -- cat /etc/hostname
[ "$OUT" = debian-bookworm ] || fail "run on a clone: $OUT"
ok "clones and runs work on the closed pool"
