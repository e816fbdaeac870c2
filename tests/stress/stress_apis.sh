#!/usr/bin/env bash
# stress_apis.sh BIN SHIM SRC
# stress_apis (16 threads, every allocation API, cross-thread frees and
# resizes, API snapshots from two threads) under the shim with a snapshot
# every 100 ms and at exit, while the driver sends SIGUSR2 in bursts of 5.
# Checks: output as without the shim (no block corrupted); every snapshot
# whole and readable, scanned, numbered 1..N without a gap, one "wrote"
# line each and nothing else on stderr, no temporary file left; after each
# burst a snapshot within 30 s; one per API call, one at exit; interval
# snapshots all along (at least one per 2 s: with 16 threads writing
# memory, the scan's clone makes each snapshot slow on a loaded 2-core
# machine); the final API and exit snapshots hold exactly the blocks kept
# (e2e_check). BIN holds the programs and tools (heapsnap, real_snapinfo,
# e2e_check).
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_apis
ROUNDS=10000 SNAP_EVERY=5000

timeout 60 "$prog" $ROUNDS >"$rl_dir/bare.out" || fail "failed without the shim"

HEAPSNAP_INTERVAL=0.1 HEAPSNAP_AT_EXIT=1 HEAPSNAP_VERBOSE=1 \
  HEAPSNAP_DIR=$rl_dir LD_PRELOAD=$shim "$prog" $ROUNDS \
  >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
start=$SECONDS bursts=0
alive() { kill -0 "$pid" 2>/dev/null; }
# SIGUSR2 before the shim has installed its handler would kill the program
# (as it would without the shim): wait for the shim's thread first.
shim_ready() { grep -qx 'heapsnap:12' /proc/"$pid"/task/*/comm 2>/dev/null; }
hs_wait_for 30 shim_ready || fail "the shim's thread never appeared"
newest_time() {
  local f
  f=$(rl_snaps "$rl_dir" | tail -1)
  [ -z "$f" ] || "$bin/real_snapinfo" "$f" | sed -n 's/.* time=\([0-9.]*\) .*/\1/p'
}
# A snapshot written after time $1 (the header's time is taken once the
# blocks are copied), or the process gone.
served() {
  ! alive || awk -v a="$(newest_time)" -v b="$1" 'BEGIN { exit !(a > b) }'
}
while alive; do
  sent=$(date +%s.%N)
  for _ in 1 2 3 4 5; do kill -USR2 "$pid" 2>/dev/null || true; done
  hs_wait_for 30 served "$sent" ||
    fail "no snapshot within 30 s of burst $((bursts + 1)) of SIGUSR2"
  ! alive || bursts=$((bursts + 1)) # one that met the exit does not count
  sleep 0.1
done
rl_wait_exit "$pid" 10
elapsed=$((SECONDS - start))
[ "$rl_status" = 0 ] || fail "exited with $rl_status: $(tail -3 "$rl_dir/err")"
cmp "$rl_dir/bare.out" "$rl_dir/out" || fail "output differs under the shim"
cat "$rl_dir/out"

mapfile -t snaps < <(rl_snaps "$rl_dir")
n=${#snaps[@]}
"$bin/real_snapinfo" "${snaps[@]}" >"$rl_dir/info" ||
  fail "a snapshot cannot be read"
[ "$(grep -c " pid=$pid .* scanned=1 " "$rl_dir/info")" = "$n" ] ||
  fail "not every snapshot is this process's and scanned: $(grep -v 'scanned=1' "$rl_dir/info")"
for i in $(seq 1 "$n"); do
  grep -q "\.$pid\.$i\.snap pid" "$rl_dir/info" || fail "snapshot $i of $n is missing"
done
[ -z "$(find "$rl_dir" -name '*.tmp')" ] || fail "temporary files left"
bad=$(grep -cv "^heapsnap: wrote $rl_dir/stress_apis\.$pid\.[0-9]*\.snap$" \
  "$rl_dir/err" || true)
[ "$bad" = 0 ] || fail "stderr: $(grep -v 'heapsnap: wrote' "$rl_dir/err" | head -3)"
[ "$(wc -l <"$rl_dir/err")" = "$n" ] || fail "$(wc -l <"$rl_dir/err") wrote lines for $n files"

count() { grep -c " trigger=$1 " "$rl_dir/info" || true; }
sig=$(count signal) int=$(count interval) api=$(count api) ex=$(count exit)
echo "$n snapshots in ${elapsed}s: $int interval, $sig signal ($bursts bursts), $api api, $ex exit"
[ "$api" = $((2 * ROUNDS / SNAP_EVERY + 1)) ] || fail "$api API snapshots"
[ "$ex" = 1 ] || fail "$ex exit snapshots, want 1"
[ "$sig" -ge 1 ] && [ "$sig" -le $((5 * bursts)) ] ||
  fail "$sig signal snapshots for $bursts bursts"
[ "$int" -ge 3 ] && [ "$int" -ge $((elapsed / 2)) ] ||
  fail "only $int interval snapshots in ${elapsed}s"

sites=$(ls "$rl_dir"/*.snap.sites)
[ "$(echo "$sites" | wc -l)" = 1 ] || fail "want one .sites file"
"$bin/e2e_check" "${sites%.sites}" "$sites" || fail "final API snapshot"
exit_snap=$(grep " trigger=exit " "$rl_dir/info" | cut -d' ' -f1)
sed 's/^trigger api$/trigger exit/' "$sites" >"$rl_dir/exit.sites"
"$bin/e2e_check" "$exit_snap" "$rl_dir/exit.sites" || fail "exit snapshot"
echo "ok: $n snapshots, all whole"
