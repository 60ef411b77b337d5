#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-run.sh NSPAWNCTL TREE [ROUNDS]
# Times, in one run on the same tree: `nspawnctl run /bin/true` against systemd-nspawn
# and against unshare+chroot, and a boot-to-multi-user-then-poweroff cycle against
# systemd-nspawn --boot; then the same with a user namespace, --private-users=pick against
# systemd-nspawn -U --private-users-ownership=map. Prints medians (ms) and ratios. Boots use a
# throwaway overlay (nspawnctl --ephemeral, nspawn --volatile=overlay) so the tree stays as
# it is.
set -euo pipefail
nspawnctl=$1 tree=$2 rounds=${3:-21}
command -v systemd-nspawn >/dev/null || { echo "bench: systemd-nspawn (systemd-container) is needed" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat >"$work/off.service" <<'EOT'
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl is-active -q multi-user.target && echo BENCH-OK >/dev/console; systemctl poweroff --no-block'
EOT
unit="--bind-ro=$work/off.service:/etc/systemd/system/bench-off.service"

# median_ms ROUNDS CMD...: runs CMD ROUNDS times, prints the median wall time in ms (its
# output of the last run in $work/out).
median_ms() { python3 "$(dirname "$0")/median-ms.py" "$1" "$work/out" "${@:2}" || exit 1; }
boot_ok() { "$@" && grep -q BENCH-OK "$work/out"; }
# try CMD...: runs CMD once; prints "ok" or why it failed (its last error line).
try() {
    if "$@" >"$work/try" 2>&1 && grep -q BENCH-OK "$work/try"; then echo ok; return; fi
    grep -a -m1 -E "Failed|failed|rror|sorry" "$work/try" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-70 || echo "no multi-user"
}

# The five /bin/true runs interleaved, round by round (see interleave-ms.py).
read -r t_ours t_nspawn t_raw u_ours u_nspawn < <(python3 "$(dirname "$0")/interleave-ms.py" "$rounds" "$work/out" \
    "$nspawnctl" run -q -D "$tree" --read-only -M bench /bin/true :: \
    systemd-nspawn -q -D "$tree" --read-only -M bench --register=no --keep-unit /bin/true :: \
    unshare -m -p -f -u -i chroot "$tree" /bin/true :: \
    "$nspawnctl" run -q -D "$tree" --read-only -M bench --private-users=pick /bin/true :: \
    systemd-nspawn -q -D "$tree" --read-only -M bench --register=no --keep-unit -U --private-users-ownership=map /bin/true \
    || echo fail)
[ -n "${u_nspawn:-}" ] || { echo "bench: the /bin/true runs failed" >&2; exit 1; }

b_rounds=$(( rounds / 3 > 3 ? rounds / 3 : 3 ))
b_ours=$(median_ms "$b_rounds" "$nspawnctl" run -q -D "$tree" -x -M bench --boot --console=read-only "$unit" -- systemd.wants=bench-off.service)
grep -q BENCH-OK "$work/out" || { echo "bench: nspawnctl boot did not reach multi-user" >&2; exit 1; }
b_nspawn=$(median_ms "$b_rounds" systemd-nspawn -q -D "$tree" --volatile=overlay -M bench --register=no --keep-unit --boot "$unit" -- systemd.wants=bench-off.service)
grep -q BENCH-OK "$work/out" || { echo "bench: systemd-nspawn boot did not reach multi-user" >&2; exit 1; }
ub_ours=$(median_ms "$b_rounds" "$nspawnctl" run -q -D "$tree" -x -M bench --boot --console=read-only --private-users=pick \
    "$unit" -- systemd.wants=bench-off.service)
grep -q BENCH-OK "$work/out" || { echo "bench: nspawnctl boot with pick did not reach multi-user" >&2; exit 1; }
# nspawn 252 cannot boot with -U here: on the overlay it finds no ID-mapped mounts
# (overlayfs cannot be ID-mapped), on a copy of the tree systemd inside fails with "Failed
# to create /init.scope control group" (no cgroup delegation without a systemd host). Say so
# instead of timing a failure.
ub_nspawn=$(try timeout 120 systemd-nspawn -q -D "$tree" --volatile=overlay -M bench --register=no --keep-unit \
    -U --private-users-ownership=map --boot "$unit" -- systemd.wants=bench-off.service)
[ "$ub_nspawn" = ok ] && ub_nspawn=$(median_ms "$b_rounds" systemd-nspawn -q -D "$tree" --volatile=overlay -M bench \
    --register=no --keep-unit -U --private-users-ownership=map --boot "$unit" -- systemd.wants=bench-off.service)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
printf '%-44s %10s %10s\n' "benchmark (median of N runs)" "ms" "ratio"
printf '%-44s %10s %10s\n' "nspawnctl run /bin/true (N=$rounds)" "$t_ours" "1.00x"
printf '%-44s %10s %10s\n' "systemd-nspawn /bin/true" "$t_nspawn" "$(ratio "$t_ours" "$t_nspawn") (ours/nspawn)"
printf '%-44s %10s %10s\n' "unshare+chroot /bin/true" "$t_raw" "$(ratio "$t_ours" "$t_raw") (ours/raw)"
printf '%-44s %10s %10s\n' "nspawnctl boot+poweroff (N=$b_rounds)" "$b_ours" "1.00x"
printf '%-44s %10s %10s\n' "systemd-nspawn boot+poweroff" "$b_nspawn" "$(ratio "$b_ours" "$b_nspawn") (ours/nspawn)"
echo "with a user namespace:"
printf '%-44s %10s %10s\n' "nspawnctl run --private-users=pick /bin/true" "$u_ours" "1.00x"
printf '%-44s %10s %10s\n' "systemd-nspawn -U (map) /bin/true" "$u_nspawn" "$(ratio "$u_ours" "$u_nspawn") (ours/nspawn -U)"
printf '%-44s %10s %10s\n' "  against plain systemd-nspawn /bin/true" "$t_nspawn" "$(ratio "$u_ours" "$t_nspawn") (ours/nspawn)"
printf '%-44s %10s %10s\n' "nspawnctl boot+poweroff, pick" "$ub_ours" "1.00x"
if [[ "$ub_nspawn" =~ ^[0-9.]+$ ]]; then
    printf '%-44s %10s %10s\n' "systemd-nspawn -U (map) boot+poweroff" "$ub_nspawn" "$(ratio "$ub_ours" "$ub_nspawn") (ours/nspawn -U)"
else
    printf '%-44s %s\n' "systemd-nspawn -U (map) boot+poweroff" "fails: $ub_nspawn"
fi
printf '%-44s %10s %10s\n' "  against plain systemd-nspawn boot" "$b_nspawn" "$(ratio "$ub_ours" "$b_nspawn") (ours/nspawn)"
