#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: make-tree.sh CACHE_DIR [SUITE]
# Makes (once) CACHE_DIR/debian-SUITE (default bookworm; trixie for a guest whose systemd
# needs cgroup2): a debootstrap minbase with systemd, dbus and a few tools the tests use.
# Concurrent callers wait on a lock; a tree is only renamed into place when debootstrap
# finished, so an interrupted run leaves no half tree.
set -eu
cache=$1 suite=${2:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
tree="$cache/debian-$suite"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
[ -x "$tree/usr/lib/systemd/systemd" ] && exit 0
tmp="$cache/.debian-$suite.tmp"
rm -rf "$tmp"
mirror=$("$here/host-mirror.sh")
echo "make-tree: debootstrap $suite from $mirror into $tree (about a minute)" >&2
debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,iproute2,procps,keyutils,login,passwd,util-linux \
    "$suite" "$tmp" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1 || {
    echo "make-tree: debootstrap failed, see $cache/debootstrap-$suite.log" >&2
    tail -n 5 "$cache/debootstrap-$suite.log" >&2
    rm -rf "$tmp"
    exit 1
}
# An empty machine-id marks an image that has never booted, as systemd expects.
: >"$tmp/etc/machine-id"
echo "debian-$suite" >"$tmp/etc/hostname"
rm -f "$tmp/var/cache/apt/archives/"*.deb
mv "$tmp" "$tree"
