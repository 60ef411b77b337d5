#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-run.sh NSPAWNCTL TREE [ROUNDS]
# Times, in one run on the same tree: `nspawnctl run /bin/true` against systemd-nspawn
# and against unshare+chroot, and a boot-to-multi-user-then-poweroff cycle against
# systemd-nspawn --boot. Prints medians (ms) and ratios. Both boots use a throwaway
# overlay (nspawnctl --ephemeral, nspawn --volatile=overlay) so the tree stays as it is.
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

# median_ms ROUNDS CMD...: runs CMD ROUNDS times, prints the median wall time in ms.
median_ms() {
    local n=$1; shift
    for _ in $(seq "$n"); do
        local a b
        a=$(date +%s%N)
        "$@" >"$work/out" 2>&1 || { echo "bench: failed: $*" >&2; tail -5 "$work/out" >&2; exit 1; }
        b=$(date +%s%N)
        echo $(( (b - a) / 1000 ))
    done | sort -n | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)]/1000}'
}
boot_ok() { "$@" && grep -q BENCH-OK "$work/out"; }

t_ours=$(median_ms "$rounds" "$nspawnctl" run -q -D "$tree" --read-only -M bench /bin/true)
t_nspawn=$(median_ms "$rounds" systemd-nspawn -q -D "$tree" --read-only -M bench --register=no --keep-unit /bin/true)
t_raw=$(median_ms "$rounds" unshare -m -p -f -u -i chroot "$tree" /bin/true)

b_rounds=$(( rounds / 3 > 3 ? rounds / 3 : 3 ))
b_ours=$(median_ms "$b_rounds" "$nspawnctl" run -q -D "$tree" -x -M bench --boot --console=read-only "$unit" -- systemd.wants=bench-off.service)
grep -q BENCH-OK "$work/out" || { echo "bench: nspawnctl boot did not reach multi-user" >&2; exit 1; }
b_nspawn=$(median_ms "$b_rounds" systemd-nspawn -q -D "$tree" --volatile=overlay -M bench --register=no --keep-unit --boot "$unit" -- systemd.wants=bench-off.service)
grep -q BENCH-OK "$work/out" || { echo "bench: systemd-nspawn boot did not reach multi-user" >&2; exit 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
printf '%-44s %10s %10s\n' "benchmark (median of N runs)" "ms" "ratio"
printf '%-44s %10s %10s\n' "nspawnctl run /bin/true (N=$rounds)" "$t_ours" "1.00x"
printf '%-44s %10s %10s\n' "systemd-nspawn /bin/true" "$t_nspawn" "$(ratio "$t_ours" "$t_nspawn") (ours/nspawn)"
printf '%-44s %10s %10s\n' "unshare+chroot /bin/true" "$t_raw" "$(ratio "$t_ours" "$t_raw") (ours/raw)"
printf '%-44s %10s %10s\n' "nspawnctl boot+poweroff (N=$b_rounds)" "$b_ours" "1.00x"
printf '%-44s %10s %10s\n' "systemd-nspawn boot+poweroff" "$b_nspawn" "$(ratio "$b_ours" "$b_nspawn") (ours/nspawn)"
