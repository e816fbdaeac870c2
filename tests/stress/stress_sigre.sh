#!/usr/bin/env bash
# stress_sigre.sh BIN SHIM SRC
# stress_sigre (a timer's handler that calls signal() and sigaction()
# while the main thread is inside them) without and under the shim, with
# a timeout: the same output, exit 0, nothing on stderr. The shim's hooks
# took their lock with the program's signals unblocked, and the program
# hung at the first tick that came inside one.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_sigre

timeout 120 "$prog" >"$rl_dir/bare.out" || fail "failed without the shim"
rc=0
LD_PRELOAD=$shim HEAPSNAP_DIR=$rl_dir timeout 120 "$prog" \
  >"$rl_dir/shim.out" 2>"$rl_dir/shim.err" || rc=$?
[ $rc = 0 ] || fail "under the shim: exit $rc$([ $rc = 124 ] && echo ' (hung)')"
[ ! -s "$rl_dir/shim.err" ] || fail "stderr: $(head -3 "$rl_dir/shim.err")"
cmp "$rl_dir/bare.out" "$rl_dir/shim.out" || fail "output differs under the shim"
echo "ok: $(cat "$rl_dir/shim.out")"
