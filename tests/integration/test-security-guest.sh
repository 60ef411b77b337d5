#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 9, reproductions 7, 8 and 9 (docs/security.md, "Guest files", "Guest text on the
# terminal", "Copy and tar"), in privileged mode, through machined and nspawnctl:
#  7. a sparse 600 MB /etc/os-release read through OSRelease by an unprivileged user:
#     machined stays small and keeps answering;
#  8. a fifo (or a device node) at /etc/machine-id: run fails at once with one line;
#  9. os-release with ESC and C1 sequences: image-status prints them escaped; a process
#     title with C1 controls: status prints it escaped; copy-from of a directory holding a
#     fifo and a device node: refused, nothing on the host (copy-to likewise); a 30 MB line
#     in /etc/passwd: shell fails at once; a pax GNU.sparse.name: import-tar refuses it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"

BOX=$(machine_name box)
pool_populate "$BOX" img sparse esc mid
[ "$POOL_BTRFS" = yes ] || fail "needs btrfs tools for the pool"

# The machine's PID 1 carries a title with C1 controls (8-bit CSI, and U+009B in UTF-8),
# ESC ] (set the terminal's title) and BEL; no systemd needed for the rest.
rm -f "$POOL/$BOX/usr/lib/systemd/systemd" "$POOL/$BOX/sbin/init"
cat >"$POOL/$BOX/sbin/init" <<'EOT'
#!/bin/bash
exec -a $'evil\x9b31m\xc2\x9b2J\x1b]0;owned\x07' /bin/bash /sbin/init-loop
EOT
printf '#!/bin/sh\nwhile :; do sleep 1; done\n' >"$POOL/$BOX/sbin/init-loop"
chmod 0755 "$POOL/$BOX/sbin/init" "$POOL/$BOX/sbin/init-loop"

start_bus policy
start_machined
# Nothing a terminal acts on: no C0 but newline, no DEL, no C1 in either form, only
# well-formed UTF-8.
no_raw_controls() {
    printf '%s' "$1" | python3 -c '
import re, sys
s = sys.stdin.buffer.read().decode("utf-8")
sys.exit(1 if re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", s) else 0)' 2>/dev/null
}

# --- 7: a sparse 600 MB os-release, asked for by anyone ---------------------------------
rm -f "$POOL/sparse/etc/os-release" "$POOL/sparse/usr/lib/os-release"
truncate -s 600M "$POOL/sparse/etc/os-release"
# The peak: machined frees what it read once it answered.
rss() { awk '/^VmHWM:/ {print $2}' "/proc/$MACHINED_PID/status"; }
path=$(busctl --system call org.nspawnctl.machined1 /org/nspawnctl/machined1 org.nspawnctl.machined1.Manager \
    GetImage s sparse | awk '{print $2}' | tr -d '"')
before=$(rss)
as_nobody timeout 30 busctl --system get-property org.nspawnctl.machined1 "$path" \
    org.nspawnctl.machined1.Image OSRelease >"$WORK/osrel" 2>&1 &
reader=$!
# Another caller is answered meanwhile (and afterwards).
expect_rc 0 as_nobody timeout 30 "$NSPAWNCTL" list-images
grep -q '^sparse ' <<<"$OUT" || fail "list-images while OSRelease is read: $OUT"
wait "$reader" || { cat "$WORK/osrel"; fail "OSRelease of a sparse 600 MB file did not answer"; }
after=$(rss)
[ "$(cat "$WORK/osrel")" = 's ""' ] || fail "OSRelease: $(cat "$WORK/osrel")"
[ $((after - before)) -lt $((16 << 10)) ] || fail "machined grew from $before to $after kB"
expect_rc 0 as_nobody timeout 30 "$NSPAWNCTL" image-status sparse
grep -q OSRelease <<<"$OUT" && fail "image-status shows an OSRelease: $OUT"
# a fifo there: refused as quickly, nothing blocks
rm -f "$POOL/sparse/etc/os-release"; mkfifo "$POOL/sparse/etc/os-release"
expect_rc 0 as_nobody timeout 30 "$NSPAWNCTL" image-status sparse
ok "a sparse 600 MB os-release costs machined $((after - before)) kB (peak RSS $before -> $after kB); a fifo there blocks nothing"

# --- 9: os-release with terminal controls, image-status -----------------------------------
rm -f "$POOL/esc/etc/os-release"
printf 'PRETTY_NAME="Evil\033]0;owned\007 \033[2J\x9b31m \xc2\x9b1m done"\n' >"$POOL/esc/etc/os-release"
expect_rc 0 timeout 30 "$NSPAWNCTL" image-status esc
no_raw_controls "$OUT" || { printf '%s' "$OUT" | od -c | head >&2; fail "raw control characters in image-status"; }
grep -qF 'OSRelease: Evil\x1b]0;owned\x07 \x1b[2J\x9b31m \u009b1m done' <<<"$OUT" ||
    fail "os-release not shown escaped: $(grep OSRelease <<<"$OUT")"
expect_rc 0 timeout 30 "$NSPAWNCTL" list-images --json
python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$OUT" || fail "list-images --json is not JSON"
ok "image-status escapes ESC, BEL, 8-bit and UTF-8 C1 from os-release"

# --- 9: a process title with C1 controls, status ------------------------------------------
expect_rc 0 "$NSPAWNCTL" start "$BOX"
has_leader() { [ -n "$(sed -n 's/^LEADER=\([1-9][0-9]*\)$/\1/p' "$STATE/machines/$BOX" 2>/dev/null)" ]; }
wait_until 30 has_leader || fail "no leader"
LEADER=$(sed -n 's/^LEADER=//p' "$STATE/machines/$BOX")
# The machine's init too, after machined's cleanup (which reads the records it would remove).
cleanup_guest() { cleanup_machined; kill -9 "$LEADER" 2>/dev/null || true; }
trap cleanup_guest EXIT
title_is_set() { tr '\0' ' ' <"/proc/$LEADER/cmdline" | grep -q '^evil'; }
wait_until 30 title_is_set || fail "PID 1 title: $(tr '\0' ' ' <"/proc/$LEADER/cmdline")"
expect_rc 0 timeout 30 "$NSPAWNCTL" status "$BOX"
no_raw_controls "$OUT" || { printf '%s' "$OUT" | od -c | head -40 >&2; fail "raw control characters in status"; }
grep -qF 'evil\x9b31m\u009b2J\x1b]0;owned\x07 /sbin/init-loop' <<<"$OUT" || fail "title not shown escaped: $OUT"
expect_rc 0 timeout 30 "$NSPAWNCTL" list
no_raw_controls "$OUT" || fail "raw control characters in list"
ok "status shows a process title with 8-bit and UTF-8 C1, ESC and BEL escaped"

# --- 9: a 30 MB line in /etc/passwd, shell ------------------------------------------------
expect_rc 0 timeout 30 "$NSPAWNCTL" shell "$BOX" -- id -un
[ "$OUT" = root ] || fail "shell: $OUT"
cp -a "$POOL/$BOX/etc/passwd" "$WORK/passwd"
{ printf 'evil:x:0:0::/:'; head -c 30000000 /dev/zero | tr '\0' a; printf '\n'; cat "$WORK/passwd"; } >"$POOL/$BOX/etc/passwd"
t0=$(date +%s%N)
expect_rc 1 timeout 30 "$NSPAWNCTL" shell "$BOX" -- true; expect_one_line_error
t1=$(date +%s%N)
grep -q "too large" <<<"$ERR" || fail "$ERR"
why=$ERR
# a 1 MiB line is only skipped
{ printf 'evil:x:0:0::/:'; head -c 1000000 /dev/zero | tr '\0' a; printf '\n'; cat "$WORK/passwd"; } >"$POOL/$BOX/etc/passwd"
# ($USER is what our lookup found; the guest's own id(1) would name the first uid 0: evil)
expect_rc 0 timeout 30 "$NSPAWNCTL" shell "$BOX" -- sh -c 'echo $USER $HOME'
[ "$OUT" = "root /root" ] || fail "shell with a long line in passwd: $OUT"
# a fifo there: refused at once
rm "$POOL/$BOX/etc/passwd"; mkfifo "$POOL/$BOX/etc/passwd"
expect_rc 1 timeout 30 "$NSPAWNCTL" shell "$BOX" -- true; expect_one_line_error
cp -a "$WORK/passwd" "$POOL/$BOX/etc/passwd.new"; mv -f "$POOL/$BOX/etc/passwd.new" "$POOL/$BOX/etc/passwd"
expect_rc 0 timeout 30 "$NSPAWNCTL" shell "$BOX" -- true
expect_rc 0 "$NSPAWNCTL" terminate "$BOX"
wait_until 30 test ! -e "$STATE/machines/$BOX" || fail "$BOX did not go away"
ok "a 30 MB line in /etc/passwd: shell refused in $(( (t1 - t0) / 1000000 )) ms ($why); a 1 MiB line skipped; a fifo refused"

# --- 8: a fifo or a device node at /etc/machine-id ----------------------------------------
R=$(machine_name run)
rm -f "$POOL/mid/etc/machine-id"; mkfifo "$POOL/mid/etc/machine-id"
# -x: the tree through an overlay of this run's own, where device nodes are not off
for x in "" -x; do
    expect_rc 1 timeout 30 "$NSPAWNCTL" run -q $x -D "$POOL/mid" -M "$R" -- true; expect_one_line_error
    grep -q "machine-id .* not a regular file" <<<"$ERR" || fail "fifo at /etc/machine-id: $ERR"
done
rm -f "$POOL/mid/etc/machine-id"; mknod "$POOL/mid/etc/machine-id" c 1 3
expect_rc 1 timeout 30 "$NSPAWNCTL" run -q -x -D "$POOL/mid" -M "$R" -- true; expect_one_line_error
grep -q "not a regular file" <<<"$ERR" || fail "device node at /etc/machine-id: $ERR"
rm -f "$POOL/mid/etc/machine-id"; : >"$POOL/mid/etc/machine-id"
expect_rc 0 timeout 30 "$NSPAWNCTL" run -q -D "$POOL/mid" -M "$R" -- true
assert_host_clean "$R"
ok "a fifo or a device node at /etc/machine-id: run fails at once with one line, nothing left"

# --- 9: copy-from and copy-to of special files --------------------------------------------
mkdir -p "$POOL/img/srv/special/sub/deeper" "$POOL/img/srv/devonly/a/b"
echo data >"$POOL/img/srv/special/file"
mkfifo "$POOL/img/srv/special/sub/fifo"
mknod "$POOL/img/srv/special/sub/deeper/null" c 1 3
mknod "$POOL/img/srv/devonly/a/b/loop" b 7 0
mkdir "$WORK/host"
expect_rc 1 timeout 60 "$NSPAWNCTL" copy-from img /srv/special "$WORK/host/out"; expect_one_line_error
grep -Eq "Refusing to copy /srv/special/sub/(fifo: it is a fifo|deeper/null: it is a character device)" <<<"$ERR" ||
    fail "copy-from: $ERR"
expect_rc 1 timeout 60 "$NSPAWNCTL" copy-from img /srv/devonly "$WORK/host/"; expect_one_line_error
grep -q "Refusing to copy /srv/devonly/a/b/loop: it is a block device" <<<"$ERR" || fail "copy-from: $ERR"
expect_rc 1 timeout 60 "$NSPAWNCTL" copy-from img /srv/special/sub/fifo "$WORK/host/fifo"; expect_one_line_error
[ -z "$(ls -A "$WORK/host")" ] || fail "copy-from left on the host: $(ls -A "$WORK/host")"
mkdir -p "$WORK/src/sub"; echo a >"$WORK/src/a"; mkfifo "$WORK/src/sub/fifo"
expect_rc 1 timeout 60 "$NSPAWNCTL" copy-to img "$WORK/src" /srv/src; expect_one_line_error
grep -q "Refusing to copy $WORK/src/sub/fifo: it is a fifo" <<<"$ERR" || fail "copy-to: $ERR"
[ ! -e "$POOL/img/srv/src" ] && [ -z "$(find "$POOL/img/srv" -name '.#*')" ] || fail "copy-to left something in the image"
rm "$WORK/src/sub/fifo"
expect_rc 0 timeout 60 "$NSPAWNCTL" copy-to img "$WORK/src" /srv/src
[ "$(cat "$POOL/img/srv/src/a")" = a ] || fail "copy-to without special files"
ok "copy-from and copy-to refuse fifos and device nodes at any depth, naming them; nothing half-copied"

# --- 9: pax GNU.sparse.name -----------------------------------------------------------------
python3 - "$WORK/sparse-name.tar" "$WORK/planted-$$" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo("./etc"); d.type = tarfile.DIRTYPE; t.addfile(d)
    # GNU tar names this member after GNU.sparse.name, whatever "path" says.
    m = tarfile.TarInfo("./etc/harmless"); m.size = 5
    m.pax_headers = {"GNU.sparse.name": "../../../../../../.." + sys.argv[2]}
    t.addfile(m, io.BytesIO(b"evil\n"))
PY
expect_rc 1 timeout 60 "$NSPAWNCTL" import-tar "$WORK/sparse-name.tar" planted; expect_one_line_error
grep -q "GNU.sparse.name" <<<"$ERR" || fail "import-tar: $ERR"
[ ! -e "$POOL/planted" ] && [ ! -e "$WORK/planted-$$" ] || fail "the archive was imported"
ok "a pax GNU.sparse.name that renames a member out of the tree: import-tar refuses it"
