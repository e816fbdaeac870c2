// html_other_check.js PAGE WANT - a page over its cap of sites
// (html_other.sh) in headless Chromium: the table's "other" row (found by
// the filter, by its name) says how many sites it sums and their growth,
// and the summary's total growth is WANT's. (Its box in the flame graph
// is far below a pixel wide here.) WANT:
// the lines "other K GROWTH" and "total GROWTH". Exit 1 on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const { openPage } = require(path.join(__dirname, '../support/hs_chromium.js'));

let fails = 0;
function check(ok, what, got) {
  if (ok) console.log('ok: ' + what);
  else console.log('FAIL: ' + what + (got !== undefined ? ': got ' + JSON.stringify(got) : '')), fails++;
}

(async () => {
  const want = {};
  for (const line of fs.readFileSync(process.argv[3], 'utf8').trim().split('\n')) {
    const [k, ...v] = line.split(' ');
    want[k] = v.map(Number);
  }
  const [k, growth] = want.other;
  const p = await openPage(process.argv[2], { width: 1280, height: 900 });
  await p.navigate();
  await p.waitFor('document.body && document.body.dataset.drawn === "1"', 120000);
  const total = +(await p.eval('document.getElementById("total-growth").dataset.v'));
  check(total === want.total[0], 'total growth ' + want.total[0], total);
  // The "other" row, which the filter finds by its name.
  await p.eval(`(() => { const f = document.getElementById('filter'); f.value = 'other (';
    f.dispatchEvent(new Event('input')); })()`);
  const row = await p.eval(`(() => {
    for (const tr of document.querySelectorAll('#sites-body tr.row')) {
      const name = tr.querySelector('.name').textContent;
      if (name.startsWith('other (')) return { name, v: +tr.querySelector('[data-col="growth"]').dataset.v };
    }
    return null; })()`);
  check(row && row.name === 'other (' + k + ' smallest sites)', 'the other row sums ' + k + ' sites', row);
  check(row && row.v === growth, 'the other row grew by ' + growth, row);
  check(p.errors.length === 0 && p.requests.length === 0, 'no error, no request', p.errors.concat(p.requests));
  await p.close();
  process.exit(fails ? 1 : 0);
})().catch((e) => { console.error('html_other_check.js: ' + (e.stack || e)); process.exit(1); });
