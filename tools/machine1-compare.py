#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares org.freedesktop.machine1 as systemd-machined serves it with what machined serves
under the same names, member by member, and writes the table into docs/machined.md between
the machine1-table markers.

Both run as root on private buses of their own: systemd-machined in a mount namespace with a
tmpfs on /run/systemd/machines and an empty directory on /var/lib/machines (it touches
nothing of the host's), machined on a temporary pool and state directory. Each is
introspected at the manager, at the ".host" machine and at an image.

    tools/machine1-compare.py [--build-dir=build] [--systemd-machined=/lib/systemd/systemd-machined]
                              [--doc=docs/machined.md] [--print]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

BEGIN = "<!-- machine1-table:begin (tools/machine1-compare.py writes this) -->"
END = "<!-- machine1-table:end -->"
NAME = "org.freedesktop.machine1"
OBJECTS = [
    ("Manager", "/org/freedesktop/machine1"),
    ("Machine", "/org/freedesktop/machine1/machine/_2ehost"),
    ("Image", "/org/freedesktop/machine1/image/probe"),
]

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={dir}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy user="root"><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
</busconfig>
"""


def wait_for(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


class Bus:
    def __init__(self, tmp):
        self.dir = tmp
        with open(os.path.join(tmp, "bus.conf"), "w") as f:
            f.write(BUS_CONF.format(dir=tmp))
        self.proc = subprocess.Popen(["dbus-daemon", "--config-file=" + os.path.join(tmp, "bus.conf"),
                                      "--nofork", "--nosyslog"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + os.path.join(tmp, "bus"))
        if not wait_for(lambda: os.path.exists(os.path.join(tmp, "bus"))):
            raise SystemExit("dbus-daemon did not start")

    def owned(self):
        return subprocess.run(["busctl", "--system", "status", NAME], env=self.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def introspect(self, path):
        out = subprocess.run(["busctl", "--system", "--xml-interface", "introspect", NAME, path],
                             env=self.env, check=True, stdout=subprocess.PIPE, text=True).stdout
        return parse(out)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def parse(xml):
    """{interface: {("method"|"property"|"signal", name): signature text}}"""
    result = {}
    for iface in ET.fromstring(xml).findall("interface"):
        name = iface.get("name")
        if not name.startswith(NAME):
            continue
        members = {}
        for m in iface:
            if m.tag == "method":
                ins = "".join(a.get("type") for a in m.findall("arg") if a.get("direction", "in") == "in")
                outs = "".join(a.get("type") for a in m.findall("arg") if a.get("direction") == "out")
                members[("method", m.get("name"))] = "(%s) → (%s)" % (ins, outs)
            elif m.tag == "property":
                members[("property", m.get("name"))] = m.get("type")
            elif m.tag == "signal":
                members[("signal", m.get("name"))] = "(%s)" % "".join(a.get("type") for a in m.findall("arg"))
        result[name] = members
    return result


def run_child(cmd, env):
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop_child(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def introspect_all(bus):
    merged = {}
    for _, path in OBJECTS:
        merged.update(bus.introspect(path))
    return merged


def introspect_systemd(binary):
    tmp = tempfile.mkdtemp(prefix="machine1-compare-systemd.")
    try:
        os.makedirs(os.path.join(tmp, "pool", "probe"))
        bus = Bus(tmp)
        try:
            p = run_child(["unshare", "-m", "sh", "-c",
                           'mount --make-rprivate / && mount -t tmpfs tmpfs /run/systemd/machines && '
                           'mount --bind "$1" /var/lib/machines && exec "$2"',
                           "sh", os.path.join(tmp, "pool"), binary], bus.env)
            try:
                if not wait_for(bus.owned):
                    raise SystemExit("systemd-machined did not take " + NAME)
                return introspect_all(bus)
            finally:
                stop_child(p)
        finally:
            bus.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def introspect_ours(build_dir):
    tmp = tempfile.mkdtemp(prefix="machine1-compare-ours.")
    try:
        # A pool that already holds an image stays a plain directory (no loop-mounted btrfs).
        os.makedirs(os.path.join(tmp, "pool", "probe", "etc"))
        bus = Bus(tmp)
        try:
            p = run_child([os.path.join(build_dir, "machined", "machined"), "--pool=" + os.path.join(tmp, "pool"),
                           "--state-dir=" + os.path.join(tmp, "state"), "--config-dir=" + os.path.join(tmp, "etc"),
                           "--supervisor=" + os.path.join(build_dir, "supervisor", "nspawnctl-supervisor"),
                           "--machine1=yes"], bus.env)
            try:
                if not wait_for(bus.owned):
                    raise SystemExit("machined did not take " + NAME)
                return introspect_all(bus)
            finally:
                stop_child(p)
        finally:
            bus.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def table(theirs, ours):
    lines = []
    counts = {}
    for kind_iface, _ in OBJECTS:
        iface = NAME + "." + kind_iface
        a, b = theirs.get(iface, {}), ours.get(iface, {})
        lines.append("")
        lines.append("### %s" % iface)
        lines.append("")
        lines.append("| member | kind | machine1 v252 | ours | |")
        lines.append("|---|---|---|---|---|")
        for kind in ("method", "property", "signal"):
            for key in sorted(set(a) | set(b), key=lambda k: k[1]):
                if key[0] != kind:
                    continue
                sa, sb = a.get(key), b.get(key)
                if sa and sb:
                    verdict = "same" if sa == sb else "different"
                elif sa:
                    verdict = "missing"
                else:
                    verdict = "ours only"
                counts[(kind_iface, verdict)] = counts.get((kind_iface, verdict), 0) + 1
                lines.append("| %s | %s | `%s` | `%s` | %s |" % (key[1], kind, sa or "-", sb or "-", verdict))
    summary = []
    for kind_iface, _ in OBJECTS:
        parts = ["%d %s" % (counts.get((kind_iface, v), 0), v)
                 for v in ("same", "different", "missing", "ours only")]
        summary.append("- %s: %s" % (kind_iface, ", ".join(parts)))
    return "\n".join(["", "Members (methods, properties, signals) by interface:", ""] + summary + lines + [""])


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--build-dir", default=os.path.join(root, "build"))
    ap.add_argument("--systemd-machined", default="/lib/systemd/systemd-machined")
    ap.add_argument("--doc", default=os.path.join(root, "docs", "machined.md"))
    ap.add_argument("--print", action="store_true", help="print the table instead of writing the doc")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("machine1-compare: needs root (private buses, mount namespaces)")

    version = subprocess.run([args.systemd_machined, "--version"], stdout=subprocess.PIPE, text=True,
                             stderr=subprocess.DEVNULL).stdout.split("\n")[0].strip()
    text = table(introspect_systemd(args.systemd_machined), introspect_ours(args.build_dir))
    text = "\nGenerated against `%s`.\n%s" % (version or args.systemd_machined, text)
    if args.print:
        print(text)
        return
    with open(args.doc) as f:
        doc = f.read()
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN) + len(BEGIN)] + "\n" + text + "\n" + doc[doc.index(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + BEGIN + "\n" + text + "\n" + END + "\n"
    with open(args.doc, "w") as f:
        f.write(doc)
    print("machine1-compare: table written to %s" % args.doc)


if __name__ == "__main__":
    sys.exit(main())
