#!/bin/bash
# cli_dump.sh - `heapsnap dump FILE`: the output of a known snapshot
# (mksnap_tools.c) byte for byte against dump.golden under --raw and, with
# its modules absent, symbolized; --top; a real process's snapshot
# (dumpsym_prog.c under the shim) named by function and line with its lost
# block (dumpsym.golden); and one clear line with exit 2 for every bad
# option and every file that is not a snapshot.
# shellcheck source=tests/heapsnap/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

cd "$T" || exit 1
"$HS_MKSNAP" demo.4242.3.snap || fail "mksnap_tools failed"
"$HS_MKSNAP" sampled.snap sampled || fail "mksnap_tools sampled failed"

# The whole output, exactly. The file is named relatively, as printed.
cap "$H" dump --raw demo.4242.3.snap
expect_rc 0 "dump --raw"
expect_err_lines 0 "dump --raw"
diff -u "$HS_SRCDIR/dump.golden" "$T/.out" >&2 || fail "--raw differs from dump.golden"
cap "$H" dump --raw --top 0 demo.4242.3.snap
expect_rc 0 "--raw --top 0"
diff -u "$HS_SRCDIR/dump.golden" "$T/.out" >&2 || fail "--raw --top 0 differs from dump.golden"

# --top N: the first N stacks of the same listing.
cap "$H" dump --raw --top 2 demo.4242.3.snap
expect_rc 0 "--top 2"
want=$(sed -e 's/^top 4 of 4 stacks/top 2 of 4 stacks/' -e '/^  #3 stack/,$d' \
  "$HS_SRCDIR/dump.golden")
expect_eq "$out" "$want" "--top 2"

# Symbolized, with none of the modules found (an empty sysroot): the same
# frames, and each module of the shown stacks that has no symbols said once
# (demo has three frames in two stacks; the vdso has no file to look for).
mkdir empty
cap "$H" dump --sysroot empty demo.4242.3.snap
expect_rc 0 "--sysroot empty"
expect_err_lines 0 "--sysroot empty"
want=$(sed -e '/^top 4 of 4 stacks/a\
no symbols for /usr/bin/demo (empty/usr/bin/demo: No such file or directory)\
no symbols for /lib/x86_64-linux-gnu/libc.so.6 (empty/lib/x86_64-linux-gnu/libc.so.6: No such file or directory)' \
  "$HS_SRCDIR/dump.golden")
expect_eq "$out" "$want" "--sysroot empty"
cap "$H" dump --sysroot empty --top 1 demo.4242.3.snap
expect_has "$out" $'\ntop 1 of 4 stacks by live bytes\nno symbols for /usr/bin/demo (' \
  "--top 1: only the shown stacks' modules"
[[ "$out" != *libc.so.6\ \(* ]] || fail "--top 1: libc.so.6 is in no shown stack"

# A real process: its functions and lines, the inlined call, and exactly
# the one block it lost. Frames past main are libc's, which vary.
snap=$(HEAPSNAP_DIR=$T LD_PRELOAD=$HS_SHIM "$HS_DUMPSYM") || fail "dumpsym_prog failed"
cap "$H" dump --top 0 "$snap"
expect_rc 0 "symbolized"
expect_err_lines 0 "symbolized"
expect_has "$out" $'\n  reachability    scanned from ' "symbolized: scanned"
expect_has "$out" '; 1 block, 6.8 KiB (7000 bytes), unreachable' "symbolized: lost in all"
[[ "$out" != *"no symbols for $HS_DUMPSYM"* ]] || fail "dumpsym_prog has symbols"
sed -n '/^top /,$p' "$T/.out" |
  awk '/^  #/ { past = 0 } past { next } /^       main  / { past = 1 } 1' >"$T/sites"
diff -u "$HS_SRCDIR/dumpsym.golden" "$T/sites" >&2 || fail "symbolized stacks differ from dumpsym.golden"
cap "$H" dump --raw --top 0 "$snap"
expect_rc 0 "--raw, scanned"
expect_has "$out" $'; lost 1 block, 6.8 KiB (7000 bytes)\n       dumpsym_prog+0x' "--raw: lost and offsets"
[[ "$out" != *lose_here* ]] || fail "--raw: a function name"

# Flags the golden file does not have.
cap "$H" dump sampled.snap
expect_rc 0 "sampled"
expect_has "$out" $'\n  tracking        sampled (mean gap 524288 bytes)\n' "sampled"
expect_has "$out" $'\n  note            the stack table filled up: some blocks have an unknown stack (stack 0)\n' \
  "stacks full"

# Bad options: one line, exit 2.
usage_error "--debug-dir without a value" "heapsnap dump: --debug-dir needs a value" \
  "$H" dump --debug-dir
usage_error "--debug-dir with ':'" "heapsnap dump: --debug-dir: expected a folder name, not empty and without ':', got 'a:b'" \
  "$H" dump --debug-dir a:b demo.4242.3.snap
usage_error "--sysroot empty" "heapsnap dump: --sysroot: expected a folder name" \
  "$H" dump --sysroot= demo.4242.3.snap
usage_error "--sysroot a file" "heapsnap dump: --sysroot: expected a folder, not a file, got 'demo.4242.3.snap'" \
  "$H" dump --sysroot demo.4242.3.snap demo.4242.3.snap
usage_error "--raw --sysroot" "heapsnap dump: --raw looks up no symbols: --sysroot makes no sense with it" \
  "$H" dump --raw --sysroot empty demo.4242.3.snap
usage_error "--raw --debug-dir" "heapsnap dump: --raw looks up no symbols: --debug-dir makes no sense with it" \
  "$H" dump --debug-dir empty --raw demo.4242.3.snap
usage_error "--raw with a value" "heapsnap dump: --raw takes no value" \
  "$H" dump --raw=yes demo.4242.3.snap
usage_error "--top -1" "heapsnap dump: --top: expected a whole number" \
  "$H" dump --raw --top -1 demo.4242.3.snap
usage_error "no file" "heapsnap dump: missing the snapshot file" "$H" dump --raw --top 0
usage_error "two files" "heapsnap dump: unexpected argument 'x.snap'" \
  "$H" dump demo.4242.3.snap x.snap
usage_error "two files, an option between" "heapsnap dump: unexpected argument 'x.snap'" \
  "$H" dump demo.4242.3.snap --raw x.snap
# Options after the file, as heapdiff takes them; after "--", a file.
cap "$H" dump --raw --top 1 demo.4242.3.snap
before=$out
cap "$H" dump demo.4242.3.snap --raw --top 1
expect_rc 0 "options after the file"
[ "$out" = "$before" ] || fail "options after the file: another output"
usage_error "after --" "heapsnap dump: unexpected argument '--raw'" \
  "$H" dump demo.4242.3.snap -- --raw

# Files that are not snapshots: one line naming the file, exit 2.
: >empty.snap
printf 'this is not a heap snapshot, just some text\n%.0s' {1..50} >garbage.snap
size=$(stat -c %s demo.4242.3.snap)
head -c $((size / 2)) demo.4242.3.snap >truncated.snap
head -c 16 demo.4242.3.snap >preamble.snap
mkdir folder.snap
usage_error "missing file" "heapsnap: missing.snap: " "$H" dump missing.snap
expect_eq "$err" "heapsnap: missing.snap: No such file or directory" "missing file"
usage_error "empty file" "heapsnap: empty.snap: " "$H" dump empty.snap
expect_eq "$err" "heapsnap: empty.snap: file is empty" "empty file"
usage_error "garbage" "heapsnap: garbage.snap: " "$H" dump garbage.snap
expect_eq "$err" "heapsnap: garbage.snap: not a heapsnap snapshot (bad magic)" \
  "garbage"
usage_error "truncated" "heapsnap: truncated.snap: " "$H" dump truncated.snap
usage_error "preamble only" "heapsnap: preamble.snap: " "$H" dump preamble.snap
usage_error "a folder" "heapsnap: folder.snap: " "$H" dump folder.snap
usage_error "absolute path named" "heapsnap: $T/missing.snap: " \
  "$H" dump "$T/missing.snap"

finish
