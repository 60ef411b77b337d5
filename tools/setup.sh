#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# One command for a fresh Debian 12 machine, as root:
#   tools/setup.sh           install what is missing, build, create (once) and boot the
#                            default Debian box with an interactive console
#   tools/setup.sh --demo    the same, non-interactively: boot, check multi-user.target
#                            is reached, power off
#   tools/setup.sh --test    install what is missing, build, run every test
set -euo pipefail

mode=boot
case "${1:-}" in
    --demo) mode=demo ;;
    --test) mode=test ;;
    "") ;;
    *) echo "usage: $0 [--demo|--test]" >&2; exit 2 ;;
esac

src=$(cd "$(dirname "$0")/.." && pwd)
build=${NSPAWNCTL_BUILD_DIR:-$src/build}
[ "$(id -u)" = 0 ] || { echo "setup: run as root (containers need it)" >&2; exit 1; }

packages="build-essential meson ninja-build pkg-config libmount-dev libblkid-dev libseccomp-dev
          libsystemd-dev libcap-dev debootstrap btrfs-progs dbus iproute2 util-linux tar gzip xz-utils
          zstd perl tmux systemd-container"
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $packages 2>/dev/null | awk '$NF != "installed" {print $1}' || true)
for p in $packages; do dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"; done
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ -n "${missing// /}" ]; then
    echo "setup: installing $missing"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi

[ -f "$build/build.ninja" ] || meson setup "$build" "$src"
ninja -C "$build"

if [ "$mode" = test ]; then
    exec meson test -C "$build" --print-errorlogs --num-processes 2
fi

nspawnctl=$build/nspawnctl/nspawnctl
pool=${NSPAWNCTL_POOL:-/var/lib/machines}
tree=$pool/debian-bookworm
if [ ! -x "$tree/usr/lib/systemd/systemd" ]; then
    "$src/tests/integration/make-tree.sh" "$pool"
    # Console login as root without a password, for a local dev box; set one with passwd.
    "$nspawnctl" run -q -D "$tree" -- passwd -d root >/dev/null
fi

if [ "$mode" = boot ]; then
    echo "setup: booting $tree (log in as root; press ^] three times within 1s to kill it)"
    exec "$nspawnctl" run -D "$tree" --boot
fi

unit=$(mktemp /tmp/nspawnctl-demo.XXXXXX.service)
trap 'rm -f "$unit"' EXIT
cat >"$unit" <<'EOT'
[Unit]
Description=nspawnctl demo: report and power off once multi-user is reached
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "DEMO: multi-user.target is $(systemctl is-active multi-user.target)" >/dev/console; systemctl poweroff --no-block'
EOT
echo "setup: booting $tree non-interactively (ephemeral, so the box stays as it was)"
set +e
out=$("$nspawnctl" run -D "$tree" --ephemeral --boot --console=read-only \
      --bind-ro="$unit:/etc/systemd/system/nspawnctl-demo.service" -- systemd.wants=nspawnctl-demo.service 2>&1)
rc=$?
set -e
echo "$out" | tail -n 8
if [ "$rc" = 0 ] && echo "$out" | grep -q "DEMO: multi-user.target is active"; then
    echo "setup: demo OK - booted to multi-user.target and powered off cleanly (exit $rc)"
else
    echo "setup: demo FAILED (exit $rc)" >&2
    exit 1
fi
