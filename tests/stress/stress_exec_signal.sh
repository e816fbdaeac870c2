#!/usr/bin/env bash
# stress_exec_signal.sh BIN SHIM SRC
# Preloaded, the shim catches SIGUSR2 even where the program ignores it
# (the program's view stays SIG_IGN), and an exec resets a caught signal
# to its default. exec_signal, a service that sets SIGUSR2 to SIG_IGN,
# under the shim, starts programs by posix_spawn, by vfork and execv, by
# fork and execl: each starts with SIGUSR2 ignored, as the service has
# it (they run under the shim too, so sigaction's view is what counts:
# ign). An exec that fails puts the shim's handler back (`kill -USR2`
# gives a snapshot), and the service exec'd into a new image starts that
# with SIGUSR2 ignored. The same service leaving SIGUSR2 default gives
# programs that start with it default.
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
  for r in spawn vfork execl; do
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
echo "ok: preloaded, programs started by posix_spawn, vfork+execv, fork+execl and exec see SIGUSR2 as the service set it (ignored, default); a failed exec gives the shim its handler back"
