#!/usr/bin/env bash
# attach_slowcall.sh BIN SRC
# An attach whose dlopen waits behind another thread's loader lock (a
# module's constructor that holds it), in a process that is stopped
# meanwhile: after 30 s the waiting line says the process is stopped and
# that kill -CONT continues it (before: only that the call had not
# returned). Continued and let go, the attach completes. Takes 30 s.
set -euo pipefail
. "$2/attach_lib.sh"
"$bin/attach_slowdl" "$rl_dir" "$3" >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
trap 'kill -CONT $pid 2>/dev/null; rl_cleanup' EXIT
hs_wait_for 10 grep -q '^locked' "$rl_dir/out" || fail "the module's constructor never ran: $(cat "$rl_dir/err")"
"$hs" attach --dir "$rl_dir" $pid >"$rl_dir/attach.out" 2>"$rl_dir/attach.err" &
attach=$!
rl_track $attach
held() { grep -q '^TracerPid:.[1-9]' "/proc/$pid/status" || [ -s "$rl_dir/attach.err" ]; }
hs_wait_for 10 held || fail "attach held no thread in 10 s"
case $(cat "$rl_dir/attach.err") in
"") ;;
*"ptrace not permitted"*) skip "this machine does not let us ptrace: $(cat "$rl_dir/attach.err")" ;;
*) fail "attach: $(cat "$rl_dir/attach.err")" ;;
esac
touch "$rl_dir/stop"
stopped() { grep -qs '^State:.T (stopped)' /proc/$pid/task/*/status; }
hs_wait_for 10 stopped || fail "the process did not stop"
late="heapsnap attach: process $pid: the call has not returned in 30 s, and the process is stopped (SIGSTOP or ^Z): it goes on when the process continues (kill -CONT $pid); waiting for it (cut short, the process would crash; Ctrl-C waits for it too, kill -9 crashes the process)"
said() { [ -s "$rl_dir/attach.err" ]; }
hs_wait_for 45 said || fail "attach said nothing in 45 s"
[ "$(cat "$rl_dir/attach.err")" = "$late" ] ||
  fail "attach said: $(cat "$rl_dir/attach.err")"
kill -CONT $pid
touch "$rl_dir/go"
rc=0
wait $attach || rc=$?
[ $rc = 0 ] || fail "attach: exit $rc: $(cat "$rl_dir/attach.err")"
grep -q "^heapsnap: attached to process $pid: " "$rl_dir/attach.out" ||
  fail "attach printed: $(cat "$rl_dir/attach.out")"
[ "$(wc -l <"$rl_dir/attach.err")" = 1 ] ||
  fail "attach said more: $(cat "$rl_dir/attach.err")"
kill -0 $pid || fail "process $pid died"
echo "ok: the waiting line said the process was stopped; continued, the attach completed"
