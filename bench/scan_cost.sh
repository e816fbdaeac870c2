#!/usr/bin/env bash
# bench/scan_cost.sh [BUILD_DIR] [MIB...]
# What a snapshot with the reachability scan costs, against one without,
# for a live heap of each size (default 100 and 1024 MiB): without the
# scan, with the scan but no heap graph (HEAPSNAP_GRAPH=0), and with both
# (the default). Columns: the pause the service's threads feel (from the
# header; the scan adds the clone), the whole snapshot call (the scan runs
# in a clone while the caller sorts and waits), and the file size.
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

printf '| live heap | blocks | scan | graph | pause (ms) | snapshot call (ms) | file (KiB) |\n'
printf '|---:|---:|---|---|---:|---:|---:|\n'
for mib in "${sizes[@]}"; do
  for mode in "0 0" "1 0" "1 1"; do
    read -r scan graph <<<"$mode"
    rm -f "$dir"/*
    HEAPSNAP_SCAN=$scan HEAPSNAP_GRAPH=$graph HEAPSNAP_DIR=$dir \
      LD_PRELOAD=$shim "$bin/scanbench" "$mib" 3 >"$dir/out"
    pause=$(for f in "$dir"/*.snap; do pause_of "$f"; done | median)
    call=$(awk '{print $1}' "$dir/out" | median)
    blocks=$(awk 'NR==1 {print $2}' "$dir/out")
    size=$(stat -c %s "$dir"/*.snap | median)
    awk -v m="$mib" -v b="$blocks" -v s="$scan" -v g="$graph" -v p="$pause" \
      -v c="$call" -v z="$size" \
      'BEGIN { printf "| %d MiB | %d | %s | %s | %.2f | %.0f | %.0f |\n", m, b,
               s ? "yes" : "no", g && s ? "yes" : "no", p / 1e6, c / 1e6,
               z / 1024 }'
  done
done
