#!/usr/bin/env bash
# bench/attach_cost.sh - what `heapsnap attach` costs (issue 17):
#  1. how long a thread of the process is held per attach and per detach
#     (the line heapsnap prints), on tests/attach's attach_stress (4
#     threads allocating all the time: the thread is taken in the
#     program's own code) and on allocbench -w waiting on stdin (taken in
#     its read); ROUNDS attach/detach pairs each;
#  2. the tracking overhead after attach next to `heapsnap run`'s: the same
#     allocbench workload (bench/allocbench.c, -w: it waits for a line
#     before its timed run) bare, under `heapsnap run`, and started bare
#     and attached before the line; interleaved rounds, medians of its own
#     elapsed time. Prints two Markdown tables (docs/performance.md).
#
# usage: bench/attach_cost.sh [--build DIR] [--runs N] [--rounds N]
#                             [--ops N] [--threads N]
#   --build DIR   build tree (default: build)
#   --runs N      overhead rounds (default 7)
#   --rounds N    attach/detach pairs per target (default 20)
#   --ops N       allocbench operations per thread (default 1000000)
#   --threads N   allocbench threads (default 2)
# Needs ptrace permission on its own children (root, or
# kernel.yama.ptrace_scope 0).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build runs=7 rounds=20 ops=1000000 threads=2
usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
  --build) build=$2; shift 2 ;;
  --runs) runs=$2; shift 2 ;;
  --rounds) rounds=$2; shift 2 ;;
  --ops) ops=$2; shift 2 ;;
  --threads) threads=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) echo "attach_cost.sh: unknown option '$1'; try --help" >&2; exit 2 ;;
  esac
done
hs=$build/bin/heapsnap stress=$build/bin/attach_stress
for f in "$hs" "$stress" "$build/lib/libheapsnap-attach.so"; do
  [ -e "$f" ] || { echo "attach_cost.sh: $f is missing; build first (scripts/build)" >&2; exit 2; }
done
tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]+"${pids[@]}"}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
cc=${CC:-cc}
"$cc" -O2 -g -fno-omit-frame-pointer -pthread "$top/bench/allocbench.c" -o "$tmp/allocbench"
bench=("$tmp/allocbench" -t "$threads" -n "$ops" -d 12 -w)

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
held() { sed -n 's/.* held \([0-9.]*\) ms.*/\1/p'; }
running() { sed -n 's/.* ms, \([0-9.]*\) ms of it running.*/\1/p'; }

# holds TARGET PID: ROUNDS attach/detach pairs; one table row
holds() {
  local i a d
  : >"$tmp/att" && : >"$tmp/det" && : >"$tmp/attc" && : >"$tmp/detc"
  for i in $(seq 1 "$rounds"); do
    a=$("$hs" attach --dir "$tmp" "$2") || { echo "attach failed: $a" >&2; exit 1; }
    held <<<"$a" >>"$tmp/att"
    running <<<"$a" >>"$tmp/attc"
    d=$("$hs" detach "$2") || { echo "detach failed: $d" >&2; exit 1; }
    held <<<"$d" >>"$tmp/det"
    running <<<"$d" >>"$tmp/detc"
  done
  printf '| %s | %s | %s / %s ms | %s ms | %s / %s ms | %s ms | %s ms |\n' \
    "$1" "$rounds" "$(median <"$tmp/att")" "$(median <"$tmp/attc")" \
    "$(sort -g "$tmp/att" | tail -1)" "$(median <"$tmp/det")" \
    "$(median <"$tmp/detc")" "$(sort -g "$tmp/det" | tail -1)" \
    "$(head -1 "$tmp/att")"
}

echo "held: wall time the thread was held / time it ran on a CPU meanwhile (schedstat)"
echo
echo "| target | attach/detach pairs | attach: median held / running | attach: max held | detach: median held / running | detach: max held | first attach (loads the library) held |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
"$stress" "$tmp/stop" >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
holds "attach_stress (4 threads allocating)" "${pids[-1]}"
touch "$tmp/stop"
mkfifo "$tmp/in"
"${bench[@]}" <"$tmp/in" >/dev/null &
pids+=($!)
exec 3>"$tmp/in"
sleep 0.3
holds "allocbench -w (waiting in read)" "${pids[-1]}"
exec 3>&-

# one CONFIG: one timed allocbench run; its elapsed seconds
one() {
  local out=$tmp/one.out
  rm -f "$tmp/in2" && mkfifo "$tmp/in2"
  case $1 in
  bare) "${bench[@]}" <"$tmp/in2" >"$out" & ;;
  run) HEAPSNAP_DIR=$tmp "$hs" run -- "${bench[@]}" <"$tmp/in2" >"$out" & ;;
  attach) "${bench[@]}" <"$tmp/in2" >"$out" & ;;
  esac
  local p=$!
  exec 4>"$tmp/in2"
  if [ "$1" = attach ]; then
    sleep 0.2
    "$hs" attach --dir "$tmp" "$p" >/dev/null || { echo "attach failed" >&2; exit 1; }
  fi
  echo go >&4
  exec 4>&-
  wait "$p"
  sed -n 's/.*elapsed=\([0-9.]*\)s.*/\1/p' "$out"
}
for cfg in bare run attach; do : >"$tmp/t.$cfg"; done
for r in $(seq 1 "$runs"); do
  for cfg in bare run attach; do one $cfg >>"$tmp/t.$cfg"; done
  rm -f "$tmp"/*.snap
done
b=$(median <"$tmp/t.bare") u=$(median <"$tmp/t.run") a=$(median <"$tmp/t.attach")
echo
echo "allocbench -t $threads -n $ops -d 12, fp; median of $runs interleaved rounds"
echo
echo "| configuration | elapsed (s) | / bare | / heapsnap run |"
echo "| --- | ---: | ---: | ---: |"
for row in "bare glibc:$b" "heapsnap run (full):$u" "bare, then heapsnap attach (full):$a"; do
  awk -v n="${row%%:*}" -v t="${row##*:}" -v b="$b" -v u="$u" \
    'BEGIN { printf "| %s | %.3f | %.2fx | %.2fx |\n", n, t, t / b, t / u }'
done
