#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# export-tar / import-tar: a bookworm tree round-trips (same file list, modes, owners,
# link targets and checksums) through zstd, a small tree through every compressor; crafted
# archives with "..", absolute, fifo and hard link members are refused with the pool (device nodes are skipped)
# unchanged; an archive that links out and then writes through the link stays inside.
. "$(dirname "$0")/image-lib.sh"
cached_tree
command -v python3 >/dev/null || fail "python3 is needed to craft archives"

expect_rc 0 it setup "$POOL" 2048
btrfs -q subvolume create "$POOL/bookworm"
cp -a --reflink=auto "$TREE/." "$POOL/bookworm/"

# What an export keeps: everything but device nodes, fifos and sockets (the runtime makes
# /dev; import refuses them).
without_special() { grep -Ev '^[^ ]+ [cbps] '; }

# --- the whole tree through zstd
expect_rc 0 it export-tar "$POOL" bookworm "$WORK/bookworm.tar.zst"
[ "$(head -c4 "$WORK/bookworm.tar.zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd ] || fail "not zstd"
expect_rc 0 it import-tar "$POOL" "$WORK/bookworm.tar.zst" imported
diff <(tree_list "$POOL/bookworm" | without_special) <(tree_list "$POOL/imported") >&2 ||
    fail "round trip changed the tree"
getcap "$POOL/imported/usr/bin/ping" 2>/dev/null | grep -q cap_net_raw ||
    [ -z "$(getcap "$POOL/bookworm/usr/bin/ping" 2>/dev/null)" ] || fail "file capabilities lost"
expect_rc 0 it list "$POOL"
grep -q '^imported	subvolume	rw' <<<"$OUT" || fail "list: $OUT"
ok "bookworm exported to .tar.zst and imported: same file list, modes, owners, links, checksums"

# --- every compressor on a small tree (owners, modes, symlinks, hard links, empty dirs)
btrfs -q subvolume create "$POOL/small"
mkdir -p "$POOL/small/etc" "$POOL/small/empty" "$POOL/small/home/u"
echo small >"$POOL/small/etc/hostname"
ln -s /usr/share/zoneinfo/UTC "$POOL/small/etc/localtime"
ln "$POOL/small/etc/hostname" "$POOL/small/etc/hardlink"
chown 1000:1000 "$POOL/small/home/u"; chmod 0700 "$POOL/small/home/u"
echo secret >"$POOL/small/home/u/f"; chmod 4755 "$POOL/small/home/u/f"
for ext in tar tar.gz tar.xz tar.zst; do
    expect_rc 0 it export-tar "$POOL" small "$WORK/small.$ext"
    expect_rc 0 it import-tar "$POOL" "$WORK/small.$ext" "small-${ext//./-}"
    diff <(tree_list "$POOL/small") <(tree_list "$POOL/small-${ext//./-}") >&2 || fail "round trip via $ext"
    [ "$(stat -c %i "$POOL/small-${ext//./-}/etc/hostname")" = \
      "$(stat -c %i "$POOL/small-${ext//./-}/etc/hardlink")" ] || fail "hard link lost via $ext"
done
ok "round trip through .tar, .tar.gz, .tar.xz, .tar.zst"

expect_rc 4 it export-tar "$POOL" small "$WORK/small.tar"
expect_rc 1 it export-tar "$POOL" small "$WORK/small.tar.bz2"
expect_rc 3 it export-tar "$POOL" nosuch "$WORK/nosuch.tar"
expect_rc 4 it import-tar "$POOL" "$WORK/small.tar" small
[ ! -e "$WORK/small.tar.bz2" ] && [ ! -e "$WORK/nosuch.tar" ] || fail "export left a file"
ok "export onto an existing file, unknown suffix, missing image; import onto an existing name: refused"

# --- crafted archives: refused, nothing imported
python3 - "$WORK" <<'PY'
import io, sys, tarfile
work = sys.argv[1]
def make(name, members, fmt=tarfile.GNU_FORMAT, mode="w"):
    with tarfile.open(f"{work}/{name}", mode, format=fmt) as t:
        d = tarfile.TarInfo("./"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
        ok = tarfile.TarInfo("./etc/ok"); ok.size = 3; t.addfile(ok, io.BytesIO(b"ok\n"))
        for m in members:
            data = None
            if m.type == tarfile.REGTYPE:
                data = io.BytesIO(b"evil\n"); m.size = 5
            t.addfile(m, data)
def member(name, type=tarfile.REGTYPE, link=""):
    m = tarfile.TarInfo(name); m.type = type; m.linkname = link; m.mode = 0o644
    if type in (tarfile.CHRTYPE, tarfile.BLKTYPE): m.devmajor, m.devminor = 8, 0
    return m
make("dotdot.tar", [member("../evil")])
make("dotdot-deep.tar.gz", [member("./etc/../../evil")], mode="w:gz")
make("absolute.tar", [member("/etc/evil")])
make("chardev.tar", [member("./dev/mem", tarfile.CHRTYPE)])
make("blockdev.tar.xz", [member("./dev/sda", tarfile.BLKTYPE)], mode="w:xz")
make("fifo.tar", [member("./run/fifo", tarfile.FIFOTYPE)])
make("hardlink-abs.tar", [member("./shadow", tarfile.LNKTYPE, "/etc/shadow")])
make("hardlink-dotdot.tar", [member("./shadow", tarfile.LNKTYPE, "../../etc/shadow")])
make("pax-dotdot.tar", [member("./a/../../" + "x" * 120)], fmt=tarfile.PAX_FORMAT)
make("gnu-long-dotdot.tar", [member("../" + "y" * 200)], fmt=tarfile.GNU_FORMAT)
PY
zstd -q "$WORK/absolute.tar" -o "$WORK/absolute.tar.zst"
head -c 10000 /dev/urandom >"$WORK/garbage.tar"
state=$(pool_state "$POOL")
for f in dotdot.tar dotdot-deep.tar.gz absolute.tar absolute.tar.zst \
    fifo.tar hardlink-abs.tar hardlink-dotdot.tar pax-dotdot.tar gnu-long-dotdot.tar; do
    expect_rc 7 it import-tar "$POOL" "$WORK/$f" crafted
    grep -q "Refused archive member" <<<"$ERR" || fail "no reason given for $f: $ERR"
    diff <(echo "$state") <(pool_state "$POOL") >&2 || fail "pool changed by $f"
done
expect_rc 1 it import-tar "$POOL" "$WORK/garbage.tar" crafted
diff <(echo "$state") <(pool_state "$POOL") >&2 || fail "pool changed by garbage"
[ ! -e /evil ] && [ ! -e /etc/evil ] && [ ! -e "$WORK/evil" ] || fail "something was extracted"
no_temporaries "$POOL"
# Device nodes (a rootfs tarball's /dev) are left out, not refused: the runtime makes /dev.
for f in chardev.tar blockdev.tar.xz; do
    expect_rc 0 it import-tar "$POOL" "$WORK/$f" crafted
    [ -f "$POOL/crafted/etc/ok" ] || fail "$f: the rest was not imported"
    [ -z "$(find "$POOL/crafted" -type b -o -type c)" ] || fail "$f: a device node was imported"
    expect_rc 0 it remove "$POOL" crafted
done
diff <(echo "$state") <(pool_state "$POOL") >&2 || fail "pool changed by the device imports"
ok "archives with ../, absolute, fifo, hard link out, pax and GNU long names with ..: refused, pool unchanged; device nodes skipped"

# --- a symlink out of the tree followed by a member written through it stays inside
mkdir "$WORK/outside"
python3 - "$WORK" <<'PY'
import io, sys, tarfile
work = sys.argv[1]
with tarfile.open(f"{work}/through-link.tar", "w", format=tarfile.GNU_FORMAT) as t:
    l = tarfile.TarInfo("./escape"); l.type = tarfile.SYMTYPE; l.linkname = f"{work}/outside"
    t.addfile(l)
    f = tarfile.TarInfo("./escape/planted"); f.size = 5; t.addfile(f, io.BytesIO(b"evil\n"))
PY
set +e; it import-tar "$POOL" "$WORK/through-link.tar" through >/dev/null 2>&1; set -e
[ ! -e "$WORK/outside/planted" ] || fail "tar wrote through a symlink out of the tree"
it remove "$POOL" through >/dev/null 2>&1 || true
no_temporaries "$POOL"
ok "a member below an absolute symlink is not written outside the tree"

# --- read-only import
expect_rc 0 it --read-only import-tar "$POOL" "$WORK/small.tar.gz" small-ro
expect_rc 0 it list "$POOL"
grep -q '^small-ro	subvolume	ro' <<<"$OUT" || fail "read-only import: $OUT"
ok "import --read-only"
