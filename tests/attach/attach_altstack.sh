#!/usr/bin/env bash
# attach_altstack.sh BIN SRC
# stress_stack's alternate stacks in an attached process: the first set
# before the attach, the next two after it (through the program's GOT,
# which attach patches). On each, a handler that allocates from new call
# sites must go at most 3 KiB deeper than bare: the shim keeps each
# thread's alternate stack and skips libunwind's check there, which takes
# some 4.5 KiB more (on a smaller stack, the handler crashed).
set -euo pipefail
. "$2/attach_lib.sh"
prog=$bin/stress_stack
echo | timeout 60 "$prog" altstack wait >"$rl_dir/alt.bare" ||
  fail "exit $? bare"
rl_start alt "$prog" altstack wait
al_attach "$pid" --dir "$rl_dir"
echo >&3
exec 3>&-
rl_wait_exit "$pid" 60
[ "$rl_status" = 0 ] || fail "exit $rl_status attached ($(tr '\n' ' ' <"$rl_dir/alt.out"))"
paste -d: "$rl_dir/alt.bare" "$rl_dir/alt.out" |
  awk -F: -v b=3072 -f "$2/../stress/altstack_cmp.awk" >"$rl_dir/alt.cmp" ||
  fail "$(cat "$rl_dir/alt.cmp")"
cat "$rl_dir/alt.out"
echo "ok: attached, handlers on alternate stacks set before and after the attach skip libunwind's check"
