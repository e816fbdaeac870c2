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


def expect(name, blocks, lost, paths, retained):
    got = sites.get(name, [])
    equal(f"{name}: sites", len(got), 1)
    if not got:
        return
    s = got[0]
    equal(f"{name}: blocks", s["blocks"][-1], blocks)
    # the first snapshot is scanned and empty: it retains nothing
    equal(f"{name}: retained_bytes", s["retained_bytes"], [0, retained])
    equal(f"{name}: delta_retained_bytes", s["delta_retained_bytes"], retained)
    equal(f"{name}: unreachable_blocks", s["unreachable_blocks"], lost)
    got_paths = [(r["blocks"], [hop(h) for h in r["path"]]) for r in s["retainers"]]
    equal(f"{name}: retainers", got_paths, paths)


# sizes: array 8 pointers, entry 32, payload 100, lnode 48, inode 72,
# cycle nodes 64, dropped 48, shared 64
g_root = ("global", "g_root", 0)
# the array retains its entries and their payloads; each entry its payload
expect("make_array", 1, 0, [(1, [g_root])], 64 + 8 * 32 + 8 * 100)
expect("make_entry", 8, 0, [(8, [g_root, ("block", "make_array", 1, 0)])],
       8 * (32 + 100))
expect("make_payload", 8, 0,
       [(8, [g_root, ("block", "make_array", 1, 0), ("block", "make_entry", 1, 0)])],
       8 * 100)
worker = ("thread", "hs-worker", 0)
# the list's head dominates the rest: counted once for the site
expect("make_lnode", 5, 0,
       [(4, [worker, ("block", "make_lnode", 4, 0)]), (1, [worker])], 5 * 48)
g_ilist = ("global", "g_ilist", 40)
# linked through interior pointers: the first node retains the chain
expect("make_inode", 6, 0,
       [(5, [g_ilist, ("block", "make_inode", 5, 40)]), (1, [g_ilist])], 6 * 72)
# a pointer to the start outranks one into the middle found before it
expect("make_shared", 1, 0, [(1, [("global", "g_pair", 0)])], 64)
# nothing reachable retains what is lost
expect("make_cycle_a", 1, 1, [], 0)
expect("make_cycle_b", 1, 1, [], 0)
expect("make_dropped", 3, 3, [], 0)

# roots, named as retainer paths name them, with what each retains by site
roots = {(r["kind"], r.get("symbol") or r.get("name")): r for r in doc["roots"]}


def expect_root(key, retained, blocks, by_site):
    r = roots.get(key)
    equal(f"root {key}: present", r is not None, True)
    if r is None:
        return
    equal(f"root {key}: retained_bytes", r["retained_bytes"], [0, retained])
    equal(f"root {key}: retained_blocks", r["retained_blocks"], [0, blocks])
    equal(f"root {key}: delta_retained_bytes", r["delta_retained_bytes"],
          retained)
    got = {s["function"]: s["last_bytes"] for s in r["sites"]}
    for fn, b in by_site.items():
        equal(f"root {key}: retains of {fn}", got.get(fn), b)


expect_root(("global", "g_root"), 64 + 8 * 32 + 8 * 100, 17,
            {"make_array": 64, "make_entry": 256, "make_payload": 800})
expect_root(("global", "g_ilist"), 6 * 72, 6, {"make_inode": 432})
expect_root(("global", "g_pair"), 64, 1, {"make_shared": 64})
w = roots.get(("thread", "hs-worker"))
equal("root worker stack: retains the list",
      w and {s["function"]: s["last_bytes"] for s in w["sites"]}.get("make_lnode"),
      240)
# most retained growth first
equal("roots: g_root first", (doc["roots"][0]["kind"], doc["roots"][0].get("symbol")),
      ("global", "g_root"))
sys.exit(status())
