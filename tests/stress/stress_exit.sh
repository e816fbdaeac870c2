#!/usr/bin/env bash
# stress_exit.sh BIN SHIM SRC
# stress_exit leaves in every way while eight threads allocate and a
# snapshot is taken every 20 ms, several times each at different moments.
# Checks: no run hangs (30 s each); the status is the program's own;
#   _exit, abort:       no exit snapshot;
#   exit, thread-exit:  exactly one (HEAPSNAP_AT_EXIT=1), and without
#                       HEAPSNAP_AT_EXIT no temporary file left: a snapshot
#                       being written at exit is finished first;
#   snap-exit:          a snapshot signal sent just before exit() still
#                       gives its snapshot, whole (it used to be lost);
# and every *.snap file is whole and readable.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_exit
runs=0

# run MODE MS AT_EXIT WANT_STATUS WANT_EXIT_SNAPSHOTS TMP_ALLOWED
run() {
  local d=$rl_dir/$1.$2.$3 rc=0
  mkdir "$d"
  timeout -s KILL 30 env HEAPSNAP_INTERVAL=0.02 HEAPSNAP_AT_EXIT="$3" \
    HEAPSNAP_DIR="$d" LD_PRELOAD="$shim" "$prog" "$1" "$2" 2>"$d.err" || rc=$?
  runs=$((runs + 1))
  [ $rc != 137 ] || fail "$1 after $2 ms: still running after 30 s"
  [ $rc = "$4" ] || fail "$1 after $2 ms: status $rc, want $4"
  mapfile -t snaps < <(rl_snaps "$d")
  [ ${#snaps[@]} = 0 ] || "$bin/real_snapinfo" "${snaps[@]}" >"$d.info" ||
    fail "$1 after $2 ms: an unreadable snapshot"
  local ex
  ex=$(grep -c ' trigger=exit ' "$d.info" 2>/dev/null || true)
  [ "${ex:-0}" = "$5" ] || fail "$1 after $2 ms: $ex exit snapshots, want $5"
  [ "$6" = 1 ] || [ -z "$(find "$d" -name '*.tmp')" ] ||
    fail "$1 after $2 ms: a temporary file left: $(ls -A "$d")"
  if [ "$1" = snap-exit ]; then
    [ "$(grep -c ' trigger=signal ' "$d.info" 2>/dev/null || true)" = 1 ] ||
      fail "snap-exit after $2 ms: the snapshot asked for before exit is lost"
  fi
}

for ms in 30 100 170; do
  run _exit $ms 1 3 0 1
  run abort $ms 1 134 0 1
  run exit $ms 1 0 1 0
  run thread-exit $ms 1 0 1 0
  run exit $((ms + 20)) 0 0 0 0
done
for ms in 0 2 10; do
  run snap-exit $ms 0 0 0 0
done
echo "ok: $runs runs, no hang, no snapshot lost, no temporary file after exit()"
