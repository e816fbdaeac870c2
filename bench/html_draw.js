// html_draw.js PAGE RUNS - opens a heapdiff --html page RUNS times in a
// fresh headless Chromium each time and prints, per run, the milliseconds
// from navigation start to the marker the page sets on <body> when it has
// drawn (data-drawn-ms: performance.now() then), and how long the page's
// main thread was busy until then (DevTools' TaskDuration: script, style,
// layout, paint; unlike the first, it hardly grows when other processes
// load the machine). For bench/html_speed.sh.
'use strict';
const path = require('path');
const { openPage } = require(path.join(__dirname, '../tests/support/hs_chromium.js'));

(async () => {
  const [page, runs] = [process.argv[2], +(process.argv[3] || 3)];
  for (let r = 0; r < runs; r++) {
    const p = await openPage(page, { width: 1280, height: 900 });
    await p.send('Performance.enable', { timeDomain: 'threadTicks' });
    await p.navigate();
    await p.waitFor('document.body && document.body.dataset.drawn === "1"', 120000);
    const ms = await p.eval('+document.body.dataset.drawnMs');
    const { metrics } = await p.send('Performance.getMetrics');
    const busy = metrics.find((m) => m.name === 'TaskDuration').value * 1000;
    if (p.errors.length || p.requests.length) throw new Error('page errors or requests: ' + p.errors.concat(p.requests));
    await p.close();
    console.log(ms + ' ' + busy.toFixed(0));
  }
})().catch((e) => { console.error('html_draw.js: ' + (e.stack || e)); process.exit(1); });
