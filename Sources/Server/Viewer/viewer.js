// The Resonance viewer: one page over the JSON API of `resonance serve` (docs/server.md).
// Plain JavaScript, no build step, no library: the beamtimes and their runs (kept current
// by the /api/live Server-Sent Events), a run's metadata, a plot of any field against any
// other that grows as events arrive (incremental `after_seq` reads), and a frame viewer.
//
// For tests and scripts the page exposes what it shows as attributes: every run is an
// `li[data-uid]` (with `data-status`), `canvas#plot` has `data-run`, `data-x`, `data-y`
// and `data-points` (the finite points drawn), `canvas#frame` has `data-index`, and
// `window.viewerErrors` collects uncaught errors.
'use strict';

window.viewerErrors = [];
window.addEventListener('error', e => window.viewerErrors.push(String(e.message || e)));
window.addEventListener('unhandledrejection', e => window.viewerErrors.push(String(e.reason && e.reason.message || e.reason)));

const $ = sel => document.querySelector(sel);
const enc = encodeURIComponent;

const S = {
  beamtimes: [],        // /api/beamtimes, newest first
  runs: {},             // label -> run summaries, newest first
  where: {},            // run uid -> beamtime label
  fresh: new Set(),     // uids that appeared while the page was open (highlighted once)
  selected: null,       // uid of the run shown
  run: null,            // /api/runs/{uid}
  gen: 0,               // bumped on every selection: late answers for an old run are dropped
  tables: {},           // stream -> {cols: {name: [...]}, names: [...], lastSeq, busy, again}
  plotStream: null,
  frames: null,         // {field, stream, meta, index, pixels, rows, cols, dtype, sorted}
  live: 'connecting',
};
window.viewer = S;

// ---------------------------------------------------------------- JSON and fetching

// The server writes NaN and ±Infinity as Python's json module does (docs/format.md);
// JSON.parse does not accept them, so they travel as marked strings and come back as numbers.
const NAN = '\u0000NaN', INF = '\u0000Inf', NINF = '\u0000-Inf';
function parseJSON(text) {
  if (!/NaN|Infinity/.test(text)) return JSON.parse(text);
  const marked = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, m =>
    m[0] === '"' ? m : m === 'NaN' ? '"\\u0000NaN"' : m[0] === '-' ? '"\\u0000-Inf"' : '"\\u0000Inf"');
  return JSON.parse(marked, (_, v) => v === NAN ? NaN : v === INF ? Infinity : v === NINF ? -Infinity : v);
}

// A server started with --require-key wants a key for every read: the page takes it from
// `#key=...` in its address or from the form it shows on a 401, keeps it for the tab
// (sessionStorage), and sends it as `Authorization: Bearer` (the live feed, which cannot
// set headers, as `api_key`).
let apiKey = null;
try { apiKey = sessionStorage.getItem('resonance.key'); } catch (_) { /* private mode */ }
{
  const fromHash = (location.hash.match(/(?:^#|&)key=([^&]+)/) || [])[1];
  if (fromHash) {
    apiKey = decodeURIComponent(fromHash);
    try { sessionStorage.setItem('resonance.key', apiKey); } catch (_) { /* private mode */ }
    history.replaceState(null, '', location.pathname + location.search + location.hash.replace(/key=[^&]*&?/, ''));
  }
}

async function request(path, init) {
  const response = await fetch(path, apiKey ? { ...init, headers: { Authorization: `Bearer ${apiKey}` } } : init);
  if (response.status === 401) askForKey();
  if (!response.ok) {
    let detail = '';
    try { detail = parseJSON(await response.text()).detail || ''; } catch (_) { /* not problem+json */ }
    throw new Error(`${response.status} ${detail || response.statusText}`);
  }
  return response;
}
async function getJSON(path) { return parseJSON(await (await request(path)).text()); }

function showMessage(text) {
  const m = $('#msg');
  m.textContent = text || '';
  m.hidden = !text;
}

// ---------------------------------------------------------------- formatting

const pad2 = n => String(n).padStart(2, '0');
function fmtTime(t, withDate = true) {
  if (t == null || !isFinite(t)) return '—';
  const d = new Date(t * 1000);
  const hms = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${hms}` : hms;
}
function fmtShort(t) {
  if (t == null) return '';
  const d = new Date(t * 1000), now = new Date();
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return d.toDateString() === now.toDateString() ? hm : `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${hm}`;
}
function fmtDuration(s) {
  if (s == null || !isFinite(s) || s < 0) return '—';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad2(Math.round(s % 60))}s`;
  return `${Math.floor(m / 60)}h ${pad2(m % 60)}m`;
}
function fmtNum(v) {
  if (typeof v !== 'number') return v == null ? '—' : String(v);
  if (!isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e12) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : String(+v.toPrecision(6));
}
// A run's frame fields (`frame_fields`; `image_fields` in servers before the rename).
const frameFields = run => run.frame_fields || run.image_fields || [];
const statusOf = run => run.exit_status || (run.time_stop == null ? 'running' : 'closed');
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

// ---------------------------------------------------------------- beamtimes and runs

async function loadAll() {
  const beamtimes = await getJSON('/api/beamtimes');
  beamtimes.sort((a, b) => (b.last_run ?? 0) - (a.last_run ?? 0) || String(a.label).localeCompare(b.label));
  S.beamtimes = beamtimes;
  await Promise.all(beamtimes.map(b => loadRuns(b.label, false)));
  renderSide();
}

async function loadRuns(label, render = true) {
  const runs = await getJSON(`/api/beamtimes/${enc(label)}/runs?limit=1000`);
  const known = S.runs[label];
  if (known) for (const r of runs) if (!(r.uid in S.where)) S.fresh.add(r.uid);
  S.runs[label] = runs;
  for (const r of runs) S.where[r.uid] = label;
  const bt = S.beamtimes.find(b => b.label === label);
  if (bt) bt.runs = runs.length;
  if (render) renderSide();
}

// Reloads of one beamtime's list, at most one every 700 ms however fast events come.
const pendingRuns = new Map();
function scheduleRuns(label) {
  if (!label) return;
  if (!S.beamtimes.some(b => b.label === label)) { scheduleAll(); return; }
  if (pendingRuns.has(label)) return;
  pendingRuns.set(label, setTimeout(() => {
    pendingRuns.delete(label);
    loadRuns(label).catch(e => showMessage(`runs of ${label}: ${e.message}`));
  }, 700));
}
let pendingAll = null;
function scheduleAll() {
  if (pendingAll) return;
  pendingAll = setTimeout(() => { pendingAll = null; loadAll().catch(e => showMessage(`beamtimes: ${e.message}`)); }, 300);
}

function matches(run, filter) {
  if (!filter) return true;
  const text = `${run.plan_name} ${run.sample_name || ''} ${run.uid} ${statusOf(run)}`.toLowerCase();
  return filter.split(/\s+/).every(word => text.includes(word));
}

function renderSide() {
  const box = $('#beamtimes');
  const focusedUID = document.activeElement && document.activeElement.closest && document.activeElement.closest('li[data-uid]')?.dataset.uid;
  const filter = $('#filter').value.trim().toLowerCase();
  const scroll = box.scrollTop;
  box.replaceChildren();
  if (!S.beamtimes.length) {
    box.append(el('p', { class: 'muted', text: 'No beamtimes under the served folder yet.' }));
    return;
  }
  for (const bt of S.beamtimes) {
    const runs = (S.runs[bt.label] || []).filter(r => matches(r, filter));
    const list = el('ul', { class: 'runs' });
    for (const run of runs) {
      const status = statusOf(run);
      const button = el('button', { type: 'button', title: `${run.plan_name} ${run.uid} (${status})` },
        el('span', { class: 'plan', text: run.plan_name }),
        el('span', { class: 'when', text: fmtShort(run.time_start) }),
        el('span', { class: 'sub' },
          el('span', { class: `dot ${status}`, text: '●', 'aria-label': status }),
          el('span', { class: 'uid', text: `${run.uid.slice(0, 8)}…${run.uid.slice(-4)}` }),
          el('span', { text: run.sample_name || '' }),
          el('span', { class: 'n', text: status === 'running' && !run.num_events ? 'running' : `${run.num_events ?? 0} ev` })));
      button.addEventListener('click', () => selectRun(run.uid));
      const li = el('li', { 'data-uid': run.uid, 'data-status': status }, button);
      if (run.uid === S.selected) li.setAttribute('aria-current', 'true');
      if (S.fresh.has(run.uid)) { li.classList.add('fresh'); }
      list.append(li);
    }
    box.append(el('section', { class: 'beamtime', 'data-label': bt.label },
      el('h2', {}, el('span', { text: bt.label }), el('span', { class: 'count', text: `${bt.runs ?? runs.length} runs` })),
      runs.length ? list : el('p', { class: 'muted', text: filter ? '  no run matches' : '  no runs yet' })));
  }
  S.fresh.clear();
  box.scrollTop = scroll;
  if (focusedUID) box.querySelector(`li[data-uid="${CSS.escape(focusedUID)}"] button`)?.focus();
}

// ---------------------------------------------------------------- one run

async function selectRun(uid) {
  if (!uid) return;
  const gen = ++S.gen;
  S.selected = uid;
  S.tables = {};
  S.frames = null;
  history.replaceState(null, '', `#run=${enc(uid)}`);
  for (const li of document.querySelectorAll('li[data-uid]')) {
    if (li.dataset.uid === uid) li.setAttribute('aria-current', 'true'); else li.removeAttribute('aria-current');
  }
  try {
    const run = await getJSON(`/api/runs/${enc(uid)}`);
    if (gen !== S.gen) return;
    S.run = run;
    showMessage('');
    renderRun();
    setupPlot();
    setupFrames();
  } catch (e) {
    if (gen === S.gen) showMessage(`run ${uid.slice(0, 8)}: ${e.message}`);
  }
}

async function reloadRun() {
  if (!S.selected) return;
  const gen = S.gen;
  const run = await getJSON(`/api/runs/${enc(S.selected)}`);
  if (gen !== S.gen) return;
  const hadFields = frameFields(S.run).map(f => f.field).join();
  const hadStreams = (S.run.streams || []).map(s => s.name).join();
  S.run = run;
  renderRun();
  if ((run.streams || []).map(s => s.name).join() !== hadStreams) setupPlot(true);
  if (frameFields(run).map(f => f.field).join() !== hadFields) setupFrames(true);
}

function renderRun() {
  const run = S.run;
  $('#empty').hidden = true;
  $('#run').hidden = false;
  const status = statusOf(run);
  $('#run-title').replaceChildren(run.plan_name, el('span', { class: 'uid', text: run.uid }));
  const badge = $('#run-status');
  badge.textContent = status;
  badge.className = `badge ${status}`;
  const stop = run.time_stop ?? (status === 'running' ? Date.now() / 1000 : null);
  const facts = [
    ['beamtime', run.beamtime || S.where[run.uid] || '—'],
    ['sample', run.sample_name || (run.sample && run.sample.name) || '—'],
    ['started', fmtTime(run.time_start)],
    ['stopped', run.time_stop == null ? 'still running' : fmtTime(run.time_stop)],
    ['duration', fmtDuration(stop == null ? null : stop - run.time_start)],
    // num_events is written when the run closes; while it runs, the streams' counts.
    ['events', String(run.num_events || (run.streams || []).reduce((n, st) => n + (st.num_events || 0), 0))],
    ['operator', run.operator || '—'],
    ['frames', frameFields(run).map(f => `${f.field} ×${f.num_frames}`).join(', ') || 'none'],
  ];
  $('#run-facts').replaceChildren(...facts.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v, title: v }))));

  const tables = [];
  const kv = (title, object) => {
    const entries = Object.entries(object || {});
    if (!entries.length) return;
    entries.splice(0, entries.length, ...entries.filter(([, v]) => v != null && v !== ''));
    if (!entries.length) return;
    tables.push(el('div', {}, el('h4', { text: title }),
      el('table', {}, ...entries.map(([k, v]) => el('tr', {}, el('td', { text: k }),
        el('td', { text: typeof v === 'string' ? v : JSON.stringify(v) }))))));
  };
  kv('metadata', run.metadata);
  if (run.sample) {
    const { extra, ...rest } = run.sample;
    kv('sample', { ...rest, tags: (rest.tags || []).join(', '), ...(extra || {}) });
  }
  for (const stream of run.streams || []) {
    const keys = {};
    for (const [name, key] of Object.entries(stream.data_keys || {})) {
      keys[name] = [key.dtype, key.units, key.shape ? `[${key.shape}]` : null, key.source].filter(Boolean).join(' · ');
    }
    kv(`stream ${stream.name} (${stream.num_events} events)`, keys);
  }
  $('#run-meta').replaceChildren(...tables);
}

// ---------------------------------------------------------------- event tables

function table(stream) {
  return S.tables[stream] || (S.tables[stream] = { cols: {}, names: [], lastSeq: null, busy: false, again: false, loaded: false });
}

// Reads the events after the last one held (all of them the first time) and appends them.
// One read per stream at a time; a request made meanwhile runs once the read returns.
async function refreshTable(stream) {
  const t = table(stream);
  if (t.busy) { t.again = true; return; }
  t.busy = true;
  const gen = S.gen, uid = S.selected;
  try {
    do {
      t.again = false;
      const after = t.lastSeq == null ? '' : `&after_seq=${t.lastSeq}`;
      const data = await getJSON(`/api/runs/${enc(uid)}/streams/${enc(stream)}/table?format=json${after}`);
      if (gen !== S.gen) return;
      append(t, data);
    } while (t.again);
  } finally {
    t.busy = false;
  }
  if (gen !== S.gen) return;
  if (stream === S.plotStream) { fillFieldChoices(); drawPlot(); }
  if (S.frames && stream === S.frames.stream) renderFrameInfo();
}

function append(t, data) {
  const seq = data.seq_num || [];
  const length = t.cols.seq_num ? t.cols.seq_num.length : 0;
  for (const name of Object.keys(data)) {
    if (!t.cols[name]) { t.cols[name] = new Array(length).fill(null); t.names.push(name); }
  }
  for (const name of t.names) {
    const column = t.cols[name], values = data[name];
    if (values) for (const v of values) column.push(v);
    else for (let i = 0; i < seq.length; i++) column.push(null);
  }
  if (seq.length) t.lastSeq = seq[seq.length - 1];
  t.loaded = true;
}

// ---------------------------------------------------------------- the plot

const plotState = { points: [] };

function setupPlot(keep = false) {
  const run = S.run;
  const streams = (run.streams || []).map(s => s.name);
  const panel = $('#plot-panel');
  panel.hidden = streams.length === 0;
  if (!streams.length) { S.plotStream = null; return; }
  const select = $('#stream');
  const previous = keep ? S.plotStream : null;
  select.replaceChildren(...streams.map(name => el('option', { value: name, text: name })));
  const stream = streams.includes(previous) ? previous
    : streams.includes('primary') ? 'primary'
    : [...run.streams].sort((a, b) => b.num_events - a.num_events)[0].name;
  select.value = stream;
  if (!keep || stream !== S.plotStream) choosePlotStream(stream);
}

function choosePlotStream(stream) {
  S.plotStream = stream;
  $('#xfield').replaceChildren();
  $('#yfield').replaceChildren();
  drawPlot();
  refreshTable(stream).catch(e => showMessage(`table ${stream}: ${e.message}`));
}

// The columns that hold numbers (or nothing yet); strings and arrays cannot be plotted.
function numericFields(t) {
  return t.names.filter(name => {
    const column = t.cols[name];
    for (let i = 0; i < column.length; i++) {
      const v = column[i];
      if (v != null) return typeof v === 'number' || typeof v === 'boolean';
    }
    return true;
  });
}

const choiceKey = () => `resonance.plot.${S.run.plan_name}.${S.plotStream}`;

function fillFieldChoices() {
  const t = table(S.plotStream);
  const fields = numericFields(t);
  const xs = $('#xfield'), ys = $('#yfield');
  const have = [...xs.options].map(o => o.value).join();
  if (have === fields.join()) return;
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(choiceKey()) || '{}'); } catch (_) { /* none */ }
  // Keep what the person picked (or picked before for this plan and stream); choices made
  // while the table had no fields yet (a run just opened) are made again.
  const picked = xs.dataset.auto !== '1';
  const oldX = (picked && xs.value) || saved.x, oldY = (picked && ys.value) || saved.y;
  xs.replaceChildren(...fields.map(f => el('option', { value: f, text: f })));
  ys.replaceChildren(...fields.map(f => el('option', { value: f, text: f })));
  const data = fields.filter(f => f !== 'seq_num' && f !== 'time');
  const energy = data.find(f => f === 'energy') || data.find(f => /energy/i.test(f));
  const x = fields.includes(oldX) ? oldX : energy || 'seq_num';
  // y: a field that changes (a constant exposure says little), else any.
  const varies = f => { const c = t.cols[f].filter(v => v != null && isFinite(v)); return c.some(v => v !== c[0]); };
  const y = fields.includes(oldY) ? oldY : data.find(f => f !== x && varies(f)) || data.find(f => f !== x) || 'time';
  xs.value = x;
  ys.value = y;
  xs.dataset.auto = x === saved.x && y === saved.y ? '0' : '1';
}

function units(field) {
  const stream = (S.run.streams || []).find(s => s.name === S.plotStream);
  const key = stream && stream.data_keys && stream.data_keys[field];
  return key && key.units ? ` (${key.units})` : field === 'time' ? ' (local time)' : '';
}

function niceTicks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map(f => f * mag).find(s => s >= raw) || 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}
// Tick labels with the digits the step needs; very small or large values share one
// power of ten, written once in the axis title.
function tickFormat(ticks, field) {
  if (field === 'time') return { labels: ticks.map(v => fmtTime(v, false)), suffix: '' };
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(ticks[0]) || 1;
  const big = Math.max(...ticks.map(Math.abs));
  const power = big && (big < 1e-3 || big >= 1e6) ? Math.floor(Math.log10(big)) : 0;
  const unit = 10 ** power;
  const digits = Math.max(0, Math.min(12, -Math.floor(Math.log10(step / unit) + 1e-9)));
  return {
    labels: ticks.map(v => (v / unit).toFixed(digits)),
    suffix: power ? `  ×10${String(power).replace(/./g, c => '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'['-0123456789'.indexOf(c)])}` : '',
  };
}

function drawPlot() {
  const canvas = $('#plot');
  const ctx = canvas.getContext('2d');
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (!width || !height) return;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const css = getComputedStyle(document.documentElement);
  const color = name => css.getPropertyValue(name).trim();
  ctx.clearRect(0, 0, width, height);
  ctx.font = '12px system-ui, "DejaVu Sans", sans-serif';

  const t = S.plotStream ? table(S.plotStream) : null;
  const xName = $('#xfield').value, yName = $('#yfield').value;
  const X = t && t.cols[xName], Y = t && t.cols[yName];
  const points = [];
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  if (X && Y) {
    for (let i = 0; i < X.length; i++) {
      const x = +X[i], y = +Y[i];
      if (X[i] == null || Y[i] == null || !isFinite(x) || !isFinite(y)) { points.push(null); continue; }
      points.push([x, y, i]);
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
  }
  const count = points.filter(Boolean).length;
  canvas.dataset.points = String(count);
  canvas.dataset.run = S.selected || '';
  canvas.dataset.x = xName || '';
  canvas.dataset.y = yName || '';
  const total = t && t.cols.seq_num ? t.cols.seq_num.length : 0;
  $('#plot-count').textContent = t && t.loaded ? `${count} points${total !== count ? ` of ${total} events` : ''}` : 'loading…';
  plotState.points = [];
  if (!count) {
    ctx.fillStyle = color('--muted');
    ctx.textAlign = 'center';
    ctx.fillText(t && t.loaded ? 'No numeric values to plot yet' : 'Loading…', width / 2, height / 2);
    return;
  }
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  const xPad = (x1 - x0) * 0.015; x0 -= xPad; x1 += xPad;
  if (y1 === y0) { const d = Math.abs(y0) * 0.05 || 1; y0 -= d; y1 += d; }
  const yPad = (y1 - y0) * 0.05; y0 -= yPad; y1 += yPad;

  const yTicks = niceTicks(y0, y1, 6);
  const yFormat = tickFormat(yTicks, yName), yLabels = yFormat.labels;
  const left = Math.max(...yLabels.map(s => ctx.measureText(s).width)) + 30, right = 14, top = 12, bottom = 42;
  const pw = width - left - right, ph = height - top - bottom;
  const sx = x => left + (x - x0) / (x1 - x0) * pw;
  const sy = y => top + (1 - (y - y0) / (y1 - y0)) * ph;

  ctx.strokeStyle = color('--plot-grid'); ctx.lineWidth = 1;
  ctx.fillStyle = color('--muted');
  ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  yTicks.forEach((v, k) => {
    const y = Math.round(sy(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
    ctx.fillText(yLabels[k], left - 6, y);
  });
  const xTicks = niceTicks(x0, x1, Math.max(2, Math.floor(pw / (xName === 'time' ? 110 : 80))));
  const xFormat = tickFormat(xTicks, xName);
  ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  xTicks.forEach((v, k) => {
    const x = Math.round(sx(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + ph); ctx.stroke();
    ctx.fillText(xFormat.labels[k], x, top + ph + 5);
  });
  ctx.strokeStyle = color('--plot-axis');
  ctx.strokeRect(left + 0.5, top + 0.5, pw, ph);
  ctx.fillStyle = color('--text');
  ctx.fillText(xName + units(xName) + xFormat.suffix, left + pw / 2, top + ph + 22);
  ctx.save();
  ctx.translate(12, top + ph / 2); ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(yName + units(yName) + yFormat.suffix, 0, 0);
  ctx.restore();

  ctx.save();
  ctx.beginPath(); ctx.rect(left, top, pw, ph); ctx.clip();
  const accent = color('--accent');
  const onlyPoints = $('#points-only').checked;
  if (!onlyPoints) {
    ctx.strokeStyle = accent; ctx.lineWidth = 1.6; ctx.lineJoin = 'round';
    ctx.beginPath();
    let pen = false;
    for (const p of points) {
      if (!p) { pen = false; continue; }
      if (pen) ctx.lineTo(sx(p[0]), sy(p[1])); else { ctx.moveTo(sx(p[0]), sy(p[1])); pen = true; }
    }
    ctx.stroke();
  }
  ctx.fillStyle = accent;
  const radius = onlyPoints ? 2.4 : count <= 150 ? 2.2 : 0;
  for (const p of points) {
    if (!p) continue;
    const px = sx(p[0]), py = sy(p[1]);
    plotState.points.push([px, py, p]);
    if (radius) { ctx.beginPath(); ctx.arc(px, py, radius, 0, 2 * Math.PI); ctx.fill(); }
  }
  // The newest point, so a growing scan shows where it is.
  const last = plotState.points[plotState.points.length - 1];
  if (last) {
    ctx.fillStyle = color('--accent-2');
    ctx.beginPath(); ctx.arc(last[0], last[1], 4, 0, 2 * Math.PI); ctx.fill();
  }
  ctx.restore();
}

function plotReadout(event) {
  const box = $('#plot-readout');
  const rect = event.target.getBoundingClientRect();
  const mx = event.clientX - rect.left, my = event.clientY - rect.top;
  let best = null, bestD = 24 * 24;
  for (const p of plotState.points) {
    const d = (p[0] - mx) ** 2 + (p[1] - my) ** 2;
    if (d < bestD) { bestD = d; best = p; }
  }
  if (!best) { box.hidden = true; return; }
  const t = table(S.plotStream), i = best[2][2];
  box.hidden = false;
  box.textContent = `seq ${t.cols.seq_num[i]}   ${$('#xfield').value} ${fmtNum(best[2][0])}   ${$('#yfield').value} ${fmtNum(best[2][1])}`;
}

// ---------------------------------------------------------------- frames

function setupFrames(keep = false) {
  const fields = frameFields(S.run);
  $('#frame-panel').hidden = fields.length === 0;
  $('#views').classList.toggle('two', fields.length > 0 && !$('#plot-panel').hidden);
  drawPlot();
  if (!fields.length) { S.frames = null; return; }
  const select = $('#ffield');
  const previous = keep && S.frames ? S.frames.field : null;
  select.replaceChildren(...fields.map(f => el('option', { value: f.field, text: `${f.field} (${f.shape.join('×')} ${f.dtype})` })));
  const field = fields.some(f => f.field === previous) ? previous : fields[0].field;
  select.value = field;
  if (!keep || !S.frames || S.frames.field !== field) chooseField(field);
}

async function chooseField(field) {
  const info = frameFields(S.run).find(f => f.field === field);
  S.frames = { field, stream: info ? info.stream : 'primary', meta: null, index: -1, pixels: null, sorted: null, want: null, loading: false };
  $('#frame').dataset.index = '-1';
  const stream = S.frames.stream;
  if (!table(stream).loaded) refreshTable(stream).catch(e => showMessage(`table ${stream}: ${e.message}`));
  await refreshFrameMeta(true);
}

async function refreshFrameMeta(first = false) {
  const f = S.frames;
  if (!f) return;
  const gen = S.gen;
  const meta = await getJSON(`/api/runs/${enc(S.selected)}/frames/${enc(f.field)}`);
  if (gen !== S.gen || S.frames !== f) return;
  const slider = $('#fslider');
  const atEnd = f.index < 0 || f.index >= (f.meta ? f.meta.count - 1 : 0);
  f.meta = meta;
  slider.max = String(Math.max(0, meta.count - 1));
  slider.disabled = meta.count === 0;
  if (meta.count === 0) { renderFrameInfo(); return; }
  if (first) showFrame($('#ffollow').checked && statusOf(S.run) === 'running' ? meta.count - 1 : 0);
  else if ($('#ffollow').checked && atEnd) showFrame(meta.count - 1);
  else renderFrameInfo();
}

const DTYPES = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
  uint64: BigUint64Array, int64: BigInt64Array,
};

// Loads frame `index` (raw little-endian pixels; X-Shape / X-Dtype say what they are).
// While one loads, only the newest request waits: a held-down arrow key does not queue.
async function showFrame(index) {
  const f = S.frames;
  if (!f || !f.meta || !f.meta.count) return;
  index = Math.max(0, Math.min(f.meta.count - 1, index));
  $('#fslider').value = String(index);
  f.want = index;
  renderFrameInfo();
  if (f.loading) return;
  f.loading = true;
  const gen = S.gen;
  try {
    while (f.want != null) {
      const i = f.want;
      f.want = null;
      const response = await request(`/api/runs/${enc(S.selected)}/frames/${enc(f.field)}/${i}?format=raw`);
      const buffer = await response.arrayBuffer();
      if (gen !== S.gen || S.frames !== f) return;
      const [rows, cols] = (response.headers.get('X-Shape') || '').split(',').map(Number);
      const dtype = (response.headers.get('X-Dtype') || '').replace(/^[<>|=]/, '');
      const Type = DTYPES[dtype] || { u1: Uint8Array, u2: Uint16Array, i2: Int16Array, u4: Uint32Array, i4: Int32Array, f4: Float32Array, f8: Float64Array }[dtype];
      if (!Type || !(rows > 0) || !(cols > 0)) throw new Error(`frame ${i}: cannot show dtype ${dtype || '?'} of shape ${rows}x${cols}`);
      let pixels = new Type(buffer, 0, rows * cols);
      if (pixels instanceof BigInt64Array || pixels instanceof BigUint64Array) pixels = Float64Array.from(pixels, Number);
      Object.assign(f, { index: i, pixels, rows, cols, dtype, sorted: sample(pixels) });
      renderFrame();
    }
  } catch (e) {
    showMessage(e.message);
  } finally {
    f.loading = false;
  }
}

// Up to 65,536 finite pixel values, sorted: the contrast sliders are percentiles of them.
function sample(pixels) {
  const step = Math.max(1, Math.floor(pixels.length / 65536));
  const out = new Float64Array(Math.ceil(pixels.length / step));
  let n = 0;
  for (let i = 0; i < pixels.length; i += step) { const v = pixels[i]; if (isFinite(v)) out[n++] = v; }
  return out.subarray(0, n).sort();
}

const percentile = (sorted, permille) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(permille / 1000 * (sorted.length - 1)))] : 0;

const MAGMA = [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122], [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]];
function lut(name) {
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    let rgb;
    if (name === 'magma') {
      const p = i / 255 * (MAGMA.length - 1), k = Math.min(MAGMA.length - 2, Math.floor(p)), a = p - k;
      rgb = MAGMA[k].map((c, j) => Math.round(c + (MAGMA[k + 1][j] - c) * a));
    } else rgb = [i, i, i];
    table.set(rgb, i * 3);
  }
  return table;
}

function renderFrame() {
  const f = S.frames;
  if (!f || !f.pixels) return;
  const canvas = $('#frame');
  const ctx = canvas.getContext('2d');
  if (canvas.width !== f.cols || canvas.height !== f.rows) { canvas.width = f.cols; canvas.height = f.rows; }
  let lowP = +$('#flow').value, highP = +$('#fhigh').value;
  if (highP <= lowP) highP = Math.min(1000, lowP + 1);
  const lo = percentile(f.sorted, lowP), hi = Math.max(percentile(f.sorted, highP), lo + Number.EPSILON);
  const scale = $('#fscale').value, colors = lut($('#fcmap').value);
  const image = ctx.createImageData(f.cols, f.rows), out = image.data, px = f.pixels;
  const span = hi - lo;
  const shape = scale === 'log' ? t => Math.log1p(1000 * t) / Math.log1p(1000) : scale === 'sqrt' ? Math.sqrt : t => t;
  const levels = new Uint8Array(4096);   // the transfer curve, tabulated
  for (let k = 0; k < 4096; k++) levels[k] = Math.round(255 * shape(k / 4095));
  for (let i = 0, o = 0; i < px.length; i++, o += 4) {
    let t = (px[i] - lo) / span;
    t = t > 0 ? (t < 1 ? t : 1) : 0;        // NaN -> 0
    const c = levels[(t * 4095) | 0] * 3;
    out[o] = colors[c]; out[o + 1] = colors[c + 1]; out[o + 2] = colors[c + 2]; out[o + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  canvas.dataset.index = String(f.index);
  const minV = f.sorted[0], maxV = f.sorted[f.sorted.length - 1];
  $('#frange').textContent = `shown ${fmtNum(lo)} – ${fmtNum(hi)}   (frame ${fmtNum(minV)} – ${fmtNum(maxV)}, ${f.rows}×${f.cols} ${f.dtype})`;
}

// "frame 3 / 20 · seq 4 · energy 283.2 eV": the energy is read from the frame's event.
function renderFrameInfo() {
  const f = S.frames, info = $('#finfo');
  if (!f || !f.meta) { info.textContent = ''; return; }
  if (!f.meta.count) { info.textContent = 'no frames yet'; return; }
  const i = +$('#fslider').value;
  const seq = f.meta.seq_nums ? f.meta.seq_nums[i] : null;
  const parts = [el('span', { text: `frame ${i + 1} / ${f.meta.count}` })];
  if (seq != null) parts.push(el('span', { class: 'muted', text: ` · seq ${seq}` }));
  const t = S.tables[f.stream];
  if (t && t.loaded && seq != null) {
    const row = t.cols.seq_num.indexOf(seq);
    const names = t.names.filter(n => n !== 'seq_num' && n !== 'time');
    const energy = names.find(n => n === 'energy') || names.find(n => /energy/i.test(n));
    if (row >= 0 && energy) {
      const stream = (S.run.streams || []).find(s => s.name === f.stream);
      const key = stream && stream.data_keys && stream.data_keys[energy];
      parts.push(' · ', el('b', { text: `${energy} ${fmtNum(t.cols[energy][row])}${key && key.units ? ' ' + key.units : ''}` }));
    }
  }
  info.replaceChildren(...parts);
  info.dataset.seq = seq == null ? '' : String(seq);
}

// ---------------------------------------------------------------- live feed

let source = null, wasDown = false, pollTimer = null;

function setLive(state, text) {
  S.live = state;
  document.body.dataset.live = state;
  $('#live').textContent = text;
}

function connectLive() {
  source = new EventSource(apiKey ? `/api/live?api_key=${enc(apiKey)}` : '/api/live');
  source.onopen = () => {
    setLive('open', 'live');
    clearInterval(pollTimer);
    pollTimer = null;
    if (wasDown) { wasDown = false; catchUp(); }
  };
  source.onerror = () => {
    wasDown = true;
    setLive('error', 'live feed lost; reconnecting…');
    // While the feed is down, look every 5 s, so the page stays roughly current.
    if (!pollTimer) pollTimer = setInterval(catchUp, 5000);
    if (source.readyState === EventSource.CLOSED) { source = null; setTimeout(connectLive, 3000); }
  };
  const on = (name, handler) => source.addEventListener(name, event => {
    let data = {};
    try { data = parseJSON(event.data); } catch (_) { /* keep {} */ }
    handler(data);
  });
  on('beamtime_added', () => scheduleAll());
  on('run_opened', d => scheduleRuns(d.beamtime));
  on('run_closed', d => {
    scheduleRuns(d.beamtime);
    if (d.run === S.selected) {
      reloadRun().catch(e => showMessage(e.message));
      for (const stream of Object.keys(S.tables)) refreshTable(stream).catch(e => showMessage(e.message));
    }
  });
  on('events', d => {
    scheduleRuns(d.beamtime);
    if (d.run !== S.selected) return;
    if (S.tables[d.stream]) refreshTable(d.stream).catch(e => showMessage(e.message));
    else reloadRun().catch(e => showMessage(e.message));   // a new stream
    scheduleRunFacts();
  });
  on('frames', d => {
    if (d.run !== S.selected) return;
    if (S.frames && S.frames.field === d.field) refreshFrameMeta().catch(e => showMessage(e.message));
    else reloadRun().catch(e => showMessage(e.message));   // a new frame field
  });
  // The server could not replay what was missed: reload everything.
  on('reset', () => catchUp());
}

let factsTimer = null;
function scheduleRunFacts() {
  if (factsTimer) return;
  factsTimer = setTimeout(() => { factsTimer = null; reloadRun().catch(e => showMessage(e.message)); }, 1000);
}

function catchUp() {
  loadAll().catch(e => showMessage(`beamtimes: ${e.message}`));
  if (S.selected) {
    reloadRun().catch(e => showMessage(e.message));
    for (const stream of Object.keys(S.tables)) refreshTable(stream).catch(e => showMessage(e.message));
    if (S.frames) refreshFrameMeta().catch(e => showMessage(e.message));
  }
}

function askForKey() {
  if ($('#key-form')) return;
  const input = el('input', { type: 'password', placeholder: 'API key', autocomplete: 'off', 'aria-label': 'API key' });
  const form = el('form', { id: 'key-form', class: 'key-form' },
    el('p', { text: 'This server needs a key to read (resonance keys add NAME --root ROOT).' }), input,
    el('button', { type: 'submit', text: 'Use key' }));
  form.addEventListener('submit', event => {
    event.preventDefault();
    apiKey = input.value.trim() || null;
    try { if (apiKey) sessionStorage.setItem('resonance.key', apiKey); } catch (_) { /* private mode */ }
    form.remove();
    showMessage('');
    if (source) source.close();
    connectLive();
    catchUp();
  });
  $('nav.side').insertBefore(form, $('#beamtimes'));
  input.focus();
}

// ---------------------------------------------------------------- keys and controls

function runButtons() { return [...document.querySelectorAll('#beamtimes li[data-uid] button')]; }

let moveTimer = null;
function moveRun(step) {
  const buttons = runButtons();
  if (!buttons.length) return;
  const current = buttons.indexOf(document.activeElement.closest ? document.activeElement.closest('button') : null);
  const selected = buttons.findIndex(b => b.parentElement.dataset.uid === S.selected);
  const from = current >= 0 ? current : selected;
  const next = buttons[Math.max(0, Math.min(buttons.length - 1, from < 0 ? 0 : from + step))];
  next.focus();
  next.scrollIntoView({ block: 'nearest' });
  clearTimeout(moveTimer);
  moveTimer = setTimeout(() => selectRun(next.parentElement.dataset.uid), 180);
}

function setTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme; else delete document.documentElement.dataset.theme;
  try { if (theme) localStorage.setItem('resonance.theme', theme); } catch (_) { /* private mode */ }
  drawPlot();
}

function toggleHelp(show) {
  const help = $('#help');
  help.hidden = !(show ?? help.hidden);
  if (!help.hidden) help.querySelector('.help-card').focus?.();
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  const typing = target.matches('input:not([type="range"]):not([type="checkbox"]), textarea');
  if (event.key === 'Escape') {
    if (!$('#help').hidden) { toggleHelp(false); return; }
    if (typing) { target.blur(); return; }
  }
  if (typing) return;
  const onControl = target.matches('select, input[type="range"]');
  switch (event.key) {
    case '/': event.preventDefault(); $('#filter').focus(); $('#filter').select(); return;
    case '?': toggleHelp(); return;
    case 'j': moveRun(1); return;
    case 'k': moveRun(-1); return;
    case 't': {
      const dark = getComputedStyle(document.documentElement).colorScheme.includes('dark');
      setTheme(dark ? 'light' : 'dark');
      return;
    }
    case 'a': autoContrast(); return;
    case 'f': $('#ffollow').checked = !$('#ffollow').checked; return;
    case '[': stepFrame(-1); return;
    case ']': stepFrame(1); return;
  }
  if (onControl) return;   // arrows on a slider or a menu do what they do there
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    if (target.closest('#beamtimes') || target === document.body || target.id === 'main') {
      event.preventDefault();
      moveRun(event.key === 'ArrowDown' ? 1 : -1);
    }
  } else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
    if (S.frames) { event.preventDefault(); stepFrame(event.key === 'ArrowLeft' ? -1 : 1); }
  }
}

function stepFrame(step) {
  if (!S.frames || !S.frames.meta) return;
  showFrame(+$('#fslider').value + step);
}

function autoContrast() {
  $('#flow').value = '5';
  $('#fhigh').value = '995';
  renderFrame();
}

function start() {
  let theme = null;
  try { theme = localStorage.getItem('resonance.theme'); } catch (_) { /* private mode */ }
  if (theme) document.documentElement.dataset.theme = theme;

  const header = document.querySelector('header.top');
  header.insertBefore(el('span', { id: 'msg', class: 'error', role: 'alert', hidden: true }), header.querySelector('.spacer').nextSibling);

  document.addEventListener('keydown', onKey);
  $('#theme').addEventListener('click', () => onKey({ key: 't', target: document.body }));
  $('#help-button').addEventListener('click', () => toggleHelp(true));
  $('#help').addEventListener('click', e => { if (e.target.id === 'help') toggleHelp(false); });
  $('#filter').addEventListener('input', renderSide);
  $('#stream').addEventListener('change', e => choosePlotStream(e.target.value));
  const saveChoice = () => {
    $('#xfield').dataset.auto = '0';
    try { localStorage.setItem(choiceKey(), JSON.stringify({ x: $('#xfield').value, y: $('#yfield').value })); } catch (_) { /* none */ }
    drawPlot();
  };
  $('#xfield').addEventListener('change', saveChoice);
  $('#yfield').addEventListener('change', saveChoice);
  $('#points-only').addEventListener('change', drawPlot);
  $('#plot').addEventListener('mousemove', plotReadout);
  $('#plot').addEventListener('mouseleave', () => { $('#plot-readout').hidden = true; });
  $('#ffield').addEventListener('change', e => chooseField(e.target.value));
  $('#fslider').addEventListener('input', e => showFrame(+e.target.value));
  for (const id of ['#flow', '#fhigh', '#fscale', '#fcmap']) $(id).addEventListener('input', renderFrame);
  $('#fauto').addEventListener('click', autoContrast);
  new ResizeObserver(() => drawPlot()).observe($('#plot'));
  // The canvas takes its colours from the theme: draw again when the system's changes.
  matchMedia('(prefers-color-scheme: light)').addEventListener('change', () => drawPlot());

  const wanted = decodeURIComponent((location.hash.match(/run=([^&]+)/) || [])[1] || '');
  loadAll()
    .then(() => { if (wanted) selectRun(wanted); })
    .catch(e => { $('#beamtimes').replaceChildren(el('p', { class: 'error', text: `Cannot list beamtimes: ${e.message}` })); });
  connectLive();
}

start();
