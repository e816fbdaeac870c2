#!/usr/bin/env bash
# attach_restart.sh BIN SRC
# A one-thread program asleep in clock_nanosleep, then in poll: attached
# and detached in each. The attach interrupts the call, which the kernel
# then makes again as restart_syscall with the time left; the detach (and
# a second attach) must still find the thread at a safe point (before,
# "no thread came to a safe point in 5 s", exit 1, until the program woke
# up). Neither call is cut short: the program says "ok" for both. Each
# sleep is 10 s, so that two attaches and detaches fit in it on a loaded
# machine.
set -euo pipefail
. "$2/attach_lib.sh"
"$bin/attach_sleeper" 10 >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
hs_wait_for 10 grep -q '^ready' "$rl_dir/out" || fail "never ready"
nr() { cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null; }
in_call() { [ "$(nr)" = "$1" ]; }
# each CALL NR: attached and detached twice while the program waits in NR
each() {
  hs_wait_for 10 in_call "$2" || fail "$1: never waited in system call $2 (now: $(nr))"
  local i
  for i in 1 2; do
    al_attach "$pid" --dir "$rl_dir"
    # 219: restart_syscall on x86-64, the one architecture attach supports
    [ "$(nr)" = 219 ] || fail "$1: after attach $i the program is in system call $(nr), not restart_syscall"
    line=$("$hs" detach "$pid" 2>&1) || fail "$1: detach $i: $line"
  done
}
each clock_nanosleep 230
each poll 7
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "exited with $rl_status"
[ "$(cat "$rl_dir/out")" = "$(printf 'ready\nnanosleep ok\npoll ok')" ] ||
  fail "the program says: $(cat "$rl_dir/out")"
echo "ok: attached and detached twice in clock_nanosleep and in poll, each restarted as restart_syscall; neither cut short"
