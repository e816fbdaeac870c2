#!/usr/bin/env bash
# stress_block.sh BIN SHIM SRC
# stress_block (threads blocked in read, epoll_wait, poll, select,
# sem_wait, accept, waitpid and nanosleep) under the shim with a snapshot
# every 50 ms and three `heapsnap snap PID` while they block. Checks: every
# call returned normally, after the driver released it (no EINTR, no early
# return), the output is as without the shim, and the snapshots taken
# meanwhile are whole.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_block

# run TAG [shim]
run() {
  if [ -n "${2:-}" ]; then
    rl_start "$1" env HEAPSNAP_INTERVAL=0.05 HEAPSNAP_DIR="$rl_dir" \
      LD_PRELOAD="$shim" "$prog"
  else
    rl_start "$1" "$prog"
  fi
  hs_wait_for 30 grep -q ready "$rl_dir/$1.out" || fail "$1: never ready"
  if [ -n "${2:-}" ]; then
    for _ in 1 2 3; do
      timeout 30 "$bin/heapsnap" snap $pid >/dev/null || fail "heapsnap snap"
      sleep 0.2
    done
  else
    sleep 0.6
  fi
  grep -qx ready "$rl_dir/$1.out" ||
    fail "$1: printed before it was released: $(cat "$rl_dir/$1.out")"
  echo go >&3
  exec 3>&-
  rl_wait_exit $pid 30
  cat "$rl_dir/$1.out"
  [ "$rl_status" = 0 ] || fail "$1: a call failed (status $rl_status)"
  [ ! -s "$rl_dir/$1.err" ] || fail "$1: stderr: $(cat "$rl_dir/$1.err")"
}

run bare
run shim 1
cmp "$rl_dir/bare.out" "$rl_dir/shim.out" || fail "output differs under the shim"
mapfile -t snaps < <(rl_snaps "$rl_dir")
"$bin/real_snapinfo" "${snaps[@]}" >/dev/null || fail "unreadable snapshot"
[ ${#snaps[@]} -ge 10 ] || fail "only ${#snaps[@]} snapshots"
echo "ok: ${#snaps[@]} snapshots while blocked, nothing interrupted"
