#!/usr/bin/env bash
# sample_accuracy.sh GEN CHECK HEAPDIFF SHIM R TOLERANCE SEED...
# Runs sample_gen once in full mode (the truth) and, for each SEED, once
# sampling with HEAPSNAP_SAMPLE_BYTES=R and HEAPSNAP_SAMPLE_SEED=SEED;
# sample_check compares every site's estimates with the truth, and
# heapdiff --json the estimated totals with the exact ones. Twice with
# the same seed must give the same file body (repeatable), and heapdiff
# must mark the sampled numbers as estimates.
set -euo pipefail
gen=$1 check=$2 heapdiff=$3 shim=$4 r=$5 tol=$6
shift 6
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

run() { # run SUBDIR [VAR=VALUE...]: prints the snapshot's path
  mkdir -p "$dir/$1"
  local sub=$1
  shift
  env HEAPSNAP_DIR="$dir/$sub" "$@" LD_PRELOAD="$shim" "$gen" 7 \
    >"$dir/$sub/out" 2>"$dir/$sub/err" || { cat "$dir/$sub/err"; fail "$gen failed"; }
  [ ! -s "$dir/$sub/err" ] || { cat "$dir/$sub/err"; fail "stderr not empty"; }
  ls "$dir/$sub"/*.snap
}

full=$(run full)
for seed in "$@"; do
  echo "== seed $seed, R = $r"
  s=$(run "s$seed" HEAPSNAP_SAMPLE_BYTES="$r" HEAPSNAP_SAMPLE_SEED="$seed")
  "$check" "$full" "$s" "$tol" || fail "estimates off with seed $seed"
  # heapdiff's estimated totals against full mode's exact ones
  # two processes: --force (docs/heapdiff.md)
  "$heapdiff" --json --force "$full" "$s" >"$dir/total.json" ||
    fail "heapdiff --json failed"
  python3 - "$dir/total.json" "$tol" <<'PY' || fail "estimated totals off with seed $seed"
import json, sys
full, sampled = json.load(open(sys.argv[1]))["snapshots"]
tol = float(sys.argv[2])
ok = full["estimated_bytes"] == full["live_bytes"]
for what in ("blocks", "bytes"):
    truth, est = full["live_" + what], sampled["estimated_" + what]
    err = abs(est - truth) / truth
    print(f"total {what}: estimated {est}, truth {truth}, error {err:.3f}")
    ok &= err <= tol
sys.exit(0 if ok else 1)
PY
done
first=$(ls "$dir/s$1"/*.snap)
again=$(run again HEAPSNAP_SAMPLE_BYTES="$r" HEAPSNAP_SAMPLE_SEED="$1")
"$heapdiff" --force --top 3 --color never "$first" "$again" >"$dir/diff" 2>&1 ||
  { cat "$dir/diff"; fail "heapdiff failed"; }
grep -q "numbers are estimates" "$dir/diff" ||
  { cat "$dir/diff"; fail "heapdiff does not mark the estimates"; }
echo "ok heapdiff marks the sampled numbers as estimates"
# the same seed, the same sample: both runs recorded the same blocks
"$check" --same "$first" "$again" || fail "the same seed gave another sample"
echo "ok the same seed gives the same sample"
echo "checked $# seeds"
