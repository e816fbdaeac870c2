#!/usr/bin/env bash
# hd_cxx.sh SHIM HEAPDIFF PROG SRCDIR
# Runs hd_cxx_svc (C++17, -O2 -g -fomit-frame-pointer) under the shim, three
# API snapshots, then checks heapdiff's JSON (hd_cxx_check.py: every growing
# site named by an app:: origin, the bounded deque absent, the cycles and
# dropped requests lost) and that the default report fits 100 columns.
set -euo pipefail
shim=$1 heapdiff=$2 prog=$3 src=$(cd "$4" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# a short path: the report's first line names the executable
cp "$prog" "$dir/svc"
mapfile -t snaps < <(HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$dir/svc")
[ ${#snaps[@]} = 3 ] || fail "expected 3 snapshots, got ${#snaps[@]}"

"$heapdiff" --json "${snaps[@]}" >"$dir/out.json"
python3 "$src/hd_cxx_check.py" "$dir/out.json"

unset COLUMNS
"$heapdiff" --color never --all "${snaps[@]}" >"$dir/text"
cat "$dir/text"
python3 - "$dir/text" <<'PY' || fail "text report wider than 100 columns"
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
wide = [l for l in lines if len(l) > 100]
print(f"{len(lines)} lines, {len(wide)} wider than 100 columns")
sys.exit(1 if wide or len(lines) < 20 else 0)
PY
grep -Eq '^ +app::cache_insert  hd_cxx_svc\.cpp:[0-9]+  via std::vector<…>::vector$' \
  "$dir/text" || fail "text report: no app::cache_insert ... via std::vector<…>::vector row"
# globals by their short names too (the symbol is app::g_cache[abi:cxx11])
grep -Eq '^ +global app::g_cache \(svc\)$' "$dir/text" ||
  fail "text report: no 'global app::g_cache (svc)' retainer"
! grep -q 'abi:' "$dir/text" || fail "text report: a name with [abi:...]"
echo "ok: heapdiff on a C++ service"
