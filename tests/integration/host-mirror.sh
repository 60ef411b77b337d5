#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Prints the Debian mirror this host's apt uses (deb822 .sources files first, then
# one-line sources.list entries), so debootstrap fetches from where apt does.
# NSPAWNCTL_MIRROR overrides it.
set -eu
if [ -n "${NSPAWNCTL_MIRROR:-}" ]; then echo "$NSPAWNCTL_MIRROR"; exit 0; fi
for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk 'BEGIN{IGNORECASE=1}
         /^[ \t]*$/ { if (uri && suite ~ /(bookworm|trixie|sid|stable|testing|unstable)([ \t]|$)/ && suite !~ /security/) { print uri; exit 0 } uri=""; suite=""; next }
         /^URIs:/ { uri=$2 }
         /^Suites:/ { $1=""; suite=$0 }
         END { if (uri && suite ~ /(bookworm|trixie|sid|stable|testing|unstable)/ && suite !~ /security/) print uri }' "$f" | head -n1 | grep . && exit 0
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk '$1=="deb" && $0 !~ /security/ { for (i=2;i<=NF;i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; exit } }' "$f" | head -n1 | grep . && exit 0
done
echo "host-mirror: no Debian mirror found in /etc/apt sources; set NSPAWNCTL_MIRROR" >&2
exit 1
