#!/usr/bin/env bash
# html_page.sh SHIM HEAPDIFF PROG SRCDIR OUTDIR
# heapdiff --html on a real process (html_svc under the shim): the line it
# prints, --json alongside, bad output paths; then the page in headless
# Chromium (html_page_check.js), with a copy whose data carries retained
# sizes added by hand, the page of one snapshot, and two copies whose data
# says the last snapshot repeats the one before or came at exit (where
# trends end). Leaves the page and its screenshot in OUTDIR.
set -euo pipefail
shim=$1 heapdiff=$2 prog=$3 src=$(cd "$4" && pwd) out=$5
. "$src/html_lib.sh"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

mapfile -t snaps < <(HEAPSNAP_DIR=$dir LD_PRELOAD=$shim "$prog")
[ ${#snaps[@]} = 3 ] || { echo "FAIL: expected 3 snapshots"; exit 1; }
mkdir -p "$out"
page=$out/html_svc.html

# The page instead of the report: one line naming it, nothing else.
"$heapdiff" --html "$page" "${snaps[@]}" >"$dir/stdout" 2>"$dir/stderr"
grep -qx "wrote $page: 4 sites, .* bytes)" "$dir/stdout" &&
  [ "$(wc -l <"$dir/stdout")" = 1 ] && [ ! -s "$dir/stderr" ] ||
  fail "--html prints: $(cat "$dir/stdout" "$dir/stderr")"
# With --json the JSON still goes to stdout; the line to stderr.
"$heapdiff" --html "$dir/j.html" --json "${snaps[@]}" >"$dir/json" 2>"$dir/stderr"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["growing_sites"] == 2' \
  "$dir/json" && grep -q "^wrote $dir/j.html: " "$dir/stderr" || fail "--html with --json"
cmp -s "$page" "$dir/j.html" || fail "--json changed the page"
# Cannot write: exit 1, one line, no file left behind; no name: exit 2.
rc=0
"$heapdiff" --html "$dir/none/p.html" "${snaps[@]}" 2>"$dir/stderr" || rc=$?
[ "$rc" = 1 ] && [ "$(wc -l <"$dir/stderr")" = 1 ] &&
  grep -q "^heapdiff: $dir/none/p.html: cannot write the page: No such file" "$dir/stderr" ||
  fail "unwritable: exit $rc, $(cat "$dir/stderr")"
chmod 555 "$dir" && if [ "$(id -u)" != 0 ]; then
  rc=0
  "$heapdiff" --html "$dir/ro.html" "${snaps[@]}" 2>"$dir/../hs-html-err.$$" || rc=$?
  [ "$rc" = 1 ] || fail "read-only folder: exit $rc"
  rm -f "$dir/../hs-html-err.$$"
fi
chmod 755 "$dir"
ls "$dir" | grep -q '\.tmp\.' && fail "a temporary file was left: $(ls "$dir")"
rc=0
"$heapdiff" --html "" "${snaps[@]}" 2>"$dir/stderr" || rc=$?
[ "$rc" = 2 ] || fail "--html '': exit $rc, $(cat "$dir/stderr")"

# The same page with other retained sizes in its data (retained_bytes, one
# per snapshot): grow_kept's 512 B over its bytes, grow_lost's null (a
# snapshot without its heap graph).
python3 - "$page" "$dir/retained.html" <<'PY'
import json, sys
from hd_page import load
html, m, d = load(sys.argv[1])
# tree_order left out: the page sorts the sites itself when the data has none
del d["sites"]["tree_order"]
s, f = d["sites"], d["frames"]
n, k = len(s["stack_depth"]), len(d["report"]["snapshots"])
start = [sum(s["stack_depth"][:i]) for i in range(n)]
def name(i):
    return f["function"][s["stack_frames"][start[i] + s["origin"][i]]]
s["retained_bytes"] = [[None] * k if name(i) == "grow_lost" else
                       [x + (512 if name(i) == "grow_kept" else 0)
                        for x in s["bytes"][i * k:i * k + k]] for i in range(n)]
# as plain JSON, which the page reads too
data = json.dumps(d).replace("<", "\\u003c")
tag = '<script type="application/json" id="hd-data">' + data + "</script>"
open(sys.argv[2], "w").write(html[:m.start()] + tag + html[m.end():])
PY

# The same page told that the last snapshot repeats the one before it, and
# again that it was taken at exit: the header says where trends end.
python3 - "$page" "$dir/repeat.html" "$dir/exit.html" <<'PY'
import json, sys
from hd_page import load
html, m, d = load(sys.argv[1])
r = d["report"]
r["trend_end"] = 1
for out, key, value in ((sys.argv[2], "repeat", True), (sys.argv[3], "trigger", "exit")):
    r["snapshots"][2][key] = value
    data = json.dumps(d).replace("<", "\\u003c")
    tag = '<script type="application/json" id="hd-data">' + data + "</script>"
    open(out, "w").write(html[:m.start()] + tag + html[m.end():])
    r["snapshots"][2][key] = {"repeat": False, "trigger": "api"}[key]
PY

"$heapdiff" --html "$dir/one.html" "${snaps[2]}" >/dev/null
node "$src/html_page_check.js" "$page" "$dir/retained.html" "$dir/one.html" \
  "$out/html_svc.png" "$dir/repeat.html" "$dir/exit.html" ||
  fails=$((fails + 1))
echo "page: $page; screenshot: $out/html_svc.png"
exit $((fails > 0))
