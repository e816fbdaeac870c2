#!/usr/bin/env python3
"""hd_e2e_check.py MODE JSON - checks heapdiff --json on hd_e2e_grow's
snapshots against the numbers that program is written to produce (see its
banner). MODE: stack, function or allocfn (the heapdiff options used).
Prints one line per check; exits 1 if any fails."""
import json
import sys

from checklib import equal, status

mode, path = sys.argv[1], sys.argv[2]
doc = json.load(open(path))


def first(site):
    return site["stack"][0]["function"] if site["stack"] else None


sites = {}
for s in doc["sites"]:
    sites.setdefault(first(s), []).append(s)

equal("snapshots", len(doc["snapshots"]), 3)
equal("sampled", doc["sampled"], False)


def expect(name, count, **fields):
    got = sites.get(name, [])
    equal(f"{name}: sites", len(got), count)
    for s in got:
        for k, v in fields.items():
            equal(f"{name}: {k}", s[k], v)


expect("site_grow", 1, blocks=[5, 15, 25], bytes=[320, 960, 1600],
       delta_blocks=20, delta_bytes=1280, new_blocks=20, new_bytes=1280,
       trend="growing")
expect("site_ring", 1, blocks=[8, 8, 8], bytes=[400, 480, 440],
       delta_blocks=0, delta_bytes=40, new_blocks=8, new_bytes=440,
       trend="bounded")
expect("site_realloc", 1, blocks=[1, 1, 1], bytes=[1000, 2000, 3000],
       delta_blocks=0, delta_bytes=2000, new_blocks=1, new_bytes=3000,
       trend="growing")
equal("site_churn listed", "site_churn" in sites, False)
if mode == "function":
    expect("site_multi", 1, blocks=[10, 20, 30], delta_bytes=640,
           new_blocks=20, trend="growing")
else:
    expect("site_multi", 2, blocks=[5, 10, 15], delta_bytes=320,
           new_blocks=10, trend="growing")
    callers = sorted(s["stack"][1]["function"] for s in sites["site_multi"])
    equal("site_multi callers", callers, ["caller_a", "caller_b"])
if mode == "allocfn":
    equal("my_alloc listed", "my_alloc" in sites, False)
    expect("site_wrapped", 1, blocks=[3, 6, 9], delta_bytes=288,
           trend="growing")
else:
    expect("my_alloc", 1, blocks=[3, 6, 9], delta_bytes=288, trend="growing")
    equal("my_alloc caller", sites["my_alloc"][0]["stack"][1]["function"],
          "site_wrapped")
if mode == "function":
    expect("site_two", 1, blocks=[2, 4, 6], delta_bytes=80, trend="growing")
else:
    expect("site_two", 2, delta_blocks=2, trend="growing")
    equal("site_two bytes", sorted(s["delta_bytes"] for s in sites["site_two"]),
          [32, 48])
grow = sites["site_grow"][0]["stack"][0]
equal("site_grow file", grow["file"].endswith("hd_e2e_grow.c"), True)
equal("site_grow line > 0", grow["line"] > 0, True)
equal("site_grow module", grow["module"].endswith("hd_e2e_grow"), True)
sys.exit(status())
