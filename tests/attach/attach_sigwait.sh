#!/usr/bin/env bash
# attach_sigwait.sh BIN SRC
# A program that takes SIGUSR2 through a signalfd (blocked in every
# thread, left default) gets every `kill -USR2` while attached: the shim
# sees the signal blocked in all the program's threads, takes it for the
# program's and moves its snapshots to a real-time signal (one line
# says so). Before, the shim's own sigtimedwait dequeued some of them (a
# snapshot nobody asked for, a signal the program never got). Then
# `heapsnap snap` still works, and detach leaves SIGUSR2 neither caught
# nor ignored.
set -euo pipefail
. "$2/attach_lib.sh"
usr2=$((1 << (12 - 1)))
sig_bits() { echo $((0x$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"))); }

"$bin/attach_sigwait" "$rl_dir/stop" >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
hs_wait_for 10 grep -q '^ready' "$rl_dir/out" || fail "never ready"
al_attach "$pid" --dir "$rl_dir"
said() { grep -q "waits for SIGUSR2 itself; snapshots now on" "$rl_dir/err"; }
hs_wait_for 10 said || fail "the shim did not take SIGUSR2 for the program's: $(cat "$rl_dir/err")"
for i in $(seq 1 20); do
  kill -USR2 "$pid"
  hs_wait_for 5 grep -qx "got $i" "$rl_dir/out" ||
    fail "kill $i: the program did not get it ($(tail -1 "$rl_dir/out"))"
done
[ "$(find "$rl_dir" -name '*.snap' | wc -l)" = 0 ] || fail "a kill -USR2 took a snapshot"
s=$("$hs" snap "$pid") || fail "snap after the move"
[ -f "$s" ] || fail "snap printed $s"
line=$("$hs" detach "$pid" 2>&1) || fail "detach: $line"
[ $(($(sig_bits $pid SigIgn) & usr2)) = 0 ] || fail "SIGUSR2 ignored after detach"
[ $(($(sig_bits $pid SigCgt) & usr2)) = 0 ] || fail "SIGUSR2 caught after detach"
touch "$rl_dir/stop"
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "exited with $rl_status"

# Every signal blocked in every thread, one in sigwait for others: SIGUSR2
# stays the shim's (it moved through every real-time signal, a line each).
rm -f "$rl_dir/stop"
"$bin/attach_sigwait" "$rl_dir/stop" others >"$rl_dir/out2" 2>"$rl_dir/err2" &
pid=$!
rl_track $pid
hs_wait_for 10 grep -q '^ready' "$rl_dir/out2" || fail "others: never ready"
mkdir "$rl_dir/o"
al_attach "$pid" --dir "$rl_dir/o" --interval 0.1
snapped() { [ -n "$(find "$rl_dir/o" -name '*.snap')" ]; }
hs_wait_for 10 snapped || fail "others: no interval snapshot"
s=$("$hs" snap "$pid") || fail "others: snap"
[ ! -s "$rl_dir/err2" ] || fail "others: the shim moved: $(head -3 "$rl_dir/err2")"
line=$("$hs" detach "$pid" 2>&1) || fail "others: detach: $line"
touch "$rl_dir/stop"
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "others: exited with $rl_status"

# Every signal blocked in every thread, one thread in sigwait for all of
# them (the classic daemon): SIGUSR2 is the program's, each kill reaches it.
rm -f "$rl_dir/stop"
"$bin/attach_sigwait" "$rl_dir/stop" all >"$rl_dir/out3" 2>"$rl_dir/err3" &
pid=$!
rl_track $pid
hs_wait_for 10 grep -q '^ready' "$rl_dir/out3" || fail "all: never ready"
mkdir "$rl_dir/a"
# the interval wakes the shim's thread: the attach may have taken the
# waiting thread itself, which then waits again only after the first look
al_attach "$pid" --dir "$rl_dir/a" --interval 0.2
said3() { grep -q "waits for SIGUSR2 itself; snapshots now on" "$rl_dir/err3"; }
hs_wait_for 10 said3 || fail "all: the shim did not take SIGUSR2 for the program's: $(cat "$rl_dir/err3")"
for i in $(seq 1 10); do
  kill -USR2 "$pid"
  hs_wait_for 5 grep -qx "got $i" "$rl_dir/out3" ||
    fail "all: kill $i: the program did not get it ($(tail -1 "$rl_dir/out3"))"
done
"$hs" snap "$pid" >/dev/null || fail "all: snap after the move"
[ "$(grep -c 'itself' "$rl_dir/err3")" = 1 ] || fail "all: moved more than once: $(cat "$rl_dir/err3")"
line=$("$hs" detach "$pid" 2>&1) || fail "all: detach: $line"
touch "$rl_dir/stop"
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "all: exited with $rl_status"
echo "ok: 20 kill -USR2 all read from the program's signalfd while attached; snap on the moved signal; a program waiting for other signals left SIGUSR2 to the shim; a daemon waiting for every signal got 10 of 10"
