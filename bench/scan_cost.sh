#!/usr/bin/env bash
# bench/scan_cost.sh [BUILD_DIR] [MIB...]
# What a snapshot with the reachability scan costs, against one without,
# for a live heap of each size (default 100 and 1024 MiB): the pause the
# service's threads feel (from the header; the scan adds the clone), the
# whole snapshot call (the scan runs in a clone while the caller sorts and
# waits), and the share of blocks found reachable (all are, here).
# Medians of 3 snapshots.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1024)
bin=$build/bin shim=$build/lib/libheapsnap.so
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pause_of() {
  "$bin/heapsnap" dump --top 0 "$1" | sed -n 's/^  pause .*(\([0-9]*\) ns).*/\1/p'
}

printf '| live heap | blocks | scan | pause (ms) | snapshot call (ms) |\n'
printf '|---:|---:|---|---:|---:|\n'
for mib in "${sizes[@]}"; do
  for scan in 0 1; do
    rm -f "$dir"/*
    HEAPSNAP_SCAN=$scan HEAPSNAP_DIR=$dir LD_PRELOAD=$shim \
      "$bin/scanbench" "$mib" 3 >"$dir/out"
    pause=$(for f in "$dir"/*.snap; do pause_of "$f"; done | median)
    call=$(awk '{print $1}' "$dir/out" | median)
    blocks=$(awk 'NR==1 {print $2}' "$dir/out")
    awk -v m="$mib" -v b="$blocks" -v s="$scan" -v p="$pause" -v c="$call" \
      'BEGIN { printf "| %d MiB | %d | %s | %.2f | %.0f |\n", m, b,
               s ? "yes" : "no", p / 1e6, c / 1e6 }'
  done
done
