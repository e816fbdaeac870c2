#!/usr/bin/env bash
# e2e_misc.sh CASE BIN_DIR SHIM
# Trigger and robustness cases for the shim, run on e2e_idle (see its
# banner). BIN_DIR holds e2e_idle, e2e_check and heapsnap. Exit 0 on
# success, 1 on failure, 77 when the case cannot run on this machine.
set -euo pipefail
case_=$1 bin=$2 shim=$3
idle=$bin/e2e_idle check=$bin/e2e_check
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# shellcheck source=tests/support/wait_lib.sh
. "$(dirname "$0")/../support/wait_lib.sh"
count() { find "$1" -maxdepth 1 -name '*.snap' | wc -l; }
export E2E_SITES=$dir/sites # e2e_idle writes its site line there
sites() { [ -z "${1:-}" ] || echo "trigger $1" >>"$dir/sites"; }
run() { HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$@"; }

case $case_ in
leader_exit)
  # The main thread called pthread_exit; another runs on. The process
  # lives: snap and ps find it (its maps and root are read through the
  # live thread), attach refuses it with its reason.
  HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$idle" leader 20000 &
  pid=$!
  hs_wait_for 10 grep -q '^State:.*Z' /proc/$pid/status || fail "no pthread_exit"
  out=$("$bin/heapsnap" snap "$pid" 2>&1) || fail "snap: $out"
  [ "$out" = "$dir/e2e_idle.$pid.1.snap" ] || fail "snap printed '$out'"
  "$bin/heapsnap" ps | grep -q "^$pid .*e2e_idle leader 20000" ||
    fail "ps: $("$bin/heapsnap" ps)"
  rc=0
  err=$("$bin/heapsnap" attach "$pid" 2>&1) || rc=$?
  [ $rc = 1 ] && [ "$err" = "heapsnap attach: process $pid: its main thread has exited (pthread_exit), and attach works only while it runs; start the program with heapsnap run instead" ] ||
    fail "attach: exit $rc: $err"
  kill "$pid"
  echo "ok: snap and ps after pthread_exit of the main thread; attach refused"
  ;;
interval_keep)
  # the three newest interval snapshots kept, and the one asked for by a
  # signal early on too (--keep removed it under `heapsnap snap`'s user)
  HEAPSNAP_DIR=$dir LD_PRELOAD=$shim HEAPSNAP_INTERVAL=0.1 HEAPSNAP_KEEP=3 \
    "$idle" sleep 1500 2>"$dir/err" & # not through run(): $! is the program
  pid=$!
  sleep 0.3
  kill -USR2 $pid
  wait $pid || fail "e2e_idle exited with $?"
  [ "$(count "$dir")" = 4 ] || fail "$(count "$dir") files kept, want 4"
  cp "$dir/sites" "$dir/sites.signal"
  sites interval
  echo "trigger signal" >>"$dir/sites.signal"
  signal=0 nums=
  for s in "$dir"/*.snap; do
    if "$check" "$s" "$dir/sites.signal" >/dev/null; then
      signal=$((signal + 1))
    else
      "$check" "$s" "$dir/sites" || fail "$s"
      nums="$nums $(sed 's/.*\.\([0-9]*\)\.snap/\1/' <<<"$s")"
    fi
  done
  [ "$signal" = 1 ] || fail "$signal snapshots asked for by the signal kept, want 1"
  set -- $(tr ' ' '\n' <<<"$nums" | grep -E '^[0-9]+$' | sort -n | xargs)
  [ $# = 3 ] && [ "$1" -ge 5 ] && [ $(($2 - $1)) = 1 ] && [ $(($3 - $2)) = 1 ] ||
    fail "kept interval numbers $* are not the newest three, in a row"
  [ ! -s "$dir/err" ] || fail "stderr: $(cat "$dir/err")"
  ;;
at_exit)
  HEAPSNAP_AT_EXIT=1 run "$idle" exit
  [ "$(count "$dir")" = 1 ] || fail "$(count "$dir") files, want 1"
  sites exit
  "$check" "$dir"/*.snap "$dir/sites"
  ;;
raise_self)
  # raise(SIGUSR2) and pthread_kill(pthread_self(), SIGUSR2) each take a
  # snapshot when sent, as kill does: sent to a thread that keeps the
  # signal blocked, they waited there until exit (and after _exit, for
  # good)
  out=$(run "$idle" raise) || fail "e2e_idle raise exited with $?"
  [ "$out" = $'raise 1\npthread_kill 2' ] || fail "want a snapshot after each, got: $out"
  [ "$(count "$dir")" = 2 ] || fail "$(count "$dir") snapshots, want 2"
  sites signal
  for s in "$dir"/*.snap; do "$check" "$s" "$dir/sites" || fail "$s"; done
  # raise() and exit() at once: exit waits for the snapshot asked for
  for i in 1 2 3 4 5; do
    rm -f "$dir"/*.snap
    run "$idle" raise_exit || fail "e2e_idle raise_exit exited with $?"
    [ "$(count "$dir")" = 1 ] || fail "raise then exit, run $i: $(count "$dir") snapshots, want 1"
  done
  ;;
no_exit_snapshot)
  HEAPSNAP_AT_EXIT=1 run "$idle" _exit
  rc=0
  HEAPSNAP_AT_EXIT=1 run "$idle" abort 2>/dev/null || rc=$?
  [ "$rc" = 134 ] || fail "abort gave status $rc, want 134"
  [ "$(count "$dir")" = 0 ] || fail "a snapshot after _exit or abort"
  ;;
exec)
  HEAPSNAP_AT_EXIT=1 run "$idle" exec
  [ "$(count "$dir")" = 1 ] || fail "$(count "$dir") files, want 1"
  sites exit
  "$check" "$dir"/*.snap "$dir/sites"
  ;;
api_reenter)
  # An API snapshot from a signal handler that interrupted the thread's own
  # snapshot: HS_EBUSY at once (it used to wait on the shim's lock forever).
  out=$(HEAPSNAP_KEEP=3 run "$idle" reenter 30)
  echo "main ok, handler ok, busy, other: $out"
  read -r main ok busy other <<<"$out"
  [ "$main" = 30 ] || fail "$main of 30 snapshots of the main thread written"
  [ "$other" = 0 ] || fail "$other handler calls failed otherwise than busy"
  [ "$busy" -gt 0 ] || fail "no handler call came during a snapshot"
  ;;
output_unchanged)
  "$idle" echo >"$dir/bare" 2>&1
  HEAPSNAP_INTERVAL=0.01 run "$idle" echo >"$dir/shim" 2>&1
  cmp "$dir/bare" "$dir/shim" || fail "output differs under the shim"
  ;;
bad_settings)
  HEAPSNAP_SIGNAL=bogus HEAPSNAP_INTERVAL=abc HEAPSNAP_KEEP=-1 \
    HEAPSNAP_DEPTH=0 HEAPSNAP_AT_EXIT=x HEAPSNAP_VERBOSE=2 HEAPSNAP_SCAN=maybe \
    HEAPSNAP_SCAN_REGISTERS=7 run "$idle" echo >"$dir/out" 2>"$dir/err"
  "$idle" echo | cmp - "$dir/out" || fail "output changed"
  cat "$dir/err"
  [ "$(wc -l <"$dir/err")" = 8 ] || fail "want 8 warnings"
  for v in SIGNAL=bogus INTERVAL=abc KEEP=-1 DEPTH=0; do
    grep -q "^heapsnap: HEAPSNAP_$v: expected .*; using " "$dir/err" ||
      fail "no warning for HEAPSNAP_$v"
  done
  # The 0/1 switches: each its own default.
  for v in AT_EXIT=x:0 VERBOSE=2:0 SCAN=maybe:1 SCAN_REGISTERS=7:0; do
    grep -qx "heapsnap: HEAPSNAP_${v%:*}: expected 1 or 0 (or yes/no, true/false, on/off); using ${v#*:}" \
      "$dir/err" || fail "no warning for HEAPSNAP_${v%:*} (default ${v#*:})"
  done
  [ "$(count "$dir")" = 0 ] || fail "HEAPSNAP_AT_EXIT=x wrote a snapshot"
  ;;
unwritable_dir)
  out=$(HEAPSNAP_DIR=$dir/missing LD_PRELOAD=$shim "$idle" snap 2>"$dir/err") &&
    fail "snapshot into a missing folder succeeded"
  [ "$out" = failed ] || fail "program printed '$out'"
  cat "$dir/err"
  [ "$(wc -l <"$dir/err")" = 2 ] || fail "want a start warning and one failure line"
  grep -q "is not a directory" "$dir/err" || fail "no start warning"
  grep -q "cannot write a snapshot in $dir/missing: " "$dir/err" || fail "no failure line"
  ;;
missing_dir_snap)
  # heapsnap snap names the real folder and says why, at once, each time;
  # the shim says one error once a minute; heapsnap ps shows the folder.
  HEAPSNAP_DIR=$dir/missing LD_PRELOAD=$shim "$idle" sleep 20000 2>"$dir/err" &
  pid=$!
  trap 'kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 250); do
    grep -qx 'heapsnap:12' /proc/$pid/task/*/comm 2>/dev/null && break
    sleep 0.02
  done
  for k in 1 2; do
    rc=0 start=$SECONDS
    "$bin/heapsnap" snap --timeout 30 $pid >"$dir/out" 2>"$dir/snap.err" || rc=$?
    [ $rc = 1 ] || fail "snap $k: status $rc, want 1"
    [ "$(cat "$dir/snap.err")" = "heapsnap snap: process $pid could not write its snapshot in $dir/missing: No such file or directory" ] ||
      fail "snap $k: $(cat "$dir/snap.err")"
    [ $((SECONDS - start)) -lt 10 ] || fail "snap $k waited for its timeout"
  done
  [ "$(grep -c 'cannot write a snapshot' "$dir/err")" = 1 ] ||
    fail "the shim said the same error $(grep -c 'cannot write' "$dir/err") times in a minute"
  "$bin/heapsnap" ps | grep -Eq "^$pid .* $dir/missing  " ||
    fail "ps: $("$bin/heapsnap" ps)"
  mkdir "$dir/missing"
  out=$("$bin/heapsnap" snap $pid) || fail "snap after mkdir"
  [ "$out" = "$dir/missing/e2e_idle.$pid.1.snap" ] || fail "snap printed $out"
  ;;
fork_child_pending)
  # A child of fork that has not allocated: its shim has not started.
  # heapsnap ps shows it with its parent's settings; snap says so (exit 1).
  HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$idle" fork 20000 >"$dir/out" &
  parent=$!
  trap 'kill -9 $parent $child 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 250); do grep -q '^child ' "$dir/out" && break; sleep 0.02; done
  child=$(sed -n 's/^child //p' "$dir/out")
  [ -n "$child" ] || fail "no child"
  "$bin/heapsnap" ps --json | python3 -c "
import json, sys
r = [r for r in json.load(sys.stdin) if r['pid'] == $child]
assert len(r) == 1 and r[0]['ppid'] == $parent and r[0]['dir'] == '$dir' \
    and r[0]['mode'] == 'full' and r[0]['started'] is False \
    and r[0]['snapshots'] == 0, r
" || fail "ps: $("$bin/heapsnap" ps)"
  # the text says so too, in the SIGNAL column (a 0 alone read as started)
  "$bin/heapsnap" ps | grep -Eq "^$child +$parent +full +0  not started  $dir  " ||
    fail "ps text: $("$bin/heapsnap" ps)"
  rc=0
  "$bin/heapsnap" snap $child >/dev/null 2>"$dir/snap.err" || rc=$?
  [ $rc = 1 ] || fail "snap of the child: status $rc, want 1"
  grep -q "^heapsnap snap: process $child is a child of process $parent, whose shim it inherited; the shim starts in a child of fork at its first allocation" "$dir/snap.err" ||
    fail "snap: $(cat "$dir/snap.err")"
  ;;
disk_full)
  mkdir "$dir/small"
  mount -t tmpfs -o size=64k tmpfs "$dir/small" 2>/dev/null || {
    echo "SKIP: cannot mount a small tmpfs here"; exit 77; }
  trap 'umount "$dir/small"; rm -rf "$dir"' EXIT
  cat /dev/zero >"$dir/small/filler" 2>/dev/null || true # until ENOSPC
  out=$(HEAPSNAP_DIR=$dir/small LD_PRELOAD=$shim "$idle" snap 2>"$dir/err") &&
    fail "snapshot on a full disk succeeded"
  cat "$dir/err"
  grep -q "cannot write a snapshot in $dir/small: No space left" "$dir/err" ||
    fail "no failure line"
  [ "$(ls -A "$dir/small")" = filler ] || fail "left: $(ls -A "$dir/small")"
  ;;
reused_pid)
  # The shell takes the pid the program will have (exec), and leaves a file
  # with number 1 as an earlier process would have.
  out=$(HEAPSNAP_DIR=$dir LD_PRELOAD=$shim sh -c \
    ': >"$0/e2e_idle.$$.1.snap"; exec "$1" snap' "$dir" "$idle")
  case $out in *.2.snap) ;; *) fail "got $out, want number 2" ;; esac
  [ ! -s "$(ls "$dir"/*.1.snap)" ] || fail "file 1 was overwritten"
  ;;
signal_name)
  HEAPSNAP_SIGNAL=USR1 HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$idle" sleep 3000 &
  pid=$!
  for _ in $(seq 100); do
    grep -qx 'heapsnap:10' /proc/$pid/task/*/comm 2>/dev/null && break
    sleep 0.02
  done
  grep -qx 'heapsnap:10' /proc/$pid/task/*/comm || fail "no thread heapsnap:10"
  kill -USR1 $pid
  for _ in $(seq 100); do [ "$(count "$dir")" = 1 ] && break; sleep 0.05; done
  rc=0
  wait $pid || rc=$?
  [ "$rc" = 0 ] || fail "program died with $rc"
  [ "$(count "$dir")" = 1 ] || fail "no snapshot on SIGUSR1"
  sites signal
  "$check" "$dir"/*.snap "$dir/sites"
  ;;
launcher_run)
  rc=0
  "$bin/heapsnap" run --dir "$dir" --at-exit -- "$idle" exit || rc=$?
  [ "$rc" = 0 ] || fail "heapsnap run gave $rc"
  sites exit
  "$check" "$dir"/*.snap "$dir/sites"
  ;;
launcher_sample)
  # --sample: the shim samples with the gap the launcher passed on ("4K"),
  # and says why there is no scan; --no-scan: every block, no scan.
  "$bin/heapsnap" run --dir "$dir" --at-exit --sample 4K -- "$idle" exit ||
    fail "heapsnap run --sample failed"
  "$bin/heapsnap" dump "$dir"/*.snap >"$dir/dump" || fail "dump failed"
  grep -Eq '^  tracking +sampled \(mean gap 4096 bytes\)$' "$dir/dump" ||
    fail "not sampled at 4096: $(grep tracking "$dir/dump")"
  grep -Eq '^  reachability +not scanned: sampling mode$' "$dir/dump" ||
    fail "no 'sampling mode' note: $(grep reachability "$dir/dump")"
  rm "$dir"/*.snap
  "$bin/heapsnap" run --dir "$dir" --at-exit --no-scan -- "$idle" exit ||
    fail "heapsnap run --no-scan failed"
  "$bin/heapsnap" dump "$dir"/*.snap >"$dir/dump" || fail "dump failed"
  grep -Eq '^  tracking +full$' "$dir/dump" || fail "--no-scan: not full"
  ! grep -q reachability "$dir/dump" || fail "--no-scan: $(grep reachability "$dir/dump")"
  sites exit
  "$check" "$dir"/*.snap "$dir/sites"
  ;;
*)
  fail "unknown case $case_"
  ;;
esac
echo "ok: $case_"
