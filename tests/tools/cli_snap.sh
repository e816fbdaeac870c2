#!/bin/bash
# cli_snap.sh - `heapsnap snap PID`: refuses processes without the shim
# (and leaves them alive), finds the shim's thread and folder by the
# conventions of docs/environment.md, signals it and prints the new file.
# The shim here is fakeshim_tools.c; the real one is tested in tests/e2e.
# shellcheck source=tests/tools/cli_lib.sh
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
  wait_for 10 has_shim_thread "$pid" || fail "no heapsnap: thread in $pid"
}

has_shim_thread() { grep -qs '^heapsnap:' /proc/"$1"/task/*/comm; }

shim_tid() {
  grep -ls '^heapsnap:' /proc/"$1"/task/*/comm | head -1 | cut -d/ -f5
}

alive() { kill -0 "$1" 2>/dev/null; }

# A missing process.
sh -c 'exit 0' &
gone=$!
wait "$gone"
usage_error "missing pid" "heapsnap snap: no process $gone" "$H" snap "$gone"

# A process without the shim: refused, nothing sent (SIGUSR2 would kill it).
sleep 60 &
plain=$!
HS_PIDS+=("$plain")
usage_error "no shim" "heapsnap snap: process $plain does not run the heapsnap shim; start it with \`heapsnap run\` or LD_PRELOAD=libheapsnap.so" \
  "$H" snap "$plain"
sleep 0.1
alive "$plain" || fail "no shim: process $plain died"

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

# --dir looks elsewhere; nothing comes there, so it times out (exit 1).
cap "$H" snap --dir "$T/other" --timeout 0.3 "$pid"
expect_rc 1 "timeout"
expect_err_lines 1 "timeout"
expect_eq "$err" "heapsnap snap: no new snapshot of process $pid in $T/other after 0.3 s" \
  "timeout"
expect_eq "$out" "" "timeout: stdout"
usage_error "--dir missing" "heapsnap snap: --dir: '$T/none': No such file" \
  "$H" snap --dir "$T/none" "$pid"

# A thread id is not a process id.
tid=$(shim_tid "$pid")
usage_error "thread id" "heapsnap snap: $tid is a thread of process $pid; give the process id" \
  "$H" snap "$tid"
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
