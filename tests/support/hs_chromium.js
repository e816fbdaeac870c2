// hs_chromium.js - headless Chromium driven through the DevTools protocol
// over --remote-debugging-pipe (fd 3 in, fd 4 out, messages ended by NUL),
// as puppeteer's pipe transport does: no port, no WebSocket (Debian 12's
// Node 18 has no client), no npm package. Used by tests/html and by
// bench/html_speed.sh.
//
//   const { openPage } = require('hs_chromium.js');
//   const p = await openPage('/path/page.html', { width: 1280, height: 900 });
//   await p.waitFor('document.body.dataset.drawn === "1"', 20000);
//   const v = await p.eval('document.title');
//   ... p.requests (URLs the page asked for besides itself), p.errors
//   (console errors, exceptions, log entries of level error), p.send(...)
//   await p.close();
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');

const CHROMIUM = process.env.CHROMIUM || 'chromium';

function launch(width, height) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-chromium-'));
  const args = ['--headless=new', '--remote-debugging-pipe', '--user-data-dir=' + dir,
    '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-extensions', '--hide-scrollbars', '--mute-audio',
    '--window-size=' + width + ',' + height, 'about:blank'];
  // Chromium's sandbox refuses to start as root (CI runs the tests as root).
  if (process.getuid && process.getuid() === 0) args.unshift('--no-sandbox');
  const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return { child, dir, stderr: () => stderr };
}

// One connection: numbered commands, their answers, and events by name.
class Connection {
  constructor(child) {
    this.out = child.stdio[3];
    this.next = 1;
    this.pending = new Map();
    this.handlers = [];
    let buf = '';
    child.stdio[4].on('data', (d) => {
      buf += d.toString('utf8');
      let end;
      while ((end = buf.indexOf('\0')) >= 0) {
        const msg = JSON.parse(buf.slice(0, end));
        buf = buf.slice(end + 1);
        this.dispatch(msg);
      }
    });
    child.on('exit', (code, sig) => {
      for (const [, p] of this.pending) p.reject(new Error('chromium exited (' + (code ?? sig) + ')'));
      this.pending.clear();
    });
  }
  dispatch(msg) {
    if (msg.id && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(p.method + ': ' + msg.error.message));
      else p.resolve(msg.result);
      return;
    }
    for (const h of this.handlers) h(msg);
  }
  send(method, params, sessionId) {
    const id = this.next++;
    const msg = { id, method, params: params || {} };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.out.write(JSON.stringify(msg) + '\0');
    });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Opens `file` in a fresh headless Chromium; records what the page requests
// and what it reports as an error from the first moment.
async function openPage(file, opts) {
  const o = Object.assign({ width: 1280, height: 900 }, opts);
  const b = launch(o.width, o.height);
  const conn = new Connection(b.child);
  const url = pathToFileURL(path.resolve(file)).href;
  const page = { requests: [], errors: [], url };
  const t = await conn.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await conn.send('Target.attachToTarget', { targetId: t.targetId, flatten: true });
  const send = (m, p) => conn.send(m, p, sessionId);
  conn.handlers.push((msg) => {
    if (msg.sessionId !== sessionId) return;
    const p = msg.params || {};
    if (msg.method === 'Network.requestWillBeSent' && p.request.url !== url &&
        p.request.url !== 'about:blank') page.requests.push(p.request.url);
    else if (msg.method === 'Runtime.exceptionThrown')
      page.errors.push('exception: ' + (p.exceptionDetails.exception?.description || p.exceptionDetails.text));
    else if (msg.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
      page.errors.push('console.' + p.type + ': ' + p.args.map((a) => a.value ?? a.description).join(' '));
    else if (msg.method === 'Log.entryAdded' && p.entry.level === 'error')
      page.errors.push('log: ' + p.entry.text + (p.entry.url ? ' (' + p.entry.url + ')' : ''));
  });
  for (const d of ['Network', 'Runtime', 'Log', 'Page']) await send(d + '.enable');
  await send('Emulation.setDeviceMetricsOverride',
    { width: o.width, height: o.height, deviceScaleFactor: 1, mobile: false });
  page.send = send;
  page.eval = async (expr) => {
    const r = await send('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error('evaluate ' + expr + ': ' + r.exceptionDetails.text +
      ' ' + (r.exceptionDetails.exception?.description || ''));
    return r.result.value;
  };
  page.waitFor = async (expr, ms) => {
    const end = Date.now() + ms;
    for (;;) {
      if (await page.eval('!!(' + expr + ')')) return;
      if (page.errors.length) throw new Error('the page failed while waiting for ' + expr + ': ' + page.errors[0]);
      if (Date.now() > end) throw new Error('timed out after ' + ms + ' ms waiting for ' + expr);
      await sleep(20);
    }
  };
  // A press and release at (x0, y0) and (x1, y1), as a person drags.
  page.drag = async (x0, y0, x1, y1) => {
    const ev = (type, x, y) => send('Input.dispatchMouseEvent',
      { type, x, y, button: 'left', buttons: type === 'mouseReleased' ? 0 : 1, clickCount: 1 });
    await ev('mouseMoved', x0, y0);
    await ev('mousePressed', x0, y0);
    await ev('mouseMoved', (x0 + x1) / 2, (y0 + y1) / 2);
    await ev('mouseMoved', x1, y1);
    await ev('mouseReleased', x1, y1);
  };
  page.click = async (x, y) => page.drag(x, y, x, y);
  // The pointer moved to (x, y), no button pressed (a hover).
  page.move = async (x, y) => send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y, buttons: 0 });
  page.screenshot = async (png) => {
    const m = await send('Page.getLayoutMetrics');
    const s = m.cssContentSize || m.contentSize;
    const r = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: Math.ceil(s.width), height: Math.ceil(s.height), scale: 1 } });
    fs.writeFileSync(png, Buffer.from(r.data, 'base64'));
  };
  page.close = async () => {
    try { await conn.send('Browser.close'); } catch (e) { /* already gone */ }
    await Promise.race([new Promise((r) => b.child.once('exit', r)), sleep(3000)]);
    if (b.child.exitCode === null) b.child.kill('SIGKILL');
    fs.rmSync(b.dir, { recursive: true, force: true });
  };
  page.navigate = async () => {
    const nav = await send('Page.navigate', { url });
    if (nav.errorText) throw new Error('navigate ' + url + ': ' + nav.errorText);
  };
  page.stderr = b.stderr;
  return page;
}

module.exports = { openPage, sleep };
