#!/usr/bin/env bash
# bench/heapdiff_speed.sh [BUILD_DIR] [BLOCKS] [STACKS]
# heapdiff's time and memory on two large snapshots (default 1M live blocks
# and 50k distinct stacks each, frames in a real library so symbols are
# looked up). Prints one table row per output format, --pprof included.
# Goal: <= 3 s and <= 1 GiB RSS.
set -euo pipefail
case ${1:-} in
-h | --help)
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
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
size=$(($(stat -c %s "$dir/a.snap") + $(stat -c %s "$dir/b.snap")))
printf '| output | blocks | stacks | files (MiB) | wall (s) | max RSS (MiB) |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for out in text json "text, with retainers" pprof "pprof, with reachability"; do
  flag= last=$dir/b.snap
  [ "$out" = json ] && flag=--json
  [ "${out#pprof}" != "$out" ] && flag="--pprof $dir/out.pb.gz"
  [ "${out%with *}" != "$out" ] && last=$dir/c.snap
  /usr/bin/time -f '%e %M' -o "$dir/time" \
    "$bin/heapdiff" $flag "$dir/a.snap" "$last" >/dev/null
  read -r wall rss <"$dir/time"
  awk -v o="$out" -v b="$blocks" -v s="$stacks" -v f="$size" -v w="$wall" \
    -v r="$rss" 'BEGIN { printf "| %s | %d | %d | %.1f | %.2f | %.0f |\n",
                 o, b, s, f / 1048576, w, r / 1024 }'
done
