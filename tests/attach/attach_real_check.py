#!/usr/bin/env python3
"""attach_real_check.py MODE JSON N - checks heapdiff --json between two
snapshots of an attached python3, node or redis-server (attach_real.sh):
the snapshots say they come from an attach, and the growth of the step
between them (N objects) is found at sites named by the program's own
functions (python's Py*/_Py*, node's node:: and v8::, redis' own)."""
import json
import re
import sys

from checklib import equal, status

mode, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
doc = json.load(open(path))
OWN = {
    "python": re.compile(r"^_?Py|bytearray"),
    "node": re.compile(r"node::|v8::"),
    "redis": re.compile(r"^(zmalloc|zcalloc|sdsnewlen|_sdsnewlen|createObject|"
                        r"createStringObject|createEmbeddedStringObject|"
                        r"dictAddRaw|dictCreate|_dictExpand|dictExpand)"),
}[mode]
SIZE = {"python": 1000, "node": 1000, "redis": 0}[mode]

equal("attached", doc["attached"], True)
# redis-server runs on jemalloc, whose memory from before the attach is
# no root: the snapshot says so (its lost blocks are not a leak)
equal("the note says jemalloc's limit", "on jemalloc" in doc["scan_note"],
      mode == "redis")


def named(site):
    return [f["function"] for f in site["stack"]
            if f.get("function") and OWN.search(f["function"])]


own = [s for s in doc["sites"] if s["delta_blocks"] > 0 and named(s)]
grown = sum(s["delta_blocks"] for s in own)
equal(f"blocks grown at {mode}'s own sites >= {n}", grown >= n, True)
if SIZE:
    big = [s for s in own if s["delta_bytes"] >= n * SIZE]
    equal(f"a site grew by {n} objects of {SIZE} bytes", len(big) >= 1, True)
print("named by", sorted({f for s in own for f in named(s)})[:6])
sys.exit(status())
