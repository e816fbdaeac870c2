#!/usr/bin/env bash
# attach_sigmask.sh BIN SRC
# stress_sigmask's cases in an attached process (the program started bare,
# attached, then a line on its stdin starts the case): signals 32 and 33
# stay blocked through allocations from new stacks, and a SIGEV_THREAD
# timer whose callbacks allocate runs 100 ticks. Attached, libunwind's
# mask calls reached glibc's sigprocmask, which unblocked 32 in glibc's
# timer thread: the process died of it.
set -euo pipefail
. "$2/attach_lib.sh"
prog=$bin/stress_sigmask
for case in mask timer; do
  want=$(echo | timeout 60 "$prog" $case wait) || fail "$case: exit $? bare"
  rl_start "$case" "$prog" $case wait
  al_attach "$pid" --dir "$rl_dir"
  echo >&3
  exec 3>&-
  rl_wait_exit "$pid" 60
  got=$(cat "$rl_dir/$case.out")
  [ "$rl_status" = 0 ] || fail "$case: exit $rl_status attached ($got)"
  [ "$got" = "$want" ] || fail "$case: '$got' attached, '$want' bare"
  echo "$case: $got"
done
echo "ok: attached, the shim's mask changes leave the program's mask as it was"
