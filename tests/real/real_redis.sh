#!/usr/bin/env bash
# real_redis.sh BIN SHIM SRC [precise]
# Debian's redis-server (jemalloc, linked dynamically: every allocation
# goes through malloc/calloc/realloc/free, which the shim interposes) on
# 127.0.0.1 at a free port, no persistence, no slowlog or latency tracking
# (their entries would outlive the keys), started with `heapsnap run`.
# redis-cli --pipe writes N keys (values of 100 bytes), a snapshot, N more
# (a kill -USR2 lands while they are written), a snapshot, then deletes
# them all and a last snapshot.
# Checks: the replies are the same as from a redis without the shim;
# nothing on stderr; heapdiff finds exactly 2N keys' worth of growth in
# the dictionary entries, key and value strings and objects, reachable and
# held through the dictionary; after the delete, the growth is gone
# (real_check.py redis-grow, redis-gone). BIN holds heapsnap, heapdiff
# and real_snapinfo. With `precise`, the shim runs in precise mode
# (--scan-registers: redis' threads stopped for each snapshot, which cuts
# its epoll_wait short with EINTR); the same checks hold, and every
# snapshot says all its threads were stopped.
set -euo pipefail
bin=$1 shim=$2 src=$3 precise=()
[ "${4:-}" != precise ] || precise=(--scan-registers)
. "$src/../support/real_lib.sh"
server=$(rl_program redis-server)
cli=$(rl_program redis-cli)
N=10000 VALUE=100
"$server" --version
mkdir "$rl_dir/snaps" "$rl_dir/data"

rcli() {
  timeout 60 "$cli" -h 127.0.0.1 -p "$port" "$@"
}

# gen set|del FIRST COUNT: the commands in redis' protocol, for --pipe.
gen() {
  awk -v op="$1" -v s="$2" -v n="$3" -v vlen=$VALUE 'BEGIN {
    for (i = s; i < s + n; i++) {
      k = "key:" i
      if (op == "set") {
        v = sprintf("%0" vlen "d", i)
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k,
               length(v), v
      } else {
        printf "*2\r\n$3\r\nDEL\r\n$%d\r\n%s\r\n", length(k), k
      }
    }
  }'
}

# start TAG [shim]: a redis-server on a free port (retried if another
# process takes the port first); sets port and pid.
start() {
  local tag=$1 args
  for _ in 1 2 3 4 5; do
    port=$(rl_free_port) || fail "no free port"
    args=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no
          --dir "$rl_dir/data" --logfile "$rl_dir/$tag.log" --daemonize no
          --databases 1 --slowlog-log-slower-than -1 --latency-tracking no)
    if [ -n "${2:-}" ]; then
      HEAPSNAP_LIB=$shim "$bin/heapsnap" run --dir "$rl_dir/snaps" \
        ${precise[@]+"${precise[@]}"} -- \
        "$server" "${args[@]}" >"$rl_dir/$tag.stdout" 2>"$rl_dir/$tag.err" &
    else
      "$server" "${args[@]}" >"$rl_dir/$tag.stdout" 2>"$rl_dir/$tag.err" &
    fi
    pid=$!
    rl_track $pid
    if hs_wait_for 20 eval 'rcli ping >/dev/null 2>&1'; then
      return 0
    fi
    kill -9 $pid 2>/dev/null || true
  done
  fail "redis-server did not start: $(cat "$rl_dir/$tag.log")"
}

snap() {
  [ -z "$shim_run" ] && return 0
  local p
  p=$(timeout 30 "$bin/heapsnap" snap "$pid") || fail "heapsnap snap failed"
  snaps+=("$p")
}

# session TAG: the same commands against each server; its replies in TAG.out
session() {
  local out=$rl_dir/$1.out
  snap
  gen set 0 $N | rcli --pipe >>"$out"
  { rcli dbsize; rcli get key:42; rcli mget key:0 key:$((N - 1)); } >>"$out"
  snap
  gen set $N $N | rcli --pipe >>"$out" &
  local writer=$!
  if [ -n "$shim_run" ]; then
    local before
    before=$(rl_count "$rl_dir/snaps")
    sleep 0.05
    kill -USR2 "$pid"
    hs_wait_for 30 rl_count_is "$rl_dir/snaps" $((before + 1)) ||
      fail "no snapshot after kill -USR2 while keys were written"
  fi
  wait $writer || fail "redis-cli --pipe failed"
  { rcli dbsize; rcli get key:$((2 * N - 1)); rcli strlen key:7; } >>"$out"
  snap
  gen del 0 $((2 * N)) | rcli --pipe >>"$out"
  rcli dbsize >>"$out"
  snap
  rcli shutdown nosave >/dev/null 2>&1 || true
  rl_wait_exit "$pid" 30
  [ "$rl_status" = 0 ] || fail "redis-server ($1) exited with $rl_status"
}

shim_run=
start bare
session bare

shim_run=1 snaps=()
start shim 1
session shim
[ ! -s "$rl_dir/shim.err" ] || fail "stderr under the shim: $(cat "$rl_dir/shim.err")"
cmp "$rl_dir/bare.out" "$rl_dir/shim.out" || fail "replies differ under the shim"
cat "$rl_dir/shim.out"

mapfile -t all < <(rl_snaps "$rl_dir/snaps")
[ ${#all[@]} = 5 ] || fail "${#all[@]} snapshots, want 5"
"$bin/real_snapinfo" "${all[@]}"
if [ ${#precise[@]} -gt 0 ]; then
  for f in "${all[@]}"; do
    head=$("$bin/heapsnap" dump --top 0 "$f")
    grep -q "every thread stopped" <<<"$head" ||
      fail "$f: not every thread stopped: $(grep reachability <<<"$head")"
  done
fi
wrappers=()
for f in zmalloc zcalloc zrealloc zmalloc_usable zcalloc_usable \
  zrealloc_usable ztrymalloc ztrycalloc ztryrealloc ztrymalloc_usable \
  ztrycalloc_usable ztryrealloc_usable; do
  wrappers+=(--alloc-fn "$f")
done
"$bin/heapdiff" "${wrappers[@]}" --top 5 --stack-depth 3 \
  "${snaps[0]}" "${snaps[1]}" "${snaps[2]}"
"$bin/heapdiff" --json "${wrappers[@]}" --retainers 100 \
  "${snaps[0]}" "${snaps[1]}" "${snaps[2]}" >"$rl_dir/grow.json"
python3 "$src/real_check.py" redis-grow "$rl_dir/grow.json" $N $VALUE ||
  fail "heapdiff does not report what redis did"
"$bin/heapdiff" "${wrappers[@]}" --top 5 --stack-depth 3 \
  "${snaps[0]}" "${snaps[3]}"
"$bin/heapdiff" --json "${wrappers[@]}" "${snaps[0]}" "${snaps[3]}" \
  >"$rl_dir/gone.json"
python3 "$src/real_check.py" redis-gone "$rl_dir/gone.json" ||
  fail "heapdiff does not report what redis freed"
