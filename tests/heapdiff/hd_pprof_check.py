"""hd_pprof_check.py - heapdiff --pprof read back by the real reader.

usage: hd_pprof_check.py HEAPDIFF DECODER DIR [SNAPSHOT...]
DIR holds the snapshots of hd_specs.sh (server.*, cxx.*) and sampled.snap
(hd_pprof.sh); or, with SNAPSHOTs, those of hd_cxx_svc run under the shim
(hd_pprof_e2e.sh): then the checks are e2e() below. Every profile is written by heapdiff --pprof, decoded by
hd_pprof_decode (the id rules) and read by `go tool pprof` (-raw, -top,
-diff_base, -tagfocus) with symbolization off and no network; the values
are checked against what the snapshots hold (hd_specs.sh says it) and
against heapdiff --json on the same snapshots."""
import json
import os
import re
import subprocess
import sys

from checklib import check, equal, status

heapdiff, decoder, d = sys.argv[1:4]
real_snaps = sys.argv[4:]
os.chdir(d)
# Any attempt at the network fails at once and shows in stderr.
ENV = dict(os.environ, http_proxy="http://127.0.0.1:9",
           https_proxy="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
           HTTPS_PROXY="http://127.0.0.1:9", no_proxy="", NO_PROXY="",
           PPROF_BINARY_PATH=os.path.join(d, "no-binaries"),
           PPROF_TMPDIR=os.path.join(d, "pprof-tmp"))


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    return p.returncode, p.stdout, p.stderr


def profile(name, *args):
    """heapdiff --pprof NAME ARGS: its one line, then the id rules."""
    rc, out, err = run([heapdiff, "--pprof", name, *args])
    equal(f"heapdiff --pprof {name} {' '.join(args)}: exit", rc, 0)
    check(f"{name}: one line naming it", out.count("\n") == 1 and
          out.startswith(name + ": pprof profile of "), out + err)
    rc, out, err = run([decoder, name])
    check(f"{name}: decoded, id rules hold", rc == 0, out + err)
    return name


def pprof(*args):
    """go tool pprof ARGS, symbolization off; stderr must show no fetch."""
    rc, out, err = run(["go", "tool", "pprof", "-symbolize=none", *args])
    check(f"go tool pprof {' '.join(args)}: exit 0", rc == 0, err)
    check(f"go tool pprof {' '.join(args)}: no fetch, no symbolization",
          not re.search(r"http|[Ff]etch|symboliz", err), err)
    return out


def raw(*args):
    """-raw, parsed: sample types, samples (values, location addresses,
    labels), the default type, period, locations' text."""
    text = pprof("-raw", *args)
    lines = text.splitlines()
    r = {"types": [], "samples": [], "period": None, "locations": {},
         "default": None, "comments": []}
    i = lines.index("Samples:")
    for t in lines[i + 1].split():
        if t.endswith("[dflt]"):
            t = t[:-6]
            r["default"] = t
        r["types"].append(t)
    for ln in lines[:i]:
        if ln.startswith("Period: "):
            r["period"] = int(ln.split()[1])
        if ln.startswith("Comment: "):
            r["comments"].append(ln[9:])
    j = i + 2
    while lines[j] != "Locations":
        m = re.match(r"^\s*(-?\d+(?:\s+-?\d+)*):\s*([\d ]*)$", lines[j])
        if m:
            r["samples"].append({"values": [int(v) for v in m[1].split()],
                                 "locs": [int(x) for x in m[2].split()],
                                 "labels": {}})
        else:
            m = re.match(r"^\s+(\S+):\[(.*)\]$", lines[j])
            r["samples"][-1]["labels"][m[1]] = m[2]
        j += 1
    loc = None
    r["mappings"] = {}
    k = lines.index("Mappings")
    for ln in lines[k + 1:]:
        m = re.match(r"^(\d+): (0x[0-9a-f]+)/(0x[0-9a-f]+)/(0x[0-9a-f]+) (\S+)",
                     ln)
        if m:
            r["mappings"][int(m[1])] = {"start": int(m[2], 16),
                                        "offset": int(m[4], 16),
                                        "file": m[5]}
    for ln in lines[j + 1:]:
        if ln == "Mappings":
            break
        m = re.match(r"^\s*(\d+): (0x[0-9a-f]+) M=(\d+)\s*(.*)$", ln)
        if m:
            loc = int(m[1])
            r["locations"][loc] = {"address": int(m[2], 16), "text": [m[4]],
                                   "mapping": int(m[3])}
        else:
            r["locations"][loc]["text"].append(ln.strip())
    return r


def by_stack(r, label=None):
    """Per stack (tuple of location addresses, leaf first): the summed
    values of its samples (with label key=value when given)."""
    out = {}
    for s in r["samples"]:
        if label and s["labels"].get(label[0]) != label[1]:
            continue
        key = tuple(r["locations"][x]["address"] for x in s["locs"])
        acc = out.setdefault(key, [0] * len(s["values"]))
        for k, v in enumerate(s["values"]):
            acc[k] += v
    return out


def value(r, stacks, key, type_name):
    v = stacks.get(key)
    return v[r["types"].index(type_name)] if v else 0


def json_sites(*args):
    rc, out, err = run([heapdiff, "--json", *args])
    equal(f"heapdiff --json {' '.join(args)}: exit", rc, 0)
    return json.loads(out)


def site_key(site):
    """A JSON site's stack as pprof's addresses: one per address frame
    (the entry not inlined into the next), the call instruction."""
    return tuple(f["address"] - 1 for f in site["stack"] if not f["inlined"])


def functions(text):
    """A -raw location's function names, one per Line, in order."""
    return [re.sub(r" \S*:\d+ s=\d+(\(.*\))?$", "", t) for t in text]


def lines_of(text):
    """A -raw location's Lines: (function, file:line) each, in order."""
    out = []
    for t in text:
        m = re.match(r"^(.*) (\S*:\d+) s=\d+(\(.*\))?$", t)
        out.append((m[1], m[2]) if m else (t, None))
    return out


def addr2line(file, addresses):
    """What addr2line says at each file address: (function, file:line) per
    inlined level, innermost first."""
    rc, out, err = run(["addr2line", "-a", "-f", "-i", "-C", "-e", file,
                        *[hex(a) for a in addresses]])
    res, cur, ln = {}, None, out.splitlines()
    i = 0
    while i < len(ln):
        if re.match(r"^0x[0-9a-f]+$", ln[i]):
            cur = int(ln[i], 16)
            res[cur] = []
            i += 1
            continue
        where = re.sub(r" \(discriminator \d+\)$", "", ln[i + 1])
        where = re.sub(r"^\?\?:[?0]$", ":0", where)  # no line info: as pprof
        res[cur].append((ln[i], where))
        i += 2
    return res


def symbolize_like_a_backend(p):
    """The main program's locations symbolized as a backend would from
    the Mapping alone: file address = address - memory_start +
    file_offset (a PIE's first segment is at address 0, offset 0), by
    addr2line on the mapping's file: the same Lines heapdiff wrote."""
    main = p["mappings"][1]
    locs = [v for v in p["locations"].values()
            if v["mapping"] == 1 and v["text"] != [""]]
    addrs = [v["address"] - main["start"] + main["offset"] for v in locs]
    got = addr2line(main["file"], addrs)
    for v, a in zip(locs, addrs):
        equal(f"{main['file']}+{a:#x}: addr2line's frames are the Lines",
              got.get(a), lines_of(v["text"]))
    check("main program locations compared", len(locs) >= 5, locs)


def e2e(snaps):
    """hd_cxx_svc (C++, -O2, inlined code) under the shim: pprof agrees
    with --json site by site, its lost bytes, names, and inlined frames
    as several Lines of one location, innermost first."""
    p = raw(profile("svc.pb.gz", *snaps))
    js = json_sites(*snaps)
    st = by_stack(p)
    lost = by_stack(p, ("reachability", "lost"))
    check("json lists growing sites", len(js["sites"]) >= 4, js["sites"])
    for s in js["sites"]:
        k = site_key(s)
        name = f"site {s['stack'][s['origin']]['short_function']}"
        for t, field in (("inuse_space/bytes", "bytes"),
                         ("inuse_objects/count", "blocks")):
            equal(f"{name}: {t} = json {field}[-1]", value(p, st, k, t),
                  s[field][-1])
        for t, field in (("new_space/bytes", "new_bytes"),
                         ("new_objects/count", "new_blocks")):
            equal(f"{name}: {t} = json {field}", value(p, st, k, t),
                  s[field])
        equal(f"{name}: lost inuse_space = json unreachable_bytes",
              value(p, lost, k, "inuse_space/bytes"), s["unreachable_bytes"])
    focus = raw("-tagfocus=reachability=lost", "svc.pb.gz")
    equal("-tagfocus=reachability=lost: inuse_space = json total_lost_bytes",
          sum(x["values"][1] for x in focus["samples"]),
          js["total_lost_bytes"])
    check("something is lost", js["total_lost_bytes"] > 0, js)
    top = pprof("-top", "-sample_index=inuse_space", "svc.pb.gz")
    for fn in ("app::make_cycle", "app::handle", "app::cache_insert"):
        check(f"-top names {fn}", fn in top, top)
    # Each JSON site's source frames, grouped by address, are the Lines of
    # the location at that address (less the return address's byte).
    by_addr = {v["address"]: functions(v["text"])
               for v in p["locations"].values()}
    inlined = 0
    for s in js["sites"]:
        group = []
        for f in s["stack"]:
            group.append(f["function"])
            if not f["inlined"]:
                equal(f"location {hex(f['address'] - 1)}: its Lines",
                      by_addr.get(f["address"] - 1), group)
                inlined += len(group) > 1
                group = []
    check("inlined frames as several Lines in some location", inlined > 0)
    symbolize_like_a_backend(p)
    sys.exit(status())


if real_snaps:
    e2e(real_snaps)

# --- the server snapshots: exact values ---------------------------------

INUSE = ["inuse_objects/count", "inuse_space/bytes"]
NEW = ["new_objects/count", "new_space/bytes"]
A = 0x400000 - 1  # sites by their return addresses (hd_specs.sh)
MAIN = 0x402000 - 1
S1100, S1200, S1300 = (A + 0x1100, MAIN), (A + 0x1200, MAIN), (A + 0x1300, MAIN)
S1400, S1500 = (A + 0x1400, MAIN), (A + 0x1500, MAIN)
SLIBC = (0x7f0000001000 - 1, 0x7f0000002000 - 1)  # all libc: kept whole

p13 = raw(profile("s13.pb.gz", "server.1.snap", "server.3.snap"))
equal("server 1+3: sample types", p13["types"], INUSE + NEW)
equal("server 1+3: default type", p13["default"], "new_space/bytes")
equal("server 1+3: period (full tracking)", p13["period"], 1)
equal("server 1+3: comments", p13["comments"][1:],
      ["program: /nonexistent/heapdiff-test/server", "pid: 100",
       "snapshot: server.1.snap", "snapshot: server.3.snap"])
# hd_specs.sh: site 0x1100 holds 30 x 100 B in server.3, 20 of them new
# (epochs 1 and 2), the last 10 lost; everything else is held.
want = {
    ("lost", S1100): [10, 1000, 10, 1000],
    ("held", S1100): [20, 2000, 10, 1000],
    ("held", S1200): [8, 440, 8, 440],
    ("held", S1300): [5, 50, 0, 0],
    ("held", S1500): [6, 1800, 6, 1800],
    ("held", SLIBC): [1, 64, 0, 0],
}
got = {}
for cls in ("lost", "held"):
    for k, v in by_stack(p13, ("reachability", cls)).items():
        got[(cls, k)] = v
equal("server 1+3: samples per stack and reachability", got, want)
equal("server 1+3: every sample labelled",
      all("reachability" in s["labels"] for s in p13["samples"]), True)

# The same, against heapdiff --json on the same snapshots.
js = json_sites("server.1.snap", "server.3.snap")
stacks = by_stack(p13)
lost = by_stack(p13, ("reachability", "lost"))
for s in js["sites"]:
    k = site_key(s)
    name = "site " + hex(k[0] + 1)
    equal(f"{name}: inuse_space = json bytes[-1]",
          value(p13, stacks, k, "inuse_space/bytes"), s["bytes"][-1])
    equal(f"{name}: inuse_objects = json blocks[-1]",
          value(p13, stacks, k, "inuse_objects/count"), s["blocks"][-1])
    equal(f"{name}: new_space = json new_bytes",
          value(p13, stacks, k, "new_space/bytes"), s["new_bytes"])
    equal(f"{name}: new_objects = json new_blocks",
          value(p13, stacks, k, "new_objects/count"), s["new_blocks"])
    equal(f"{name}: lost inuse_space = json unreachable_bytes",
          value(p13, lost, k, "inuse_space/bytes"), s["unreachable_bytes"])
    equal(f"{name}: lost new_space = json new_unreachable_bytes",
          value(p13, lost, k, "new_space/bytes"), s["new_unreachable_bytes"])
equal("server 1+3: json lists the growing sites", len(js["sites"]), 3)
equal("server 1+3: inuse_space in all = json total_bytes",
      sum(v[1] for v in stacks.values()), js["total_bytes"])
equal("server 1+3: new_space in all = json total_new_bytes",
      sum(v[3] for v in stacks.values()), js["total_new_bytes"])

# And against the text report: the lost bytes, site 0x1100's row.
rc, text, err = run([heapdiff, "--color", "never", "server.1.snap",
                     "server.3.snap"])
lost_all = sum(v[1] for v in lost.values())
check(f"text report: {lost_all} B of it lost",
      f": {lost_all} B of it lost," in text, text)
row = (r"^\s+1\s+\+2\.0 KiB\s+2\.0 KiB\s+%d B\s+%d -> %d\s+growing\s+"
       r"server\+0x1100$" % (value(p13, lost, S1100, "inuse_space/bytes"),
                             10, value(p13, stacks, S1100,
                                       "inuse_objects/count")))
check("text report: site 0x1100's lost bytes and blocks as pprof's",
      re.search(row, text, re.M) is not None, text)

# -tagfocus=reachability=lost: the leak alone, as heapdiff's lost bytes.
focus = raw("-tagfocus=reachability=lost", "s13.pb.gz")
equal("-tagfocus=reachability=lost: inuse_space = json total_lost_bytes",
      sum(s["values"][1] for s in focus["samples"]), js["total_lost_bytes"])
equal("-tagfocus=reachability=lost: new_space = total_new_lost_bytes",
      sum(s["values"][3] for s in focus["samples"]),
      js["total_new_lost_bytes"])
top = pprof("-top", "-tagfocus=reachability=lost",
            "-sample_index=inuse_space", "-unit=byte", "s13.pb.gz")
check("-top -tagfocus=reachability=lost: accounts for 1000B",
      "Showing nodes accounting for 1000B," in top, top)

# One snapshot each: in-use only; -diff_base a c gives the growth.
pa = raw(profile("a.pb.gz", "server.1.snap"))
pc = raw(profile("c.pb.gz", "server.3.snap"))
equal("one snapshot: sample types", pa["types"], INUSE + NEW)
equal("one snapshot: new values 0, as json's new_bytes",
      {tuple(v[2:]) for v in by_stack(pa).values()}, {(0, 0)})
equal("one snapshot: default type", pa["default"], "inuse_space/bytes")
equal("server.1 (no scan): no labels",
      [s for s in pa["samples"] if s["labels"]], [])
equal("server.1: per stack", {k: v[:2] for k, v in by_stack(pa).items()},
      {S1100: [10, 1000], S1200: [8, 400], S1300: [5, 50],
       S1400: [4, 4000], SLIBC: [1, 64]})


def diff_sites(base, prof, fields):
    """-diff_base BASE PROF per stack, each of json's sites checked: each
    (pprof type, json field) of fields equal."""
    diff = by_stack(raw("-diff_base", base, prof))
    for s in js["sites"]:
        k = site_key(s)
        for t, f in fields:
            equal(f"-diff_base {base} {prof}: site {hex(k[0] + 1)} {t} = {f}",
                  value(pa, diff, k, t), s[f])
    return diff


diff = diff_sites("a.pb.gz", "c.pb.gz",
                  [("inuse_space/bytes", "delta_bytes"),
                   ("inuse_objects/count", "delta_blocks")])
growing = {site_key(s) for s in js["sites"]}
equal("-diff_base a c: the stacks that grew are json's sites",
      {k for k, v in diff.items() if v[1] > 0}, growing)
equal("-diff_base a c: site 0x1400 gone", diff.get(S1400), [-4, -4000, 0, 0])
# A one-snapshot profile against a profile of two: the same sample types,
# so pprof takes it; in-use is the growth from server.1 to server.3, new
# the blocks new since server.1.
diff_sites("a.pb.gz", "s13.pb.gz",
           [("inuse_space/bytes", "delta_bytes"), ("new_space/bytes", "new_bytes")])

# --- sampled: estimates, period ------------------------------------------
ps = raw(profile("sampled.pb.gz", "sampled.snap"))
equal("sampled: period = sampling bytes", ps["period"], 4096)
jsamp = json_sites("sampled.snap")
st = by_stack(ps)
for s in jsamp["sites"]:
    k = site_key(s)
    equal(f"sampled: site {hex(k[0] + 1)} inuse_space = json estimate",
          value(ps, st, k, "inuse_space/bytes"), s["bytes"][-1])
    equal(f"sampled: site {hex(k[0] + 1)} inuse_objects = json estimate",
          value(ps, st, k, "inuse_objects/count"), s["blocks"][-1])
check("sampled: values scaled up (10 x 100 B stands for more)",
      value(ps, st, S1100, "inuse_space/bytes") > 1000, st)

# --- names: the cxx snapshots through a real C++ library -----------------
profile("cxx.pb.gz", "cxx.1.snap", "cxx.2.snap")
top = pprof("-top", "-sample_index=inuse_space", "cxx.pb.gz")
for fn in ("app::cache_insert(int)", "app::make_cycle()", "serve_one",
           "myalloc_small",
           "app::detail::RequestRouterWithAVeryLongName::dispatch"):
    check(f"-top names {fn}", fn in top, top)
pcx = raw("cxx.pb.gz")
texts = [" ".join(v["text"]) for v in pcx["locations"].values()]
check("a location with its file:line and system name",
      any("app::cache_insert(int) " in t and "hd_names_fixture.cpp:" in t
          and "(_ZN3app12cache_insertEi)" in t for t in texts), texts)
jcx = json_sites("cxx.1.snap", "cxx.2.snap")
scx = by_stack(pcx)
for s in jcx["sites"]:
    k = site_key(s)
    name = s["stack"][s["origin"]]["short_function"]
    equal(f"cxx: site {name}: inuse_space = json bytes[-1]",
          value(pcx, scx, k, "inuse_space/bytes"), s["bytes"][-1])
    equal(f"cxx: site {name}: new_space = json new_bytes",
          value(pcx, scx, k, "new_space/bytes"), s["new_bytes"])
equal("cxx: stacks", len(scx), 6)
# --alloc-fn: the wrapper's callers are the leaves; --group-by does not
# merge stacks.
profile("cxx-allocfn.pb.gz", "--alloc-fn", "myalloc*", "cxx.1.snap",
        "cxx.2.snap")
top = pprof("-top", "-sample_index=inuse_space", "cxx-allocfn.pb.gz")
check("--alloc-fn 'myalloc*': no myalloc frame left", "myalloc" not in top,
      top)
check("--alloc-fn 'myalloc*': serve_one is a leaf",
      re.search(r"^\s*800B .* serve_one$", top, re.M) is not None, top)
profile("cxx-fn.pb.gz", "--group-by", "function", "cxx.1.snap", "cxx.2.snap")
equal("--group-by function: the same stacks and values",
      by_stack(raw("cxx-fn.pb.gz")), scx)
sys.exit(status())
