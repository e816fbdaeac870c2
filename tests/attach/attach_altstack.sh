#!/usr/bin/env bash
# attach_altstack.sh BIN SRC
# stress_stack's alternate stacks in an attached process. First the first
# stack set before the attach (the shim reads it from the kernel), the
# next two after it (through the program's GOT, which attach patches).
# Then the second set while detached, between a detach and a second
# attach (calls the shim did not see: it must read the stack again). On
# each, a handler that allocates from new call sites must go at most 3.5
# KiB deeper than bare: the shim keeps each thread's alternate stack and
# skips libunwind's check there, which takes some 4.6 KiB more (on a
# smaller stack, the handler crashed).
set -euo pipefail
. "$2/attach_lib.sh"
prog=$bin/stress_stack

# step TAG WHAT: waits (10 s at most) for the program's stderr to say WHAT
step() {
  hs_wait_for 10 rl_has_lines "$rl_dir/$1.err" "^$2\$" 1 ||
    fail "$1: the program did not say '$2' ($(tr '\n' ' ' <"$rl_dir/$1.err"))"
}

for mode in wait reattach; do
  printf '\n\n\n' | timeout 60 "$prog" altstack $mode >"$rl_dir/$mode.bare" 2>/dev/null ||
    fail "$mode: exit $? bare"
  rl_start $mode "$prog" altstack $mode
  step $mode ready
  al_attach "$pid" --dir "$rl_dir"
  echo >&3
  if [ $mode = reattach ]; then
    step $mode "detach now"
    line=$("$hs" detach "$pid" 2>&1) || fail "detach: $line"
    echo >&3
    step $mode "attach now"
    al_attach "$pid" --dir "$rl_dir"
    echo >&3
  fi
  exec 3>&-
  rl_wait_exit "$pid" 60
  [ "$rl_status" = 0 ] ||
    fail "$mode: exit $rl_status attached ($(tr '\n' ' ' <"$rl_dir/$mode.out"))"
  paste -d: "$rl_dir/$mode.bare" "$rl_dir/$mode.out" |
    awk -F: -v b=3584 -f "$2/../stress/altstack_cmp.awk" >"$rl_dir/$mode.cmp" ||
    fail "$mode: $(cat "$rl_dir/$mode.cmp")"
  echo "$mode: $(cat "$rl_dir/$mode.cmp")"
done
echo "ok: attached, handlers on alternate stacks set before, after and between attaches skip libunwind's check"
