#!/usr/bin/env bash
# bench/heapdiff_speed.sh [BUILD_DIR] [BLOCKS] [STACKS]
# heapdiff's time and memory on two large snapshots (default 1M live blocks
# and 50k distinct stacks each, frames in a real library so symbols are
# looked up). Prints one table row per output format: the retainer rows
# diff against a scanned snapshot with its heap graph, the retained rows
# have both scanned (a dominator tree each); --pprof too. Goal: <= 3 s and
# <= 1 GiB RSS at 1M blocks; <= 5 s and <= 1 GiB at 10M.
set -euo pipefail
case ${1:-} in
-h | --help)
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
  ;;
-*)
  echo "heapdiff_speed.sh: unknown option '$1'; try --help" >&2
  exit 2
  ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
[ -x "$build/bin/mkbigsnap" ] || {
  echo "heapdiff_speed.sh: no $build/bin/mkbigsnap: build first (scripts/build)" >&2
  exit 2
}
blocks=${2:-1000000} stacks=${3:-50000}
bin=$build/bin
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin/mkbigsnap" "$dir/a.snap" "$blocks" "$stacks" 1
"$bin/mkbigsnap" "$dir/b.snap" "$blocks" "$stacks" 2
"$bin/mkbigsnap" "$dir/c.snap" "$blocks" "$stacks" 2 "" scanned
"$bin/mkbigsnap" "$dir/d.snap" "$blocks" "$stacks" 1 "" scanned
size=$(($(stat -c %s "$dir/a.snap") + $(stat -c %s "$dir/b.snap")))
printf '| output | blocks | stacks | files (MiB) | wall (s) | cpu (s) | max RSS (MiB) |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for out in text json "text, with retainers" "text, retainers, retained" \
  pprof "pprof, with reachability"; do
  flag= first=$dir/a.snap last=$dir/b.snap
  case $out in json*) flag=--json ;; pprof*) flag="--pprof $dir/out.pb.gz" ;; esac
  case $out in *retainers* | *reachability) last=$dir/c.snap ;; esac
  case $out in *retained) first=$dir/d.snap ;; esac
  /usr/bin/time -f '%e %U %S %M' -o "$dir/time" \
    "$bin/heapdiff" $flag "$first" "$last" >/dev/null
  read -r wall user sys rss <"$dir/time"
  awk -v o="$out" -v b="$blocks" -v s="$stacks" -v f="$size" -v w="$wall" \
    -v c="$user + $sys" -v r="$rss" 'BEGIN { split(c, x, " + ");
      printf "| %s | %d | %d | %.1f | %.2f | %.2f | %.0f |\n",
             o, b, s, f / 1048576, w, x[1] + x[2], r / 1024 }'
done
