#!/usr/bin/env bash
# stress_cancel.sh BIN SHIM SRC
# stress_cancel (threads cancelled inside hs_snapshot_take) under the
# shim, with a timeout: every thread joined (cancelled at its own
# pthread_testcancel; before, at a cancellation point inside the shim,
# with the snapshot lock held), the last snapshot written, exit 0,
# nothing on stderr, no temporary file left in the folder.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
rc=0
LD_PRELOAD=$shim HEAPSNAP_DIR=$rl_dir timeout 120 "$bin/stress_cancel" \
  >"$rl_dir/out" 2>"$rl_dir/err" || rc=$?
[ $rc = 0 ] || fail "exit $rc$([ $rc = 124 ] && echo ' (hung)')"
[ ! -s "$rl_dir/err" ] || fail "stderr: $(head -3 "$rl_dir/err")"
[ "$(cat "$rl_dir/out")" = "joined 5, last snapshot 0" ] ||
  fail "printed: $(cat "$rl_dir/out")"
left=$(find "$rl_dir" -name '*.tmp*')
[ -z "$left" ] || fail "left: $left"
echo "ok: $(cat "$rl_dir/out"), $(rl_count "$rl_dir") snapshots, no temporary file"
