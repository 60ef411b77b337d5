#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# One command for a fresh Debian 12 machine, as root:
#   tools/setup.sh           install what is missing, build, start machined, create (once)
#                            and boot the default Debian box "debian", open a root shell in it
#   tools/setup.sh --demo    the same, non-interactively: check the box reached
#                            multi-user.target through a shell in it, then power it off
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
          zstd perl tmux systemd-container autopkgtest python3 scdoc bash-completion man-db dnsmasq-base
          dnsmasq-utils libnftables-dev nftables iperf3"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
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
state=${NSPAWNCTL_STATE_DIR:-/run/nspawnctl}
export NSPAWNCTL_STATE_DIR=$state
box=${NSPAWNCTL_BOX:-debian}

# machined: under systemd or the init script once installed; here straight from the build
# tree, detached, serving the system bus if there is one and its private socket anyway.
if ! "$nspawnctl" list >/dev/null 2>&1; then
    mkdir -p "$state"
    echo "setup: starting machined (pool $pool, log $state/machined.log)"
    setsid "$build/machined/machined" --pool="$pool" --state-dir="$state" \
        </dev/null >>"$state/machined.log" 2>&1 &
    for _ in $(seq 100); do "$nspawnctl" list >/dev/null 2>&1 && break; sleep 0.1; done
    "$nspawnctl" list >/dev/null || { tail -5 "$state/machined.log" >&2; exit 1; }
fi

if ! "$nspawnctl" image-status "$box" >/dev/null 2>&1; then
    echo "setup: creating $box from the debian-bookworm template (debootstrap, about a minute)"
    "$nspawnctl" create "$box" --template=debian-bookworm
fi

# The box's state as `status` shows it: stopped (status shows a box that does not run, too),
# opening, running, closing; empty when there is no such box.
box_state() { "$nspawnctl" status "$box" 2>/dev/null | sed -n 's/^ *State: //p' | head -n 1; }
running() { [ "$(box_state)" = running ]; }
case "$(box_state)" in
    running|opening) ;;
    *) echo "setup: booting $box"
       "$nspawnctl" start "$box" ;;
esac
for _ in $(seq 300); do running && break; sleep 0.1; done
running || { echo "setup: $box did not come up, see '$nspawnctl status $box'" >&2; exit 1; }

if [ "$mode" = boot ]; then
    echo "setup: $box is running; opening a root shell (exit leaves it running;"
    echo "       '$nspawnctl poweroff $box' stops it, '$nspawnctl login $box' gives a getty)"
    exec "$nspawnctl" shell "$box"
fi

state_in_box=$("$nspawnctl" shell "$box" -- sh -c \
    'systemctl is-system-running --wait >/dev/null 2>&1; systemctl is-active multi-user.target; uname -n' || true)
echo "$state_in_box" | sed 's/^/setup: in the box: /'
"$nspawnctl" poweroff "$box"
stopped() { case "$(box_state)" in stopped|"") return 0 ;; *) return 1 ;; esac; }
for _ in $(seq 300); do stopped && break; sleep 0.1; done
if echo "$state_in_box" | head -1 | grep -qx active && stopped; then
    echo "setup: demo OK - $box booted to multi-user.target, ran a shell, powered off"
else
    echo "setup: demo FAILED" >&2
    exit 1
fi
