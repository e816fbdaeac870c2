#!/usr/bin/env bash
# real_python.sh MODE BIN SHIM SRC
# python3 under the shim, appending bytes objects to a global list (see
# real_python_grow.py) while a second thread churns:
#   malloc:   PYTHONMALLOC=malloc, snapshots with `heapsnap snap PID`;
#   pymalloc: Python's own allocator (its arenas are anonymous mappings
#             the scan takes as roots), snapshots with kill -USR2.
# Checks: the output is the same as without the shim, nothing on stderr,
# one snapshot per step, and heapdiff --json finds the list's growth
# exactly and what holds it (real_check.py python).
# BIN holds heapsnap, heapdiff and real_snapinfo.
set -euo pipefail
mode=$1 bin=$2 shim=$3 src=$4
. "$src/../support/real_lib.sh"
py=$(rl_program python3)
N=5000
script=$src/real_python_grow.py
case $mode in
malloc) export PYTHONMALLOC=malloc ;;
pymalloc) unset PYTHONMALLOC ;;
*) fail "unknown mode $mode" ;;
esac
"$py" --version

printf '\n\n\n' | timeout 60 "$py" "$script" $N >"$rl_dir/bare.out" ||
  fail "python3 failed without the shim"

rl_start shim env HEAPSNAP_LIB="$shim" "$bin/heapsnap" run --dir "$rl_dir" -- \
  "$py" "$script" $N
for k in 1 2 3; do
  hs_wait_for 60 rl_has_lines "$rl_dir/shim.out" '^step' $k ||
    fail "python3 never reached step $k: $(cat "$rl_dir/shim.err")"
  if [ "$mode" = malloc ]; then
    p=$(timeout 30 "$bin/heapsnap" snap "$pid") || fail "heapsnap snap failed"
    [ "$p" = "$(rl_snaps "$rl_dir" | tail -1)" ] || fail "snap printed $p"
  else
    kill -USR2 "$pid"
    hs_wait_for 30 rl_count_is "$rl_dir" $k ||
      fail "no snapshot $k after kill -USR2"
  fi
  echo >&3
done
rl_finish shim python3 3
"$bin/real_snapinfo" "${snaps[@]}"
"$bin/heapdiff" --retainers 3 "${snaps[@]}" | head -30
"$bin/heapdiff" --json --retainers 100 "${snaps[@]}" >"$rl_dir/diff.json"
size=$(awk '$1 == "object" { print $2 }' "$rl_dir/shim.out")
python3 "$src/real_check.py" python "$rl_dir/diff.json" "$mode" $N "$size" ||
  fail "heapdiff does not report what python3 did"
