#!/usr/bin/env bash
# bench/html_speed.sh [BUILD_DIR] [SITES] [RUNS]
# heapdiff --html at scale: two synthetic snapshots of 1M live blocks on
# SITES distinct stacks (default 100000, the most a page holds) of 8 to 31
# frames in a real library, the second with a reachability scan (retainer
# paths for every site). Prints the page's size, heapdiff's time and memory
# to write it, and the time headless Chromium takes from navigation start
# to the marker the page sets on <body> when drawn (median and worst of
# RUNS, default 5, a fresh browser each) with the page's main-thread busy
# time until then, and the load average (other processes slow the wall
# times down). Goal: < 20 MB, drawn in < 2 s.
set -euo pipefail
case ${1:-} in
-h | --help)
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
  ;;
-*)
  echo "html_speed.sh: unknown option '$1'; try --help" >&2
  exit 2
  ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
sites=${2:-100000} runs=${3:-5}
bin=$build/bin
for f in mkbigsnap heapdiff; do
  [ -x "$bin/$f" ] || {
    echo "html_speed.sh: no $bin/$f: build first (scripts/build)" >&2
    exit 2
  }
done
for tool in node "${CHROMIUM:-chromium}"; do
  command -v "$tool" >/dev/null || {
    echo "html_speed.sh: no $tool here (scripts/deps installs it)" >&2
    exit 2
  }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin/mkbigsnap" "$dir/a.snap" 1000000 "$sites" 1
"$bin/mkbigsnap" "$dir/b.snap" 1000000 "$sites" 2
"$bin/mkbigsnap" "$dir/c.snap" 1000000 "$sites" 2 "" scanned
printf '| page | sites | page (MiB) | heapdiff wall (s) | heapdiff CPU (s) | heapdiff max RSS (MiB) | drawn, median (ms) | drawn, worst (ms) | main thread busy, median (ms) | load average |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for last in b c; do
  what="no scan"
  [ $last = c ] && what="with retainers"
  /usr/bin/time -f '%e %U %S %M' -o "$dir/time" \
    "$bin/heapdiff" --html "$dir/page.html" "$dir/a.snap" "$dir/$last.snap" >/dev/null
  read -r wall user sys rss <"$dir/time"
  node "$top/bench/html_draw.js" "$dir/page.html" "$runs" | sort -n >"$dir/ms"
  load=$(cut -d' ' -f1 /proc/loadavg)
  busy=$(sort -n -k2 "$dir/ms" | awk '{ b[NR] = $2 } END { print b[int((NR + 1) / 2)] }')
  awk -v w="$what" -v s="$sites" -v f="$(stat -c %s "$dir/page.html")" \
    -v t="$wall" -v c="$user $sys" -v r="$rss" -v l="$load" -v b="$busy" '
    { ms[NR] = $1 }
    END { split(c, cpu, " ")
          printf "| %s | %d | %.1f | %.2f | %.2f | %.0f | %d | %d | %d | %s |\n",
          w, s, f / 1048576, t, cpu[1] + cpu[2], r / 1024, ms[int((NR + 1) / 2)],
          ms[NR], b, l }' "$dir/ms"
done
