#!/usr/bin/env bash
# attach_grow.sh BIN SRC DLLIB
# attach_grow (its banner) started without the shim and warmed up with 10
# requests, then attached; 5 requests, snapshot A; 7 more and 3 blocks of
# valloc (its first call: its GOT slot was not bound yet at the attach)
# and 2 blocks from attach_dllib, loaded by dlopen after the attach,
# snapshot B. heapdiff A B must give each site's exact growth (blocks
# [5, 12]; valloc's [0, 3], attach_dl_alloc's [0, 2]), the cache (its bucket array allocated before
# the attach), the worker's stack list and the interior-pointer list held,
# the dropped requests all lost; its header says "tracking since attach".
# Then detach: the service goes on serving, exits 0, and its answers are
# those of a run without heapsnap.
set -euo pipefail
. "$2/attach_lib.sh"
prog=$bin/attach_grow
lib=$3

printf 'r 10\nr 5\nr 7\nv 3\nl 2\nr 3\nq\n' | timeout 30 "$prog" "$lib" >"$rl_dir/bare.out" ||
  fail "failed without heapsnap"

mkfifo "$rl_dir/in"
"$prog" "$lib" <"$rl_dir/in" >"$rl_dir/out" 2>"$rl_dir/err" &
pid=$!
rl_track $pid
exec 3>"$rl_dir/in"
served() { [ "$(rl_lines "$rl_dir/out" '^done')" -ge "$1" ]; }
request() {
  echo "r $1" >&3
  hs_wait_for 20 served "$2" || fail "request $2 not served: $(cat "$rl_dir/err")"
}
request 10 1
al_attach $pid --dir "$rl_dir"
echo "$al_line"
request 5 2
a=$("$hs" snap "$pid") || fail "snapshot A"
request 7 3
echo "v 3" >&3 # valloc's first call: its GOT slot was bound lazily
hs_wait_for 20 served 4 || fail "valloc not served"
echo "l 2" >&3 # a module loaded after the attach: the dlopen hook patches it
hs_wait_for 20 served 5 || fail "dlopen not served"
b=$("$hs" snap "$pid") || fail "snapshot B"
"$bin/heapdiff" --json "$a" "$b" >"$rl_dir/diff.json" || fail "heapdiff --json"
"$bin/heapdiff" --color never --all "$a" "$b" >"$rl_dir/diff.txt" ||
  fail "heapdiff"
cat "$rl_dir/diff.txt"
grep -q '^tracking since attach (' "$rl_dir/diff.txt" ||
  fail "heapdiff's header does not say tracking since attach"
python3 "$src/attach_grow_check.py" "$rl_dir/diff.json"

line=$("$hs" detach "$pid") || fail "detach: $line"
echo "$line"
# detached: snap says so, and what to do (it blamed an old shim before)
rc=0
line=$("$hs" snap "$pid" 2>&1) || rc=$?
[ "$rc" = 2 ] && [ "$line" = "heapsnap snap: process $pid was detached (the attach library stays loaded, inactive): 'heapsnap attach $pid' tracks it again" ] ||
  fail "snap after detach: exit $rc, $line"
request 3 6
echo q >&3
exec 3>&-
rl_wait_exit "$pid" 10
[ "$rl_status" = 0 ] || fail "exited with $rl_status: $(cat "$rl_dir/err")"
cmp "$rl_dir/bare.out" "$rl_dir/out" || fail "answers differ from a run without heapsnap"
[ ! -s "$rl_dir/err" ] || fail "stderr: $(head -3 "$rl_dir/err")"
echo "ok: attached service's growth, held and lost as built"
