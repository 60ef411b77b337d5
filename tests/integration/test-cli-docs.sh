#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What users expect besides the commands (issue 12): the manual pages are built from their
# scdoc sources, installed, and man -l renders them; the bash completion is installed where
# bash-completion looks and completes verbs, options, machine, image and template names,
# asking machined.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/machined-lib.sh"
: "${STATIC_INIT:?run through meson test}"

# --- manual pages
for page in nspawnctl.1 machined.8 nspawnctl.nspawn.5; do
    f=$BUILD_ROOT/man/$page
    [ -s "$f" ] || fail "$page was not built (is scdoc installed?)"
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>"$WORK/man.err")
    [ ! -s "$WORK/man.err" ] || fail "man -l $page warns: $(cat "$WORK/man.err")"
    grep -q "^NAME" <<<"$out" && grep -q "^SEE ALSO" <<<"$out" || fail "man -l $page renders no page: $out"
done
out=$(MANWIDTH=80 man -l "$BUILD_ROOT/man/nspawnctl.1" 2>/dev/null)
# Every verb of nspawnctl --help is in its manual.
for v in $("$NSPAWNCTL" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
    grep -qw -- "$v" <<<"$out" || fail "nspawnctl(1) does not describe '$v'"
done
grep -q "EXIT STATUS" <<<"$out" || fail "nspawnctl(1) has no exit status table"
grep -q "MemoryMax=" <(MANWIDTH=80 man -l "$BUILD_ROOT/man/nspawnctl.nspawn.5" 2>/dev/null) || fail "nspawnctl.nspawn(5) lacks [Resources]"
meson install -C "$BUILD_ROOT" --no-rebuild --quiet --destdir "$WORK/dest" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "meson install"; }
for p in man1/nspawnctl.1 man8/machined.8 man5/nspawnctl.nspawn.5; do
    [ -n "$(find "$WORK/dest" -path "*/man/$p")" ] || fail "$p not installed"
done
comp=$(find "$WORK/dest" -path '*/bash-completion/completions/nspawnctl')
[ -n "$comp" ] || fail "the bash completion is not installed: $(find "$WORK/dest" -name nspawnctl)"
ok "man pages nspawnctl(1), machined(8), nspawnctl.nspawn(5) built, installed, rendered by man -l without warnings; every verb in nspawnctl(1)"

# --- bash completion, against a running machined
BOX=$(machine_name box); RUN=$(machine_name run)
mkdir -p "$POOL/$BOX/usr" "$POOL/$BOX/lib/systemd" "$POOL/$RUN/usr" "$POOL/$RUN/lib/systemd"
cp "$STATIC_INIT" "$POOL/$BOX/lib/systemd/systemd"; cp "$STATIC_INIT" "$POOL/$RUN/lib/systemd/systemd"
start_bus policy
start_machined
expect_rc 0 "$NSPAWNCTL" start "$RUN"

complete_words() {
    # complete_words WORD...: what the completion offers for the last word, sorted, one a line.
    PATH=$(dirname "$NSPAWNCTL"):$PATH bash --norc --noprofile -c '
        . "$1"; shift
        complete -p nspawnctl >&2
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _nspawnctl
        printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort' complete "$comp" "$@"
}
got=$(complete_words nspawnctl status "t$$-" 2>"$WORK/complete-p")
grep -q "^complete -F _nspawnctl nspawnctl$" "$WORK/complete-p" || fail "complete -p: $(cat "$WORK/complete-p")"
[ "$got" = "$(printf '%s\n' "$BOX" "$RUN" | LC_ALL=C sort)" ] || fail "status completes to: $got; $("$NSPAWNCTL" list --json) $("$NSPAWNCTL" list-images --json)"
got=$(complete_words nspawnctl poweroff "t$$-" 2>/dev/null)
[ "$got" = "$RUN" ] || fail "poweroff completes (running machines only) to: $got"
got=$(complete_words nspawnctl start "t$$-b" 2>/dev/null)
[ "$got" = "$BOX" ] || fail "start completes (images) to: $got"
got=$(complete_words nspawnctl list 2>/dev/null)
for v in list list-images list-snapshots list-templates; do grep -qx "$v" <<<"$got" || fail "verbs for 'list': $got"; done
got=$(complete_words nspawnctl list-images --j 2>/dev/null)
[ "$got" = "--json" ] || fail "options of list-images: $got"
got=$(complete_words nspawnctl create x --template=debian-bo 2>/dev/null)
[ "$got" = "debian-bookworm" ] || fail "--template= completes to: $got"
# And the way bash itself calls it: compgen with the function.
got=$(PATH=$(dirname "$NSPAWNCTL"):$PATH bash --norc --noprofile -c '. "$1"; COMP_WORDS=(nspawnctl sta); COMP_CWORD=1; compgen -F _nspawnctl 2>/dev/null' x "$comp" | LC_ALL=C sort)
grep -qx start <<<"$got" && grep -qx status <<<"$got" || fail "compgen -F: $got"
expect_rc 0 "$NSPAWNCTL" terminate "$RUN"
ok "bash completion (complete -p, the function, compgen -F): verbs, options, running machines, images, templates"
