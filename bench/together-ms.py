#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/together-ms.py ROUNDS NAMES CMD...
# NAMES is a comma-separated list (a,b,c); every {} in CMD is replaced by one name. Runs CMD
# for the first name alone, then for all names at once, ROUNDS times each, interleaved (so
# that the two sides see the same host), and prints the medians in ms and their ratio:
# "ALONE TOGETHER RATIO". It is the measure of a test matrix applied to any command: what
# running several at once costs on this host against running one.
import subprocess
import sys
import time

rounds, names, cmd = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3:]


def run(batch):
    start = time.perf_counter()
    procs = [subprocess.Popen([a.replace("{}", n) for a in cmd], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for n in batch]
    results = [(p.wait(), p.stderr.read()) for p in procs]
    elapsed = (time.perf_counter() - start) * 1000
    for status, err in results:
        if status != 0:
            print("bench: failed (exit %d): %s\n%s" % (status, " ".join(cmd), err.decode(errors="replace")[-400:]),
                  file=sys.stderr)
            sys.exit(1)
    return elapsed


run(names)  # warm the caches
alone, together = [], []
for _ in range(rounds):
    alone.append(run(names[:1]))
    together.append(run(names))
alone.sort()
together.sort()
a, t = alone[(rounds - 1) // 2], together[(rounds - 1) // 2]
print("%.1f %.1f %.2f" % (a, t, t / a))
