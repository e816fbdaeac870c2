#!/usr/bin/env bash
# e2e_reach.sh PROG CHECK SHIM MODE ROUNDS
# PROG (e2e_reach or e2e_reach_keys) MODE ROUNDS under the shim (a fresh folder); it must exit 0,
# print nothing on stderr, and every API snapshot it took must hold what
# its .sites file says (e2e_check): the sites' blocks, and how many are lost.
set -euo pipefail
prog=$1 check=$2 shim=$3 mode=$4 rounds=$5
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
rc=0
HEAPSNAP_DIR=$dir LD_PRELOAD=$shim timeout 300 "$prog" "$mode" \
  "$rounds" >"$dir/out" 2>"$dir/err" || rc=$?
cat "$dir/out"
[ $rc = 0 ] || fail "exited with $rc: $(head -3 "$dir/err")"
[ ! -s "$dir/err" ] || fail "stderr: $(head -3 "$dir/err")"
n=0 bad=0
for s in "$dir"/*.snap.sites; do
  n=$((n + 1))
  if ! "$check" "${s%.sites}" "$s" >"$dir/check"; then
    bad=$((bad + 1))
    [ $bad -gt 3 ] || echo "$(basename "${s%.sites}"): $(grep FAIL "$dir/check" | xargs)"
  fi
done
[ "$n" = "$rounds" ] || fail "$n snapshots, want $rounds"
[ $bad = 0 ] || fail "$bad of $n snapshots not as expected"
echo "ok: $n snapshots as expected"
