/* heapdiff --html: the page's script (docs/html.md). Reads the data heapdiff
 * embedded (#hd-data), draws the header, the timeline, the growth flame
 * graph and the sites table on canvas and plain DOM, and redraws the last
 * two when another interval is picked. No library, no request: see
 * docs/html.md for why. When it has drawn, it sets data-drawn on <body>
 * (and data-drawn-ms, milliseconds since navigation started). */
'use strict';
/* The data: in base64, gzip-compressed, inflated by the browser's own
 * DecompressionStream (no request: a Blob's stream): the JSON's length
 * (4 bytes, then 4 zero), the JSON, then the numeric columns its "binary"
 * lists (name, type, count), each at the next multiple of 8 bytes,
 * little-endian (docs/html.md). Or plain JSON, every column in it. */
function hdBytes(bin) {
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
async function hdData() {
  const e = document.getElementById('hd-data');
  if (e.dataset.encoding !== 'gzip+base64+binary') return JSON.parse(e.textContent);
  const b64 = e.textContent.trim();
  const bytes = Uint8Array.fromBase64 ? Uint8Array.fromBase64(b64) : hdBytes(atob(b64));
  const flat = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const buf = await new Response(flat).arrayBuffer();
  const len = new DataView(buf, 0, 8).getUint32(0, true);
  const D = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, len)));
  const types = { u16: Uint16Array, u32: Uint32Array, i32: Int32Array, f64: Float64Array };
  let at = (8 + len + 7) & ~7;
  for (const [name, type, n] of D.binary) {
    const [obj, field] = name.split('.'), T = types[type];
    D[obj][field] = new T(buf, at, n);
    at = (at + n * T.BYTES_PER_ELEMENT + 7) & ~7;
  }
  return D;
}

hdData().then((D) => {
  const R = D.report, S = D.sites, F = D.frames, H = D.hops;
  const snaps = R.snapshots, NS = snaps.length, N = S.stack_depth.length;
  /* Flat columns (docs/html.md): a site's frames and its numbers per
   * snapshot, one after the other. */
  const SF = Int32Array.from(S.stack_frames), SS = new Int32Array(N + 1);
  for (let i = 0; i < N; i++) SS[i + 1] = SS[i] + S.stack_depth[i];
  const stack = (i) => SF.subarray(SS[i], SS[i + 1]);
  const BY = Float64Array.from(S.bytes), BL = Float64Array.from(S.blocks);
  const bytes = (i, k) => BY[i * NS + k], blocks = (i, k) => BL[i * NS + k];
  const RT = S.retainers || [], RS = new Int32Array(N + 1);
  if (S.retainer_count) for (let i = 0; i < N; i++) RS[i + 1] = RS[i] + S.retainer_count[i];
  const pathsOf = (i) => {
    const out = [];
    for (let j = RS[i]; j < RS[i + 1]; j++) out.push(RT.slice(3 * j, 3 * j + 3));
    return out;
  };
  const bytesOf = (i) => Array.from(BY.subarray(i * NS, i * NS + NS));
  const OTHER = D.other_sites ? N - 1 : -1;
  const scanned = !!R.scanned && !!S.unreachable_bytes;
  const hasRetained = Array.isArray(S.retained_bytes);
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (const c of kids) if (c != null) e.append(c);
    return e;
  };
  let sel = [0, NS - 1];

  /* --- numbers and names, as the text report writes them ---------------- */
  /* One decimal as C's printf gives it: an exact tie (1.25) to the even
   * digit (1.2), where toFixed goes up (1.3) */
  function tenths(a) {
    const x = a * 10, f = Math.floor(x);
    return ((x - f === 0.5 ? f + (f % 2) : Math.round(x)) / 10).toFixed(1);
  }
  function size(v, sign) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let a = Math.abs(v), u = 0;
    while (a >= 1024 && u < 4) a /= 1024, u++;
    const s = !sign ? '' : v < 0 ? '-' : '+';
    return s + (u ? tenths(a) : a.toFixed(0)) + ' ' + units[u];
  }
  const base = (p) => (p ? p.slice(p.lastIndexOf('/') + 1) : '?');
  function frameName(f) {
    if (F.short_function[f] != null) return F.short_function[f];
    const m = F.module[f];
    return (m >= 0 ? base(D.modules[m]) : '?') + '+0x' + F.offset[f].toString(16);
  }
  function frameWhere(f) {
    if (F.file[f]) return base(F.file[f]) + ':' + F.line[f];
    return F.module[f] >= 0 ? '(' + base(D.modules[F.module[f]]) + ')' : '';
  }
  function frameFull(f) {
    const m = F.module[f] >= 0 ? D.modules[F.module[f]] : null;
    return (F.function[f] || frameName(f)) +
      (F.file[f] ? '\n' + F.file[f] + ':' + F.line[f] : '') +
      (m ? '\n' + m + ' +0x' + F.offset[f].toString(16) : '') +
      (F.inlined[f] ? '\n(inlined)' : '');
  }
  function siteName(i) {
    if (i === OTHER) return 'other (' + D.other_sites + ' smallest sites)';
    const st = stack(i);
    return st.length ? frameName(st[S.origin[i]]) : '(no stack)';
  }
  function siteWhere(i) {
    const st = stack(i);
    return i !== OTHER && st.length ? frameWhere(st[S.origin[i]]) : '';
  }

  /* --- the interval --------------------------------------------------- */
  const growth = (i) => bytes(i, sel[1]) - bytes(i, sel[0]);
  const endsLast = () => sel[1] === NS - 1;
  /* The lost part of a growth: lost blocks are known in the last snapshot,
   * and only the new ones count (older ones were there before). */
  function lostPart(i, g) {
    if (!scanned || !endsLast() || g <= 0) return 0;
    const lost = sel[0] === 0 ? S.new_unreachable_bytes[i] : S.unreachable_bytes[i];
    return Math.min(g, lost);
  }
  const value = (i) => (NS === 1 ? bytes(i, 0) : growth(i));
  function t(k) { return snaps[k].time - snaps[0].time; }

  /* --- header --------------------------------------------------------- */
  /* Why trends end before the last snapshot, as the text report says it
   * (docs/heapdiff.md, "Where trends end"), or ''. */
  function trendEnd() {
    const m = R.trend_end;
    if (!(NS > 1 && m >= 0 && m < NS - 1)) return '';
    const end = base(snaps[m].path), after = snaps.slice(m + 1);
    const exit = after.find((s) => !s.repeat && s.trigger === 'exit');
    if (exit) {
      return base(exit.path) + ' was taken at exit, after atexit handlers and static destructors ' +
        '(what they freed is not in it): trends end at ' + end + '; leave it out to see what grew ' +
        'while the program ran';
    }
    return (after.length > 1 ? 'the last ' + after.length + ' snapshots hold' : base(after[0].path) + ' holds') +
      ' the same blocks as ' + end + ' (nothing kept or freed since): trends end at it';
  }

  function header() {
    const h = $('head');
    h.textContent = '';
    const s0 = snaps[0], sl = snaps[NS - 1];
    document.title = 'heapdiff: ' + base(s0.exe);
    h.append(el('h1', { text: 'heapdiff: ' + (s0.exe || '?') }));
    const pids = s0.pid === sl.pid ? 'pid ' + s0.pid : 'pid ' + s0.pid + ', then pid ' + sl.pid;
    h.append(el('p', { cls: 'note', text: NS + ' snapshot' + (NS > 1 ? 's' : '') + ' of ' + pids +
      (NS > 1 ? ', ' + R.seconds.toFixed(1) + ' s from first to last' : '') +
      ', grouped by ' + R.group_by }));
    if (R.sampled) {
      h.append(el('div', { cls: 'banner', id: 'sampled',
        text: 'Sampled snapshots: every number of blocks and bytes is an estimate.' }));
    }
    const tb = el('table', { cls: 'snaps' });
    tb.append(el('tr', {}, el('th', { text: 'snapshot' }), el('th', { text: 'time' }),
      el('th', { text: 'taken' }), el('th', { text: 'live blocks' }),
      el('th', { text: 'live bytes' }), el('th', { text: 'RSS' })));
    snaps.forEach((s, k) => tb.append(el('tr', {},
      el('td', { cls: 'mono', text: base(s.path) }),
      el('td', { text: (k ? '+' : '') + t(k).toFixed(1) + ' s' }),
      el('td', { text: new Date(s.time * 1000).toISOString().replace('T', ' ').slice(0, 19) + 'Z' }),
      el('td', { text: String(s.estimated_blocks) }),
      el('td', { text: size(s.estimated_bytes) }),
      el('td', { text: s.rss ? size(s.rss) : '?' }))));
    h.append(tb);
    const te = trendEnd();
    if (te) h.append(el('p', { cls: 'note', id: 'trend-end', text: te }));
    h.append(el('div', { id: 'summary', cls: 'summary' }));
    if (!R.scanned) {
      h.append(el('p', { cls: 'note', text: 'no reachability in the last snapshot: ' +
        (R.scan_note || (R.sampled ? 'sampled snapshots have none' : 'not scanned (HEAPSNAP_SCAN=0)')) +
        '; no lost bytes or retainer paths' }));
    } else if (R.scan_note) {
      h.append(el('p', { cls: 'note', text: 'reachability: ' + R.scan_note }));
    }
    for (const m of D.modules_without_symbols) {
      h.append(el('p', { cls: 'note', text: 'no symbols for ' + m.path + ' (' + m.why +
        '): its frames show as module+offset' }));
    }
    if (D.other_sites) {
      h.append(el('p', { cls: 'note', text: 'the ' + D.other_sites + ' smallest sites are summed' +
        ' into "other" (the page holds ' + D.max_sites + ' sites at most)' }));
    }
  }

  /* Total growth, split into what is lost and what is held. */
  function summary() {
    const e = $('summary');
    e.textContent = '';
    if (NS === 1) {
      e.append(R.sites_total + ' sites hold ', el('b', { text: size(R.total_bytes) }),
        ' in ' + R.total_blocks + ' blocks');
      if (scanned) e.append(': ', el('b', { cls: 'lost', text: size(R.total_lost_bytes) }), ' of it lost');
      return;
    }
    let grew = 0, n = 0, lost = 0;
    for (let i = 0; i < N; i++) {
      const g = growth(i);
      if (g > 0) grew += g, n++, lost += lostPart(i, g);
    }
    e.append('snapshots ' + (sel[0] + 1) + ' → ' + (sel[1] + 1) + ': ' + n + ' of ' +
      R.sites_total + ' sites grew, by ', el('b', { id: 'total-growth', 'data-v': grew, text: size(grew, 1) }));
    if (scanned && endsLast()) {
      e.append(': ', el('b', { cls: 'lost', id: 'total-lost', 'data-v': lost, text: size(lost) }), ' lost, ',
        el('b', { cls: 'held', id: 'total-held', 'data-v': grew - lost, text: size(grew - lost) }), ' held');
    } else if (scanned) {
      e.append(el('span', { cls: 'dim', text: ' (lost bytes are known in the last snapshot only)' }));
    }
    const dt = t(sel[1]) - t(sel[0]);
    if (dt > 0 && snaps[sel[0]].pid === snaps[sel[1]].pid) e.append(' (' + size(grew / dt, 1) + '/s)');
  }

  /* --- timeline ------------------------------------------------------- */
  /* No red, orange, pink or magenta: the flame graph and the lists use
   * those for lost, held and the hovered site. */
  const PALETTE = ['#4e79a7', '#76b7b2', '#59a14f', '#edc948', '#9c755f',
    '#a0cbe8', '#8cd17d', '#499894', '#bab0ac'];
  const TOPK = 8;
  const layers = (() => {
    const ids = [];
    for (let i = 0; i < N; i++) if (i !== OTHER) ids.push(i);
    ids.sort((a, b) => (bytes(b, NS - 1) - bytes(b, 0)) - (bytes(a, NS - 1) - bytes(a, 0)));
    const top = ids.slice(0, TOPK).filter((i) => bytes(i, NS - 1) - bytes(i, 0) > 0);
    const rows = top.map((i) => ({ name: siteName(i) + (siteWhere(i) ? ' ' + siteWhere(i) : ''), v: bytesOf(i) }));
    const rest = snaps.map((s, k) => Math.max(0, s.estimated_bytes - top.reduce((a, i) => a + bytes(i, k), 0)));
    rows.push({ name: 'other sites', v: rest });
    return rows;
  })();
  const hasRss = snaps.some((s) => s.rss > 0);
  const TL = { l: 70, r: hasRss ? 70 : 16, t: 12, b: 28 };
  let tlX = [];

  function fitCanvas(c, h) {
    const dpr = window.devicePixelRatio || 1, w = c.clientWidth || 800;
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    c.style.height = h + 'px';
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g, w, h };
  }

  function timeline() {
    const c = $('timeline');
    const { g, w, h } = fitCanvas(c, 220);
    const span = t(NS - 1) || 1, byTime = t(NS - 1) > 0;
    tlX = snaps.map((s, k) => TL.l + (w - TL.l - TL.r) *
      (NS === 1 ? 0.5 : byTime ? t(k) / span : k / (NS - 1)));
    /* RSS is often far above the heap: its own scale, on the right */
    let ymax = 1, rmax = 1;
    snaps.forEach((s) => { ymax = Math.max(ymax, s.estimated_bytes); rmax = Math.max(rmax, s.rss || 0); });
    const y = (v) => h - TL.b - (h - TL.t - TL.b) * v / ymax;
    const yr = (v) => h - TL.b - (h - TL.t - TL.b) * v / rmax;
    g.clearRect(0, 0, w, h);
    g.fillStyle = '#eef3fb';
    g.fillRect(tlX[sel[0]] - 3, TL.t, tlX[sel[1]] - tlX[sel[0]] + 6, h - TL.t - TL.b);
    g.strokeStyle = '#dde0e5';
    g.fillStyle = '#6b7078';
    g.font = '11px system-ui, sans-serif';
    for (let i = 0; i <= 4; i++) {
      const v = ymax * i / 4;
      g.beginPath(); g.moveTo(TL.l, y(v)); g.lineTo(w - TL.r, y(v)); g.stroke();
      g.fillText(size(v), 4, y(v) + 4);
      if (hasRss) g.fillText(size(rmax * i / 4), w - TL.r + 4, y(v) + 4);
    }
    const acc = snaps.map(() => 0);
    layers.forEach((L, li) => {
      g.beginPath();
      if (NS === 1) { /* one snapshot: a column (an area has no width) */
        g.rect(tlX[0] - 24, y(acc[0] + L.v[0]), 48, y(acc[0]) - y(acc[0] + L.v[0]));
      } else {
        snaps.forEach((s, k) => g.lineTo(tlX[k], y(acc[k] + L.v[k])));
        for (let k = NS - 1; k >= 0; k--) g.lineTo(tlX[k], y(acc[k]));
        g.closePath();
      }
      g.fillStyle = li === layers.length - 1 ? '#c8ccd2' : PALETTE[li % PALETTE.length];
      g.globalAlpha = 0.85; g.fill(); g.globalAlpha = 1;
      snaps.forEach((s, k) => { acc[k] += L.v[k]; });
    });
    if (hasRss) {
      g.strokeStyle = '#1d1f24'; g.lineWidth = 2; g.setLineDash([5, 3]);
      g.beginPath();
      snaps.forEach((s, k) => g.lineTo(tlX[k], yr(s.rss)));
      g.stroke(); g.setLineDash([]); g.lineWidth = 1;
    }
    snaps.forEach((s, k) => {
      const on = k === sel[0] || k === sel[1];
      g.fillStyle = on ? '#1d1f24' : '#6b7078';
      g.beginPath(); g.arc(tlX[k], y(acc[k]), on ? 5 : 3, 0, 7); g.fill();
      g.fillText('#' + (k + 1), tlX[k] - 8, h - 10);
    });
    c.dataset.x = tlX.map((x) => x.toFixed(1)).join(','); /* for tests */
    $('interval').textContent = NS > 1 ? '+' + (t(sel[1]) - t(sel[0])).toFixed(1) + ' s' : '';
  }

  function legend() {
    const e = $('legend');
    layers.forEach((L, li) => e.append(el('span', {},
      el('i', { cls: 'sw', style: 'background:' + (li === layers.length - 1 ? '#c8ccd2' : PALETTE[li % PALETTE.length]) }),
      L.name)));
    if (hasRss) e.append(el('span', { text: '- - RSS (right scale)' }));
  }

  const nearest = (x) => tlX.reduce((b, v, k) => (Math.abs(v - x) < Math.abs(tlX[b] - x) ? k : b), 0);
  function timelineTip(ev, k) {
    const lines = ['snapshot #' + (k + 1) + '  +' + t(k).toFixed(1) + ' s',
      'live ' + size(snaps[k].estimated_bytes) + (snaps[k].rss ? '   RSS ' + size(snaps[k].rss) : '')];
    for (const L of layers) lines.push(L.name + ': ' + size(L.v[k]));
    tip(ev, lines.join('\n'));
  }
  function timelineEvents() {
    const c = $('timeline');
    let down = -1;
    const at = (ev) => nearest(ev.clientX - c.getBoundingClientRect().left);
    c.addEventListener('mousedown', (ev) => { down = at(ev); ev.preventDefault(); });
    c.addEventListener('mousemove', (ev) => timelineTip(ev, at(ev)));
    c.addEventListener('mouseleave', () => tip(null));
    window.addEventListener('mouseup', (ev) => {
      if (down < 0) return;
      const k = at(ev), a = down;
      down = -1;
      if (k !== a) return select(Math.min(a, k), Math.max(a, k));
      /* a click moves the nearer end of the interval there */
      if (k < sel[0] || (k < sel[1] && k - sel[0] < sel[1] - k)) select(k, sel[1]);
      else select(sel[0], k);
    });
    for (const id of ['from', 'to']) {
      const s = $(id);
      snaps.forEach((x, k) => s.append(el('option', { value: k, text: '#' + (k + 1) + ' (+' + t(k).toFixed(1) + ' s)' })));
      s.addEventListener('change', () => select(+$('from').value, +$('to').value));
    }
  }

  function select(a, b) {
    if (a > b) [a, b] = [b, a];
    if (a === b && NS > 1) b = a === NS - 1 ? a : a + 1, a = b - 1;
    sel = [a, b];
    $('from').value = a; $('to').value = b;
    summary(); timeline(); flame(); table();
  }

  /* --- the tooltip ----------------------------------------------------- */
  function tip(ev, text) {
    const e = $('tip');
    if (!ev) { e.hidden = true; return; }
    e.textContent = text;
    e.hidden = false;
    const x = Math.min(ev.clientX + 14, window.innerWidth - e.offsetWidth - 8);
    const y = ev.clientY + 16 + e.offsetHeight > window.innerHeight ? ev.clientY - e.offsetHeight - 8 : ev.clientY + 16;
    e.style.left = Math.max(0, x) + 'px'; e.style.top = y + 'px';
  }

  /* --- flame graph ----------------------------------------------------- */
  /* Root at the top, callers above callees, each frame as wide as the
   * growth under it: growing sites' (lost and held) and shrinking ones'.
   * The call tree of every site's stack is built once, in one pass over
   * the sites in tree_order (their stacks sorted outermost frame first,
   * by heapdiff): each site shares its prefix with the one before, so the
   * nodes come in preorder, and need no table of children. A node's
   * subtree is the nodes from it up to its end; its sites are a run of the
   * sites in that order, so what a node holds is a difference of prefix
   * sums over the sites, and an interval only changes those (N values,
   * not one per node: 16 bytes a node in all, where each fresh page of
   * memory costs the browser a page fault). */
  const ROW = 18;
  /* tree_order for data without it (plain JSON edited by hand) */
  function treeOrder() {
    const outer = (i, j) => {
      const a = SS[i], b = SS[j];
      let na = SS[i + 1] - a, nb = SS[j + 1] - b;
      for (; na && nb; na--, nb--) if (SF[a + na - 1] !== SF[b + nb - 1]) return SF[a + na - 1] - SF[b + nb - 1];
      return na - nb || i - j;
    };
    return Int32Array.from({ length: N }, (_, i) => i).filter((i) => i !== OTHER).sort(outer);
  }
  const T = (() => {
    const order = S.tree_order || treeOrder();
    const pos = new Int32Array(N); /* the sites in tree order, "other" last */
    let k = 0;
    for (let j = 0; j < order.length; j++) if (order[j] !== OTHER) pos[k++] = order[j];
    if (OTHER >= 0) pos[k++] = OTHER;
    /* the nodes: each site's frames past the prefix it shares with the site
     * before; counted first, so the arrays are allocated once, exactly */
    let deepest = 0;
    for (let i = 0; i < N; i++) deepest = Math.max(deepest, SS[i + 1] - SS[i]);
    const shared = new Int32Array(N);
    let M = 1 + (OTHER >= 0), prev = -1, none = 0;
    for (let j = 0; j < N; j++) {
      const i = pos[j], a = SS[i], b = SS[i + 1];
      if (i === OTHER) continue;
      if (a === b) { none = 1; continue; }
      let c = 0;
      if (prev >= 0) {
        const pa = SS[prev], lim = Math.min(b - a, SS[prev + 1] - pa);
        while (c < lim && SF[b - 1 - c] === SF[SS[prev + 1] - 1 - c]) c++;
      }
      shared[j] = c;
      M += b - a - c;
      prev = i;
    }
    M += none;
    const parent = new Int32Array(M), frame = new Int32Array(M), leaf = new Int32Array(N);
    const path = new Int32Array(deepest + 1);
    parent[0] = -1; frame[0] = -1;
    let m = 1, noStack = 0; /* the "(no stack)" node: first, sorted first */
    for (let j = 0; j < N; j++) {
      const i = pos[j], a = SS[i], b = SS[i + 1];
      if (i === OTHER) { parent[m] = 0; frame[m] = -3; leaf[i] = m++; continue; }
      if (a === b) {
        if (!noStack) { parent[m] = 0; frame[m] = -2; noStack = m++; }
        leaf[i] = noStack;
        continue;
      }
      for (let d = shared[j]; d < b - a; d++) parent[m] = path[d], frame[m] = SF[b - 1 - d], path[d + 1] = m++;
      leaf[i] = path[b - a];
    }
    /* end: one past the subtree; first: the sites before a node's run */
    const end = new Int32Array(M + 1), first = new Int32Array(M + 1);
    for (let n = 0; n < M; n++) end[n] = n + 1;
    for (let n = M - 1; n > 0; n--) end[parent[n]] = Math.max(end[parent[n]], end[n]);
    end[M] = M;
    for (let n = 0, j = 0; n <= M; n++) {
      while (j < N && leaf[pos[j]] < n) j++;
      first[n] = j;
    }
    return { M, parent, frame, leaf, end, first, pos, maxDepth: deepest + 1,
      sums: [new Float64Array(N + 1), new Float64Array(N + 1), new Float64Array(N + 1)] };
  })();
  /* lost, held, shrank under node n: sums over its run of sites */
  const under = (w, n) => T.sums[w][T.first[T.end[n]]] - T.sums[w][T.first[n]];
  const lostIn = (n) => under(0, n), heldIn = (n) => under(1, n), shrankIn = (n) => under(2, n);
  let zoom = 0, boxes = [], hit = null;
  function values() {
    const [L, H, X] = T.sums;
    for (let j = 0; j < N; j++) {
      const i = T.pos[j], g = value(i);
      const lost = !g ? 0 : NS === 1 ? (scanned ? Math.min(g, S.unreachable_bytes[i]) : 0) : lostPart(i, g);
      L[j + 1] = L[j] + (g > 0 ? lost : 0);
      H[j + 1] = H[j] + (g > 0 ? g - lost : 0);
      X[j + 1] = X[j] + (g < 0 ? -g : 0);
    }
  }
  const total = (n) => lostIn(n) + heldIn(n) + shrankIn(n);
  function nodeName(n) {
    const f = T.frame[n];
    return f === -1 ? 'all' : f === -2 ? '(no stack)' : f === -3 ? 'other sites' : frameName(f);
  }
  const matches = (n) => !!hit && T.frame[n] >= 0 && hit[T.frame[n]] === 1;
  function flame() {
    values();
    zoom = 0;
    const what = NS === 1 ? 'bytes held in the snapshot, by stack' :
      'growth from snapshot #' + (sel[0] + 1) + ' to #' + (sel[1] + 1) + ' (' + size(lostIn(0) + heldIn(0), 1) +
      (shrankIn(0) ? ', ' + size(-shrankIn(0), 1) + ' shrank' : '') + ')';
    $('flame-what').textContent = what;
    drawFlame();
  }
  function drawFlame() {
    const c = $('flame');
    const { g, w } = fitCanvas(c, Math.max(3, T.maxDepth + 2) * ROW);
    g.clearRect(0, 0, c.width, c.height);
    g.font = '11px ui-monospace, Menlo, Consolas, monospace';
    g.textBaseline = 'middle';
    boxes = [];
    /* the zoomed frame's ancestors, full width above it */
    const chain = [];
    for (let n = zoom; n >= 0; n = T.parent[n]) chain.unshift(n);
    chain.forEach((n, d) => box(g, n, 0, w, d));
    const lay = (n, x, width, d) => {
      /* lost first, then held, then shrank, as a bar draws its parts: a
       * lost child lies under its parent's lost part; the bigger first.
       * Each child's keys once: [node, lost share, shrank share, total] */
      const kids = [];
      for (let k = n + 1; k < T.end[n]; k = T.end[k]) {
        const t = total(k);
        kids.push([k, lostIn(k) / (t || 1), shrankIn(k) / (t || 1), t]);
      }
      kids.sort((a, b) => b[1] - a[1] || a[2] - b[2] || b[3] - a[3]);
      const tt = total(n) || 1;
      let cx = x;
      for (const [k, , , t] of kids) {
        const kw = width * t / tt;
        if (kw >= 0.4) { /* narrower: not drawn, its place kept */
          box(g, k, cx, kw, d + 1);
          lay(k, cx, kw, d + 1);
        }
        cx += kw;
      }
    };
    lay(zoom, 0, w, chain.length - 1);
    /* for tests: where the named boxes are */
    c.dataset.boxes = JSON.stringify(boxes.filter((b) => b.w > 2)
      .map((b) => [nodeName(b.n), Math.round(b.x + b.w / 2), b.y + ROW / 2]));
    if (!total(0)) {
      g.fillStyle = '#6b7078';
      g.fillText('nothing grew or shrank in this interval', 8, ROW * 1.5);
    }
    matched();
  }
  /* What the frames matching the search hold: each site counted once. */
  function matched() {
    if (!hit) { $('match').textContent = ''; return; }
    let m = 0;
    for (let i = 0; i < N; i++) {
      for (let j = SS[i]; j < SS[i + 1]; j++) if (hit[SF[j]] === 1) { m += Math.abs(value(i)); break; }
    }
    $('match').textContent = 'matched: ' + size(m) + ' (' + (100 * m / (total(0) || 1)).toFixed(1) + '% of the graph)';
  }
  function box(g, n, x, width, d) {
    const y = d * ROW, tt = total(n) || 1;
    const on = matches(n);
    let cx = x;
    for (const [v, col] of [[lostIn(n), '#d64541'], [heldIn(n), '#f0a030'], [shrankIn(n), '#5b8fd6']]) {
      if (!v) continue;
      const pw = width * v / tt;
      g.fillStyle = on ? '#c03cc0' : col;
      g.fillRect(cx, y, Math.max(pw, 0.5), ROW - 1);
      cx += pw;
    }
    if (width > 1) { g.strokeStyle = '#fff'; g.strokeRect(x + 0.5, y + 0.5, width - 1, ROW - 2); }
    if (width > 28) {
      g.fillStyle = '#1d1f24';
      let s = nodeName(n);
      const room = Math.floor((width - 6) / 6.6);
      if (s.length > room) s = s.slice(0, Math.max(0, room - 1)) + '…';
      g.save(); g.beginPath(); g.rect(x, y, width, ROW); g.clip();
      g.fillText(s, x + 3, y + ROW / 2); g.restore();
    }
    boxes.push({ x, y, w: width, n });
  }
  function flameAt(ev) {
    const r = $('flame').getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    for (let i = boxes.length - 1; i >= 0; i--) {
      const b = boxes[i];
      if (x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + ROW) return b.n;
    }
    return -1;
  }
  /* Which frames the search matches: text, or /regex/; short or full name. */
  function search(v) {
    const m = /^\/(.+)\/$/.exec(v);
    let re = null;
    try { re = m ? new RegExp(m[1]) : null; } catch (e) { re = null; }
    const test = (s) => (re ? re.test(s) : s.includes(v));
    hit = null;
    if (!v) return;
    hit = new Uint8Array(F.function.length);
    for (let f = 0; f < hit.length; f++) hit[f] = test(frameName(f)) || test(F.function[f] || '') ? 1 : 0;
  }
  function flameEvents() {
    const c = $('flame');
    c.addEventListener('mousemove', (ev) => {
      const n = flameAt(ev);
      if (n < 0) return tip(null);
      const f = T.frame[n];
      tip(ev, (f >= 0 ? frameFull(f) : nodeName(n)) + '\n\ngrowth ' + size(lostIn(n) + heldIn(n), 1) +
        (scanned ? ': lost ' + size(lostIn(n)) + ', held ' + size(heldIn(n)) : '') +
        (shrankIn(n) ? '\nshrank ' + size(-shrankIn(n), 1) : ''));
    });
    c.addEventListener('mouseleave', () => tip(null));
    c.addEventListener('click', (ev) => {
      const n = flameAt(ev);
      zoom = n > 0 ? n : 0;
      drawFlame();
    });
    $('reset').addEventListener('click', () => { zoom = 0; drawFlame(); });
    $('search').addEventListener('input', () => { search($('search').value); drawFlame(); });
  }

  /* --- sites table ----------------------------------------------------- */
  const PAGE = 200;
  let order = [], shown = PAGE, sortKey = 'growth', sortDir = -1;
  const cols = [
    { key: 'rank', name: '#', get: (i) => 0 },
    { key: 'site', name: 'site', get: (i) => siteName(i), cls: 'site' },
    { key: 'growth', name: 'growth', get: (i) => value(i), tip: 'bytes: last of the interval minus first' },
    { key: 'new', name: 'new', get: (i) => S.new_bytes[i], tip: 'bytes allocated after the first snapshot, live in the last' },
  ];
  if (scanned) cols.push({ key: 'lost', name: 'lost', get: (i) => S.unreachable_bytes[i], tip: 'bytes nothing reaches in the last snapshot' });
  if (hasRetained) cols.push({ key: 'retained', name: 'retained', get: (i) => S.retained_bytes[i][sel[1]], tip: 'bytes this site keeps alive, at the end of the interval' });
  cols.push({ key: 'trend', name: 'trend', get: (i) => S.trend[i] },
    { key: 'spark', name: 'bytes per snapshot', get: (i) => bytes(i, sel[1]) },
    { key: 'blocks', name: 'blocks', get: (i) => blocks(i, sel[1]) - blocks(i, sel[0]) });
  if (NS === 1) cols[2].name = 'bytes';

  function tableHead() {
    const tr = $('sites-head');
    for (const c of cols) {
      const th = el('th', { cls: c.cls || '', 'data-key': c.key, text: c.name });
      if (c.tip) th.title = c.tip;
      if (c.key !== 'rank') th.addEventListener('click', () => {
        sortDir = sortKey === c.key ? -sortDir : c.key === 'site' ? 1 : -1;
        sortKey = c.key;
        table();
      });
      tr.append(th);
    }
  }
  function sortSites() {
    const c = cols.find((x) => x.key === sortKey);
    const f = $('filter').value.toLowerCase();
    order = [];
    for (let i = 0; i < N; i++) {
      if (NS > 1 && sortKey === 'growth' && !f && !value(i) && !bytes(i, sel[1])) continue;
      if (f && !siteName(i).toLowerCase().includes(f) && !stack(i).some((x) =>
          frameName(x).toLowerCase().includes(f) || (F.file[x] || '').toLowerCase().includes(f))) continue;
      order.push(i);
    }
    const v = new Float64Array(N);
    const str = c.key === 'site' || c.key === 'trend';
    if (!str) for (const i of order) v[i] = c.get(i) == null ? -Infinity : c.get(i);
    order.sort(str ? (a, b) => sortDir * String(c.get(a)).localeCompare(String(c.get(b))) || a - b
      : (a, b) => sortDir * (v[a] - v[b]) || a - b);
  }
  function spark(i) {
    const v = bytesOf(i), w = 80, h = 18;
    const max = Math.max(1, ...v);
    const px = (k) => (NS === 1 ? w / 2 : 2 + (w - 4) * k / (NS - 1));
    const py = (x) => h - 2 - (h - 4) * x / max;
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('class', 'spark'); svg.setAttribute('width', w); svg.setAttribute('height', h);
    const pl = document.createElementNS(svg.namespaceURI, 'polyline');
    pl.setAttribute('points', v.map((x, k) => px(k).toFixed(1) + ',' + py(x).toFixed(1)).join(' '));
    pl.setAttribute('fill', 'none'); pl.setAttribute('stroke', '#4e79a7'); pl.setAttribute('stroke-width', '1.5');
    svg.append(pl);
    for (const k of new Set(sel)) {
      const c = document.createElementNS(svg.namespaceURI, 'circle');
      c.setAttribute('cx', px(k)); c.setAttribute('cy', py(v[k])); c.setAttribute('r', 2.2);
      c.setAttribute('fill', '#d64541');
      svg.append(c);
    }
    return svg;
  }
  const numCell = (v, text, cls) => el('td', { cls: 'num ' + (cls || ''), 'data-v': v == null ? '' : v, text });
  function row(i, rank) {
    const tr = el('tr', { cls: 'row', 'data-site': i });
    const g = value(i);
    for (const c of cols) {
      let td;
      if (c.key === 'rank') td = numCell(rank, String(rank));
      else if (c.key === 'site') {
        td = el('td', { cls: 'site', title: siteName(i) + (siteWhere(i) ? '  ' + siteWhere(i) : '') },
          el('span', { cls: 'name', text: siteName(i) }), el('span', { cls: 'where', text: siteWhere(i) }));
      } else if (c.key === 'growth') td = numCell(g, size(g, NS > 1), NS === 1 ? '' : g > 0 ? 'grow' : g < 0 ? 'shrink' : '');
      else if (c.key === 'new') td = numCell(S.new_bytes[i], size(S.new_bytes[i]));
      else if (c.key === 'lost') {
        const b = S.unreachable_bytes[i], n = S.unreachable_blocks[i];
        td = numCell(b, b || !n ? size(b) : n + ' block' + (n === 1 ? '' : 's'), n ? 'lost' : '');
      } else if (c.key === 'retained') {
        const r = S.retained_bytes[i][sel[1]];
        td = numCell(r, r == null ? '–' : size(r));
      } else if (c.key === 'trend') td = el('td', { cls: 'num', text: S.trend[i] });
      else if (c.key === 'spark') td = el('td', { cls: 'num', title: bytesOf(i).map((x) => size(x)).join(' → ') }, spark(i));
      else td = numCell(c.get(i), blocks(i, sel[0]) + ' → ' + blocks(i, sel[1]));
      td.dataset.col = c.key;
      tr.append(td);
    }
    tr.addEventListener('click', () => toggle(tr, i));
    return tr;
  }
  function table() {
    sortSites();
    for (const th of $('sites-head').children) {
      if (th.dataset.key === sortKey) th.setAttribute('aria-sort', sortDir < 0 ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    }
    const body = $('sites-body');
    body.textContent = '';
    const n = Math.min(shown, order.length);
    const frag = document.createDocumentFragment();
    for (let r = 0; r < n; r++) frag.append(row(order[r], r + 1));
    body.append(frag);
    $('shown').textContent = n + ' of ' + order.length + ' sites shown';
    $('sites-what').textContent = NS === 1 ? 'what the snapshot holds' :
      'growth from snapshot #' + (sel[0] + 1) + ' to #' + (sel[1] + 1) + '; new and lost: first to last';
    $('more').hidden = n >= order.length;
  }

  /* A row's details: the whole stack, then the retainer paths as a tree. */
  function toggle(tr, i) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains('details')) {
      next.remove(); tr.classList.remove('open');
      return;
    }
    tr.classList.add('open');
    const td = el('td', { colspan: cols.length });
    td.append(el('b', { text: 'allocated at' }));
    const ul = el('ul', { cls: 'stack' });
    const st = stack(i);
    if (!st.length) ul.append(el('li', { text: i === OTHER ? 'the smallest sites, summed' : '(no stack recorded)' }));
    st.forEach((f, k) => {
      const m = F.module[f] >= 0 ? D.modules[F.module[f]] : null;
      ul.append(el('li', { cls: k === S.origin[i] ? 'origin' : k < S.origin[i] ? 'runtime' : '',
        text: (F.function[f] || frameName(f)) + '  ' +
          (F.file[f] ? F.file[f] + ':' + F.line[f] : m ? '(' + m + ' +0x' + F.offset[f].toString(16) + ')' : '') +
          (F.inlined[f] ? '  (inlined)' : '') }));
    });
    td.append(ul);
    if (scanned && i !== OTHER) td.append(retainers(i));
    tr.after(el('tr', { cls: 'details' }, td));
  }
  /* A hop as the text report writes it: a root by what it is; a block by
   * its site, the blocks of that site in a row, where the pointer is. */
  function hopLabel(h) {
    const site = H.site[h];
    let s = site >= 0 ? siteName(site) + (siteWhere(site) ? '  ' + siteWhere(site) : '') : H.label[h];
    if (H.parent[h] >= 0) s += (H.count[h] > 1 ? '  (' + H.count[h] + ' in a row)' : '') + '  at +' + H.at[h];
    return s + (H.into[h] ? ', into +' + H.into[h] : '');
  }
  function retainers(i) {
    const box = el('div', { cls: 'retainers' });
    const n = S.unreachable_blocks[i];
    if (n) box.append(el('p', { cls: 'lost-note', text: n + ' block' + (n === 1 ? '' : 's') + ', ' +
      size(S.unreachable_bytes[i]) + ', lost: nothing reaches them from the roots' }));
    const paths = pathsOf(i);
    if (!paths.length) {
      if (!n) box.append(el('p', { cls: 'dim', text: 'no retainer path (no blocks in the last snapshot)' }));
      return box;
    }
    box.append(el('b', { text: 'held by (retainer paths, root first)' }));
    /* the paths share their first hops: a tree of hop ids */
    const root = { kids: new Map() };
    for (const [last, blocks, bytes] of paths) {
      const hops = [];
      for (let x = last; x >= 0; x = H.parent[x]) hops.unshift(x);
      let t = root;
      for (const h of hops) {
        if (!t.kids.has(h)) t.kids.set(h, { kids: new Map(), held: null });
        t = t.kids.get(h);
      }
      t.held = [blocks, bytes];
    }
    const render = (t) => {
      const ul = el('ul', {});
      for (const [h, k] of t.kids) {
        const li = el('li', { 'data-hop': h, text: hopLabel(h) });
        if (k.held) li.append(el('span', { cls: 'held-by', text: '  → holds ' + k.held[0] + ' block' +
          (k.held[0] === 1 ? '' : 's') + ', ' + size(k.held[1]) }));
        if (k.kids.size) li.append(render(k));
        ul.append(li);
      }
      return ul;
    };
    const tree = render(root);
    tree.className = 'tree';
    box.append(tree);
    return box;
  }

  /* --- start ------------------------------------------------------------ */
  header();
  legend();
  timelineEvents();
  tableHead();
  flameEvents();
  $('more').addEventListener('click', () => { shown += PAGE; table(); });
  $('filter').addEventListener('input', () => { shown = PAGE; table(); });
  select(0, NS - 1);
  window.addEventListener('resize', () => { timeline(); drawFlame(); });
  document.body.dataset.drawnMs = performance.now().toFixed(0);
  document.body.dataset.drawn = '1';
}).catch((e) => {
  document.getElementById('loading').textContent = 'could not draw the page: ' + e;
  throw e;
});
