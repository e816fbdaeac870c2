#!/usr/bin/env bash
# e2e_run.sh CHECK SHIM MIN PROG [ARGS...]
# Runs PROG under the shim in a fresh snapshot folder; every snapshot that
# has a .sites file beside it is checked with CHECK (e2e_check); at least
# MIN must be. Also: the program succeeds, the shim prints nothing, no
# temporary file is left, and every snapshot has mode 0600.
set -euo pipefail
check=$1 shim=$2 min=$3
shift 3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

rc=0
HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$@" >"$dir/stdout" 2>"$dir/stderr" || rc=$?
[ "$rc" = 0 ] || { cat "$dir/stderr"; fail "$1 exited with $rc"; }
[ ! -s "$dir/stderr" ] || { cat "$dir/stderr"; fail "unexpected stderr"; }

n=0
for s in "$dir"/*.snap; do
  [ -e "$s.sites" ] || continue
  echo "== $(basename "$s")"
  "$check" "$s" "$s.sites" || fail "$(basename "$s") does not hold what it should"
  [ "$(stat -c %a "$s")" = 600 ] || fail "$(basename "$s") is not mode 0600"
  n=$((n + 1))
done
[ "$n" -ge "$min" ] || fail "checked $n snapshots, expected at least $min"
tmp=$(find "$dir" -name '*.tmp' | wc -l)
[ "$tmp" = 0 ] || fail "$tmp temporary files left"
echo "checked $n snapshots"
