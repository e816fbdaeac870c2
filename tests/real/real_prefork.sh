#!/usr/bin/env bash
# real_prefork.sh PROG BIN SHIM SRC
# real_prefork (a master that forks 3 workers while one of its threads
# allocates; two accepting threads per worker) on 127.0.0.1, started with
# `heapsnap run` in its own process group. Requests over loopback make the
# workers leak known numbers of sessions. Snapshot 1: one kill -USR2 to the
# whole group; snapshot 2: `heapsnap snap` of each process.
# Checks: the replies and the master's output are those of a run without
# the shim (pids aside); every process wrote its own two files (its pid in
# the name and the header, the workers' parent the master, numbered from
# 1); per worker, heapdiff finds exactly the sessions it leaked between
# its snapshots, held by the global g_sessions, none lost; the master
# leaked none (real_check.py prefork).
set -euo pipefail
prog=$1 bin=$2 shim=$3 src=$4
. "$src/../support/real_lib.sh"
W=3
mkdir "$rl_dir/snaps"

request() {
  local reply
  exec 5<>"/dev/tcp/127.0.0.1/$port"
  printf 'leak %d\n' "$1" >&5
  read -r -t 30 reply <&5 || fail "no reply to leak $1"
  exec 5<&-
  echo "$reply" >>"$out"
  set -- $reply # ok K pid P total T
  total[$4]=$6
}

children() {
  pgrep -P "$master" | sort -n
}

# serve TAG [shim]: starts the server, two rounds of requests with a
# snapshot after each (with the shim), stops it.
serve() {
  out=$rl_dir/$1.out
  if [ -n "${2:-}" ]; then
    HEAPSNAP_LIB=$shim setsid "$bin/heapsnap" run --dir "$rl_dir/snaps" -- \
      "$prog" $W >"$rl_dir/$1.master" 2>"$rl_dir/$1.err" &
  else
    setsid "$prog" $W >"$rl_dir/$1.master" 2>"$rl_dir/$1.err" &
  fi
  master=$!
  rl_track "$master"
  rl_track_group "$master"
  hs_wait_for 30 grep -q '^ready' "$rl_dir/$1.master" ||
    fail "the server did not start: $(cat "$rl_dir/$1.err")"
  port=$(awk '/^ready/ { print $2 }' "$rl_dir/$1.master")
  mapfile -t workers < <(children)
  [ ${#workers[@]} = $W ] || fail "${#workers[@]} workers, want $W"
  for p in "${workers[@]}"; do rl_track "$p"; done
  declare -gA total=() t1=() tasks=()
  for k in $(seq 1 12); do request $k; done
  if [ -n "${2:-}" ]; then
    for p in "${workers[@]}"; do t1[$p]=${total[$p]:-0}; done
    kill -USR2 -- "-$master"
    hs_wait_for 30 rl_count_is "$rl_dir/snaps" $((W + 1)) ||
      fail "$(rl_count "$rl_dir/snaps") snapshots after kill -USR2 to the group"
  fi
  for k in $(seq 21 32); do request $k; done
  if [ -n "${2:-}" ]; then
    for p in "$master" "${workers[@]}"; do
      timeout 30 "$bin/heapsnap" snap "$p" >/dev/null ||
        fail "heapsnap snap $p failed"
      tasks[$p]=$(ls "/proc/$p/task" | xargs | tr ' ' ,)
    done
  fi
  kill -TERM "$master"
  rl_wait_exit "$master" 30
  [ "$rl_status" = 0 ] || fail "the master exited with $rl_status"
  for p in "${workers[@]}"; do rl_untrack "$p"; done # the master reaped them
  local sum=0
  for p in "${!total[@]}"; do sum=$((sum + total[$p])); done
  [ $sum = $(((1 + 12) * 12 / 2 + (21 + 32) * 12 / 2)) ] ||
    fail "the workers leaked $sum sessions in all"
}

normal() {
  sed -E 's/ pid [0-9]+ total [0-9]+$//; s/^ready [0-9]+$/ready/' "$@"
}

serve bare
normal "$rl_dir/bare.out" "$rl_dir/bare.master" >"$rl_dir/bare.norm"
serve shim 1
[ ! -s "$rl_dir/shim.err" ] || fail "stderr under the shim: $(cat "$rl_dir/shim.err")"
normal "$rl_dir/shim.out" "$rl_dir/shim.master" >"$rl_dir/shim.norm"
cmp "$rl_dir/bare.norm" "$rl_dir/shim.norm" || fail "output differs under the shim"
cat "$rl_dir/shim.master"

"$bin/real_snapinfo" $(rl_snaps "$rl_dir/snaps") | tee "$rl_dir/info"
[ "$(rl_count "$rl_dir/snaps")" = $((2 * (W + 1))) ] ||
  fail "$(rl_count "$rl_dir/snaps") files, want 2 per process"
for p in "$master" "${workers[@]}"; do
  mapfile -t mine < <(rl_snaps "$rl_dir/snaps" "$p")
  [ ${#mine[@]} = 2 ] || fail "process $p wrote ${#mine[@]} files, want 2"
  want_ppid='[0-9]+'
  [ "$p" = "$master" ] || want_ppid=$master
  for n in 1 2; do
    grep -Eq "\.$p\.$n\.snap pid=$p ppid=$want_ppid number=$n trigger=signal .* scanned=1 " \
      "$rl_dir/info" || fail "process $p: file $n is not its own, or not scanned"
  done
  # The stacks scanned are the process's own threads' (a child's thread
  # registry must not keep its parent's threads).
  for t in $(grep -o "\.$p\.2\.snap .* threads=[0-9,]*" "$rl_dir/info" |
    sed 's/.*threads=//' | tr , ' '); do
    [[ ",${tasks[$p]}," == *",$t,"* ]] ||
      fail "process $p: a stack root names thread $t, not one of ${tasks[$p]}"
  done
  "$bin/heapdiff" --json --retainers 10 "${mine[@]}" >"$rl_dir/$p.json"
  echo "== process $p: ${t1[$p]:-0} -> ${total[$p]:-0} sessions"
  python3 "$src/real_check.py" prefork "$rl_dir/$p.json" "${t1[$p]:-0}" \
    "${total[$p]:-0}" 1000 || fail "heapdiff does not report what worker $p did"
done
