#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-shell.sh BUILD_DIR TREE [N]
# One machine booted from TREE under machined, on a private dbus-daemon with the project's
# policy; then, alternating on the same machine, N (default 101) runs each of
# `nspawnctl shell box -- /bin/true` (D-Bus call, machined forks, cgroup + setns, user,
# bounding set, seccomp, exec, exit status back) and `nsenter -a -t LEADER /bin/true`.
# Prints the medians and their ratio. Target (issue 5): shell at most 5x nsenter.
set -euo pipefail
n=${3:-101}
command -v nsenter >/dev/null || { echo "bench: nsenter (util-linux) is needed" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"
leader=""
cleanup() {
    [ -n "$leader" ] && kill -9 "$leader" 2>/dev/null || true
    stop_machined
    rm -rf "$work"
}
trap cleanup EXIT

cp -a "$tree" "$pool/box"
start_machined
"$nspawnctl" start box
for _ in $(seq 1200); do "$nspawnctl" list --json | grep -q '"state":"running"' && break; sleep 0.1; done
leader=$(sed -n 's/^LEADER=//p' "$state/machines/box")
[ -n "$leader" ] || { echo "bench: the machine did not come up" >&2; exit 1; }

# Warm caches for both, then alternate so that load from others hits both alike.
for _ in 1 2 3; do "$nspawnctl" shell box -- /bin/true; nsenter -a -t "$leader" /bin/true; done
: >"$work/shell" ; : >"$work/nsenter"
for _ in $(seq "$n"); do
    time_us "$nspawnctl" shell box -- /bin/true >>"$work/shell"
    time_us nsenter -a -t "$leader" /bin/true >>"$work/nsenter"
done
s=$(median <"$work/shell") ns=$(median <"$work/nsenter")
printf 'shell box -- /bin/true      median %6d us (n=%d)\n' "$s" "$n"
printf 'nsenter -a -t LEADER true   median %6d us (n=%d)\n' "$ns" "$n"
awk -v a="$s" -v b="$ns" 'BEGIN { printf "ratio shell/nsenter         %.2fx (target <= 5x)\n", a / b }'
