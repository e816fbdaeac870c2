#!/usr/bin/env bash
# attach_fpu.sh BIN SRC
# attach_fpu (one thread that only runs its own code, with sums kept in
# vector registers) attached, snapped and detached three times: each time
# the thread is taken while it runs and comes back with its own vector
# registers (the sums come out exact); no status file stays mapped after
# its detach. Then `heapsnap attach` and
# `heapsnap detach` interrupted by Ctrl-C (SIGINT) and SIGTERM after 1 to
# 24 ms: the process lives on (the tool finishes a call under way first).
set -euo pipefail
. "$2/attach_lib.sh"

"$bin/attach_fpu" "$rl_dir/ready" "$rl_dir/stop" >"$rl_dir/out" 2>&1 &
pid=$!
rl_track $pid
hs_wait_for 10 test -e "$rl_dir/ready" || fail "never ready"
for round in 1 2 3; do
  al_attach "$pid" --dir "$rl_dir"
  case $al_line in
  *"(running the program's code)"*) ;;
  *) fail "round $round: the thread was not taken while running: $al_line" ;;
  esac
  "$hs" snap "$pid" >/dev/null || fail "round $round: snap"
  line=$("$hs" detach "$pid" 2>&1) || fail "round $round: detach: $line"
done
# each attach maps a status file; each detach gives its mapping back
maps=$(grep -c '/heapsnap-[0-9]*/' "/proc/$pid/maps" || true)
[ "$maps" = 0 ] || fail "$maps status file mappings left after 3 detaches"

attached() { "$hs" ps 2>/dev/null | awk -v p="$pid" '$1 == p' | grep -q .; }
# interrupt TOOL_ARGS...: the tool started, SIG$sig sent after $ms ms
interrupt() {
  "$hs" "$@" >"$rl_dir/tool.out" 2>&1 &
  local tool=$!
  sleep "$(printf '0.%03d' "$ms")"
  kill -"$sig" "$tool" 2>/dev/null || true
  wait "$tool" || true
  kill -0 "$pid" 2>/dev/null ||
    fail "SIG$sig to $1 after $ms ms killed the process: $(cat "$rl_dir/tool.out")"
}
# An attach takes 10-20 ms here, its thread held 2-5 ms of them: a signal
# every millisecond from 1 to 24 meets the held thread several times.
for ms in $(seq 1 24); do
  sig=INT
  [ $((ms % 2)) = 0 ] || sig=TERM
  interrupt attach --dir "$rl_dir" "$pid"
  if attached; then
    interrupt detach "$pid"
    if attached; then
      line=$("$hs" detach "$pid" 2>&1) || fail "after $ms ms: detach: $line"
    fi
  fi
done
touch "$rl_dir/stop"
rl_wait_exit "$pid" 30
[ "$rl_status" = 0 ] || fail "exited with $rl_status: $(cat "$rl_dir/out")"
grep -q '^sums right after' "$rl_dir/out" || fail "the program says: $(cat "$rl_dir/out")"
echo "ok: taken while running 3 times, vector registers kept; 24 interrupted attaches and their detaches, the process alive and its sums right"
