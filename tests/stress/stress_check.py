#!/usr/bin/env python3
"""stress_check.py WHAT JSON ARGS... - checks heapdiff --json for the stress
tests. One line per check; exit 1 if any fails.

  dl-same JSON ROUNDS K A      stress_dl.sh same: library A in every round
  dl-replaced JSON A           the same snapshots once A's file was replaced
                               by another build: A's frames are not named
  dl-two JSON ROUNDS K A B     stress_dl.sh two: A and B in turn"""
import json
import sys

from checklib import check, equal, status


def first(site):
    return site["stack"][0] if site["stack"] else {}


def named(doc, function):
    return [s for s in doc["sites"] if first(s).get("function") == function]


def all_frames(doc):
    for s in doc["sites"]:
        for f in s["stack"]:
            yield f
        for r in s["retainers"]:
            for h in r["path"]:
                for f in h.get("stack", []):
                    yield f


def expect_site(doc, function, module, blocks, lost):
    """The site whose first frame is `function`: exactly one, in `module`,
    with these blocks in the two snapshots, and this many of the last
    lost. The snapshots say which load of a module each stack went through
    (GENS), so every frame is named, whatever library came at the same
    addresses later."""
    found = named(doc, function)
    equal(f"{function}: sites", len(found), 1)
    if not found:
        return False
    s = found[0]
    equal(f"{function}: module", first(s)["module"], module)
    equal(f"{function}: blocks", s["blocks"], blocks)
    equal(f"{function}: lost", s["unreachable_blocks"], lost)
    return True


def no_foreign_names(doc, libs):
    """No frame in library X's file named after another library's code."""
    for f in all_frames(doc):
        fn = f.get("function") or ""
        for tag, path in libs.items():
            if fn.startswith("dllib_") and f["module"] == path and \
                    not fn.startswith(f"dllib_{tag}_") and fn != "dllib_alloc":
                return check(f"frame {fn} not named in {path}", False)
    return check("every named frame is its own library's", True)


def dl_same(doc, rounds, k, a):
    rounds, k = int(rounds), int(k)
    equal("snapshots", len(doc["snapshots"]), 2)
    check("scanned", doc["scanned"], doc["scan_note"])
    expect_site(doc, "dllib_a_give", a, [k, rounds * k], 0)
    expect_site(doc, "dllib_a_keep", a, [2, rounds * 2], rounds * 2)
    check("dllib_a_give named (from the unloaded module)",
          bool(named(doc, "dllib_a_give")))
    gives = named(doc, "dllib_a_give")
    if gives and gives[0]["retainers"]:
        root = gives[0]["retainers"][0]["path"][0]
        check("given blocks held by the program's global `given`",
              root.get("symbol") == "given", root)


def dl_replaced(doc, a):
    frames = [f for f in all_frames(doc) if f["module"] == a]
    check(f"{len(frames)} frames in {a}", bool(frames))
    check("none of them named (another build has that name now)",
          all(f["function"] is None for f in frames),
          sorted({f["function"] for f in frames if f["function"]}))


def dl_two(doc, rounds, k, a, b):
    rounds, k = int(rounds), int(k)
    na, nb = (rounds + 1) // 2, rounds // 2
    equal("snapshots", len(doc["snapshots"]), 2)
    no_foreign_names(doc, {"a": a, "b": b})
    unnamed = [s for s in doc["sites"]
               if first(s).get("module") in (a, b, None)
               and first(s).get("function") is None]
    equal("sites in the libraries with an unnamed first frame", len(unnamed), 0)
    expect_site(doc, "dllib_a_give", a, [k, na * k], 0)
    expect_site(doc, "dllib_b_give", b, [0, nb * k], 0)
    expect_site(doc, "dllib_a_keep", a, [2, na * 2], na * 2)
    expect_site(doc, "dllib_b_keep", b, [0, nb * 2], nb * 2)


def main():
    what, path = sys.argv[1], sys.argv[2]
    doc = json.load(open(path))
    {"dl-same": dl_same, "dl-replaced": dl_replaced,
     "dl-two": dl_two}[what](doc, *sys.argv[3:])
    sys.exit(status())


if __name__ == "__main__":
    main()
