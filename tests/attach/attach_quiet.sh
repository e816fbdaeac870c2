#!/usr/bin/env bash
# attach_quiet.sh BIN SRC
# While attached, the snapshot signal cuts no call of the program short and
# runs nothing in its threads: attach_quiet (main thread in epoll_wait,
# poll and nanosleep, no SIGUSR2 handler) attached, sent `kill -USR2` for
# the whole process 20 times (dropped: it neither dies nor sees EINTR),
# then `heapsnap snap` twice (each writes a snapshot). Detach gives
# SIGUSR2 back as it was (not ignored, not caught). Attached again with
# --interval 0.2, it writes interval snapshots while more SIGUSR2 come,
# and detaches. Attached a third time, the program takes SIGUSR2 with a
# raw rt_sigaction: the shim's thread finds it at its next wake-up, moves
# to SIGRTMIN+5, says so once, and renames itself heapsnap:<signal>;
# `heapsnap snap` still works, and detach leaves the program's handler.
# While attached, the program's descriptors are the same as before (no
# pipe of libunwind's). The program ends with "eintr 0".
set -euo pipefail
. "$2/attach_lib.sh"
prog=$bin/attach_quiet
usr2=$((1 << (12 - 1))) # SIGUSR2's bit in /proc/PID/status masks

sig_bits() { # sig_bits PID FIELD: the mask as a number
  echo $((0x$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status")))
}

"$prog" "$rl_dir/stop" "$rl_dir/take" >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
threads_up() { [ "$(ls /proc/$pid/task | wc -l)" = 2 ]; }
hs_wait_for 10 threads_up || fail "its threads did not start"
[ $(($(sig_bits $pid SigIgn) & usr2)) = 0 ] || fail "SIGUSR2 ignored before attach"
fds() { ls -l "/proc/$pid/fd" | awk 'NR > 1 { print $(NF - 2), $NF }' | sort; }
fds >"$rl_dir/fds.before"
al_attach "$pid" --dir "$rl_dir"
echo "$al_line"
[ $(($(sig_bits $pid SigCgt) & usr2)) = 0 ] ||
  fail "attached, the shim installed a handler for SIGUSR2"
for i in $(seq 1 20); do
  kill -USR2 "$pid" || fail "kill $i: the process is gone"
  sleep 0.03
done
kill -0 "$pid" 2>/dev/null || fail "the process died of SIGUSR2"
for i in 1 2; do
  "$hs" snap "$pid" >/dev/null || fail "snap $i failed"
done
[ "$(find "$rl_dir" -name '*.snap' | wc -l)" = 2 ] || fail "want 2 snapshots"
# libunwind's walks (the snapshots' new stacks) made no pipe of their own
fds >"$rl_dir/fds.attached"
cmp -s "$rl_dir/fds.before" "$rl_dir/fds.attached" ||
  fail "attached, descriptors changed: $(diff "$rl_dir/fds.before" "$rl_dir/fds.attached" | tr '\n' ' ')"
line=$("$hs" detach "$pid" 2>&1) || fail "detach: $line"
[ $(($(sig_bits $pid SigIgn) & usr2)) = 0 ] || fail "SIGUSR2 still ignored after detach"
[ $(($(sig_bits $pid SigCgt) & usr2)) = 0 ] || fail "SIGUSR2 caught after detach"
mkdir "$rl_dir/iv"
al_attach "$pid" --dir "$rl_dir/iv" --interval 0.2
three() {
  kill -USR2 "$pid"
  [ "$(find "$rl_dir/iv" -name '*.snap' | wc -l)" -ge 3 ]
}
hs_wait_for 20 three || fail "no 3 interval snapshots in 20 s"
line=$("$hs" detach "$pid" 2>&1) || fail "detach after the interval: $line"
[ $(($(sig_bits $pid SigIgn) & usr2)) = 0 ] || fail "SIGUSR2 ignored after the 2nd detach"
mkdir "$rl_dir/mv"
al_attach "$pid" --dir "$rl_dir/mv" --interval 0.2
rt5=$(kill -l RTMIN+5)
names() { cat /proc/$pid/task/*/comm 2>/dev/null | tr '\n' ' '; }
grep -qw "heapsnap:12" <<<"$(names)" || fail "attached, the shim's thread is not heapsnap:12: $(names)"
touch "$rl_dir/take"
moved() { grep -qw "heapsnap:$rt5" <<<"$(names)"; }
hs_wait_for 20 moved || fail "the shim's thread did not become heapsnap:$rt5 (threads: $(names))"
s=$("$hs" snap "$pid") || fail "snap after the move"
[[ "$s" == "$rl_dir"/mv/*.snap ]] || fail "snap after the move printed $s"
line=$("$hs" detach "$pid" 2>&1) || fail "detach after the move: $line"
[ $(($(sig_bits $pid SigCgt) & usr2)) != 0 ] || fail "the program's SIGUSR2 handler is gone after detach"
said=$(grep -c "handles SIGUSR2 itself; snapshots now on SIGRTMIN+5" "$rl_dir/err" || true)
[ "$said" = 1 ] || fail "the move said $said times: $(cat "$rl_dir/err")"
touch "$rl_dir/stop"
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "exited with $rl_status"
[ "$(cat "$rl_dir/out")" = "eintr 0" ] || fail "the program says: $(cat "$rl_dir/out")"
echo "ok: process-directed SIGUSR2 dropped, no call cut short, 2 snapshots by snap, interval snapshots, a raw rt_sigaction followed (heapsnap:$rt5)"
