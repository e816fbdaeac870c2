#!/usr/bin/env bash
# hd_golden.sh MKSNAP HEAPDIFF SRCDIR
# heapdiff's outputs on the "server" snapshots (hd_specs.sh) must match the
# golden files byte for byte. UPDATE_GOLDEN=1 rewrites them instead.
set -euo pipefail
MKSNAP=$1 heapdiff=$2 src=$(cd "$3" && pwd)
. "$src/hd_specs.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
hd_make "$dir"
cd "$dir" # paths in the output are then the bare file names
fails=0
check() { # check NAME ARGS...: run heapdiff, compare with golden/NAME
  local name=$1
  shift
  local rc=0
  "$heapdiff" --color never "$@" >"$dir/out" 2>"$dir/err" || rc=$?
  echo "exit $rc" >>"$dir/out"
  sed "s|$dir/||g" "$dir/err" >>"$dir/out"
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
    cp "$dir/out" "$src/golden/$name"
  elif ! diff -u "$src/golden/$name" "$dir/out"; then
    echo "FAIL: $name"
    fails=$((fails + 1))
  else
    echo "ok: $name"
  fi
}
check server3.txt server.1.snap server.2.snap server.3.snap
check untouched.txt untouched.snap # "RSS - heap" keeps its minus
check server3.json --json server.1.snap server.2.snap server.3.snap
check server3.folded --folded server.1.snap server.2.snap server.3.snap
check server2.txt server.1.snap server.2.snap
check server3-top1.txt --top 1 --stack-depth 1 server.1.snap server.2.snap server.3.snap
check unordered.txt server.3.snap server.1.snap server.2.snap
check moved.json --json --force server.1.snap moved.snap
check moved.txt --force server.1.snap moved.snap
check steps4.txt steps.1.snap steps.2.snap steps.3.snap steps.4.snap
check steps3.json --json steps.1.snap steps.2.snap steps.4.snap
check steps5-repeat.txt steps.1.snap steps.2.snap steps.3.snap steps.4.snap steps.5.snap
check steps5-repeat.json --json steps.1.snap steps.4.snap steps.5.snap
check steps5-new.txt steps.1.snap steps.2.snap steps.3.snap steps.4.snap steps-new.5.snap
check steps5-exit.txt steps.1.snap steps.2.snap steps.3.snap steps.4.snap steps-exit.5.snap
check steps5-exit.json --json steps.1.snap steps.4.snap steps-exit.5.snap
check force-exit.txt --force steps.1.snap other.4.snap other-exit.5.snap
check epochmax.txt epochmax.1.snap epochmax.2.snap epochmax.3.snap
check sampled3.txt sampled.1.snap sampled.2.snap sampled.3.snap
check one.txt server.3.snap
check one.json --json server.3.snap
check jit.json --json jit.snap # a frame in no module: offset = address
check one-noscan.txt server.1.snap
check one-lost.txt --lost server.3.snap
check one-lost.folded --folded --lost server.3.snap
check lost-multi.txt --lost server.1.snap server.2.snap server.3.snap
check lost-gate-over.txt --fail-over-lost 999 --lost server.3.snap
check lost-gate-under.txt --fail-over-lost 1000 --lost server.3.snap
check lost-gate-both.json --json --fail-over 1M --fail-over-lost 1K server.1.snap server.3.snap
check zero-gate.txt --fail-over-lost 0 zero.2.snap
check gate-over.txt --fail-over 3839 server.1.snap server.3.snap
check gate-under.txt --fail-over 3840 server.1.snap server.3.snap
check zero.txt zero.1.snap zero.2.snap
check zero.json --json zero.1.snap zero.2.snap
check regs.txt regs.1.snap regs.2.snap
check regs.json --json regs.1.snap regs.2.snap
check regs-note.txt regs.1.snap regs-note.2.snap
# Names (HD_FIXTURE: the C++ library the "cxx" stacks point into): origins,
# short names, widths, --alloc-fn patterns.
[ -f "${HD_FIXTURE:-}" ] || { echo "FAIL: HD_FIXTURE not set"; exit 1; }
hd_cxx_make "$dir" "$HD_FIXTURE"
COLUMNS=100 check cxx-100.txt cxx.1.snap cxx.2.snap
COLUMNS=60 check cxx-60.txt cxx.1.snap cxx.2.snap
COLUMNS=60 check cxx-wide.txt --wide cxx.1.snap cxx.2.snap
# Narrow: a name is cut first, to 12 columns and no fewer, then its file.
COLUMNS=36 check cxx-36.txt cxx.1.snap cxx.2.snap
COLUMNS=20 check cxx-20.txt cxx.1.snap cxx.2.snap
COLUMNS=100 check cxx-all-frames.txt --all-frames --stack-depth 3 cxx.1.snap cxx.2.snap
COLUMNS=100 check cxx-function.txt --group-by function cxx.1.snap cxx.2.snap
COLUMNS=100 check cxx-allocfn.txt --alloc-fn 'myalloc*' --alloc-fn 'nomatch*' \
  --alloc-fn 'std::*' cxx.1.snap cxx.2.snap
exit $((fails > 0))
