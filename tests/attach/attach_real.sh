#!/usr/bin/env bash
# attach_real.sh BIN SRC python|node|redis|nginx
# Debian's python3, node or redis-server (jemalloc), started without the
# shim and busy (python3 and node: a thread or timer churning 1000-byte
# objects all the while, attach_busy.py/.js; redis-server: keys written
# with redis-cli), attached after a first step, snapshots A and B around a
# second step of N objects, detached, then a last step. Checks: heapdiff
# A B names the program's own functions at the sites that grew by the
# step (attach_real_check.py); the program keeps serving after detach and
# its answers equal those of a run without heapsnap; nothing on stderr.
# nginx (which handles SIGUSR2 itself, a binary upgrade): master and two
# workers started without the shim, each attached, snapshotted and
# detached while curl asks for a page without pause; every request
# succeeds, nginx's error log (level notice: it logs every signal it
# gets) shows no signal before the SIGQUIT that ends it, each process's
# caught and ignored signals after detach are those before the attach,
# and the only words of the shim (on stderr, which nginx points at its
# error log) are, once per process, that snapshots moved to SIGRTMIN+5. Exit 77 when the program is not installed.
set -euo pipefail
. "$2/attach_lib.sh"
mode=$3

# The two snapshots and the check, once the process is attached.
check_diff() {
  "$bin/heapdiff" --color never "$a" "$b" >"$rl_dir/diff.txt" || fail "heapdiff"
  head -20 "$rl_dir/diff.txt"
  "$bin/heapdiff" --json "$a" "$b" >"$rl_dir/diff.json" || fail "heapdiff"
  python3 "$src/attach_real_check.py" "$mode" "$rl_dir/diff.json" "$1" ||
    fail "heapdiff does not show what $mode did"
}

# python3 or node reading steps on stdin (rl_start's fifo, fd 3).
stepped() {
  local prog=$1 script=$2 N=2000
  "$prog" --version
  printf '\n\n\n\n' | timeout 60 "$prog" "$script" $N >"$rl_dir/bare.out" ||
    fail "$mode failed without heapsnap"
  rl_start run "$prog" "$script" $N
  step() {
    echo >&3
    hs_wait_for 60 rl_has_lines "$rl_dir/run.out" '^step' "$1" ||
      fail "no step $1: $(cat "$rl_dir/run.err")"
  }
  step 1
  al_attach "$pid" --dir "$rl_dir"
  echo "$al_line"
  step 2
  a=$("$hs" snap "$pid") || fail "snapshot A"
  step 3
  b=$("$hs" snap "$pid") || fail "snapshot B"
  check_diff $N
  "$hs" detach "$pid" || fail "detach"
  step 4
  rl_finish run "$mode" 2 # output as without heapsnap, stderr empty
}

redis() {
  local server cli N=5000 port
  server=$(rl_program redis-server)
  cli=$(rl_program redis-cli)
  "$server" --version
  rcli() { timeout 60 "$cli" -h 127.0.0.1 -p "$port" "$@"; }
  keys() { # FIRST COUNT, 100-byte values
    awk -v s="$1" -v n="$2" 'BEGIN { for (i = s; i < s + n; i++) {
      k = "key:" i; v = sprintf("%0100d", i)
      printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n", length(k), k, v } }' |
      rcli --pipe >/dev/null || fail "redis-cli --pipe"
  }
  mkdir "$rl_dir/data"
  for _ in 1 2 3 4 5; do
    port=$(rl_free_port) || fail "no free port"
    "$server" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$rl_dir/data" --logfile "$rl_dir/redis.log" --daemonize no \
      >"$rl_dir/redis.out" 2>"$rl_dir/redis.err" &
    pid=$!
    rl_track $pid
    ! hs_wait_for 20 eval 'rcli ping >/dev/null 2>&1' || break
    kill -9 $pid 2>/dev/null || true
  done
  keys 0 $N
  al_attach "$pid" --dir "$rl_dir"
  echo "$al_line"
  keys $N $N
  a=$("$hs" snap "$pid") || fail "snapshot A"
  keys $((2 * N)) $N
  b=$("$hs" snap "$pid") || fail "snapshot B"
  check_diff $N
  "$hs" detach "$pid" || fail "detach"
  keys $((3 * N)) $N
  [ "$(rcli dbsize)" = $((4 * N)) ] || fail "dbsize $(rcli dbsize)"
  [ "$(rcli get key:7)" = "$(printf '%0100d' 7)" ] || fail "get key:7"
  rcli shutdown nosave >/dev/null 2>&1 || true
  rl_wait_exit "$pid" 30
  [ "$rl_status" = 0 ] || fail "redis-server exited with $rl_status"
  [ ! -s "$rl_dir/redis.err" ] || fail "stderr: $(head -3 "$rl_dir/redis.err")"
}

# nginx master and workers, attached one after the other under load.
nginx_mode() {
  . "$src/../support/nginx_lib.sh"
  ng_start
  hs_wait_for 30 test "$(ng_workers | wc -w)" = 2 || fail "not 2 workers"
  masks() {
    local f v
    while read -r f v; do
      case $f in SigIgn: | SigCgt:) printf '%s %x ' "$f" $((0x$v & ~0x180000000)) ;; esac
    done <"/proc/$1/status"
  }
  ng_load_start
  local p before s n=0
  for p in $pid $(ng_workers); do
    before=$(masks "$p")
    al_attach "$p" --dir "$rl_dir/snaps"
    echo "$al_line"
    s=$(timeout 60 "$hs" snap "$p") || fail "heapsnap snap $p"
    [[ "$s" == */nginx.$p.*.snap ]] || fail "heapsnap snap $p printed $s"
    "$hs" detach "$p" >/dev/null || fail "detach $p"
    [ "$(masks "$p")" = "$before" ] ||
      fail "process $p: signals before attach $before, after detach $(masks "$p")"
    n=$((n + 1))
  done
  ng_quit "while it was attached"
  # nginx points its stderr at the error log
  local said
  said=$(cat "$rl_dir/err" "$rl_dir/error.log" | grep '^heapsnap:' || true)
  ! grep -v '^heapsnap: nginx handles SIGUSR2 itself; snapshots now on SIGRTMIN+5: use heapsnap snap [0-9]*$' <<<"$said" ||
    fail "the shim says more than the signal move"
  [ "$(wc -l <<<"$said")" = 3 ] || fail "the shim says: $said"
  [ ! -s "$rl_dir/err" ] || fail "stderr: $(cat "$rl_dir/err")"
  echo "$n processes attached, snapshotted, detached while $ok requests succeeded"
}

case $mode in
python) stepped "$(rl_program python3)" "$src/attach_busy.py" ;;
node) stepped "$(rl_program node)" "$src/attach_busy.js" ;;
redis) redis ;;
nginx) nginx_mode ;;
*) fail "unknown mode $mode" ;;
esac
echo "ok: $mode attached while busy, detached, still serving"
