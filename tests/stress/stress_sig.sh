#!/usr/bin/env bash
# stress_sig.sh BIN SHIM SRC
# stress_sig (its own SIGUSR2 handler, four threads allocating) under the
# shim with HEAPSNAP_SIGNAL=USR1, started with `heapsnap run --signal`.
# The driver sends 10 SIGUSR2, each acknowledged by the program, and
# between them snapshot requests: kill -USR1 and `heapsnap snap PID`
# (which finds signal 10 from the shim thread's name).
# Checks: every SIGUSR2 reached the program's handler, and only those; one
# snapshot per request, each readable and scanned; output as without the
# shim (where the driver sends only the SIGUSR2s).
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_sig

# run TAG [shim]
run() {
  if [ -n "${2:-}" ]; then
    rl_start "$1" env HEAPSNAP_LIB="$shim" "$bin/heapsnap" run --signal USR1 \
      --dir "$rl_dir" -- "$prog"
  else
    rl_start "$1" "$prog"
  fi
  hs_wait_for 30 grep -q ready "$rl_dir/$1.out" || fail "$1: never ready"
  for k in $(seq 1 10); do
    kill -USR2 $pid
    hs_wait_for 30 grep -qx "usr2 $k" "$rl_dir/$1.out" ||
      fail "$1: SIGUSR2 $k did not reach the program's handler"
    [ -n "${2:-}" ] || continue
    if [ $((k % 2)) = 0 ]; then
      timeout 30 "$bin/heapsnap" snap $pid >/dev/null || fail "heapsnap snap"
    else
      kill -USR1 $pid
      hs_wait_for 30 rl_count_is "$rl_dir" $k || fail "no snapshot after USR1"
    fi
  done
  echo quit >&3
  exec 3>&-
  rl_wait_exit $pid 30
  [ "$rl_status" = 0 ] || fail "$1: exited with $rl_status"
  [ ! -s "$rl_dir/$1.err" ] || fail "$1: stderr: $(cat "$rl_dir/$1.err")"
}

run bare
run shim 1
cmp "$rl_dir/bare.out" "$rl_dir/shim.out" || fail "output differs under the shim"
tail -1 "$rl_dir/shim.out"
mapfile -t snaps < <(rl_snaps "$rl_dir")
[ ${#snaps[@]} = 10 ] || fail "${#snaps[@]} snapshots for 10 requests"
"$bin/real_snapinfo" "${snaps[@]}" >"$rl_dir/info" || fail "unreadable snapshot"
[ "$(grep -c ' trigger=signal .* scanned=1 ' "$rl_dir/info")" = 10 ] ||
  fail "$(cat "$rl_dir/info")"
echo "ok: 10 SIGUSR2 to the program, 10 snapshots on SIGUSR1"
