#!/usr/bin/env bash
# bench/overhead_smoke.sh BUILD_DIR - the CI smoke run of overhead.sh: its
# quick mode must run the workload bare and under the shim in both modes
# and print their three rows. No timing is judged. Exit 77: cannot run here.
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$(dirname "$0")/overhead.sh" --quick --build "$1" >"$out"
rc=$?
cat "$out"
[ $rc = 0 ] || exit $rc
rows='^\| 2 thr, depth 12, fp, -p 300 \| (bare glibc|heapsnap full|heapsnap sampling) \| [0-9]'
n=$(grep -cE "$rows" "$out")
[ "$n" = 3 ] || { echo "FAIL: expected 3 table rows, got $n"; exit 1; }
echo "ok: the table has its rows"
