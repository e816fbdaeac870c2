#!/usr/bin/env python3
"""hd_cxx_check.py JSON - checks heapdiff --json on hd_cxx_svc's snapshots
(see its banner): the growing sites and what names them. Prints one line
per check; exits 1 if any fails."""
import json
import sys

from checklib import check, equal, status

doc = json.load(open(sys.argv[1]))
equal("snapshots", len(doc["snapshots"]), 3)
equal("scanned", doc["scanned"], True)

by_origin = {}
for s in doc["sites"]:
    o = s["stack"][s["origin"]]
    check(f"origin {o['short_function']} is app::",
          o["short_function"].startswith("app::"), str(o))
    check("short_function has no parameters",
          "(" not in o["short_function"], o["short_function"])
    by_origin.setdefault(o["short_function"], []).append(s)
    if s["trend"] != "growing":
        check(f"{o['short_function']} growing", False, s["trend"])

equal("origins", sorted(by_origin),
      ["app::cache_insert", "app::handle", "app::make_cycle"])
equal("app::log_line (the bounded deque) growing", "app::log_line" in by_origin,
      False)

# make_shared on two lines: two sites, 20 blocks of a Node (and its
# control block) per interval each, every one lost (cycles)
cycles = by_origin.get("app::make_cycle", [])
equal("make_cycle sites", len(cycles), 2)
equal("make_cycle lines", len({s["stack"][s["origin"]]["line"]
                                for s in cycles}), 2)
for s in cycles:
    equal("make_cycle blocks", s["blocks"], [20, 40, 60])
    equal("make_cycle lost blocks", s["unreachable_blocks"], 60)
    equal("make_cycle via", s["stack"][s["origin"] - 1]["short_function"],
          "std::make_shared<…>")

# new Request: 200 per interval; all but the last one dropped
req = by_origin.get("app::handle", [])
equal("handle sites", len(req), 1)
for s in req:
    equal("handle blocks", s["blocks"], [200, 400, 600])
    equal("handle lost blocks", s["unreachable_blocks"], 599)
    equal("handle origin is the innermost", s["origin"], 0)

cache = by_origin.get("app::cache_insert", [])
check("cache_insert sites >= 3", len(cache) >= 3, str(len(cache)))
equal("cache_insert lost", sum(s["unreachable_blocks"] for s in cache), 0)
vec = [s for s in cache
       if s["stack"][s["origin"] - 1]["short_function"]
       == "std::vector<…>::vector"]
equal("cache_insert via std::vector<…>::vector sites", len(vec), 1)
for s in vec:
    equal("vector blocks", s["blocks"], [200, 400, 600])
    check("full name kept in function",
          s["stack"][s["origin"]]["function"].startswith("app::cache_insert("),
          s["stack"][s["origin"]]["function"])
# the cache's retainer paths: from the global g_cache through blocks that
# each name their own origin, an app:: function, as the text report does
hops = [h for s in cache for r in s["retainers"] for h in r["path"]
        if h["kind"] == "block"]
check("cache_insert retainer paths have block hops", len(hops) > 0, "none")
for h in hops:
    o = h["stack"][h["origin"]]["short_function"]
    check(f"block hop named by {o}, an app:: origin", o.startswith("app::"),
          str(h["stack"][:h["origin"] + 1]))
sys.exit(status())
