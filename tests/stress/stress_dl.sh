#!/usr/bin/env bash
# stress_dl.sh MODE BIN LIB_A LIB_B SHIM SRC
# stress_dl under the shim (a snapshot every 50 ms besides the API one of
# each round, two threads allocating), on copies of stress_dllib_a.so and
# _b.so in the test's folder. heapdiff from the first API snapshot to the
# last, every library unloaded by then (BIN holds stress_dl, heapdiff,
# heapsnap and real_snapinfo; LIB_A and LIB_B are the two builds):
#   same: library A in every round. Its functions are named from the
#         snapshots' module tables; the blocks it gave the program are
#         exactly counted and reachable, the ones it kept in its own static
#         array are all lost (the array went with it). Then A's file is
#         replaced by B's: heapdiff must say it cannot name A's frames
#         (module and offset only), never use B's names.
#   two:  A and B in turn; the loader puts B where A was (checked: the
#         case this test exists for). Each snapshot says which load of a
#         module each stack went through (section GENS), so A's and B's
#         sites are exact, each named after its own library and function,
#         and no frame of theirs is left unnamed.
set -euo pipefail
mode=$1 bin=$2 lib_a=$3 lib_b=$4 shim=$5 src=$6
. "$src/../support/real_lib.sh"
ROUNDS=8 K=3
a=$rl_dir/stress_dllib_a.so b=$rl_dir/stress_dllib_b.so
cp "$lib_a" "$a"
cp "$lib_b" "$b"
second=$b
[ "$mode" = same ] && second=$a

timeout 60 "$bin/stress_dl" "$a" "$second" $ROUNDS >"$rl_dir/bare.out" ||
  fail "failed without the shim"

# One run under the shim, its API snapshots in api[].
run_under_shim() {
  rm -rf "$rl_dir/snaps"
  mkdir "$rl_dir/snaps"
  HEAPSNAP_INTERVAL=0.05 HEAPSNAP_DIR=$rl_dir/snaps LD_PRELOAD=$shim \
    timeout 60 "$bin/stress_dl" "$a" "$second" $ROUNDS >"$rl_dir/out" \
    2>"$rl_dir/err" || fail "failed under the shim: $(head -3 "$rl_dir/err")"
  [ ! -s "$rl_dir/err" ] || fail "stderr: $(head -3 "$rl_dir/err")"
  cmp "$rl_dir/bare.out" "$rl_dir/out" || fail "output differs under the shim"
  mapfile -t all < <(rl_snaps "$rl_dir/snaps")
  "$bin/real_snapinfo" "${all[@]}" >"$rl_dir/info" || fail "unreadable snapshot"
  mapfile -t api < <(grep ' trigger=api ' "$rl_dir/info" | cut -d' ' -f1)
  [ ${#api[@]} = $ROUNDS ] || fail "${#api[@]} API snapshots, want $ROUNDS"
}

# two: how many address ranges the last snapshot's module table shows
# both A and B in.
shared_ranges() {
  "$bin/real_snapinfo" --modules "${api[-1]}" | grep stress_dllib_ >"$rl_dir/mods"
  awk '{ print $1, $NF }' "$rl_dir/mods" | sort -u | cut -d' ' -f1 |
    sort | uniq -d | wc -l
}

run_under_shim
# Whether the loader puts B where A was is its choice: the shim's own
# mappings (an interval snapshot's, every 50 ms) may take A's range first.
# That is the case this mode exists for, so a run without it is run again
# (three tries).
if [ "$mode" = two ]; then
  for try in 2 3; do
    [ "$(shared_ranges)" -gt 0 ] && break
    echo "the loader did not put B where A had been; run $try"
    run_under_shim
  done
fi
grep " trigger=api " "$rl_dir/info" | tail -1
"$bin/heapdiff" --top 6 --stack-depth 2 "${api[0]}" "${api[-1]}"
"$bin/heapdiff" --json --retainers 10 "${api[0]}" "${api[-1]}" \
  >"$rl_dir/diff.json"

if [ "$mode" = same ]; then
  python3 "$src/stress_check.py" dl-same "$rl_dir/diff.json" $ROUNDS $K "$a"
  cp "$b" "$a" # another build under A's name
  "$bin/heapdiff" --json "${api[0]}" "${api[-1]}" >"$rl_dir/replaced.json"
  python3 "$src/stress_check.py" dl-replaced "$rl_dir/replaced.json" "$a"
  exit 0
fi
shared=$(shared_ranges)
cat "$rl_dir/mods"
[ "$shared" -gt 0 ] ||
  fail "the loader never put B where A had been, in three runs: nothing to tell apart"
python3 "$src/stress_check.py" dl-two "$rl_dir/diff.json" $ROUNDS $K "$a" \
  "$b" || fail "A's and B's sites"
