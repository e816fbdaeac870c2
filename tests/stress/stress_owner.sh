#!/usr/bin/env bash
# stress_owner.sh BIN SHIM SRC
# stress_owner takes SIGUSR2 for itself, six ways (a library's constructor
# before the shim starts, sigaction, signal, after a worker started,
# sigwait, signalfd), under `heapsnap run` with the default signal.
# Checks, for each way: the shim says once on stderr that snapshots moved
# to SIGRTMIN+5, and nothing else; its thread is named heapsnap:<that
# number>; four `kill -USR2` all reach the program, none the shim; four
# `heapsnap snap` give four snapshots; the program exits 0 with the count.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_owner
rtmin5=$(($(kill -l RTMIN) + 5))

for mode in early sigaction signal worker sigwait signalfd; do
  early=0 verb=handles
  [ $mode = early ] && early=1
  [ $mode = sigwait ] || [ $mode = signalfd ] && verb="waits for"
  d=$rl_dir/$mode
  mkdir "$d"
  rl_start $mode env STRESS_OWNER_EARLY=$early HEAPSNAP_LIB="$shim" \
    "$bin/heapsnap" run --dir "$d" -- "$prog" $mode
  out=$rl_dir/$mode.out err=$rl_dir/$mode.err
  hs_wait_for 30 grep -q ready "$out" || fail "$mode: never ready"
  want="heapsnap: stress_owner $verb SIGUSR2 itself; snapshots now on SIGRTMIN+5: use heapsnap snap $pid"
  [ "$(cat "$err")" = "$want" ] || fail "$mode: stderr: $(cat "$err")"
  grep -qx "heapsnap:$rtmin5" /proc/$pid/task/*/comm ||
    fail "$mode: no thread named heapsnap:$rtmin5"
  for k in 1 2 3 4; do
    kill -USR2 $pid
    hs_wait_for 30 grep -qx "usr2 $k" "$out" ||
      fail "$mode: SIGUSR2 $k did not reach the program"
    timeout 30 "$bin/heapsnap" snap $pid >/dev/null || fail "$mode: heapsnap snap $k"
  done
  echo quit >&3
  exec 3>&-
  rl_wait_exit $pid 30
  [ "$rl_status" = 0 ] || fail "$mode: exited with $rl_status"
  [ "$(tail -1 "$out")" = "$mode: 4 SIGUSR2 received" ] ||
    fail "$mode: $(tail -1 "$out")"
  [ "$(rl_count "$d")" = 4 ] || fail "$mode: $(rl_count "$d") snapshots, want 4"
  [ "$(wc -l <"$err")" = 1 ] || fail "$mode: stderr: $(cat "$err")"
  echo "$mode: 4 SIGUSR2 to the program, 4 snapshots on SIGRTMIN+5"
done
echo ok
