#!/usr/bin/env bash
# bench/stack_scan.sh [--compare OLD_BUILD] [BUILD_DIR] [THREADS...]
# Thread stacks scanned from each thread's stack pointer (issue 11),
# against a build that scans them whole (--compare: its shim runs the same
# program), and precise mode (HEAPSNAP_SCAN_REGISTERS=1). For each thread
# count (default 8 64 256), stackbench starts that many threads that each
# leak 16 blocks whose only pointers lie in dead frames below their stack
# pointer, keep one block live, and block in sem_wait; 3 API snapshots.
# Prints, as medians: the pause the other threads feel (the snapshot
# header), the whole snapshot call, and how many of the leaked blocks the
# scan calls lost (the rest it wrongly calls held by a stack).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
old=
if [ "${1:-}" = --compare ]; then
  old=$(cd "$2" && pwd)
  shift 2
fi
build=${1:-$top/build}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(8 64 256)
bin=$build/bin
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pause_of() {
  "$bin/heapsnap" dump --top 0 "$1" | sed -n 's/^  pause .*(\([0-9]*\) ns).*/\1/p'
}
lost_of() {
  "$bin/heapsnap" dump --top 0 "$1" |
    sed -n 's/^  reachability .*; \([0-9]*\) blocks .*unreachable.*/\1/p'
}
run() { # run LABEL SHIM THREADS [ENV...]
  local label=$1 shim=$2 n=$3
  shift 3
  rm -f "$dir"/*
  env "$@" HEAPSNAP_DIR="$dir" LD_PRELOAD="$shim" \
    "$bin/stackbench" "$n" 16 3 >"$dir/out"
  local pause call lost leaked
  pause=$(for f in "$dir"/*.snap; do pause_of "$f"; done | median)
  call=$(awk '{print $1}' "$dir/out" | median)
  lost=$(for f in "$dir"/*.snap; do lost_of "$f"; done | median)
  leaked=$(awk 'NR==1 {print $2}' "$dir/out")
  awk -v n="$n" -v l="$label" -v p="$pause" -v c="$call" -v x="$lost" \
    -v k="$leaked" 'BEGIN { printf "| %d | %s | %.2f | %.1f | %d of %d |\n",
                    n, l, p / 1e6, c / 1e6, x, k }'
}

printf '| threads | stacks scanned | pause (ms) | snapshot call (ms) | leaked blocks called lost |\n'
printf '|---:|---|---:|---:|---:|\n'
for n in "${counts[@]}"; do
  [ -z "$old" ] || run "whole (--compare build)" "$old/lib/libheapsnap.so" "$n"
  run "from the stack pointer" "$build/lib/libheapsnap.so" "$n"
  run "precise (HEAPSNAP_SCAN_REGISTERS=1)" "$build/lib/libheapsnap.so" "$n" \
    HEAPSNAP_SCAN_REGISTERS=1
done
