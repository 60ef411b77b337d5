#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The wave-1 escape checks of test-run-security.sh (masks, read-only /proc/sys and /sys,
# devices, keyrings, capabilities, the --as-pid2 init's binary, seccomp, fd leaks, TIOCSTI)
# with the container in its own user namespace (--private-users=pick).
PRIVATE_USERS=pick exec "$(dirname "$0")/test-run-security.sh"
