// html_page_check.js PAGE RETAINED_PAGE ONE_SNAPSHOT_PAGE SCREENSHOT
//                    REPEAT_PAGE EXIT_PAGE
// Opens heapdiff's page for html_svc (html_svc.c says what it holds) in
// headless Chromium and checks what the page shows once its scripts ran:
// the sites' growth, new and lost bytes, the lost/held split, a retainer
// path, another interval picked by dragging on the timeline (and by the
// selects), the flame graph's search; that the page asked for nothing and
// logged no error. RETAINED_PAGE is the same page with retained sizes
// added to its data by hand: the sites table must show them;
// ONE_SNAPSHOT_PAGE is the last snapshot's alone; REPEAT_PAGE and
// EXIT_PAGE are PAGE with its data saying that the last snapshot repeats
// the one before it, or was taken at exit (trends end at the second). Saves a
// screenshot of PAGE. Exit 1 on any failure.
'use strict';
const path = require('path');
const { openPage } = require(path.join(__dirname, '../support/hs_chromium.js'));

let fails = 0;
function check(ok, what, got) {
  if (ok) console.log('ok: ' + what);
  else console.log('FAIL: ' + what + (got !== undefined ? ': got ' + JSON.stringify(got) : '')), fails++;
}

// The rows' cells by site name: {grow_kept: {growth: {v, text}, ...}}.
const ROWS = `(() => {
  const out = {};
  for (const tr of document.querySelectorAll('#sites-body tr.row')) {
    const name = tr.querySelector('.name').textContent, r = {};
    for (const td of tr.children) r[td.dataset.col] = { v: td.dataset.v, text: td.textContent };
    out[name] = r;
  }
  return out;
})()`;
const SUMMARY = `(() => {
  const v = (id) => { const e = document.getElementById(id); return e ? +e.dataset.v : null; };
  return { growth: v('total-growth'), lost: v('total-lost'), held: v('total-held'),
           from: document.getElementById('from').value, to: document.getElementById('to').value };
})()`;

function expectSites(rows, want, when) {
  for (const [site, cols] of Object.entries(want)) {
    const r = rows[site];
    if (!r) { check(false, when + ': row ' + site, Object.keys(rows)); continue; }
    for (const [col, v] of Object.entries(cols)) {
      const got = typeof v === 'number' ? +r[col].v : r[col].text;
      check(got === v, when + ': ' + site + ' ' + col + ' ' + v, r[col]);
    }
  }
}

async function load(file) {
  const p = await openPage(file, { width: 1280, height: 1000 });
  await p.navigate();
  await p.waitFor('document.body && document.body.dataset.drawn === "1"', 20000);
  return p;
}

async function mainPage(file, png) {
  const p = await load(file);
  const head = await p.eval('document.getElementById("head").textContent');
  check(/heapdiff: .*html_svc/.test(head) && /3 snapshots of pid \d+/.test(head), 'header names program, pid, snapshots', head.slice(0, 200));
  expectSites(await p.eval(ROWS), {
    grow_kept: { growth: 1920, new: 1920, lost: 0, trend: 'new', blocks: 30 },
    grow_lost: { growth: 600, new: 600, lost: 600 },
    shrink_old: { growth: -640, new: 0, lost: 0, trend: 'shrinking' },
    make_table: { growth: 0, lost: 0 },
  }, 'snapshots 1-3');
  expectSites(await p.eval(ROWS), { grow_kept: { growth: '+1.9 KiB' }, grow_lost: { lost: '600 B' },
    shrink_old: { growth: '-640 B' } }, 'snapshots 1-3 text');
  const s = await p.eval(SUMMARY);
  check(s.growth === 2520 && s.lost === 600 && s.held === 1920, 'total growth 2520: 600 lost, 1920 held', s);
  // Retained sizes from the snapshots' heap graphs (issue 14): each of
  // grow_kept's 30 blocks hangs from make_table's array alone (64 B each),
  // the array (512 B) retains them all, grow_lost's are lost, shrink_old's
  // 20 blocks of 32 B are held one by one by the static g_old.
  check(await p.eval('!!document.querySelector("th[data-key=retained]")'), 'a retained column from the heap graph');
  expectSites(await p.eval(ROWS), { grow_kept: { retained: 1920 }, make_table: { retained: 512 + 1920 },
    grow_lost: { retained: 0 }, shrink_old: { retained: 640 } }, 'retained sizes, snapshots 1-3');

  // The retainer path, root first, as a tree: g_table -> make_table's array.
  await p.eval(`[...document.querySelectorAll('#sites-body tr.row')].find((r) => r.querySelector('.name').textContent === 'grow_kept').click()`);
  const tree = await p.eval(`(() => { const t = document.querySelector('tr.details .tree');
    if (!t) return null;
    const root = t.querySelector(':scope > li'), child = root && root.querySelector(':scope > ul > li');
    return { root: root && root.firstChild.textContent, child: child && child.firstChild.textContent,
             held: child && child.querySelector('.held-by')?.textContent,
             stack: document.querySelector('tr.details .stack').textContent }; })()`);
  check(tree && /^global g_table \(html_svc\)/.test(tree.root), 'retainer tree root: global g_table', tree);
  check(tree && /^make_table  html_svc\.c:\d+/.test(tree.child), 'retainer tree: then make_table\'s block', tree);
  check(tree && /holds 30 blocks, 1\.9 KiB/.test(tree.held || ''), 'the path holds 30 blocks, 1.9 KiB', tree);
  check(tree && /grow_kept  .*html_svc\.c:\d+/.test(tree.stack) && /phase  .*html_svc\.c:\d+/.test(tree.stack) &&
        /main  .*html_svc\.c:\d+/.test(tree.stack), 'row details: the full stack with file:line', tree && tree.stack);

  // The flame graph's search: the frames matching, and how much they hold.
  await p.eval(`(() => { const s = document.getElementById('search'); s.value = 'grow_lost';
    s.dispatchEvent(new Event('input')); })()`);
  const match = await p.eval('document.getElementById("match").textContent');
  check(/^matched: 600 B /.test(match), 'flame search grow_lost: 600 B', match);

  // The flame graph's frames, hovered: what each holds, a site's own, the
  // first main's (the call of phase: grow_kept's and grow_lost's under
  // it, through two calls in phase) and the root's (all three sites).
  const FLAME = `(() => { const c = document.getElementById('flame');
    c.scrollIntoView(); const r = c.getBoundingClientRect();
    return { boxes: JSON.parse(c.dataset.boxes), left: r.left, top: r.top }; })()`;
  const hover = async (name) => {
    const f = await p.eval(FLAME), b = f.boxes.find((x) => x[0] === name);
    if (!b) return 'no box ' + name;
    await p.move(f.left + b[1], f.top + b[2]);
    return (await p.eval('document.getElementById("tip").textContent')).split('\n\n')[1];
  };
  for (const [name, want] of [['grow_lost', 'growth +600 B: lost 600 B, held 0 B'],
    ['grow_kept', 'growth +1.9 KiB: lost 0 B, held 1.9 KiB'],
    ['shrink_old', 'growth +0 B: lost 0 B, held 0 B\nshrank -640 B'],
    ['main', 'growth +2.5 KiB: lost 600 B, held 1.9 KiB'],
    ['all', 'growth +2.5 KiB: lost 600 B, held 1.9 KiB\nshrank -640 B']]) {
    const got = await hover(name);
    check(got === want, 'flame graph, ' + name + ': ' + want.replace('\n', ', '), got);
  }

  // Frames in the order a bar draws its parts, lost, held, shrank: the
  // lost grow_lost left of the held grow_kept, as under the red part of
  // the frames above them (the bigger grow_kept came first before).
  const order = (await p.eval(FLAME)).boxes;
  const x = (name) => (order.find((b) => b[0] === name) || [0, NaN])[1];
  check(x('grow_lost') < x('grow_kept') && x('grow_kept') < x('shrink_old'),
    'flame graph: lost, then held, then shrank, left to right',
    [x('grow_lost'), x('grow_kept'), x('shrink_old')]);

  // Drag on the timeline from snapshot #2 to #3: every view follows.
  const GEO = `(() => { const c = document.getElementById('timeline');
    c.scrollIntoView(); const r = c.getBoundingClientRect();
    return { x: c.dataset.x.split(',').map(Number), left: r.left, y: r.top + r.height / 2 }; })()`;
  let geo = await p.eval(GEO);
  await p.drag(geo.left + geo.x[1], geo.y, geo.left + geo.x[2], geo.y);
  expectSites(await p.eval(ROWS), { grow_kept: { growth: 1280 }, grow_lost: { growth: 200 },
    shrink_old: { growth: -320 } }, 'dragged to snapshots 2-3');
  // 1280 B is 1.25 KiB: the text report's printf gives 1.2, and so must the page
  expectSites(await p.eval(ROWS), { grow_kept: { growth: '+1.2 KiB' } }, 'snapshots 2-3 text');
  const s2 = await p.eval(SUMMARY);
  check(s2.from === '1' && s2.to === '2' && s2.growth === 1480 && s2.lost === 200 && s2.held === 1280,
    'snapshots 2-3: growth 1480: 200 lost, 1280 held', s2);
  const match2 = await p.eval('document.getElementById("match").textContent');
  check(/^matched: 200 B /.test(match2), 'flame graph follows: grow_lost 200 B', match2);
  // A click on #1 moves the nearer end there.
  geo = await p.eval(GEO); /* the table changed: the page may have scrolled */
  await p.click(geo.left + geo.x[0], geo.y);
  check((await p.eval(SUMMARY)).growth === 2520, 'click on #1: back to snapshots 1-3');
  // Snapshots 1-2 from the selects: lost bytes are not known there.
  await p.eval(`(() => { document.getElementById('from').value = '0';
    const t = document.getElementById('to'); t.value = '1';
    t.dispatchEvent(new Event('change')); })()`);
  const s3 = await p.eval(SUMMARY);
  expectSites(await p.eval(ROWS), { grow_kept: { growth: 640 }, grow_lost: { growth: 400 } }, 'snapshots 1-2');
  check(s3.growth === 1040 && s3.lost === null, 'snapshots 1-2: growth 1040, no lost split', s3);

  // Back to the whole span, the first row open, for the person reading it.
  await p.eval(`(() => { const t = document.getElementById('to'); t.value = '2';
    t.dispatchEvent(new Event('change')); const s = document.getElementById('search'); s.value = '';
    s.dispatchEvent(new Event('input')); document.querySelector('#sites-body tr.row').click();
    document.getElementById('tip').hidden = true; window.scrollTo(0, 0); })()`);
  await p.screenshot(png);
  check(p.requests.length === 0, 'no network request', p.requests);
  check(p.errors.length === 0, 'no console error', p.errors);
  await p.close();
}

// One snapshot: what it holds, and what of that is lost.
async function onePage(file) {
  const p = await load(file);
  expectSites(await p.eval(ROWS), { grow_kept: { growth: 1920, lost: 0 }, grow_lost: { growth: 600, lost: 600 },
    shrink_old: { growth: 640 } }, 'one snapshot');
  check(/1 snapshot of pid/.test(await p.eval('document.getElementById("head").textContent')), 'one snapshot: header');
  // The timeline draws the heap as a column at the one snapshot (an area
  // between two points had no width: only the RSS dot showed). Pixels
  // darker than the grid and the selection, in a strip at its x.
  const drawn = await p.eval(`(() => { const c = document.getElementById('timeline');
    const r = c.width / c.clientWidth, x = Math.round(Number(c.dataset.x) * r);
    const y0 = Math.round(c.height * 0.4), y1 = Math.round(c.height * 0.7);
    const d = c.getContext('2d').getImageData(x - 8, y0, 16, y1 - y0).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) dark += (d[i] + d[i + 1] + d[i + 2]) / 3 < 215;
    return dark / (d.length / 4); })()`);
  check(drawn > 0.8, 'one snapshot: the timeline draws the heap', drawn);
  check(p.errors.length === 0 && p.requests.length === 0, 'one snapshot: no error, no request', p.errors);
  await p.close();
}

async function retainedPage(file) {
  const p = await load(file);
  check(await p.eval('!!document.querySelector("th[data-key=retained]")'), 'retained column with retained sizes');
  expectSites(await p.eval(ROWS), { grow_kept: { retained: 1920 + 512 }, grow_lost: { retained: '–' } },
    'retained at the end of the interval');
  check(p.errors.length === 0 && p.requests.length === 0, 'retained page: no error, no request', p.errors);
  await p.close();
}

// Where trends end, from the data's trend_end and the snapshots' repeat
// and trigger: a line under the snapshot table (kind 'repeat' or 'exit'),
// none without a reason (kind '').
async function trendEndPage(file, kind) {
  const p = await load(file);
  const got = await p.eval('(document.getElementById("trend-end") || {}).textContent || ""');
  const [, s2, s3] = await p.eval('[...document.querySelectorAll("table.snaps td.mono")].map((td) => td.textContent)');
  const want = {
    '': '',
    repeat: s3 + ' holds the same blocks as ' + s2 + ' (nothing kept or freed since): trends end at it',
    exit: s3 + ' was taken at exit, after atexit handlers and static destructors (what they freed is ' +
      'not in it): trends end at ' + s2 + '; leave it out to see what grew while the program ran',
  }[kind];
  check(!!s3 && got === want, 'trend end: ' + (want || 'no line'), got);
  check(p.errors.length === 0 && p.requests.length === 0, 'trend end page: no error, no request', p.errors);
  await p.close();
}

(async () => {
  const [page, retained, one, png, repeat, exit] = process.argv.slice(2);
  await mainPage(page, png);
  await retainedPage(retained);
  await onePage(one);
  await trendEndPage(page, '');
  await trendEndPage(repeat, 'repeat');
  await trendEndPage(exit, 'exit');
  process.exit(fails ? 1 : 0);
})().catch((e) => { console.log('FAIL: ' + (e.stack || e)); process.exit(1); });
