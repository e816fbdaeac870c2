#!/usr/bin/env bash
# stress_exec_signal.sh BIN SHIM SRC
# Preloaded, the shim catches SIGUSR2 even where the program ignores it
# (the program's view stays SIG_IGN), and an exec resets a caught signal
# to its default. exec_signal, a service that sets SIGUSR2 to SIG_IGN,
# under the shim, starts programs by vfork and execv, by fork and execl:
# each starts with SIGUSR2 ignored, as the service has it (they run under
# the shim too, so sigaction's view is what counts: ign). An exec that
# fails puts the shim's handler back (`kill -USR2` gives a snapshot), and
# the service exec'd into a new image starts that with SIGUSR2 ignored.
# The same service leaving SIGUSR2 default gives programs that start with
# it default, by posix_spawn too. (A posix_spawn child of a service that
# ignores the signal starts with it default: docs/environment.md.)
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
. "$src/../support/exec_signal_lib.sh"
prog=$bin/exec_signal

run() { # run ignore|default: the checks, want = ign or dfl
  local want=$1 r s
  [ "$want" = ign ] && set -- ignore || set --
  rm -f "$rl_dir"/r-*
  mkdir -p "$rl_dir/snaps"
  env LD_PRELOAD="$shim" HEAPSNAP_DIR="$rl_dir/snaps" \
    "$prog" serve "$rl_dir" "$@" >"$rl_dir/out" 2>"$rl_dir/err" &
  pid=$!
  rl_track $pid
  local starts="vfork execl"
  [ "$want" = ign ] || starts="spawn spawn-attr $starts"
  for r in $starts; do
    es_ask $r
    [ "$es_view" = "$want" ] ||
      fail "$want: $r: the new program starts with SIGUSR2 $es_view, not $want"
  done
  es_ask fail
  [ "$es_errno" = 2 ] || fail "$want: the failed exec gave errno $es_errno"
  [ "$es_ign$es_cgt$es_view" = "01$want" ] ||
    fail "$want: after a failed exec: ign $es_ign cgt $es_cgt view $es_view"
  s=$(rl_count "$rl_dir/snaps" "$pid")
  kill -USR2 "$pid"
  hs_wait_for 10 rl_count_is "$rl_dir/snaps" $((s + 1)) "$pid" ||
    fail "$want: no snapshot for SIGUSR2 after a failed exec"
  es_ask exec
  [ "$es_view" = "$want" ] ||
    fail "$want: exec: the new image starts with SIGUSR2 $es_view, not $want"
  rl_wait_exit "$pid" 20
  [ "$rl_status" = 0 ] || fail "$want: the new image exited with $rl_status"
  [ ! -s "$rl_dir/err" ] || fail "$want: stderr: $(cat "$rl_dir/err")"
}
run ign
run dfl
# Failed execs in two threads while the program switches SIGUSR2 between
# SIG_IGN and SIG_DFL: the shim's handler is in place at the end, and the
# program's view is its last SIG_DFL.
line=$(env LD_PRELOAD="$shim" HEAPSNAP_DIR="$rl_dir/snaps" HEAPSNAP_INTERVAL=0.01 \
  timeout 60 "$prog" toggle 2>"$rl_dir/err") || fail "toggle failed: $(cat "$rl_dir/err")"
[ ! -s "$rl_dir/err" ] || fail "toggle: stderr: $(cat "$rl_dir/err")"
es_read toggle "$line"
[ "$es_ign$es_cgt$es_view" = 01dfl ] ||
  fail "toggle: SIGUSR2 left $line (want the shim's handler, view dfl)"
echo "ok: preloaded, programs started by vfork+execv, fork+execl and exec (and posix_spawn, default) see SIGUSR2 as the service set it; a failed exec gives the shim its handler back, also while the program switches it"
