#!/usr/bin/env bash
# bench/parts.sh - where full tracking's time goes: allocbench under builds
# of the shim with one part taken out, interleaved with bare glibc and the
# real shim, one Markdown table of medians. The builds come from
# bench/parts.patch applied to a copy of the checkout's tracked files;
# their stacks or counts are wrong on purpose, for timing only.
#
# Rows (docs/performance.md, issue 18's fifth pass, reads them):
#   bare glibc
#   hooks only         the real shim with HEAPSNAP_SAMPLE_BYTES=1T: the
#                      interposed calls and their counters, nothing walked
#   table, no stacks   HS_PARTS=1: every block enters the live table, all
#                      under stack 1; no walk, no lookup
#   stacks, no table   HS_PARTS=2: the walk and the lookup; the live table
#                      is not touched
#   hash trusted       HS_PARTS=3: the lookup takes the index slot whose
#                      hash tag matches and never reads the stack's record
#                      (what giving up the exact compare would gain)
#   compare deferred   HS_PARTS=4: the best case of comparing one
#                      allocation later (issue 18's ninth pass): the
#                      record the slot names is prefetched, the block goes
#                      in as stack 1, and the thread compares the record
#                      with the walk (kept in a second buffer) at its next
#                      allocation; nothing settles a compare that fails
#   full               the real shim
#
# usage: bench/parts.sh [options]
#   --build DIR     the real shim's build tree (default: build)
#   --runs N        rounds (default 11)
#   --args "ARGS"   allocbench's arguments (default "-t 2 -n 2000000 -d 20
#                   -p 300")
#   --variant V     fp (allocbench built with frame pointers) or nofp
#                   (default fp)
#   --cpu N         pin every run to CPU N (taskset; default: not pinned;
#                   use it with -t 1, where it steadies the ratios)
#   --check         only check that bench/parts.patch applies to this
#                   checkout
#   --quick         a smoke run: 1 round, 20000 operations (ctest's
#                   bench_parts_smoke runs it, so the patch cannot rot)
# Exits 0; 1 if a run fails; 2 on a bad option, a missing build or a patch
# that no longer applies (bench/parts.patch must follow the shim's code);
# 77 if GNU time, a compiler, cmake, git or patch is missing, or the
# source is not a git checkout.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build runs=11 args="-t 2 -n 2000000 -d 20 -p 300" variant=fp
cpu="" check=0
while [ $# -gt 0 ]; do
  case $1 in
  --build) build=$2; shift ;;
  --runs) runs=$2; shift ;;
  --args) args=$2; shift ;;
  --variant) variant=$2; shift ;;
  --cpu) cpu=$2; shift ;;
  --check) check=1 ;;
  --quick) runs=1 args="-t 2 -n 20000 -d 20 -p 300" ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "parts.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case $variant in
fp) flag=-fno-omit-frame-pointer ;;
nofp) flag=-fomit-frame-pointer ;;
*) echo "parts.sh: --variant takes fp or nofp, not $variant" >&2; exit 2 ;;
esac
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "parts.sh: --runs takes a count, not $runs" >&2; exit 2; }
for t in patch cmake git; do
  command -v $t >/dev/null || { echo "parts.sh: needs $t" >&2; exit 77; }
done
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 ||
  { echo "parts.sh: needs a git checkout (it copies the tracked files)" >&2; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The tracked files as they are in the work tree, uncommitted changes too.
git -C "$top" ls-files -z | (cd "$top" && tar --null -T - -cf -) |
  tar -xf - -C "$tmp" --one-top-level=src
if ! patch -d "$tmp/src" -p1 --dry-run <"$top/bench/parts.patch" >"$tmp/log" 2>&1; then
  why=$(awk '/^checking file/ {f = $3} /FAILED|can.t find/ {print f ": " $0; exit}' "$tmp/log")
  echo "parts.sh: bench/parts.patch no longer applies to the shim (${why:-see patch --dry-run}); update the patch by hand" >&2
  exit 2
fi
[ $check = 0 ] || { echo "parts.sh: bench/parts.patch applies"; exit 0; }
patch -s -d "$tmp/src" -p1 <"$top/bench/parts.patch"

build=$(cd "$build" 2>/dev/null && pwd) || { echo "parts.sh: no build tree $build" >&2; exit 2; }
shim=$build/lib/libheapsnap.so
[ -f "$shim" ] || { echo "parts.sh: no $shim: build first (scripts/build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "parts.sh: needs GNU time (apt-get install time)" >&2; exit 77; }
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "parts.sh: needs a C compiler (CC)" >&2; exit 77; }
"$cc" -O2 -g $flag -pthread "$top/bench/allocbench.c" -o "$tmp/allocbench"
for n in 1 2 3 4; do
  cmake -S "$tmp/src" -B "$tmp/b$n" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS="-DHS_PARTS=$n" >/dev/null
  cmake --build "$tmp/b$n" --target heapsnap_shim -j"$(nproc)" >/dev/null
done

mkdir "$tmp/snaps"
hs="env HEAPSNAP_DIR=$tmp/snaps HEAPSNAP_SCAN=0 LD_PRELOAD="
labels=("bare glibc" "hooks only" "table, no stacks" "stacks, no table"
  "hash trusted" "compare deferred" "full")
prefix=("" "${hs}$shim HEAPSNAP_SAMPLE_BYTES=1T" "${hs}$tmp/b1/lib/libheapsnap.so"
  "${hs}$tmp/b2/lib/libheapsnap.so" "${hs}$tmp/b3/lib/libheapsnap.so"
  "${hs}$tmp/b4/lib/libheapsnap.so" "${hs}$shim")
pin=""
[ -z "$cpu" ] || pin="taskset -c $cpu"
n=${#labels[@]}
for ((r = 0; r < runs; r++)); do
  for ((i = 0; i < n; i++)); do
    k=$(((i + r) % n)) # a rotating order: background load hits all alike
    t0=$(date +%s%N) # GNU time's wall clock has 10 ms steps
    # shellcheck disable=SC2086
    if ! $pin /usr/bin/time -f "%U %S" -o "$tmp/time" ${prefix[$k]} \
      "$tmp/allocbench" $args >/dev/null 2>"$tmp/err"; then
      echo "parts.sh: ${labels[$k]} failed: $(tail -1 "$tmp/err")" >&2
      exit 1
    fi
    t1=$(date +%s%N)
    tail -1 "$tmp/time" | awk -v ns=$((t1 - t0)) \
      '{printf "%.3f %.3f\n", ns / 1e9, $1 + $2}' >>"$tmp/res.$k"
  done
  rm -f "$tmp"/snaps/*
done

echo "allocbench $args, $variant; $runs rounds${pin:+, $pin}; ratios are medians of per-round ratios to bare glibc"
echo
echo '| configuration | wall (s) | CPU (s) | wall / bare | CPU / bare |'
echo '|---|---:|---:|---:|---:|'
for ((k = 0; k < n; k++)); do
  paste -d' ' "$tmp/res.0" "$tmp/res.$k" | awk -v label="${labels[$k]}" '
    function med(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) {
        t = a[j]; a[j] = a[j-1]; a[j-1] = t }
      return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
    { n++; w[n] = $3; c[n] = $4; rw[n] = $3 / $1; rc[n] = $4 / ($2 > 0 ? $2 : 0.001) }
    END { printf "| %s | %.3f | %.3f | %.2fx | %.2fx |\n", label, med(w, n),
            med(c, n), med(rw, n), med(rc, n) }'
done
