#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/bench-limits.sh NSPAWNCTL TREE [ROUNDS] [BASELINE_NSPAWNCTL]
# What the container's cgroups cost: `nspawnctl run /bin/true` and a boot-to-multi-user-
# then-poweroff cycle without limits (the defaults: TasksMax=16384 and the device list),
# with every limit set, and with the device list as a cgroup2 BPF program; optionally
# against another build (e.g. one from before the container got a cgroup in every
# hierarchy). Prints medians (ms) and ratios.
set -euo pipefail
nspawnctl=$1 tree=$2 rounds=${3:-21} baseline=${4:-}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cat >"$work/off.service" <<'EOT'
[Unit]
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl is-active -q multi-user.target && echo BENCH-OK >/dev/console; systemctl poweroff --no-block'
EOT
unit="--bind-ro=$work/off.service:/etc/systemd/system/bench-off.service"
limits=(--property=MemoryMax=1G --property=MemoryHigh=768M --property=CPUQuota=150% --property=CPUWeight=200
        --property=TasksMax=4096 --property=IOWeight=200)

# median_ms ROUNDS CMD...: runs CMD ROUNDS times, prints the median wall time in ms (its
# output of the last run in $work/out; timed by median-ms.py, not through bash and date).
median_ms() { python3 "$(dirname "$0")/median-ms.py" "$1" "$work/out" "${@:2}" || exit 1; }
true_ms() { local bin=$1; shift; median_ms "$rounds" "$bin" run -q -D "$tree" --read-only -M bench-limits "$@" /bin/true; }
boot_ms() {
    median_ms "$b_rounds" "$@" -- systemd.wants=bench-off.service
    grep -q BENCH-OK "$work/out" || { echo "bench: boot did not reach multi-user" >&2; exit 1; }
}
b_rounds=$(( rounds / 3 > 3 ? rounds / 3 : 3 ))
boot=(run -q -D "$tree" -x -M bench-limits --boot --console=read-only "$unit")

t_plain=$(true_ms "$nspawnctl")
t_limits=$(true_ms "$nspawnctl" "${limits[@]}")
t_bpf=$(NSPAWNCTL_DEVICE_POLICY=bpf true_ms "$nspawnctl")
b_plain=$(boot_ms "$nspawnctl" "${boot[@]}")
b_limits=$(boot_ms "$nspawnctl" "${boot[@]}" "${limits[@]}")
if [ -n "$baseline" ]; then
    t_base=$(true_ms "$baseline")
    b_base=$(boot_ms "$baseline" "${boot[@]}")
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
printf '%-48s %10s %10s\n' "benchmark (median of N runs)" "ms" "ratio"
printf '%-48s %10s %10s\n' "run /bin/true, defaults (N=$rounds)" "$t_plain" "1.00x"
printf '%-48s %10s %10s\n' "run /bin/true, all limits" "$t_limits" "$(ratio "$t_limits" "$t_plain")"
printf '%-48s %10s %10s\n' "run /bin/true, BPF device program" "$t_bpf" "$(ratio "$t_bpf" "$t_plain")"
[ -z "$baseline" ] || printf '%-48s %10s %10s\n' "run /bin/true, baseline build" "$t_base" "$(ratio "$t_base" "$t_plain")"
printf '%-48s %10s %10s\n' "boot+poweroff, defaults (N=$b_rounds)" "$b_plain" "1.00x"
printf '%-48s %10s %10s\n' "boot+poweroff, all limits" "$b_limits" "$(ratio "$b_limits" "$b_plain")"
[ -z "$baseline" ] || printf '%-48s %10s %10s\n' "boot+poweroff, baseline build" "$b_base" "$(ratio "$b_base" "$b_plain")"
