#!/usr/bin/env python3
"""hd_retained_check.py DIR - checks the retained sizes heapdiff --json
gives on hd_retained.sh's known graphs (DIR/<graph>.json), exactly.
Prints one line per check; exits 1 if any fails."""
import json
import os
import sys

from checklib import check, equal, status

d = sys.argv[1]
SITE = {0x1100: "A", 0x1200: "B", 0x1300: "C", 0x1400: "D", 0x1500: "E",
        0x1600: "F"}


def load(name):
    return json.load(open(os.path.join(d, name + ".json")))


def sites(doc):
    return {SITE[s["stack"][0]["offset"]]: s for s in doc["sites"]}


def roots(doc):
    return {r["kind"]: r for r in doc["roots"]}


def expect(graph, want_sites, want_roots):
    doc = load(graph)
    got = {k: s["retained_bytes"] for k, s in sites(doc).items()}
    equal(f"{graph}: sites' retained_bytes", got, want_sites)
    got = {k: (r["retained_bytes"], r["retained_blocks"])
           for k, r in roots(doc).items()}
    equal(f"{graph}: roots' retained bytes and blocks", got, want_roots)


expect("chain", {"A": [70], "B": [60], "C": [40]},
       {"global": ([70], [3])})
# D is dominated by A, not by B or C
expect("diamond", {"A": [150], "B": [20], "C": [40], "D": [80]},
       {"global": ([150], [4])})
# A (and B under it) hangs from two roots: the virtual root's alone
expect("shared", {"A": [30], "B": [20], "C": [40]},
       {"global": ([40], [1]), "thread": ([0], [0])})
# the cycle is retained from where it is entered; a lost block retains
# nothing and counts in no root
expect("cycle", {"A": [70], "B": [60], "C": [40], "E": [0]},
       {"global": ([70], [3])})
# two blocks of A share B: each A counts itself only, B counts for B; the
# list of D counts once, not 15 + 10 + 5
expect("onesite", {"A": [20], "B": [40], "D": [15], "F": [0]},
       {"global": ([75], [6])})

# a snapshot without its graph has no figure
doc = load("nograph")
b = sites(doc)["B"]  # growing sites are listed: B and C
equal("no graph first: B's retained_bytes", b["retained_bytes"], [None, 60])
equal("no graph first: B's delta_retained_bytes", b["delta_retained_bytes"],
      None)
equal("no graph first: root's delta", roots(doc)["global"]["delta_retained_bytes"],
      None)

# growth between two graphs, per site and per root, and the root by site
doc = load("growth")
s = sites(doc)
equal("growth: retained per site",
      {k: (v["retained_bytes"], v["delta_retained_bytes"]) for k, v in s.items()},
      {"B": ([0, 60], 60), "C": ([0, 40], 40)})
r = roots(doc)["global"]
equal("growth: root", (r["retained_bytes"], r["retained_blocks"],
                       r["delta_retained_bytes"]), ([10, 70], [1, 3], 60))
equal("growth: root's sites, most growth first",
      [(x["first_bytes"], x["last_bytes"]) for x in r["sites"]],
      [(0, 40), (0, 20), (10, 10)])
text = open(os.path.join(d, "growth.txt")).read()
check("growth.txt: a retained column", " retained " in text, text)
check("growth.txt: what holds the growth",
      "globals of server+0x200000  retains 70 B (+60 B) in 3 blocks" in text,
      text)
sys.exit(status())
