#!/usr/bin/env bash
# real_nginx.sh BIN SHIM SRC
# Debian's nginx (1.22), which handles SIGUSR2 itself (a binary upgrade),
# master and two workers on 127.0.0.1 at a free port, started with
# `heapsnap run` and the default snapshot signal (SIGUSR2). Workers run as
# nobody when the test runs as root; the snapshot folder lets them write.
# While curl asks for a page without pause:
#   heapsnap snap MASTER, then heapsnap snap on each worker (found with
#   heapsnap ps: the processes whose parent is the master).
# Checks: the shim said once that nginx handles SIGUSR2 itself and that
# snapshots moved to SIGRTMIN+5, and nothing else on stderr; every snap
# printed a snapshot of that process, readable and scanned; nginx's error
# log (level notice, where nginx logs every signal it gets, as it does the
# SIGQUIT that ends the test) shows no signal before that SIGQUIT; every
# request succeeded; nginx stops cleanly.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
. "$src/../support/nginx_lib.sh"
HEAPSNAP_LIB=$shim ng_start "$bin/heapsnap" run --dir "$rl_dir/snaps" --

workers() { "$bin/heapsnap" ps | awk -v m="$pid" '$2 == m { print $1 }'; }
hs_wait_for 30 test "$(workers | wc -l)" = 2 || fail "not 2 workers: $("$bin/heapsnap" ps)"

ng_load_start

snaps=()
for p in $pid $(workers); do
  s=$(timeout 60 "$bin/heapsnap" snap "$p") || fail "heapsnap snap $p"
  [[ "$s" == */nginx.$p.*.snap ]] || fail "heapsnap snap $p printed $s"
  snaps+=("$s")
done
ng_quit "while it was snapshotted"

want="heapsnap: nginx handles SIGUSR2 itself; snapshots now on SIGRTMIN+5: use heapsnap snap $pid"
[ "$(cat "$rl_dir/err")" = "$want" ] || fail "stderr: $(cat "$rl_dir/err")"
"$bin/real_snapinfo" "${snaps[@]}" >"$rl_dir/info" || fail "unreadable snapshot"
[ "$(grep -c ' trigger=signal .* scanned=1 ' "$rl_dir/info")" = 3 ] ||
  fail "$(cat "$rl_dir/info")"
echo "ok: 3 snapshots (master, 2 workers) while $ok requests succeeded; no signal reached nginx"
