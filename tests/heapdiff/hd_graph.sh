#!/usr/bin/env bash
# hd_graph.sh SHIM HEAPDIFF PROG SRCDIR
# Runs hd_graph under the shim and checks the reachability heapdiff reports
# for its known pointer graphs (hd_graph_check.py), then shows the report.
set -euo pipefail
shim=$1 heapdiff=$2 prog=$3 src=$(cd "$4" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mapfile -t snaps < <(HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$prog")
[ ${#snaps[@]} = 2 ] || { echo "FAIL: expected 2 snapshots"; exit 1; }
"$heapdiff" --json --retainers 10 "${snaps[@]}" >"$dir/graph.json"
"$heapdiff" --color never --all "${snaps[@]}"
python3 "$src/hd_graph_check.py" "$dir/graph.json"

# HEAPSNAP_GRAPH=0 (heapsnap run --no-graph): scanned, no graph, no figure
mkdir "$dir/nograph"
mapfile -t snaps < <(HEAPSNAP_GRAPH=0 HEAPSNAP_DIR=$dir/nograph \
  LD_PRELOAD=$shim "$prog")
"$heapdiff" --json "${snaps[@]}" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
ok = doc["scanned"] and doc["roots"] == [] and all(
    s["retained_bytes"] == [None, None] for s in doc["sites"])
print("ok  " if ok else "FAIL", "HEAPSNAP_GRAPH=0: scanned, no retained sizes")
sys.exit(0 if ok else 1)'
