#!/usr/bin/env bash
# attach_exec.sh BIN SRC
# Attached, the shim keeps SIGUSR2 ignored (attach_quiet.sh), and an
# ignored signal stays ignored across exec. exec_signal, a service that
# leaves SIGUSR2 default, attached, starts programs by posix_spawn, by
# vfork and execv, by fork and execl: each starts with SIGUSR2 default
# (posix_spawn with the program's own attributes too, which still apply),
# neither ignored nor caught. An exec that fails puts the shim's way back
# (ignored; `kill -USR2` dropped, `heapsnap snap` works), and the service
# exec'd into a new image starts that with SIGUSR2 default too.
# Then a service that ignores SIGUSR2 itself, attached, installs a handler
# for it (attached, nothing of the shim sees that call): a failed exec
# leaves the program's handler in place, and so does detach.
set -euo pipefail
. "$2/attach_lib.sh"
. "$2/../support/exec_signal_lib.sh"
prog=$bin/exec_signal

"$prog" serve "$rl_dir" >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
threads_up() { [ "$(ls /proc/$pid/task | wc -l)" = 2 ]; }
hs_wait_for 10 threads_up || fail "its threads did not start"
al_attach "$pid" --dir "$rl_dir"
[ "$(es_usr2 $pid SigIgn)" = 1 ] || fail "attached, SIGUSR2 is not ignored"
for r in spawn spawn-attr vfork execl; do
  es_ask $r
  [ "$es_ign$es_cgt$es_view" = 00dfl ] ||
    fail "$r: the new program starts with SIGUSR2 ign $es_ign cgt $es_cgt view $es_view, not default"
  want_int=1 # the service ignores SIGINT; spawn-attr's attributes reset it
  [ $r != spawn-attr ] || want_int=0
  [ "$es_int" = $want_int ] || fail "$r: SIGINT ignored $es_int, want $want_int"
done
[ "$(es_usr2 $pid SigIgn)$(es_usr2 $pid SigCgt)" = 10 ] ||
  fail "after the children, SIGUSR2 is not ignored in the service"
es_ask fail
[ "$es_errno" = 2 ] || fail "the failed exec gave errno $es_errno, not ENOENT"
[ "$es_ign$es_cgt" = 10 ] ||
  fail "after a failed exec, SIGUSR2 is not ignored again: ign $es_ign cgt $es_cgt"
kill -USR2 "$pid"
sleep 0.2
state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || echo gone)
case $state in Z | gone) fail "the service died of SIGUSR2 after a failed exec" ;; esac
s=$("$hs" snap "$pid") || fail "snap after the failed exec"
[[ "$s" == "$rl_dir"/*.snap ]] || fail "snap printed $s"
es_ask exec
[ "$es_ign$es_cgt$es_view" = 00dfl ] ||
  fail "exec: the service's new image starts with SIGUSR2 ign $es_ign cgt $es_cgt view $es_view, not default"
rl_wait_exit "$pid" 20
[ "$rl_status" = 0 ] || fail "the new image exited with $rl_status"
[ ! -s "$rl_dir/err" ] || fail "stderr: $(cat "$rl_dir/err")"

rm -f "$rl_dir"/r-*
"$prog" serve "$rl_dir" ignore >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
hs_wait_for 10 threads_up || fail "the second service's threads did not start"
al_attach "$pid" --dir "$rl_dir"
es_ask handle
[ "$es_cgt$es_view" = 1hnd ] || fail "the program's handler is not in place: cgt $es_cgt view $es_view"
es_ask fail
[ "$es_ign$es_cgt$es_view" = 01hnd ] ||
  fail "a failed exec replaced the program's handler: ign $es_ign cgt $es_cgt view $es_view"
line=$("$hs" detach "$pid" 2>&1) || fail "detach: $line"
[ "$(es_usr2 $pid SigCgt)" = 1 ] || fail "the program's handler is gone after detach"
touch "$rl_dir/stop"
rl_wait_exit "$pid" 20
[ "$rl_status" = 0 ] || fail "the second service exited with $rl_status"
echo "ok: attached, programs started by posix_spawn (with attributes too), vfork+execv, fork+execl and exec get SIGUSR2 default; a failed exec leaves it ignored, dropped, and snap works, and leaves a handler the program installed meanwhile"
