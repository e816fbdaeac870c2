#!/usr/bin/env bash
# hd_leaks.sh HEAPSNAP HEAPDIFF PROG [LIBJEMALLOC]
# The leak check at exit on known leaks and non-leaks (hd_leaks.c): exact
# lost blocks and bytes per site, the gate's exit codes (0, 1, 2), and the
# CI recipe of docs/heapdiff.md over a suite of several processes. With
# LIBJEMALLOC, leaky again with jemalloc as the allocator (preloaded after
# the shim), where no anonymous mapping is a root: the main thread's TLS
# must still be one, and the shim's own thread's stack must not be one
# (jemalloc's memory may be merged with it), so the same exact counts.
set -euo pipefail
heapsnap=$1 heapdiff=$2 prog=$3 jemalloc=${4:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# gate WANT ARGS...: heapdiff's exit status must be WANT
gate() {
  local want=$1 rc=0
  shift
  "$heapdiff" --color never "$@" >"$dir/out" 2>"$dir/err" || rc=$?
  if [ "$rc" = "$want" ]; then
    echo "ok: heapdiff $* -> exit $rc $(cat "$dir/err")"
  else
    fail "heapdiff $* -> exit $rc, expected $want"
    cat "$dir/err"
  fi
}

modes=(leaky clean)
if [ -f "$jemalloc" ]; then
  modes+=(jemalloc)
else
  echo "not run: leaky with jemalloc (no libjemalloc: scripts/deps installs it)"
fi
for mode in "${modes[@]}"; do
  mkdir "$dir/$mode"
  if [ "$mode" = jemalloc ]; then
    LD_PRELOAD=$jemalloc "$heapsnap" run --at-exit --dir "$dir/$mode" -- \
      "$prog" leaky
  else
    "$heapsnap" run --at-exit --dir "$dir/$mode" -- "$prog" "$mode"
  fi
  snaps=("$dir/$mode"/*.snap)
  [ ${#snaps[@]} = 1 ] || fail "$mode: expected 1 snapshot, got ${#snaps[@]}"
  "$heapdiff" --json "${snaps[0]}" >"$dir/$mode.json"
  python3 - "$mode" "$dir/$mode.json" <<'PY' || fails=$((fails + 1))
import json, sys
mode, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
# site -> (blocks, bytes, lost blocks, lost bytes), by the allocating function
kept = {"keep_interior": (1, 64), "keep_tls_main": (1, 32),
        "keep_tls_worker": (1, 40), "keep_on_stack": (5, 280),
        "keep_replaced": (1, 48)}
want = {f: (n, b, 0, 0) for f, (n, b) in kept.items()}
if mode != "clean":  # leaky, with glibc's malloc or with jemalloc
    want.update({"lose_cycle_a": (1, 64, 1, 64), "lose_cycle_b": (1, 64, 1, 64),
                 "lose_overwritten": (1, 48, 1, 48), "lose_zero": (1, 0, 1, 0)})
got = {}
for s in d["sites"]:
    f = s["stack"][0]["function"] if s["stack"] else None
    got[f] = (s["blocks"][0], s["bytes"][0], s["unreachable_blocks"],
              s["unreachable_bytes"])
bad = []
for f, w in want.items():
    if got.get(f) != w:
        bad.append(f"{f}: got {got.get(f)}, expected {w}")
# the worker's sites go through the shim's thread start: never shown
shim = {s["stack"][0]["function"] for s in d["sites"] for f in s["stack"]
        if (f.get("module") or "").rsplit("/", 1)[-1].startswith("libheapsnap")}
if shim:
    bad.append(f"a frame of the shim in the stacks of {sorted(shim)}")
if not any(f["function"] == "start_thread" for s in d["sites"]
           for f in s["stack"] if s["stack"][0]["function"] == "keep_tls_worker"):
    bad.append("keep_tls_worker: no start_thread frame (its stack cut?)")
others = [f for f, g in got.items() if f not in want and g[2]]
if others:
    bad.append(f"lost blocks in other sites: {others}")
lost = (0, 0) if mode == "clean" else (4, 176)
if (d["total_lost_blocks"], d["total_lost_bytes"]) != lost:
    bad.append(f"total lost {d['total_lost_blocks']}/{d['total_lost_bytes']}, "
               f"expected {lost}")
if d["listed"] != "live" or len(d["snapshots"]) != 1 or \
        any(s["delta_bytes"] or s["trend"] != "-" for s in d["sites"]):
    bad.append("one snapshot: listed live, deltas 0, trend -")
for b in bad:
    print(f"FAIL: {mode}: {b}")
if not bad:
    print(f"ok: {mode}: exact lost blocks per site, total {lost}")
sys.exit(1 if bad else 0)
PY
done

leaky=("$dir/leaky"/*.snap) clean=("$dir/clean"/*.snap)
gate 1 --fail-over-lost 0 "${leaky[0]}"
gate 1 --fail-over-lost 175 "${leaky[0]}"
gate 0 --fail-over-lost 176 "${leaky[0]}"
gate 0 --fail-over-lost 0 "${clean[0]}"
gate 1 --lost --fail-over-lost 0 "${leaky[0]}"
# --lost: the four losing sites, most lost bytes first, malloc(0) last
"$heapdiff" --color never --lost "${leaky[0]}" >"$dir/lost.txt"
order=$(grep -Eo '^ +[0-9]+ .*  (lose_[a-z_]+|keep_[a-z_]+)  ' "$dir/lost.txt" |
  grep -Eo '(lose|keep)_[a-z_]+' | tr '\n' ' ')
[ "$order" = "lose_cycle_a lose_cycle_b lose_overwritten lose_zero " ] ||
  fail "--lost lists '$order'"
grep -q "^10 sites hold 960 B in 14 blocks: 176 B of it lost, in 4 sites$" \
  "$dir/lost.txt" || fail "--lost summary: $(grep sites "$dir/lost.txt")"
# no scan: exit 2, saying so
mkdir "$dir/noscan"
"$heapsnap" run --at-exit --no-scan --dir "$dir/noscan" -- "$prog" leaky
noscan=("$dir/noscan"/*.snap)
gate 2 --fail-over-lost 0 "${noscan[0]}"
grep -q "no reachability scan.*--fail-over-lost needs one" "$dir/err" ||
  fail "no scan: $(cat "$dir/err")"

# The CI recipe of docs/heapdiff.md, as written there, on a suite of three
# processes (the driver and its two children): one fails the gate.
cd "$dir"
rc=0
(
  set -e
  rm -rf out && mkdir out
  "$heapsnap" run --at-exit --dir out -- "$prog" suite
  fail=0
  for f in out/*.snap; do
    "$heapdiff" --lost --fail-over-lost 0 "$f" >/dev/null || fail=1
  done
  exit $fail
) || rc=$?
n=$(ls out/*.snap | wc -l)
[ "$rc" = 1 ] && [ "$n" = 3 ] && echo "ok: recipe: 3 snapshots, gate fails" ||
  fail "recipe: exit $rc with $n snapshots"
exit $((fails > 0))
