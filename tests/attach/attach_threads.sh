#!/usr/bin/env bash
# attach_threads.sh BIN SRC
# An attached process whose threads start and end: attach_threads runs
# 300 threads (one after another) before the attach, 300 after it, then
# 3000 more: its RSS may not grow by more than 4 MiB over those 3000
# (each thread took a 9 KiB unwind-rule cache that nothing gave back, as
# the pthread_create wrapper does not run in an attached process: 27 MiB
# and more). Then detached, 1000 more, the same; it exits 0 at the end of
# its input.
set -euo pipefail
. "$2/attach_lib.sh"

rl_start t "$bin/attach_threads"
round() { # round K N: N threads; sets rss to what round K printed
  echo "$2" >&3
  hs_wait_for 120 rl_has_lines "$rl_dir/t.out" '^round' "$1" ||
    fail "round $1 did not end: $(cat "$rl_dir/t.err")"
  rss=$(awk -v k="round $1:" 'index($0, k) == 1 { print $NF }' "$rl_dir/t.out")
  echo "round $1: $2 threads, rss $rss KiB"
}
round 1 300
al_attach "$pid" --dir "$rl_dir"
echo "$al_line"
round 2 300
before=$rss
round 3 3000
[ $((rss - before)) -le 4096 ] ||
  fail "attached, 3000 threads grew its RSS by $((rss - before)) KiB (at most 4096)"
line=$("$hs" detach "$pid" 2>&1) || fail "detach: $line"
before=$rss
round 4 1000
[ $((rss - before)) -le 4096 ] ||
  fail "detached, 1000 threads grew its RSS by $((rss - before)) KiB (at most 4096)"
exec 3>&-
rl_wait_exit "$pid" 60
[ "$rl_status" = 0 ] || fail "attach_threads exited with $rl_status"
[ ! -s "$rl_dir/t.err" ] || fail "stderr: $(cat "$rl_dir/t.err")"
echo "ok: an attached process's ending threads give their caches back"
