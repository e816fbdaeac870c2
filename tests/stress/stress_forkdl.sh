#!/usr/bin/env bash
# stress_forkdl.sh BIN SHIM SRC DLLIB [loop THREADS [INTERVAL]]
# Fork while another thread is inside the dynamic loader (stress_forkdl.c).
# With loop: 20 runs of 300 forks from THREADS threads while another
# thread dlopens and dlcloses DLLIB, each run killed and failed after 90 s
# (a run takes 2 s alone, 7 s in the full suite on two cores, 16 s and
# more on two cores shared with compilers; a hang is for ever), with the
# state of every process of the run printed first (hang or slowness),
# with a snapshot every INTERVAL seconds if given. Every run prints "done",
# and some children over all runs must have inherited the loader's lock
# held (the shim says so with HEAPSNAP_VERBOSE): the race was exercised.
# Without:
# 2. held: a child forked with the lock held for sure snapshots itself:
#    its blocks exactly, its modules loaded, a library unloaded after the
#    shim's capture flagged unloaded (e2e_check).
# 3. live: such a child keeps allocating; `heapsnap snap CHILD` gets its
#    snapshot, which e2e_check checks.
# 4. dlopen: a child that calls dlopen itself, forked with the lock held
#    and without: the same outcome with the shim as without (the shim
#    adds no hang, and removes none).
# 5. spawn: vfork+execv and posix_spawn while the loader thread runs.
set -euo pipefail
bin=$1 shim=$2 src=$3 lib=$4
. "$src/../support/real_lib.sh"
prog=$bin/stress_forkdl
under_shim=(env LD_PRELOAD="$shim" HEAPSNAP_DIR="$rl_dir")

# check_all: every API snapshot in the folder against its .sites file.
check_all() {
  local s n=0
  for s in "$rl_dir"/*.snap.sites; do
    "$bin/e2e_check" "${s%.sites}" "$s" >"$rl_dir/check" ||
      fail "$1: $(basename "${s%.sites}"): $(grep FAIL "$rl_dir/check")"
    n=$((n + 1))
  done
  echo "$1: $n snapshots as expected"
}

# show_group PGID: each process of the group and each of its threads:
# state, kernel wait channel, system call (number and first argument).
show_group() {
  local p t
  for p in $(ps -o pid= -g "$1"); do
    echo "process $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
    for t in /proc/"$p"/task/*; do
      echo "  thread ${t##*/}: state $(awk '{print $3}' "$t/stat" 2>/dev/null)" \
        "wchan $(cat "$t/wchan" 2>/dev/null) syscall" \
        "$(cut -d' ' -f1,2 "$t/syscall" 2>/dev/null)"
    done
  done
}

# bounded LIMIT CMD...: CMD in a process group of its own; its status, or
# 137 after LIMIT seconds, with the group's state shown first and killed.
bounded() {
  local limit=$1 pid i rc=0 groups=("${rl_groups[@]+"${rl_groups[@]}"}")
  shift
  setsid "$@" &
  pid=$!
  rl_track_group "$pid" # until it is reaped: a stuck child is killed too
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    show_group "$pid" >&2
    kill -9 -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" || rc=$?
  kill -9 -- "-$pid" 2>/dev/null || true # children left behind
  rl_groups=("${groups[@]+"${groups[@]}"}")
  return "$rc"
}

if [ "${5:-}" = loop ]; then
  threads=$6 interval=${7:-} frozen=0
  for run in $(seq 20); do
    bounded 90 "${under_shim[@]}" HEAPSNAP_INTERVAL="$interval" \
      HEAPSNAP_VERBOSE=1 "$prog" loop 300 "$threads" "$lib" \
      >"$rl_dir/out" 2>"$rl_dir/err" ||
      fail "run $run: exit $? (137: hung): $(grep -v wrote "$rl_dir/err" | head -40)"
    [ "$(cat "$rl_dir/out")" = done ] || fail "run $run: $(cat "$rl_dir/out")"
    ! grep -v -e '^heapsnap: wrote ' -e '^heapsnap: forked while' \
      "$rl_dir/err" || fail "run $run: unexpected stderr"
    frozen=$((frozen + $(rl_lines "$rl_dir/err" 'forked while')))
    find "$rl_dir" -name '*.snap' -delete
  done
  echo "20 runs of 300 forks from $threads thread(s), interval ${interval:-off}: done"
  echo "$frozen children inherited the loader's lock held"
  [ "$frozen" -gt 0 ] || fail "no child inherited the lock held: not exercised"
  exit 0
fi

timeout 60 "${under_shim[@]}" HEAPSNAP_VERBOSE=1 "$prog" held "$lib" >"$rl_dir/out" 2>"$rl_dir/err" || fail "held: $(cat "$rl_dir/err")"
grep -q "forked while another thread held the loader's lock" "$rl_dir/err" ||
  fail "held: the child did not inherit the lock held"
check_all held

rm -f "$rl_dir"/*.snap "$rl_dir"/*.sites
rl_start live "${under_shim[@]}" "$prog" live "$rl_dir"
hs_wait_for 30 grep -q '^child ' "$rl_dir/live.out" || fail "live: no child"
child=$(sed -n 's/^child //p' "$rl_dir/live.out")
snap=$(timeout 30 "$bin/heapsnap" snap "$child") || fail "live: heapsnap snap $child"
"$bin/e2e_check" "$snap" "$rl_dir/live.sites" >"$rl_dir/check" ||
  fail "live: $(grep FAIL "$rl_dir/check")"
exec 3>&-
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "live: exited with $rl_status: $(cat "$rl_dir/live.err")"
grep -qx 'live: child exited 0' "$rl_dir/live.out" || fail "live: $(cat "$rl_dir/live.out")"
echo "live: heapsnap snap $child wrote $(basename "$snap"), as expected"

for m in held free; do
  timeout 60 "$prog" dlopen $m "$lib" >"$rl_dir/bare.out" || fail "dlopen $m: bare"
  timeout 60 "${under_shim[@]}" "$prog" dlopen $m "$lib" >"$rl_dir/shim.out" ||
    fail "dlopen $m: under the shim"
  cmp "$rl_dir/bare.out" "$rl_dir/shim.out" ||
    fail "dlopen $m: $(cat "$rl_dir/shim.out") under the shim, $(cat "$rl_dir/bare.out") bare"
  echo "dlopen, lock $m at fork: $(tail -1 "$rl_dir/shim.out" | sed 's/child: //'), as bare"
done

timeout 60 "${under_shim[@]}" "$prog" spawn 100 "$lib" >"$rl_dir/out" ||
  fail "spawn: $(cat "$rl_dir/out")"
cat "$rl_dir/out"
echo "ok"
