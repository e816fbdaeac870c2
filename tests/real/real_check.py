#!/usr/bin/env python3
"""real_check.py WHAT JSON ARGS... - checks heapdiff --json on snapshots of a
real program against what the test made it do. One line per check; exit 1
if any fails.

  python JSON MODE N SIZE   real_python.sh: 3 snapshots, N objects of SIZE
                            bytes appended to a global list between each
  node JSON N SIZE          real_node.sh: 3 snapshots, N Buffers of SIZE
                            bytes cached in a global Map between each
  redis-grow JSON N VALUE   real_redis.sh: 3 snapshots, N keys with values
                            of VALUE bytes written between each
  redis-gone JSON           real_redis.sh: first snapshot to the one after
                            the keys were deleted
  prefork JSON T1 T2 SIZE   real_prefork.sh: two snapshots of one process
                            holding T1 then T2 sessions of SIZE bytes
Retainer checks need --retainers large enough to list every path."""
import json
import sys

from checklib import check, equal, status


def functions(stack):
    return [f["function"] or "" for f in stack]


def frames(stack):
    return [(f["module"], f["offset"]) for f in stack]


def held_by(site):
    """Blocks of the site held through paths starting at each root kind."""
    out = {}
    for r in site["retainers"]:
        kind = r["path"][0]["kind"] if r["path"] else "?"
        out[kind] = out.get(kind, 0) + r["blocks"]
    return out


def main_path(site):
    return site["retainers"][0]["path"] if site["retainers"] else []


def no_shim_roots(doc):
    """The shim's own globals are never a root (they once held the ends of
    its mappings, which matched redis' blocks under jemalloc)."""
    bad = [r["path"][0] for s in doc["sites"] for r in s["retainers"]
           if r["path"] and r["path"][0]["kind"] == "global" and
           (r["path"][0]["module"] or "").endswith("libheapsnap.so")]
    check("no path starts at the shim's own globals", not bad, bad[:2])


def scanned(doc):
    no_shim_roots(doc)
    return check("last snapshot scanned", doc["scanned"],
                 f"(scan_note {doc['scan_note']!r})")


def python(doc, mode, n, size):
    n, size = int(n), int(size)
    equal("snapshots", len(doc["snapshots"]), 3)
    scanned(doc)
    top = doc["sites"][0]
    equal("top site blocks", top["blocks"], [n, 2 * n, 3 * n])
    equal("top site bytes", top["bytes"], [size * n, 2 * size * n, 3 * size * n])
    equal("top site new blocks", top["new_blocks"], 2 * n)
    equal("top site trend", top["trend"], "growing")
    exe = doc["snapshots"][0]["exe"]
    equal("top site allocated in", top["stack"][0]["module"], exe)
    check("top site stack runs through _PyEval_EvalFrameDefault",
          "_PyEval_EvalFrameDefault" in functions(top["stack"]),
          functions(top["stack"]))
    # CPython's memory API (PyObject_Malloc, PyMem_RawMalloc ...) is the
    # allocator's, like malloc: the site starts at its caller.
    first = functions(top["stack"])[0]
    check(f"top site starts past CPython's allocator ({first or '?'})",
          not first.startswith(("PyMem_", "_PyMem_", "PyObject_Malloc",
                                "_PyObject_Malloc", "PyObject_Realloc",
                                "_PyObject_Realloc", "pymalloc_")),
          functions(top["stack"])[:4])
    equal("top site unreachable bytes", top["unreachable_bytes"], 0)
    held = held_by(top)
    print("     held by root kind:", held)
    want = "global" if mode == "malloc" else "mapping"
    # malloc: the list object is a malloc block reached from the
    # interpreter's globals; pymalloc: it lives in a pymalloc arena.
    # A stale char * in python3.11's data pointing into the middle of the
    # list's item array once took it (the scan takes globals first); a
    # pointer to a block's start now outranks such a word.
    check(f">= 95% of the list's objects held from a {want}",
          held.get(want, 0) >= 0.95 * 3 * n, held)
    path = main_path(top)
    # The path's last hop is the list's item array: the site that grew
    # as one block resized by realloc (1 -> 1 block).
    lists = [s for s in doc["sites"][1:] if s["blocks"] == [1, 1, 1]]
    check("one site is the list's item array (1 -> 1 block, growing)",
          len(lists) >= 1, [s["blocks"] for s in doc["sites"]])
    check("the main path ends at the list's item array",
          bool(lists) and bool(path) and path[-1]["kind"] == "block" and
          frames(path[-1]["stack"]) == frames(lists[0]["stack"]), path[-1:])
    if mode == "malloc":
        check("the main path starts at a global of the interpreter",
              path[0]["kind"] == "global" and path[0]["module"] == exe,
              path[0])


def node(doc, n, size):
    n, size = int(n), int(size)
    grown = 2 * n * size
    equal("snapshots", len(doc["snapshots"]), 3)
    scanned(doc)
    top = doc["sites"][0]
    fns = functions(top["stack"])
    check("top site is node's ArrayBuffer allocator",
          "NodeArrayBufferAllocator::Allocate" in fns[0], fns[:3])
    check("its stack runs through v8's BackingStore::Allocate",
          any("BackingStore::Allocate" in f for f in fns), fns)
    # Blocks of the first snapshot that V8's collector freed since make
    # the growth a little less than what was cached.
    check(f"growth {top['delta_bytes']} >= 95% of {grown}",
          top["delta_bytes"] >= 0.95 * grown)
    check(f"new blocks {top['new_blocks']} in [{2 * n}, {2 * n + 50}]",
          2 * n <= top["new_blocks"] <= 2 * n + 50)
    check(f"new bytes {top['new_bytes']} >= {grown}", top["new_bytes"] >= grown)
    equal("trend", top["trend"], "growing")
    last = top["bytes"][-1]
    check(f"unreachable bytes {top['unreachable_bytes']} <= 1% of {last}",
          top["unreachable_bytes"] <= 0.01 * last)
    held = held_by(top)
    print("     held by root kind:", held)
    check(">= 90% of the buffers held from anonymous mappings (V8's heap)",
          held.get("mapping", 0) >= 0.9 * top["blocks"][-1], held)
    check("the main path is one hop from a mapping",
          len(main_path(top)) == 1 and main_path(top)[0]["kind"] == "mapping",
          main_path(top))


def sites_at(doc, first, caller=None):
    """Growing sites whose first frame is `first` (and `caller` among the
    next two frames)."""
    out = []
    for s in doc["sites"]:
        fns = functions(s["stack"])
        if fns and fns[0] == first and (caller is None or caller in fns[1:3]):
            out.append(s)
    return out


def total(sites, field, i=None):
    return sum(s[field] if i is None else s[field][i] for s in sites)


# Where redis 7.0 allocates a key (first frame, a caller in the next two):
# the value string, the key string, the dict entry, the value object.
REDIS_KEY_SITES = [("_sdsnewlen", "createStringObject"), ("_sdsnewlen", "dbAdd"),
                   ("dictAddRaw", None), ("createObject", "processMultibulkBuffer")]


def redis_grow(doc, n, value):
    n, value = int(n), int(value)
    equal("snapshots", len(doc["snapshots"]), 3)
    scanned(doc)
    keys = sum(len("key:%d" % i) + 2 for i in range(2 * n))  # sds type 5
    sizes = [2 * n * (value + 4), keys, 2 * n * 24, 2 * n * 16]
    for (first, caller), size in zip(REDIS_KEY_SITES, sizes):
        blocks = 2 * n
        found = sites_at(doc, first, caller)
        name = first + (" <- " + caller if caller else "")
        if not check(f"{name}: growing", bool(found)):
            continue
        equal(f"{name}: blocks", [total(found, "blocks", i) for i in range(3)],
              [0, blocks // 2, blocks])
        equal(f"{name}: bytes grew", total(found, "delta_bytes"), size)
        equal(f"{name}: new blocks", total(found, "new_blocks"), blocks)
        equal(f"{name}: unreachable", total(found, "unreachable_blocks"), 0)
    values = sites_at(doc, "_sdsnewlen", "createStringObject")
    if values:
        hops = [functions(h["stack"])[0] for h in main_path(values[0])
                if h["kind"] == "block"]
        print("     values held by:", main_path(values[0])[0]["kind"], hops)
        check("values held through the dictionary (_dictExpand, dictAddRaw)",
              "_dictExpand" in hops and "dictAddRaw" in hops, hops)
        # Not by a stale word in a dead frame of the main thread's stack:
        # globals are scanned, with all they reach, before stacks.
        root = main_path(values[0])[0]
        check("... from a global of redis (server)",
              root["kind"] == "global" and root.get("symbol") == "server",
              root)


def redis_gone(doc):
    equal("snapshots", len(doc["snapshots"]), 2)
    left = sum(s["delta_blocks"] for first, caller in REDIS_KEY_SITES
               for s in sites_at(doc, first, caller))
    equal("blocks left at the key sites", left, 0)
    # The dictionary's table shrinks at the next cron tick: it may not have.
    check(f"total growth {doc['total_growth_bytes']} < 1 MiB",
          doc["total_growth_bytes"] < 1 << 20)


def prefork(doc, t1, t2, size):
    t1, t2, size = int(t1), int(t2), int(size)
    equal("snapshots", len(doc["snapshots"]), 2)
    scanned(doc)
    found = sites_at(doc, "worker_leak")
    if t2 == t1:
        equal("worker_leak sites growing", len(found), 0)
        return
    if not equal("worker_leak sites growing", len(found), 1):
        return
    s = found[0]
    equal("worker_leak blocks", s["blocks"], [t1, t2])
    equal("worker_leak bytes", s["bytes"], [t1 * size, t2 * size])
    equal("worker_leak new blocks", s["new_blocks"], t2 - t1)
    equal("worker_leak unreachable", s["unreachable_blocks"], 0)
    path = main_path(s)
    check("held from the global g_sessions",
          bool(path) and path[0]["kind"] == "global" and
          path[0]["symbol"] == "g_sessions", path[:1])
    equal("... through a chain of sessions", sum(r["blocks"] for r in
                                                 s["retainers"]), t2)


def main():
    what, path = sys.argv[1], sys.argv[2]
    doc = json.load(open(path))
    {"python": python, "node": node, "redis-grow": redis_grow,
     "redis-gone": redis_gone, "prefork": prefork}[what](doc, *sys.argv[3:])
    sys.exit(status())


if __name__ == "__main__":
    main()
