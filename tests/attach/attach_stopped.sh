#!/usr/bin/env bash
# attach_stopped.sh BIN SRC
# A process stopped by SIGSTOP (or ^Z): attach works and leaves it
# stopped, but the shim's thread, made during the stop, starts only after
# a SIGCONT, so snap says the process is stopped and what continues it
# (before: "the shim's thread 0 ... is not there"). detach refuses at
# once, exit 1, before it holds any thread (before: hs_attach_stop waited
# for the stopped shim thread until someone sent SIGCONT). Continued,
# stopped again after a snapshot: snap sends the signal and says the
# snapshot comes when it continues, which it does; then detach works.
set -euo pipefail
. "$2/attach_lib.sh"
"$bin/attach_sleeper" 300 >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
trap 'kill -CONT $pid 2>/dev/null; rl_cleanup' EXIT
hs_wait_for 10 grep -q '^ready' "$rl_dir/out" || fail "never ready"
stopped() { grep -q '^State:.T (stopped)' "/proc/$pid/status"; }
kill -STOP $pid
hs_wait_for 10 stopped || fail "kill -STOP did not stop it"

# run CMD...: sets rc, out and err (whole stderr)
run() {
  rc=0
  "$@" >"$rl_dir/o" 2>"$rl_dir/e" || rc=$?
  out=$(cat "$rl_dir/o") err=$(cat "$rl_dir/e")
}
# expect WHAT RC ERR: the last run's status and stderr, nothing on stdout
expect() {
  [ "$rc" = "$2" ] || fail "$1: exit $rc, want $2 ($err)"
  [ "$err" = "$3" ] || fail "$1: stderr '$err', want '$3'"
  [ -z "$out" ] || fail "$1: stdout '$out'"
  echo "ok: $1: $err"
}

al_attach $pid --dir "$rl_dir"
stopped || fail "attach: the process runs on after attaching"
run timeout 20 "$hs" snap --timeout 5 $pid
expect "snap, attached while stopped" 1 \
  "heapsnap snap: process $pid is stopped (SIGSTOP or ^Z), and the shim's thread has not started in it: continue it (kill -CONT $pid), then snap again"
start=$SECONDS
run timeout -k 5 20 "$hs" detach $pid
expect "detach while stopped" 1 \
  "heapsnap detach: process $pid is stopped (SIGSTOP or ^Z); continue it first (kill -CONT $pid), then detach"
[ $((SECONDS - start)) -lt 5 ] || fail "detach took $((SECONDS - start)) s to refuse"
stopped || fail "detach: the process runs on"

kill -CONT $pid
shim_thread() { grep -qx 'heapsnap:12' /proc/$pid/task/*/comm; }
hs_wait_for 10 shim_thread || fail "no shim thread after SIGCONT"
snap=$("$hs" snap --timeout 20 $pid) || fail "snap after SIGCONT"
[ "$snap" = "$rl_dir/attach_sleeper.$pid.1.snap" ] || fail "snap printed $snap"

kill -STOP $pid
hs_wait_for 10 stopped || fail "the second kill -STOP did not stop it"
run timeout 20 "$hs" snap --timeout 5 $pid
expect "snap while stopped" 1 \
  "heapsnap snap: process $pid is stopped (SIGSTOP or ^Z): its snapshot comes when it continues (kill -CONT $pid)"
kill -CONT $pid
hs_wait_for 10 test -f "$rl_dir/attach_sleeper.$pid.2.snap" ||
  fail "no snapshot after SIGCONT: $(ls "$rl_dir")"
line=$(timeout -k 5 20 "$hs" detach $pid 2>&1) || fail "detach after SIGCONT: $line"
kill -0 $pid || fail "process $pid died"
echo "ok: attach leaves a stopped process stopped; snap and detach say it is stopped and what continues it"
