#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/interleave-ms.py ROUNDS OUTFILE CMD1... :: CMD2... [:: CMD3...]
# Runs the commands one after the other, ROUNDS times over (a round runs each once), and
# prints their median wall times in ms, in order, space-separated. Interleaved so that
# every command sees the same host: on the test VM the second CPU comes and goes over
# minutes, and commands timed one block after the other would compare two hosts. Each run
# is started straight from here, not through a shell and date(1) (those cost about as much
# as a container start on a small VM), with stdin from /dev/null, stdout to OUTFILE and
# stderr to OUTFILE.err (rewritten each run); the first failure ends it, with its output.
# An argument that is exactly "::" always separates commands.
import subprocess
import sys
import time

rounds, out, rest = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
cmds = [[]]
for a in rest:
    if a == "::":
        cmds.append([])
    else:
        cmds[-1].append(a)
if any(not c for c in cmds):
    print("bench: an empty command", file=sys.stderr)
    sys.exit(2)
times = [[] for _ in cmds]
for _ in range(rounds):
    for i, cmd in enumerate(cmds):
        with open(out, "wb") as f, open(out + ".err", "wb") as e:
            start = time.perf_counter()
            status = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=e).returncode
            times[i].append((time.perf_counter() - start) * 1000)
        if status != 0:
            tail = []
            for name in (out, out + ".err"):
                with open(name, "rb") as f:
                    tail += f.read().decode(errors="replace").splitlines()[-5:]
            print("bench: failed (exit %d): %s" % (status, " ".join(cmd)), file=sys.stderr)
            print("\n".join(tail), file=sys.stderr)
            sys.exit(1)
print(" ".join("%.1f" % sorted(t)[(rounds - 1) // 2] for t in times))
