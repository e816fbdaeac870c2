#!/usr/bin/env bash
# html_other.sh HEAPDIFF MKBIGSNAP SRCDIR
# A page over its cap of 100,000 sites: two synthetic snapshots of 1M
# blocks on 100,020 stacks (mkbigsnap), so 20 sites are summed into
# "other". Checked against heapdiff --json (html_other_check.py):
# other_sites is every live site past 100,000; the page's sites and
# "other" together hold, per snapshot, every live byte and block; "other"
# holds no more than its sites times the smallest peak on the page. Then
# in headless Chromium (html_other_check.js): the table's "other" row
# (found by the filter, by name) and the total growth show those numbers.
set -euo pipefail
heapdiff=$1 mkbig=$2 src=$(cd "$3" && pwd)
. "$src/html_lib.sh"
"$mkbig" "$dir/a.snap" 1000000 100020 1 >/dev/null
"$mkbig" "$dir/b.snap" 1000000 100020 2 >/dev/null
"$heapdiff" --json "$dir/a.snap" "$dir/b.snap" >"$dir/all.json"
"$heapdiff" --html "$dir/page.html" "$dir/a.snap" "$dir/b.snap"
python3 "$src/html_other_check.py" "$dir/page.html" "$dir/all.json" >"$dir/want"
cat "$dir/want"
node "$src/html_other_check.js" "$dir/page.html" "$dir/want"
