#!/usr/bin/env bash
# bench/graph_cost.sh [BUILD_DIR] [ENTRIES...]
# What keeping the heap graph (retained sizes) costs a snapshot: graphbench
# builds a cache-shaped heap (a hash table of ENTRIES entries, each with a
# key and a value, an LRU list in random order, shared values; default
# 100000 and 1000000 entries, three blocks each) and takes 3 API snapshots
# with the scan but no graph (HEAPSNAP_GRAPH=0), then with it. Medians of:
# the pause (from the header: what the service's threads feel), the whole
# snapshot call (the scan and its graph are made in a clone), the file
# size; and heapdiff's time and memory on one such snapshot.
set -euo pipefail
case ${1:-} in
-h | --help)
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
  ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000)
bin=$build/bin shim=$build/lib/libheapsnap.so
[ -x "$bin/graphbench" ] || {
  echo "graph_cost.sh: no $bin/graphbench: build first (scripts/build)" >&2
  exit 2
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pause_of() {
  "$bin/heapsnap" dump --top 0 "$1" | sed -n 's/^  pause .*(\([0-9]*\) ns).*/\1/p'
}

printf '| entries | live blocks | graph | pause (ms) | snapshot call (ms) | file (KiB) | bytes / block | heapdiff (s) | heapdiff RSS (MiB) |\n'
printf '|---:|---:|---|---:|---:|---:|---:|---:|---:|\n'
for n in "${counts[@]}"; do
  for graph in 0 1; do
    rm -f "$dir"/*
    HEAPSNAP_GRAPH=$graph HEAPSNAP_DIR=$dir LD_PRELOAD=$shim \
      "$bin/graphbench" "$n" 3 >"$dir/out"
    pause=$(for f in "$dir"/*.snap; do pause_of "$f"; done | median)
    call=$(awk '{print $1}' "$dir/out" | median)
    blocks=$(awk 'NR==1 {print $2}' "$dir/out")
    size=$(stat -c %s "$dir"/*.snap | median)
    /usr/bin/time -f '%e %M' -o "$dir/time" \
      "$bin/heapdiff" "$(awk 'NR==1 {print $3}' "$dir/out")" >/dev/null
    read -r wall rss <"$dir/time"
    awk -v n="$n" -v b="$blocks" -v g="$graph" -v p="$pause" -v c="$call" \
      -v z="$size" -v w="$wall" -v r="$rss" \
      'BEGIN { printf "| %d | %d | %s | %.2f | %.0f | %.0f | %.2f | %.2f | %.0f |\n",
               n, b, g ? "yes" : "no", p / 1e6, c / 1e6, z / 1024, z / b, w,
               r / 1024 }'
  done
done
