#!/usr/bin/env python3
"""attach_grow_check.py JSON - checks heapdiff --json on the two
snapshots attach_grow.sh takes of attach_grow after attaching (5 requests
before A, 7 more before B): each site's exact growth, what is held and
how, what is lost. Prints one line per check; exits 1 if any fails."""
import json
import sys

from checklib import equal, status

doc = json.load(open(sys.argv[1]))


def hop(h):
    """A hop as a short comparable tuple."""
    if h["kind"] == "mapping":
        return ("mapping", h["name"])
    if h["kind"] == "thread":
        return ("thread",)
    if h["kind"] == "global":
        return ("global", h["symbol"], h["target_offset"])
    if h["kind"] == "block":
        return ("block", h["function"], h["target_offset"])
    return (h["kind"],)


sites = {}
for s in doc["sites"]:
    sites.setdefault(s["stack"][0]["function"], []).append(s)

equal("attached", doc["attached"], True)
equal("scanned", doc["scanned"], True)
PRE = ("mapping", "[heap] allocated before attach")


def site(name, size, lost):
    got = sites.get(name, [])
    equal(f"{name}: sites", len(got), 1)
    if not got:
        return None
    s = got[0]
    equal(f"{name}: blocks", s["blocks"], [5, 12])
    equal(f"{name}: bytes", s["bytes"], [5 * size, 12 * size])
    equal(f"{name}: new blocks", s["new_blocks"], 7)
    equal(f"{name}: unreachable", s["unreachable_blocks"], lost)
    return s


def first_hops(s):
    return sorted({hop(r["path"][0]) for r in s["retainers"]})


e = site("make_entry", 48, 0)
if e:
    # new entries go first in their chain: the bucket array holds them
    equal("make_entry: held from", first_hops(e), [PRE])
site("make_dropped", 40, 12)
n = site("make_lnode", 32, 0)
if n:
    # appended after the nodes made before attach (in the worker's
    # arena), which hold the first
    equal("make_lnode: held from", first_hops(n),
          [("mapping", "[arena] allocated before attach")])
i = site("make_inode", 64, 0)
if i:
    # the last node by g_itail (its start), the others from the first
    # nodes, made before attach, through pointers to offset 40
    equal("make_inode: held from", first_hops(i),
          [("global", "g_itail", 0), PRE])
    equal("make_inode: through interior pointers",
          sum(r["blocks"] for r in i["retainers"]
              if hop(r["path"][0]) == PRE and
              r["path"][-1]["target_offset"] == 40), 11)
v = sites.get("make_valloc", [])
equal("make_valloc (lazily bound slot): sites", len(v), 1)
if v:
    equal("make_valloc: blocks", v[0]["blocks"], [0, 3])
    equal("make_valloc: unreachable", v[0]["unreachable_blocks"], 0)
d = sites.get("attach_dl_alloc", [])
equal("attach_dl_alloc (a module loaded after attach): sites", len(d), 1)
if d:
    equal("attach_dl_alloc: blocks", d[0]["blocks"], [0, 2])
    equal("attach_dl_alloc: bytes", d[0]["bytes"], [0, 400])
equal("other growing sites",
      sorted(k for k in sites
             if not k.startswith("make_") and k != "attach_dl_alloc"), [])
sys.exit(status())
