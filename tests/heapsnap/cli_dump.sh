#!/bin/bash
# cli_dump.sh - `heapsnap dump FILE`: the output of a known snapshot
# (mksnap_tools.c) byte for byte against dump.golden, --top, and one clear
# line with exit 2 for every file that is not a snapshot.
# shellcheck source=tests/heapsnap/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

cd "$T" || exit 1
"$HS_MKSNAP" demo.4242.3.snap || fail "mksnap_tools failed"
"$HS_MKSNAP" sampled.snap sampled || fail "mksnap_tools sampled failed"

# The whole output, exactly. The file is named relatively, as printed.
cap "$H" dump demo.4242.3.snap
expect_rc 0 "dump"
expect_err_lines 0 "dump"
diff -u "$HS_SRCDIR/dump.golden" "$T/.out" >&2 || fail "dump differs from dump.golden"
cap "$H" dump --top 0 demo.4242.3.snap
diff -u "$HS_SRCDIR/dump.golden" "$T/.out" >&2 || fail "--top 0 differs from dump.golden"

# --top N: the first N stacks of the same listing.
cap "$H" dump --top 2 demo.4242.3.snap
expect_rc 0 "--top 2"
want=$(sed -e 's/^top 4 of 4 stacks/top 2 of 4 stacks/' -e '/^  #3 stack/,$d' \
  "$HS_SRCDIR/dump.golden")
expect_eq "$out" "$want" "--top 2"

# Flags the golden file does not have.
cap "$H" dump sampled.snap
expect_rc 0 "sampled"
expect_has "$out" $'\n  tracking        sampled (mean gap 524288 bytes)\n' "sampled"
expect_has "$out" $'\n  note            the stack table filled up: some blocks have an unknown stack (stack 0)\n' \
  "stacks full"

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
