#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Usage: bench/median-ms.py ROUNDS OUTFILE CMD...
# Runs CMD ROUNDS times and prints the median wall time in ms: interleave-ms.py with one
# command (stdin from /dev/null, stdout to OUTFILE and stderr to OUTFILE.err, rewritten each
# run; started straight from there, not through a shell and date(1): those cost about as
# much as a container start on a small VM, and the same constant added to both sides of a
# ratio hides the difference being measured).
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
os.execv(sys.executable, [sys.executable, os.path.join(here, "interleave-ms.py")] + sys.argv[1:])
