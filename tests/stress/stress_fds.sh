#!/usr/bin/env bash
# stress_fds.sh BIN SHIM SRC
# stress_fds (its phases: the first descriptor, RLIMIT_NOFILE 8, a
# close-all with a file read and a file written on 3 and 4, and one with
# an empty blocking pipe there, each while a new thread allocates from new
# stacks) under the shim and without it. Checks: the same output, and
# that output exact (no byte of the input read away, none written into
# the output file, the thread done while the pipe stays empty); nothing
# on stderr.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_fds

mkdir "$rl_dir/bare" "$rl_dir/shim"
timeout 60 "$prog" clean "$rl_dir/bare" >"$rl_dir/bare.out" ||
  fail "failed without the shim"
cat >"$rl_dir/want" <<'WANT'
first 3
limit 5 opened, then Too many open files
reuse on 3 and 4: read 6 "ABCDEF", wrote 5, file has 5 "hello"
block on 3 and 4: thread ended, pipe empty
WANT
cmp -s "$rl_dir/want" "$rl_dir/bare.out" ||
  fail "without the shim: $(diff "$rl_dir/want" "$rl_dir/bare.out" | head -5)"

# A walk that waits on the pipe never ends: the timeout says so.
status=0
timeout 60 env LD_PRELOAD="$shim" HEAPSNAP_DIR="$rl_dir/shim" \
  "$prog" clean "$rl_dir/shim" >"$rl_dir/shim.out" 2>"$rl_dir/shim.err" ||
  status=$?
[ "$status" = 0 ] || fail "exited with $status under the shim (124: it hung)
$(cat "$rl_dir/shim.out")"
[ ! -s "$rl_dir/shim.err" ] || fail "stderr: $(cat "$rl_dir/shim.err")"
cmp -s "$rl_dir/bare.out" "$rl_dir/shim.out" ||
  fail "output differs: $(diff "$rl_dir/bare.out" "$rl_dir/shim.out" | head -8)"
echo "ok: the same descriptors, files and pipe as without the shim"
