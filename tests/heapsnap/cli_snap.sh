#!/bin/bash
# cli_snap.sh - `heapsnap snap PID` and `heapsnap ps`: snap refuses
# processes without the shim (and leaves them alive), reads the shim's
# status file (docs/environment.md), signals its thread and prints the new
# file, or why there is none; ps lists the shimmed processes.
# The shim here is fakeshim_tools.c; the real one is tested in tests/e2e
# and tests/stress.
# shellcheck source=tests/heapsnap/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"

mkdir -p "$T/shim" "$T/snaps" "$T/other"
cp "$HS_FAKESHIM" "$T/shim/libheapsnap.so"
cp "$HS_FAKESHIM" "$T/shim/libnotthere.so"
USR2=$(kill -l USR2)

# start_sleeper LIB [run options...]: starts `sleep 60` under `heapsnap run`
# with the fake shim; sets pid. Waits for the shim's thread when there is
# one (FAKESHIM_MODE set).
start_sleeper() {
  local lib=$1
  shift
  HEAPSNAP_LIB=$lib "$H" run "$@" -- sleep 60 &
  pid=$!
  HS_PIDS+=("$pid")
  hs_wait_for 10 has_shim_thread "$pid" || fail "no heapsnap: thread in $pid"
}

has_shim_thread() { grep -Eqs '^(heapsnap|other):' /proc/"$1"/task/*/comm; }

shim_tid() {
  grep -ls '^heapsnap:' /proc/"$1"/task/*/comm | head -1 | cut -d/ -f5
}

alive() { kill -0 "$1" 2>/dev/null; }

# A missing process.
sh -c 'exit 0' &
gone=$!
wait "$gone"
usage_error "missing pid" "heapsnap snap: no process $gone" "$H" snap "$gone"

# A process that has exited, its parent not told yet (a zombie of a sleep
# that never waits): said so, exit 1, not "does not run the shim".
sh -c 'sleep 0 & echo $!; exec sleep 30' >"$T/zpid" &
HS_PIDS+=("$!")
for _ in $(seq 100); do
  z=$(cat "$T/zpid")
  [ -n "$z" ] && grep -q '^State:.Z' "/proc/$z/status" 2>/dev/null && break
  sleep 0.1
done
cap "$H" snap "$z"
expect_rc 1 "zombie"
expect_eq "$err" "heapsnap snap: process $z has exited (its parent has not reaped it yet)" "zombie"

# A process without the shim: refused, nothing sent (SIGUSR2 would kill it).
# The advice names the shim by the path `heapsnap run` would preload
# (ld.so cannot preload a bare name).
sleep 60 &
plain=$!
HS_PIDS+=("$plain")
usage_error "no shim" "heapsnap snap: process $plain does not run the heapsnap shim; start it with \`heapsnap run\` or LD_PRELOAD=$(realpath "$HS_SHIM")" \
  "$H" snap "$plain"
sleep 0.1
alive "$plain" || fail "no shim: process $plain died"
HEAPSNAP_LIB=$T/shim/libheapsnap.so usage_error "no shim, HEAPSNAP_LIB" \
  "heapsnap snap: process $plain does not run the heapsnap shim; start it with \`heapsnap run\` or LD_PRELOAD=$T/shim/libheapsnap.so" \
  "$H" snap "$plain"

# The fake shim, working.
export FAKESHIM_MODE=write
start_sleeper "$T/shim/libheapsnap.so" --dir "$T/snaps" --signal "$USR2"
alive "$pid" || fail "fake-shimmed sleep $pid did not start"
# Snapshots already there (another process with this pid, or an earlier
# one) are not the answer.
touch "$T/snaps/sleep.$pid.1.snap" "$T/snaps/sleep.$pid.9.snap" \
  "$T/snaps/.sleep.$pid.5.snap.tmp" "$T/snaps/sleep.1$pid.1.snap"
cap "$H" snap "$pid"
expect_rc 0 "snap"
expect_err_lines 0 "snap"
expect_eq "$out" "$T/snaps/sleep.$pid.2.snap" "snap"
[ -f "$T/snaps/sleep.$pid.2.snap" ] || fail "snap: no file"
cap "$H" snap --timeout 5 "$pid"
expect_rc 0 "second snap"
expect_eq "$out" "$T/snaps/sleep.$pid.3.snap" "second snap"
alive "$pid" || fail "snap: process $pid died"

# --dir looks elsewhere, where the file the process wrote is not.
cap "$H" snap --dir "$T/other" --timeout 5 "$pid"
expect_rc 1 "--dir elsewhere"
expect_eq "$err" "heapsnap snap: process $pid wrote sleep.$pid.4.snap in $T/snaps, which is not in $T/other" \
  "--dir elsewhere"
expect_eq "$out" "" "--dir elsewhere: stdout"
cap "$H" snap --dir "$T/snaps" "$pid"
expect_rc 0 "--dir there"
expect_eq "$out" "$T/snaps/sleep.$pid.5.snap" "--dir there"

# ps: the process, its mode, count and folder; JSON that parses.
cap "$H" ps
expect_rc 0 "ps"
printf '%s\n' "$out" | grep -Eq "^$pid +[0-9]+ +full +4  SIGUSR2 +$T/snaps +sleep 60\$" ||
  fail "ps: no line for $pid: $out"
# COMMAND lines up whatever the folders' lengths (other tests' processes
# may be listed too)
printf '%s\n' "$out" | awk -v pid="$pid" '
  NR == 1 { col = index($0, "COMMAND") }
  $1 == pid { at = index($0, "sleep 60") }
  END { exit !(col > 0 && at == col) }' ||
  fail "ps: COMMAND not in its column: $out"
cap "$H" ps --json
expect_rc 0 "ps --json"
printf '%s' "$out" | python3 -c "
import json, sys
rows = [r for r in json.load(sys.stdin) if r['pid'] == $pid]
assert len(rows) == 1, rows
r = rows[0]
assert (r['mode'], r['dir'], r['snapshots'], r['command'], r['signal'],
        r['started']) == ('full', '$T/snaps', 4, 'sleep 60', 'SIGUSR2', True), r
assert set(r) == {'pid', 'ppid', 'mode', 'dir', 'snapshots', 'command',
                  'signal', 'started'}, r
" || fail "ps --json: $out"
usage_error "ps operand" "heapsnap ps: unexpected argument 'x'" "$H" ps x
usage_error "--dir missing" "heapsnap snap: --dir: '$T/none': No such file" \
  "$H" snap --dir "$T/none" "$pid"

# A thread id is not a process id.
tid=$(shim_tid "$pid")
usage_error "thread id" "heapsnap snap: $tid is a thread of process $pid; give the process id" \
  "$H" snap "$tid"

# Stopped (SIGSTOP, ^Z): the signal is sent and stays pending; snap says
# so at once (exit 1), and the snapshot comes when the process continues.
kill -STOP "$pid"
start=$SECONDS
cap "$H" snap --timeout 20 "$pid"
expect_rc 1 "stopped"
expect_eq "$err" "heapsnap snap: process $pid is stopped (SIGSTOP or ^Z): its snapshot comes when it continues (kill -CONT $pid)" \
  "stopped"
expect_eq "$out" "" "stopped: stdout"
[ $((SECONDS - start)) -lt 10 ] || fail "stopped: snap waited for its timeout"
kill -CONT "$pid"
hs_wait_for 10 test -f "$T/snaps/sleep.$pid.6.snap" ||
  fail "stopped: no snapshot after SIGCONT"

# Not ours to see (run as nobody): the real /proc path named.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  cap setpriv --reuid=65534 --regid=65534 --clear-groups "$H" snap "$pid"
  expect_rc 2 "not ours"
  expect_eq "$err" "heapsnap snap: process $pid: /proc/$pid/maps: Permission denied; run as the process's user or as root" \
    "not ours"
else
  echo "note: not root (or no setpriv): snap as another user is not exercised"
fi
kill -KILL "$pid"

# The process ends instead of writing: exit 1 without waiting the timeout.
FAKESHIM_MODE="exit" start_sleeper "$T/shim/libheapsnap.so" --dir "$T/snaps" \
  --signal "$USR2"
start=$SECONDS
cap "$H" snap --timeout 20 "$pid"
expect_rc 1 "process exits"
expect_err_lines 1 "process exits"
expect_eq "$err" "heapsnap snap: process $pid exited before writing a snapshot" \
  "process exits"
[ $((SECONDS - start)) -lt 10 ] || fail "process exits: snap waited on"

# The shim cannot write: the reason, at once (not after the timeout).
FAKESHIM_MODE=fail start_sleeper "$T/shim/libheapsnap.so" --dir "$T/snaps" \
  --signal "$USR2"
start=$SECONDS
cap "$H" snap --timeout 20 "$pid"
expect_rc 1 "cannot write"
expect_eq "$err" "heapsnap snap: process $pid could not write its snapshot in $T/snaps: Read-only file system" \
  "cannot write"
[ $((SECONDS - start)) -lt 10 ] || fail "cannot write: snap waited on"
kill -KILL "$pid"

# The shim does not answer: the timeout.
FAKESHIM_MODE=mute start_sleeper "$T/shim/libheapsnap.so" --dir "$T/snaps" \
  --signal "$USR2"
cap "$H" snap --timeout 0.3 "$pid"
expect_rc 1 "timeout"
expect_err_lines 1 "timeout"
expect_eq "$err" "heapsnap snap: no new snapshot of process $pid in $T/snaps after 0.3 s" \
  "timeout"
kill -KILL "$pid"

# The thread the status names does not carry the signal in its name: not
# sure whose handler would run, so nothing is sent.
FAKESHIM_THREAD=other start_sleeper "$T/shim/libheapsnap.so" --dir "$T/snaps" \
  --signal "$USR2"
usage_error "thread misnamed" "not sending a signal that something else may handle" \
  "$H" snap "$pid"
alive "$pid" || fail "thread misnamed: process $pid died"
kill -KILL "$pid"

# The shim mapped, with no status file.
(unset FAKESHIM_MODE; HEAPSNAP_LIB=$T/shim/libheapsnap.so exec "$H" run -- sleep 60) &
pid=$!
HS_PIDS+=("$pid")
hs_wait_for 10 grep -qs libheapsnap /proc/"$pid"/maps
usage_error "no status" "process $pid maps the heapsnap shim, but the shim has no status file" \
  "$H" snap "$pid"
alive "$pid" || fail "no status: process $pid died"
kill -KILL "$pid"

# The signal trigger off: heapsnap:0.
start_sleeper "$T/shim/libheapsnap.so" --dir "$T/snaps" --signal none
usage_error "signal off" "heapsnap snap: process $pid runs the shim with its signal trigger off" \
  "$H" snap "$pid"
alive "$pid" || fail "signal off: process $pid died"
kill -KILL "$pid"

# A heapsnap: thread without libheapsnap.so mapped is not the shim.
start_sleeper "$T/shim/libnotthere.so" --dir "$T/snaps" --signal "$USR2"
usage_error "thread without the library" "process $pid does not run the heapsnap shim" \
  "$H" snap "$pid"
kill -KILL "$pid"

finish
