#!/usr/bin/env bash
# stress_fork.sh BIN SHIM SRC
# stress_fork (12 forks while 4 threads allocate and one walks the
# loaded modules with dl_iterate_phdr; children that snapshot from their
# main thread or a new thread, exec, or fork a grandchild that leaves with
# _exit) under the shim with a snapshot every 100 ms and at exit.
# Checks: output as without the shim (every child succeeded, none hung on
# the loader's lock, one SIGCHLD each, no child left for wait(): the scan
# clones neither signal nor linger); every file readable and scanned; each
# process's files numbered from 1 without a gap; one API snapshot per
# child or grandchild, holding exactly what it inherited and allocated
# (e2e_check); one exit snapshot per process that called exit(), none
# after _exit; a temporary file left behind only by a process that used
# _exit.
set -euo pipefail
bin=$1 shim=$2 src=$3
. "$src/../support/real_lib.sh"
prog=$bin/stress_fork
FORKS=12

timeout 60 "$prog" $FORKS >"$rl_dir/bare.out" || fail "failed without the shim"
setsid env HEAPSNAP_INTERVAL=0.1 HEAPSNAP_AT_EXIT=1 HEAPSNAP_DIR="$rl_dir" \
  LD_PRELOAD="$shim" "$prog" $FORKS >"$rl_dir/out" 2>"$rl_dir/err" &
parent=$!
rl_track $parent
rl_track_group $parent
rl_wait_exit $parent 100
[ "$rl_status" = 0 ] || fail "exited with $rl_status: $(head -5 "$rl_dir/err")"
[ ! -s "$rl_dir/err" ] || fail "stderr: $(head -5 "$rl_dir/err")"
cmp "$rl_dir/bare.out" "$rl_dir/out" || fail "output differs under the shim"
cat "$rl_dir/out"

mapfile -t snaps < <(rl_snaps "$rl_dir")
"$bin/real_snapinfo" "${snaps[@]}" >"$rl_dir/info" || fail "unreadable snapshot"
[ "$(grep -c ' scanned=1 ' "$rl_dir/info")" = ${#snaps[@]} ] ||
  fail "not scanned: $(grep -v ' scanned=1 ' "$rl_dir/info" | head -3)"
field() { sed -n "s/.* $1=\([^ ]*\) .*/\1/p"; }
mapfile -t pids < <(field pid <"$rl_dir/info" | sort -un)
children=$(grep " ppid=$parent " "$rl_dir/info" | field pid | sort -u | xargs)
grandchildren=()
for p in "${pids[@]}"; do
  [ "$p" = "$parent" ] || [[ " $children " == *" $p "* ]] || grandchildren+=("$p")
done
echo "${#pids[@]} processes: parent $parent, $(wc -w <<<"$children") children, ${#grandchildren[@]} grandchildren"
[ ${#grandchildren[@]} = $((FORKS / 4)) ] || fail "want $((FORKS / 4)) grandchildren"

count() { grep -c "$1" "$rl_dir/info" || true; }
[ "$(count ' trigger=api ')" = $FORKS ] || fail "$(count ' trigger=api ') API snapshots"
[ "$(count ' trigger=exit ')" = $((FORKS + 1)) ] ||
  fail "$(count ' trigger=exit ') exit snapshots, want $((FORKS + 1))"
for g in "${grandchildren[@]}"; do
  ! grep -q "\.$g\.[0-9]*\.snap .* trigger=exit " "$rl_dir/info" ||
    fail "grandchild $g left with _exit, yet wrote an exit snapshot"
done
for p in "${pids[@]}"; do
  [[ " ${grandchildren[*]} " == *" $p "* ]] && continue
  n=$(rl_count "$rl_dir" "$p")
  for i in $(seq 1 "$n"); do
    [ -e "$(ls "$rl_dir"/*."$p.$i".snap 2>/dev/null)" ] ||
      fail "process $p: $n files but no number $i"
  done
done
for t in $(find "$rl_dir" -name '*.tmp' -printf '%f\n'); do
  p=$(echo "$t" | awk -F. '{ print $(NF-3) }')
  [[ " ${grandchildren[*]} " == *" $p "* ]] ||
    fail "$t left behind by process $p, which did not use _exit"
done
for s in "$rl_dir"/*.snap.sites; do
  "$bin/e2e_check" "${s%.sites}" "$s" >"$rl_dir/check" ||
    fail "$(basename "${s%.sites}"): $(grep FAIL "$rl_dir/check")"
done
echo "ok: ${#snaps[@]} snapshots of ${#pids[@]} processes"
