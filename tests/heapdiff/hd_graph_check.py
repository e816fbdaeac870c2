#!/usr/bin/env python3
"""hd_graph_check.py JSON - checks heapdiff --json on hd_graph's two
snapshots against the pointer graphs that program builds (its banner).
Prints one line per check; exits 1 if any fails."""
import json
import sys

from checklib import equal, status

doc = json.load(open(sys.argv[1]))


def hop(h):
    """A hop as a short comparable tuple."""
    if h["kind"] == "global":
        return ("global", h["symbol"], h["target_offset"])
    if h["kind"] == "thread":
        return ("thread", h["name"], h["target_offset"])
    if h["kind"] == "block":
        return ("block", h["function"], h["count"], h["target_offset"])
    return (h["kind"],)


sites = {}
for s in doc["sites"]:
    sites.setdefault(s["stack"][0]["function"], []).append(s)

equal("scanned", doc["scanned"], True)


def expect(name, blocks, lost, paths):
    got = sites.get(name, [])
    equal(f"{name}: sites", len(got), 1)
    if not got:
        return
    s = got[0]
    equal(f"{name}: blocks", s["blocks"][-1], blocks)
    equal(f"{name}: unreachable_blocks", s["unreachable_blocks"], lost)
    got_paths = [(r["blocks"], [hop(h) for h in r["path"]]) for r in s["retainers"]]
    equal(f"{name}: retainers", got_paths, paths)


g_root = ("global", "g_root", 0)
expect("make_array", 1, 0, [(1, [g_root])])
expect("make_entry", 8, 0, [(8, [g_root, ("block", "make_array", 1, 0)])])
expect("make_payload", 8, 0,
       [(8, [g_root, ("block", "make_array", 1, 0), ("block", "make_entry", 1, 0)])])
worker = ("thread", "hs-worker", 0)
expect("make_lnode", 5, 0,
       [(4, [worker, ("block", "make_lnode", 4, 0)]), (1, [worker])])
g_ilist = ("global", "g_ilist", 40)
expect("make_inode", 6, 0,
       [(5, [g_ilist, ("block", "make_inode", 5, 40)]), (1, [g_ilist])])
# a pointer to the start outranks one into the middle found before it
expect("make_shared", 1, 0, [(1, [("global", "g_pair", 0)])])
expect("make_cycle_a", 1, 1, [])
expect("make_cycle_b", 1, 1, [])
expect("make_dropped", 3, 3, [])
sys.exit(status())
