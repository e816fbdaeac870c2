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

# start CASE [MODE]: the program in $rl_dir/CASE, its pid in $pid
start() {
  mkdir "$rl_dir/$1"
  "$bin/attach_sigwait" "$rl_dir/$1/stop" ${2:+"$2"} >"$rl_dir/$1/out" 2>"$rl_dir/$1/err" &
  pid=$!
  rl_track $pid
  hs_wait_for 10 grep -q '^ready' "$rl_dir/$1/out" || fail "$1: never ready"
}
# moved CASE: the shim took SIGUSR2 for the program's, and said so once
moved() {
  said() { grep -q "waits for SIGUSR2 itself; snapshots now on" "$rl_dir/$1/err"; }
  hs_wait_for 10 said "$1" || fail "$1: the shim did not take SIGUSR2 for the program's: $(cat "$rl_dir/$1/err")"
  [ "$(grep -c 'itself' "$rl_dir/$1/err")" = 1 ] || fail "$1: moved more than once: $(cat "$rl_dir/$1/err")"
}
# kills CASE N: N kill -USR2, each read by the program before the next
kills() {
  for i in $(seq 1 "$2"); do
    kill -USR2 "$pid"
    hs_wait_for 5 grep -qx "got $i" "$rl_dir/$1/out" ||
      fail "$1: kill $i: the program did not get it ($(tail -1 "$rl_dir/$1/out"))"
  done
}
# detached CASE: a snap, then detach
detached() {
  "$hs" snap "$pid" >/dev/null || fail "$1: snap"
  line=$("$hs" detach "$pid" 2>&1) || fail "$1: detach: $line"
}
# stopped CASE: the program stopped, exited 0
stopped() {
  touch "$rl_dir/$1/stop"
  rl_wait_exit "$pid" 30
  [ "$rl_status" = 0 ] || fail "$1: exited with $rl_status"
}

# A signalfd: every kill read there, none a snapshot; SIGUSR2 neither
# caught nor ignored after detach.
start fd
al_attach "$pid" --dir "$rl_dir/fd"
moved fd
kills fd 20
[ "$(find "$rl_dir/fd" -name '*.snap' | wc -l)" = 0 ] || fail "fd: a kill -USR2 took a snapshot"
detached fd
[ $(($(sig_bits $pid SigIgn) & usr2)) = 0 ] || fail "fd: SIGUSR2 ignored after detach"
[ $(($(sig_bits $pid SigCgt) & usr2)) = 0 ] || fail "fd: SIGUSR2 caught after detach"
stopped fd

# Every signal blocked in every thread, one in sigwait for others: SIGUSR2
# stays the shim's (it moved through every real-time signal, a line each).
start others others
al_attach "$pid" --dir "$rl_dir/others" --interval 0.1
snapped() { [ -n "$(find "$rl_dir/others" -name '*.snap')" ]; }
hs_wait_for 10 snapped || fail "others: no interval snapshot"
detached others
stopped others
[ ! -s "$rl_dir/others/err" ] || fail "others: the shim moved: $(head -3 "$rl_dir/others/err")"

# Every signal blocked in every thread, one thread in sigwait for all of
# them (the classic daemon): SIGUSR2 is the program's, each kill reaches
# it. The interval wakes the shim's thread: the attach may have taken the
# waiting thread itself, which waits again only after the first look.
start all all
al_attach "$pid" --dir "$rl_dir/all" --interval 0.2
moved all
kills all 10
detached all
stopped all
# A program that starts to wait for SIGUSR2 after the attach, in a thread
# made then: the kernel offers a process-directed signal to the shim's
# thread first (it comes before that thread in the list), and the shim
# had not seen the wait at its last wake-up. The shim's thread, woken by
# a signal that is not `heapsnap snap`'s, looks again, finds the program
# waiting, moves, and gives the signal back: the program gets every one.
# Before, the first was taken for a snapshot.
start late late
al_attach "$pid" --dir "$rl_dir/late"
touch "$rl_dir/late/stop.go"
hs_wait_for 10 grep -q '^waiting' "$rl_dir/late/out" || fail "late: the thread never started"
tid=$(awk '$1 == "waiting" { print $2 }' "$rl_dir/late/out")
# 128: rt_sigtimedwait on x86-64, the one architecture attach supports
in_wait() { [ "$(cut -d' ' -f1 "/proc/$pid/task/$tid/syscall" 2>/dev/null)" = 128 ]; }
hs_wait_for 10 in_wait || fail "late: thread $tid never waited in rt_sigtimedwait"
kills late 3
moved late
[ "$(find "$rl_dir/late" -name '*.snap' | wc -l)" = 0 ] || fail "late: a kill -USR2 took a snapshot"
detached late
stopped late

echo "ok: 20 kill -USR2 all read from the program's signalfd while attached; snap on the moved signal; a program waiting for other signals left SIGUSR2 to the shim; a daemon waiting for every signal got 10 of 10; a wait begun after the attach got 3 of 3"
