#!/usr/bin/env bash
# attach_stress.sh BIN SRC [fork]
# attach_stress (4 threads through every allocation function, its banner)
# attached and detached 50 times in a row while it runs, a snapshot taken
# in every fifth attach, and 50 SIGRTMIN+1 sent to it along the way (one
# per round, while heapsnap may hold a thread). It never crashes or hangs,
# every attach and detach succeeds, its output equals a run without
# heapsnap, it took every signal, and at the end no thread and no status
# file of the shim are left. With fork, thread 0 also forks a child every
# 512 rounds, so children are forked while heapsnap patches and restores
# the GOTs and snapshots: each child must allocate and exit (before the
# fork handlers held the patch lock and dl_iterate_phdr's slots went
# first, most runs left a child waiting forever on the loader's lock).
set -euo pipefail
. "$2/attach_lib.sh"
prog=$bin/attach_stress
ROUNDS=50
mode=${3:-}

(sleep 1 && touch "$rl_dir/stop.bare") &
timeout 60 "$prog" "$rl_dir/stop.bare" $mode >"$rl_dir/bare.out" 2>/dev/null ||
  fail "failed without heapsnap"

"$prog" "$rl_dir/stop" $mode >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
threads_up() { [ "$(ls /proc/$pid/task | wc -l)" = 5 ]; }
hs_wait_for 10 threads_up || fail "its threads did not start"
max=0 snaps=0
for i in $(seq 1 $ROUNDS); do
  kill -s RTMIN+1 "$pid" || fail "round $i: the process is gone"
  al_attach "$pid" --dir "$rl_dir"
  held=$(al_held_ms)
  max=$(awk -v a="$max" -v b="$held" 'BEGIN { print (b > a ? b : a) }')
  if [ $((i % 5)) = 0 ]; then
    "$hs" snap "$pid" >/dev/null || fail "round $i: snap failed"
    snaps=$((snaps + 1))
  fi
  line=$("$hs" detach "$pid" 2>&1) || fail "round $i: detach: $line"
done
echo "$ROUNDS attach/detach rounds, $snaps snapshots; longest hold $max ms"
[ "$(grep -c 'libheapsnap-attach' /proc/$pid/maps)" -ge 1 ] ||
  fail "the library is not mapped"
[ "$(ls /proc/$pid/task | wc -l)" = 5 ] ||
  fail "threads left: $(cat /proc/$pid/task/*/comm | tr '\n' ' ')"
[ ! -e "/dev/shm/heapsnap-$(id -u)/$pid" ] || fail "status file left after detach"
touch "$rl_dir/stop"
children() {
  local c
  for c in $(cat /proc/$pid/task/*/children 2>/dev/null); do
    echo "child $c: $(tr -d '\n' </proc/$c/wchan 2>/dev/null) $(cut -d' ' -f1 </proc/$c/syscall 2>/dev/null)"
  done
}
gone() { ! kill -0 "$pid" 2>/dev/null; }
hs_wait_for 30 gone || fail "still runs 30 s after STOP; $(children | head -3)"
rl_wait_exit "$pid" 1
[ "$rl_status" = 0 ] || fail "exited with $rl_status"
cmp "$rl_dir/bare.out" "$rl_dir/out" || fail "output differs: $(cat "$rl_dir/out")"
[ "$(cat "$rl_dir/err")" = "signals $ROUNDS" ] ||
  fail "stderr: $(head -3 "$rl_dir/err") (want signals $ROUNDS)"
[ "$(find "$rl_dir" -name '*.snap' | wc -l)" = "$snaps" ] || fail "snapshots missing"
cat "$rl_dir/out"
echo "ok: $ROUNDS attach/detach rounds under load"
