#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The real autopkgtest with autopkgtest-virt-nspawnctl on a small source package made
# here (a built tree: debian/files exists, so nothing is built): one test that passes
# (and checks that it runs in a booted machine as root), one that fails. autopkgtest's own
# summary says PASS and FAIL, it exits 4 (some test failed), the test output was copied up
# from the testbed, and nothing is left: no machine, record, lock, cgroup or mount.
. "$(dirname "$0")/distro-lib.sh"
command -v autopkgtest >/dev/null || fail "autopkgtest is not installed (tools/setup.sh installs it)"
IMG=t$$-apt
add_image "$IMG" "$TREE"
before=$(pool_state)

pkg=$WORK/pkg
mkdir -p "$pkg/debian/tests"
cat >"$pkg/debian/control" <<EOT
Source: nspawnctl-demo
Section: misc
Priority: optional
Maintainer: nspawnctl tests <root@localhost>
Standards-Version: 4.6.2

Package: nspawnctl-demo
Architecture: all
Description: nspawnctl autopkgtest backend test
 One passing and one failing test.
EOT
cat >"$pkg/debian/changelog" <<EOT
nspawnctl-demo (1.0) unstable; urgency=medium

  * Test package.

 -- nspawnctl tests <root@localhost>  Mon, 30 Nov 2026 12:00:00 +0000
EOT
# Depends: empty, so that nothing is installed (the machine has no network).
cat >"$pkg/debian/tests/control" <<EOT
Test-Command: test -d /run/systemd/system && test "\$(id -u)" = 0 && echo "passing in \$(hostname) as host uid \$(awk '{print \$2}' /proc/self/uid_map)"
Depends:
Restrictions: needs-root

Test-Command: echo failing; false
Depends:
Restrictions: needs-root
EOT
: >"$pkg/debian/files"

set +e
autopkgtest --no-built-binaries --output-dir="$WORK/out" "$pkg" -- \
    "$SOURCE_ROOT/autopkgtest/autopkgtest-virt-nspawnctl" --pool="$POOL" --state-dir="$STATE" \
    --nspawnctl="$NSPAWNCTL" "$IMG" >"$WORK/apt.log" 2>&1
rc=$?
set -e
summary=$(sed -n '/@@@@ summary/,$p' "$WORK/apt.log")
[ "$rc" = 4 ] || { tail -40 "$WORK/apt.log" >&2; fail "autopkgtest exited $rc, not 4"; }
grep -Eq '^command1 +PASS$' <<<"$summary" || { tail -40 "$WORK/apt.log" >&2; fail "no PASS for command1"; }
grep -Eq '^command2 +FAIL non-zero exit status 1$' <<<"$summary" || fail "no FAIL for command2: $summary"
[ "$(grep -Ec 'PASS|FAIL' <<<"$summary")" = 2 ] || fail "summary: $summary"
ok "autopkgtest: summary command1 PASS, command2 FAIL, exit status 4"
grep -q "^passing in " "$WORK/out/command1-stdout" || fail "command1's output not copied up: $(ls "$WORK/out")"
grep -Eq '^command1 +PASS' "$WORK/out/summary" || fail "no summary in the output dir"
ok "test output copied up from a booted testbed (root, systemd)"
# Root in the testbed is a picked host UID range, never the host's root.
grep -Eq "^passing in .* as host uid [1-9][0-9]*$" "$WORK/out/command1-stdout" ||
    fail "the testbed is not in a user namespace of its own: $(cat "$WORK/out/command1-stdout")"
ok "the testbed is unprivileged: $(sed 's/.* as //' "$WORK/out/command1-stdout")"
assert_nothing_left "autopkgtest-" "$before"; ok "nothing left: machines, cgroups, mounts, pool"

# Bad input to the backend: it refuses at once (autopkgtest reports a testbed failure, 16).
set +e
autopkgtest --no-built-binaries "$pkg" -- "$SOURCE_ROOT/autopkgtest/autopkgtest-virt-nspawnctl" \
    --pool="$POOL" --state-dir="$STATE" --nspawnctl="$NSPAWNCTL" "t$$-nosuch" >"$WORK/bad.log" 2>&1
rc=$?
set -e
[ "$rc" = 16 ] || fail "missing image: autopkgtest exited $rc"
grep -q "no image t$$-nosuch" "$WORK/bad.log" || fail "no clear error: $(tail -5 "$WORK/bad.log")"
assert_nothing_left "autopkgtest-" "$before"; ok "a missing image: testbed failure (16), a clear error, nothing left"
