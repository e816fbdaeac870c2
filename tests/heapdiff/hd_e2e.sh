#!/usr/bin/env bash
# hd_e2e.sh SHIM HEAPDIFF PROG SRCDIR
# Runs hd_e2e_grow under the shim (three API snapshots), then checks
# heapdiff's JSON exactly (hd_e2e_check.py) by stack, by function and with
# --alloc-fn, and the text and folded outputs for the same facts.
set -euo pipefail
shim=$1 heapdiff=$2 prog=$3 src=$(cd "$4" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mapfile -t snaps < <(HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$prog")
[ ${#snaps[@]} = 3 ] || fail "expected 3 snapshots, got ${#snaps[@]}"

"$heapdiff" --json "${snaps[@]}" >"$dir/stack.json"
python3 "$src/hd_e2e_check.py" stack "$dir/stack.json"
"$heapdiff" --json --group-by function "${snaps[@]}" >"$dir/function.json"
python3 "$src/hd_e2e_check.py" function "$dir/function.json"
"$heapdiff" --json --alloc-fn my_alloc "${snaps[@]}" >"$dir/allocfn.json"
python3 "$src/hd_e2e_check.py" allocfn "$dir/allocfn.json"

"$heapdiff" --color never --all --wide "${snaps[@]}" >"$dir/text"
cat "$dir/text"
# growth, new, lost, retained (25 blocks of 64 B, each held by a global)
grep -Eq '^ +[0-9]+ +\+1\.2 KiB +1\.2 KiB +0 B +1\.6 KiB +5 -> 25 +growing +site_grow  hd_e2e_grow\.c:[0-9]+$' \
  "$dir/text" || fail "text report: no site_grow line"
grep -Eq ' +\+40 B +440 B +0 B +440 B +8 -> 8 +bounded +site_ring ' "$dir/text" ||
  fail "text report: no bounded site_ring line"
grep -Eq '^  global grown \(hd_e2e_grow\)  retains 1\.6 KiB \(\+1\.2 KiB\) in 25 blocks$' \
  "$dir/text" || fail "text report: what holds the growth has no global grown"
! grep -q site_churn "$dir/text" || fail "site_churn reported"

"$heapdiff" --folded "${snaps[@]}" >"$dir/folded"
grep -Eq ';main;phase;site_grow 1280$' "$dir/folded" ||
  fail "folded: no ...;main;phase;site_grow 1280 line"
# two sites in one function, whose names fold alike: one line, summed
[ "$(grep -Ec ';main;phase;site_two 80$' "$dir/folded")" = 1 ] &&
  [ "$(grep -c ';site_two ' "$dir/folded")" = 1 ] ||
  fail "folded: site_two not one line of 80: $(grep site_two "$dir/folded")"

# A repeat: the fourth snapshot holds the third's very blocks. Trends end
# at the third, so the steady site_grow stays growing (it read bounded
# before heapdiff knew repeats) and site_ring stays bounded.
mkdir "$dir/repeat"
mapfile -t snaps < <(HEAPSNAP_DIR=$dir/repeat HD_E2E_REPEAT=1 LD_PRELOAD=$shim "$prog")
[ ${#snaps[@]} = 4 ] || fail "repeat: expected 4 snapshots, got ${#snaps[@]}"
"$heapdiff" --color never --all --wide "${snaps[@]}" >"$dir/text4"
cat "$dir/text4"
grep -qx "$(basename "${snaps[3]}") holds the same blocks as $(basename "${snaps[2]}") (nothing kept or freed since): trends end at it" \
  "$dir/text4" || fail "repeat: no line naming the repeat"
grep -Eq ' +5 -> 25 +growing +site_grow ' "$dir/text4" ||
  fail "repeat: site_grow not growing"
grep -Eq ' +8 -> 8 +bounded +site_ring ' "$dir/text4" ||
  fail "repeat: site_ring not bounded"
"$heapdiff" --json "${snaps[@]}" >"$dir/repeat.json"
python3 - "$dir/repeat.json" <<'PY' || fail "repeat: JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["repeat"] for s in d["snapshots"]] == [False, False, False, True], d["snapshots"]
PY
echo "ok: heapdiff on a real process"
