#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: init-debs.sh CACHE_DIR PACKAGE...
# Downloads (once, with the host's apt and its sources) the .debs of the given packages into
# CACHE_DIR/debs and prints the directory: the tests make guests with other inits (busybox,
# sysvinit) out of the cached bookworm tree with them. Nothing is installed on the host.
set -eu
dir=$1/debs
shift
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
for p in "$@"; do
    ls "$dir/${p}_"*.deb >/dev/null 2>&1 && continue
    (cd "$dir" && apt-get download -q "$p" >/dev/null 2>"$dir/$p.log") || {
        echo "init-debs: apt-get download $p failed, see $dir/$p.log" >&2
        exit 1
    }
done
echo "$dir"
