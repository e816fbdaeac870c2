#!/usr/bin/env bash
# real_node.sh BIN SHIM SRC
# node under the shim (LD_PRELOAD), caching Buffers in a global Map that
# never evicts (real_node_cache.js) while a timer churns. Snapshots 1 and 3
# with `heapsnap snap PID`, 2 with a process-directed kill -USR2.
# Checks: the output is the same as without the shim, nothing on stderr,
# and heapdiff --json --group-by function finds the growth at node's
# ArrayBuffer backing-store allocation, not lost, held from V8's heap: its
# pages are anonymous mappings node excludes from fork (MADV_DONTFORK),
# which the scan reads from the live process (real_check.py node).
# BIN holds heapsnap, heapdiff and real_snapinfo.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
node=$(rl_program node)
N=500 SIZE=10000
script=$src/real_node_cache.js
"$node" --version

printf '\n\n\n' | timeout 60 "$node" "$script" $N $SIZE >"$rl_dir/bare.out" ||
  fail "node failed without the shim"

rl_start shim env HEAPSNAP_DIR="$rl_dir" LD_PRELOAD="$shim" "$node" "$script" \
  $N $SIZE
for k in 1 2 3; do
  hs_wait_for 60 rl_has_lines "$rl_dir/shim.out" '^step' $k ||
    fail "node never reached step $k: $(cat "$rl_dir/shim.err")"
  if [ $k = 2 ]; then
    kill -USR2 "$pid"
    hs_wait_for 30 rl_count_is "$rl_dir" $k || fail "no snapshot after kill"
  else
    timeout 30 "$bin/heapsnap" snap "$pid" >/dev/null ||
      fail "heapsnap snap failed"
  fi
  echo >&3
done
rl_finish shim node 3
"$bin/real_snapinfo" "${snaps[@]}"
# A JIT's frames differ from tier to tier (interpreted, then optimized):
# one allocation site is several stacks; --group-by function joins them.
"$bin/heapdiff" --group-by function --top 1 "${snaps[@]}"
"$bin/heapdiff" --json --group-by function --retainers 1000 "${snaps[@]}" \
  >"$rl_dir/diff.json"
python3 "$src/real_check.py" node "$rl_dir/diff.json" $N $SIZE ||
  fail "heapdiff does not report what node did"
