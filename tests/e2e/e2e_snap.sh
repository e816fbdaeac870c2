#!/usr/bin/env bash
# e2e_snap.sh MODE HEAPSNAP CHECK SHIM BLOCKPROG
# A program blocked in read(2) (and, in mode "snap", epoll_wait(2) in a
# second thread) gets snapshots while it blocks:
#   snap: two `heapsnap snap PID`, each printing the new file's path;
#   kill: a process-directed `kill -USR2`, the file appears in the folder.
# Each snapshot must hold the program's known blocks; the blocked calls
# must not have been interrupted; the program's output must be its own.
set -euo pipefail
mode=$1 heapsnap=$2 check=$3 shim=$4 prog=$5
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$dir/err" 2>/dev/null; exit 1; }

mkfifo "$dir/in"
arg=both
[ "$mode" = kill ] && arg=read-only
HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$prog" "$arg" "$dir/expect" \
  <"$dir/in" >"$dir/out" 2>"$dir/err" &
pid=$!
exec 3>"$dir/in"
for _ in $(seq 200); do grep -q ready "$dir/out" && break; sleep 0.05; done
grep -q ready "$dir/out" || fail "program never became ready"
echo "pid $pid" >>"$dir/expect"

snaps=()
if [ "$mode" = snap ]; then
  for _ in 1 2; do
    p=$("$heapsnap" snap "$pid") || fail "heapsnap snap failed"
    [ -f "$p" ] || fail "heapsnap snap printed '$p', which is not a file"
    snaps+=("$p")
  done
  [ "${snaps[0]}" != "${snaps[1]}" ] || fail "both snaps gave ${snaps[0]}"
else
  kill -USR2 "$pid"
  for _ in $(seq 200); do
    p=$(ls "$dir"/*.snap 2>/dev/null | head -1) && [ -n "$p" ] && break
    sleep 0.05
  done
  [ -n "${p:-}" ] || fail "no snapshot after kill -USR2"
  snaps+=("$p")
fi
for s in "${snaps[@]}"; do
  echo "== $(basename "$s")"
  "$check" "$s" "$dir/expect" || fail "$s does not hold the known blocks"
done

echo go >&3
exec 3>&-
rc=0
wait "$pid" || rc=$?
pid=
cat "$dir/out"
[ "$rc" = 0 ] || fail "program exited with $rc"
grep -qx "read 3" "$dir/out" || fail "read(2) was interrupted"
if [ "$mode" = snap ]; then
  grep -qx "epoll 1" "$dir/out" || fail "epoll_wait(2) was interrupted"
fi
[ ! -s "$dir/err" ] || fail "unexpected stderr"
echo "ok: ${#snaps[@]} snapshots, blocked calls not interrupted"
