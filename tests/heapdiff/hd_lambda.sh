#!/usr/bin/env bash
# hd_lambda.sh SHIM HEAPDIFF PROG SRCDIR
# Runs hd_lambda (two lambdas inlined at -O2, their operator() without a
# linkage name) under the shim, three API snapshots, then checks that
# heapdiff names each site by its own lambda, qualified by its function,
# in the JSON of both groupings (hd_lambda_check.py) and in the text report.
set -euo pipefail
shim=$1 heapdiff=$2 prog=$3 src=$(cd "$4" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mapfile -t snaps < <(HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$prog")
[ ${#snaps[@]} = 3 ] || fail "expected 3 snapshots, got ${#snaps[@]}"

"$heapdiff" --json --retainers 0 "${snaps[@]}" >"$dir/stack.json"
"$heapdiff" --json --retainers 0 --group-by function "${snaps[@]}" \
  >"$dir/function.json"
python3 "$src/hd_lambda_check.py" "$dir/stack.json" "$dir/function.json"

COLUMNS=200 "$heapdiff" --color never --retainers 0 --group-by function \
  "${snaps[@]}" >"$dir/text"
cat "$dir/text"
for fn in 'net::on_read' 'db::on_query'; do
  grep -Eq " $fn::\{lambda\(\)#1\}::operator\(\)  hd_lambda\.cpp:[0-9]+  \(inlined\)" \
    "$dir/text" || fail "text report: no $fn::{lambda()#1}::operator() row"
done
! grep -Eq ' operator\(\)  ' "$dir/text" ||
  fail "text report: a frame named only operator()"
echo "ok: heapdiff names inlined lambdas by their functions"
