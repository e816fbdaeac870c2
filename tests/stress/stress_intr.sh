#!/usr/bin/env bash
# stress_intr.sh BIN SHIM SRC
# stress_intr (blocking calls of 1 s in the main thread and a worker, then
# children started four ways) under the shim, while the driver sends
# bursts of 20 `kill -USR2` in 200 ms, one burst after another.
# Checks: every call returns what it returns without the shim and without
# signals, and none before 95% of its second; the children see SIGUSR2 as
# the program has it (unblocked, or blocked where the program blocked it)
# and the program's pthread_sigmask reports it unblocked; every burst gave
# a snapshot; nothing on stderr.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_intr

timeout 60 "$prog" run >"$rl_dir/bare.out" || fail "failed without the shim"
grep -q EARLY "$rl_dir/bare.out" && fail "a call returned early without the shim"

rl_start shim env LD_PRELOAD="$shim" HEAPSNAP_DIR="$rl_dir" "$prog" run
hs_wait_for 30 grep -q ready "$rl_dir/shim.out" || fail "never ready"
bursts=0
while ! grep -q '^main sleep' "$rl_dir/shim.out"; do
  before=$(rl_count "$rl_dir")
  for _ in $(seq 20); do
    kill -USR2 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  hs_wait_for 10 rl_count_is "$rl_dir" $((before + 1)) ||
    fail "burst $((bursts + 1)) gave no snapshot"
  bursts=$((bursts + 1))
done
exec 3>&-
rl_wait_exit "$pid" 60
[ "$rl_status" = 0 ] || fail "exited with $rl_status"
[ ! -s "$rl_dir/shim.err" ] || fail "stderr: $(cat "$rl_dir/shim.err")"
[ "$bursts" -ge 3 ] || fail "only $bursts bursts in the program's 8 s"
cmp "$rl_dir/bare.out" "$rl_dir/shim.out" ||
  fail "output differs: $(diff "$rl_dir/bare.out" "$rl_dir/shim.out" | head -5)"
grep -c ': ret ' "$rl_dir/shim.out" | grep -qx 16 || fail "not 16 calls"
echo "ok: 16 calls as without the shim under $bursts bursts of 20 SIGUSR2, each burst a snapshot; children see SIGUSR2 as the program set it"
