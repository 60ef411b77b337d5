#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/median-ms.py ROUNDS OUTFILE CMD...
# Runs CMD ROUNDS times (stdin from /dev/null, stdout to OUTFILE and stderr to OUTFILE.err,
# both rewritten each run) and prints the median wall time in ms. Started straight from here, not through a
# shell and date(1): those cost about as much as a container start on a small VM, and the
# same constant added to both sides of a ratio hides the difference being measured.
import subprocess
import sys
import time

rounds, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
times = []
for _ in range(rounds):
    with open(out, "wb") as f, open(out + ".err", "wb") as e:
        start = time.perf_counter()
        status = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=e).returncode
        times.append((time.perf_counter() - start) * 1000)
    if status != 0:
        tail = []
        for name in (out, out + ".err"):
            with open(name, "rb") as f:
                tail += f.read().decode(errors="replace").splitlines()[-5:]
        print("bench: failed (exit %d): %s" % (status, " ".join(cmd)), file=sys.stderr)
        print("\n".join(tail), file=sys.stderr)
        sys.exit(1)
times.sort()
print("%.1f" % times[(rounds - 1) // 2])
