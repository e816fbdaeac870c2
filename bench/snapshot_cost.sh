#!/usr/bin/env bash
# bench/snapshot_cost.sh [BUILD_DIR] [COUNTS...]
# What a snapshot without the scan costs a service. For each count N
# (default: 100000 1000000 10000000), snapbench allocates N blocks and frees
# a random quarter, then takes 5 snapshots while another thread allocates.
# Prints, as medians: the pause (allocations held, from the snapshot
# header), the longest malloc+free the other thread saw, the whole
# snapshot call, and the file size per live block.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000 10000000)
bin=$build/bin shim=$build/lib/libheapsnap.so
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { # field NAME FILE: the exact count in "NAME ... (COUNT unit)"
  "$bin/heapsnap" dump --top 0 "$2" | sed -n "s/^  $1 .*(\([0-9]*\) [a-z]*).*/\1/p"
}

printf '| live blocks | pause (ms) | longest malloc stall (ms) | snapshot call (ms) | file bytes / live block |\n'
printf '|---:|---:|---:|---:|---:|\n'
for n in "${counts[@]}"; do
  rm -f "$dir"/*
  HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$bin/snapbench" "$n" 5 >"$dir/out"
  first=$(ls "$dir"/*.snap | head -1)
  live=$("$bin/heapsnap" dump --top 0 "$first" | awk '/^  live blocks/ {print $3}')
  pause=$(for f in "$dir"/*.snap; do field pause "$f"; done | median)
  stall=$(awk '{print $1}' "$dir/out" | median)
  call=$(awk '{print $2}' "$dir/out" | median)
  size=$(awk '{print $3}' "$dir/out" | median)
  awk -v n="$live" -v p="$pause" -v s="$stall" -v c="$call" -v z="$size" \
    'BEGIN { printf "| %d | %.2f | %.2f | %.1f | %.2f |\n", n, p/1e6, s/1e6, c/1e6, z/n }'
done
