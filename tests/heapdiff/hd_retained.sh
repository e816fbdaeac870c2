#!/usr/bin/env bash
# hd_retained.sh MKSNAP HEAPDIFF SRCDIR
# Retained sizes on heap graphs with known answers (hd_mksnap specs with
# `edge` lines), checked exactly by hd_retained_check.py. Sites A..F are
# the frames server+0x1100..0x1600, blocks are numbered in address order.
set -euo pipefail
mksnap=$1 heapdiff=$2 src=$(cd "$3" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

head() { # the module, one stack per site, the global root (root 0)
  cat <<SPEC
module /nonexistent/heapdiff-test/server 0x400000 0x500000 0x400000 main
stack 0x401100
stack 0x401200
stack 0x401300
stack 0x401400
stack 0x401500
stack 0x401600
root global 0 0x600000 0x601000
SPEC
}
blk() { # blk INDEX SIZE SITE(1..6)
  echo "block $((0x10000 + $1 * 0x100)) $2 $3 0"
}

# chain: global -> A(10) -> B(20) -> C(40)
{ head; blk 0 10 1; blk 1 20 2; blk 2 40 3
  echo "reach 0 1 root 0 0 0"; echo "reach 1 1 block 0 0 0"
  echo "reach 2 1 block 1 0 0"
  echo "edge root 0 0 0"; echo "edge block 0 1"; echo "edge block 1 2"
} >"$dir/chain.spec"

# diamond: global -> A(10) -> B(20), C(40); B, C -> D(80)
{ head; blk 0 10 1; blk 1 20 2; blk 2 40 3; blk 3 80 4
  echo "reach 0 1 root 0 0 0"; echo "reach 1 2 block 0 0 0"
  echo "reach 3 1 block 1 0 0"
  echo "edge root 0 0 0"; echo "edge block 0 1 2"; echo "edge block 1 3"
  echo "edge block 2 3"
} >"$dir/diamond.spec"

# shared: the global and thread 7's stack both point at A(10) -> B(20);
# the global alone at C(40): A and B are retained by neither root
{ head; echo "root thread 7 0x7ff000 0x800000 worker"
  blk 0 10 1; blk 1 20 2; blk 2 40 3
  echo "reach 0 1 root 0 0 0"; echo "reach 1 1 block 0 0 0"
  echo "reach 2 1 root 0 8 0"
  echo "edge root 0 0 0"; echo "edge root 1 64 0"; echo "edge root 0 8 2"
  echo "edge block 0 1"
} >"$dir/shared.spec"

# cycle: global -> A(10) -> B(20) -> C(40) -> A; E(100) lost, pointing at B
{ head; blk 0 10 1; blk 1 20 2; blk 2 40 3; blk 3 100 5
  echo "reach 0 1 root 0 0 0"; echo "reach 1 1 block 0 0 0"
  echo "reach 2 1 block 1 0 0"; echo "reach 3 1 none"
  echo "edge root 0 0 0"; echo "edge block 0 1"; echo "edge block 1 2"
  echo "edge block 2 0"
} >"$dir/cycle.spec"

# one site: two A(10) blocks both point at B(40), which neither
# dominates; a list D(5) -> D(5) -> D(5) counts once; F(7) lost
{ head; blk 0 10 1; blk 1 10 1; blk 2 40 2; blk 3 5 4; blk 4 5 4; blk 5 5 4
  blk 6 7 6
  echo "reach 0 1 root 0 0 0"; echo "reach 1 1 root 0 8 0"
  echo "reach 2 1 block 0 0 0"; echo "reach 3 1 root 0 16 0"
  echo "reach 4 1 block 3 0 0"; echo "reach 5 1 block 4 0 0"
  echo "reach 6 1 none"
  echo "edge root 0 0 0"; echo "edge root 0 8 1"; echo "edge root 0 16 3"
  echo "edge block 0 2"; echo "edge block 1 2"; echo "edge block 3 4"
  echo "edge block 4 5"
} >"$dir/onesite.spec"

# growth: a scanned snapshot without a graph, then the chain 10 s later
{ head; echo "time 1000000000"; blk 0 10 1
  echo "reach 0 1 root 0 0 0"; } >"$dir/nograph.spec"
{ cat "$dir/chain.spec"; echo "time 1000000010"; echo "number 2"; } \
  >"$dir/chain2.spec"
# and a graph in both: the first holds only A
{ head; echo "time 1000000000"; blk 0 10 1
  echo "reach 0 1 root 0 0 0"; echo "edge root 0 0 0"; } >"$dir/first.spec"

for s in chain diamond shared cycle onesite nograph chain2 first; do
  "$mksnap" "$dir/$s.spec" "$dir/$s.snap"
done
for s in chain diamond shared cycle onesite; do
  "$heapdiff" --json "$dir/$s.snap" >"$dir/$s.json"
done
"$heapdiff" --json "$dir/nograph.snap" "$dir/chain2.snap" >"$dir/nograph.json"
"$heapdiff" --json "$dir/first.snap" "$dir/chain2.snap" >"$dir/growth.json"
"$heapdiff" --color never "$dir/first.snap" "$dir/chain2.snap" \
  >"$dir/growth.txt"
cat "$dir/growth.txt"
python3 "$src/hd_retained_check.py" "$dir"
