#!/usr/bin/env bash
# attach_ignore.sh BIN SRC
# A program that ignores SIGUSR2 (signal(SIGUSR2, SIG_IGN)) while attached
# keeps it ignored after detach: the shim's own SIG_IGN is told from the
# program's, so the shim moves its snapshots to a real-time signal (one
# line says the program ignores SIGUSR2 itself) and detach leaves the
# program's. Then `kill -USR2` leaves it alive, as it would without
# heapsnap (the detach put the default back before, and the signal
# killed it).
set -euo pipefail
. "$2/attach_lib.sh"

"$bin/attach_ignore" "$rl_dir/ign" "$rl_dir/stop" >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
hs_wait_for 10 grep -q '^ready' "$rl_dir/out" || fail "never ready"
al_attach "$pid" --dir "$rl_dir" --interval 0.1
touch "$rl_dir/ign"
hs_wait_for 10 grep -q '^ignored' "$rl_dir/out" || fail "never ignored SIGUSR2"
said() { grep -q "ignores SIGUSR2 itself; snapshots now on" "$rl_dir/err"; }
hs_wait_for 10 said || fail "the shim did not see the program ignore SIGUSR2: $(cat "$rl_dir/err")"
"$hs" snap "$pid" >/dev/null || fail "snap after the move"
line=$("$hs" detach "$pid" 2>&1) || fail "detach: $line"
kill -USR2 "$pid"
sleep 0.3
kill -0 "$pid" 2>/dev/null || fail "SIGUSR2, which the program ignores, killed it after detach"
touch "$rl_dir/stop"
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "exited with $rl_status"
echo "ok: the program's SIG_IGN seen while attached and kept after detach"
