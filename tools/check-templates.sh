#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: tools/check-templates.sh POOL [TEMPLATE...]
# Checks that images made from the templates boot to multi-user with no failed unit on
# this host: makes each missing image TEMPLATE in POOL from its template once (debootstrap,
# minutes; the mirror as for `nspawnctl create`), then boots a throwaway machine of each
# with `nspawnctl test --boot` and asks systemd. Guests whose systemd has no cgroup v1
# support any more (sid: 258 and later) get the unified layout (NSPAWNCTL_CGROUP_MODE=unified)
# on a hybrid host. Logs in POOL/../check-templates-logs. Default: the four Debian templates.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 POOL [TEMPLATE...]" >&2; exit 2; }
pool=$1; shift
[ $# -gt 0 ] || set -- debian-bullseye debian-bookworm debian-trixie debian-sid
here=$(cd "$(dirname "$0")/.." && pwd)
nspawnctl=${NSPAWNCTL:-$here/build/nspawnctl/nspawnctl}
logs=$(dirname "$pool")/check-templates-logs
mkdir -p "$pool"
check='s=$(systemctl is-system-running --wait); echo "system: $s"; systemctl --failed --no-legend; grep PRETTY_NAME /etc/os-release; [ "$s" = running ]'
rc=0
for t in "$@"; do
    mode=
    case $t in debian-sid) mode=unified ;; esac
    NSPAWNCTL_CGROUP_MODE=$mode "$nspawnctl" test --pool="$pool" --template="$t" --boot --timeout=300 \
        --log-dir="$logs" -- sh -c "$check" || rc=1
    grep -v '^\[console\]' "$logs/$t.log" || true
done
exit $rc
