#!/usr/bin/env python3
"""html_other_check.py PAGE JSON - a page over its cap of sites against
heapdiff --json for the same snapshots (html_other.sh): its snapshots'
live bytes and blocks, its count of live sites. Prints what
the browser must show: "other K GROWTH" and "total GROWTH" (the page's
summary, which counts "other" as one site)."""
import json
import sys

from checklib import equal, status
from hd_page import load

_, _, d = load(sys.argv[1])
full = json.load(open(sys.argv[2]))
s, k = d["sites"], len(d["report"]["snapshots"])
n = len(s["stack_depth"])
equal("sites on the page, other included", n, d["max_sites"] + 1)
equal("other_sites: the live sites past the cap", d["other_sites"],
      full["sites_total"] - d["max_sites"])
for key, total in (("bytes", "live_bytes"), ("blocks", "live_blocks")):
    page = [sum(s[key][i * k + j] for i in range(n)) for j in range(k)]
    equal(f"{key} per snapshot, the page's sites and other",
          page, [x[total] for x in full["snapshots"]])
# each site in other peaks no higher than the page's smallest
least = min(max(s["bytes"][i * k:i * k + k]) for i in range(n - 1))
equal("other within other_sites x the smallest peak on the page",
      max(s["bytes"][(n - 1) * k:n * k]) <= d["other_sites"] * least, True)
other = s["bytes"][(n - 1) * k + k - 1] - s["bytes"][(n - 1) * k]
# the summary adds the growing sites' growth, "other" as one site
grew = [s["bytes"][i * k + k - 1] - s["bytes"][i * k] for i in range(n)]
print("other", d["other_sites"], other)
print("total", sum(g for g in grew if g > 0))
sys.exit(status())
