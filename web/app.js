// app.js - weir's dashboard. Polls /v1/streams for rates and offsets,
// follows every table and dead-letter stream over one Server-Sent Events
// connection (GET /v1/changes: a browser holds at most six connections to a
// server, so one per table would starve the page's own requests), draws
// charts with uPlot, runs pull queries. No framework: one file of DOM code.
'use strict';

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
/* A TOPK column ([{value, count}, ...]) reads as a ranking: "v1 12 · v7 9". */
const ranking = (v) => Array.isArray(v) && v.every((e) => e && typeof e === 'object' && 'value' in e && 'count' in e);
const show = (v) => (v === null || v === undefined ? '—' : typeof v === 'number' ? fmt.format(v)
  : ranking(v) ? v.map((e) => `${e.value} ${fmt.format(e.count)}`).join(' · ')
  : typeof v === 'object' ? JSON.stringify(v) : String(v));
const NUMERIC = new Set(['INT', 'UINT', 'DOUBLE']);
const COLORS = ['#4fb3ff', '#3ecf8e', '#f5b942', '#c792ea', '#ff6b6b', '#7fdbca'];
/* uPlot axes in the dashboard's colours: time below, values (width `size`) on the left. */
const axes = (size) => [{ stroke: '#7d8b9c', grid: { stroke: '#263140' } },
  { stroke: '#7d8b9c', grid: { stroke: '#263140' }, size, values: (u, vs) => vs.map((v) => fmt.format(v)) }];
/* An x (time) scale that spans at least `span` seconds: uPlot stretches one
 * point or a few seconds over years or ticks every 0.2 s otherwise. */
const timeScale = (span) => ({ x: { time: true, range: (u, min, max) => (max - min >= span ? [min, max]
  : [Math.min(min, max - span / 2), Math.max(max, min + span / 2)]) } });

async function api(path, options) {
  const res = await fetch(path, Object.assign({ credentials: 'same-origin' }, options));
  if (res.status === 401) { $('#login').hidden = false; throw new Error('unauthorized'); }
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

// ---- health ----
async function health() {
  try {
    const h = await fetch('/healthz').then((r) => r.json());
    $('#status').textContent = h.status === 'ok' ? 'running' : h.status;
    $('#status').className = 'pill ' + (h.status === 'ok' ? 'ok' : 'down');
    $('#uptime').textContent = `up ${Math.round(h.uptime_s)} s · checkpoint ${h.checkpoint_age_s.toFixed(1)} s ago`;
  } catch (e) {
    $('#status').textContent = 'unreachable';
    $('#status').className = 'pill down';
  }
}

// ---- streams: offsets, rates, the ingest chart ----
const HISTORY = 120;
const rate = { last: null, at: 0, series: [], x: [], y: {}, plot: null, names: [] };

function rateChart(names) {
  rate.names = names;
  rate.x = [];
  rate.y = Object.fromEntries(names.map((n) => [n, []]));
  if (rate.plot) rate.plot.destroy();
  const width = $('#rate-chart').clientWidth || 800;
  rate.plot = new uPlot({
    width, height: 160,
    series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 2,
      value: (u, v) => (v == null ? '—' : fmt.format(v) + '/s') }))],
    axes: axes(60), scales: timeScale(60),
  }, [[], ...names.map(() => [])], $('#rate-chart'));
}

function renderStreams(streams, rates) {
  const body = $('#streams tbody');
  body.replaceChildren(...streams.map((s) => el('tr', {},
    el('td', {}, streamLink(s)),
    el('td', {}, el('span', { class: 'kind ' + s.kind }, s.kind.replace('_', ' '))),
    el('td', { class: 'num' }, String(s.partitions)),
    el('td', { class: 'num' }, show(s.records)),
    el('td', { class: 'num' }, rates[s.name] === undefined ? '—' : show(rates[s.name])),
    el('td', { class: 'num' }, s.pipeline_lag === undefined ? '' : show(s.pipeline_lag)),
    el('td', { class: 'muted', title: s.end_offsets.join(' · ') }, offsets(s.end_offsets)))));
}

// A stream's end offsets; past eight partitions, the first eight and how many more (all in the tooltip).
function offsets(ends) {
  return ends.length <= 8 ? ends.join(' · ') : `${ends.slice(0, 8).join(' · ')} · … (${ends.length - 8} more)`;
}

async function pollStreams() {
  const { streams } = await api('/v1/streams');
  const now = performance.now() / 1000;
  const rates = {};
  if (rate.last) {
    const dt = now - rate.at;
    for (const s of streams) {
      const before = rate.last[s.name];
      if (before !== undefined && dt > 0) rates[s.name] = Math.max(0, (s.records - before) / dt);
    }
  }
  rate.last = Object.fromEntries(streams.map((s) => [s.name, s.records]));
  rate.at = now;
  const sources = streams.filter((s) => s.kind === 'source').map((s) => s.name);
  if (sources.join() !== rate.names.join()) rateChart(sources);
  if (Object.keys(rates).length) {
    rate.x.push(Math.floor(Date.now() / 1000));
    for (const n of sources) rate.y[n].push(rates[n] ?? 0);
    if (rate.x.length > HISTORY) { rate.x.shift(); for (const n of sources) rate.y[n].shift(); }
    if (rate.x.length >= 2) /* one point gives uPlot no time range to draw */
      rate.plot.setData([rate.x, ...sources.map((n) => rate.y[n])]);
    const total = sources.reduce((a, n) => a + (rates[n] || 0), 0);
    $('#ingest-rate').textContent = `${fmt.format(total)} records/s in`;
  }
  renderStreams(streams, rates);
  follow(streams.filter((s) => s.kind === 'dead_letters').map((s) => s.name));
}

// ---- the stream browser: a stream's records by partition and offset, from a time, or by key ----
const browse = { stream: null, partitions: 0, ends: [], starts: [], shown: [] };

function streamLink(s) {
  const b = el('button', { class: 'stream-link', type: 'button', title: 'browse its records' }, s.name);
  b.addEventListener('click', () => openBrowser(s.name, s.partitions));
  return b;
}

function openBrowser(name, partitions) {
  browse.stream = name;
  browse.partitions = partitions;
  $('#browse-stream').textContent = name;
  $('#browse-partition').replaceChildren(el('option', { value: '' }, 'all'),
    ...Array.from({ length: partitions }, (_, p) => el('option', { value: String(p) }, String(p))));
  for (const id of ['#browse-offset', '#browse-time', '#browse-key']) $(id).value = '';
  $('#browser').hidden = false;
  $('#browse-records').classList.toggle('dlq', name.endsWith('.dlq'));
  $('#browse-records tbody').replaceChildren(); /* the last stream's rows must not pass for this one's */
  loadRecords().catch(() => {});
  $('#browser').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function loadRecords() {
  $('#browse-error').textContent = '';
  const q = new URLSearchParams({ limit: '50' });
  for (const [id, arg] of [['#browse-partition', 'partition'], ['#browse-offset', 'offset'], ['#browse-time', 'time'],
    ['#browse-key', 'key']]) if ($(id).value.trim()) q.set(arg, $(id).value.trim());
  try {
    const res = await api(`/v1/streams/${encodeURIComponent(browse.stream)}/records?${q}`);
    browse.starts = res.partitions.map((p) => p.start_offset);
    browse.ends = res.partitions.map((p) => p.end_offset);
    $('#browse-info').textContent = `${res.partitions.length} partitions · offsets ${res.partitions.map((p) =>
      `${p.start_offset}–${p.end_offset}`).join(' · ').slice(0, 160)} · ${res.records.length} shown`;
    $('#browse-records tbody').replaceChildren(...res.records.map((r) => el('tr', {},
      el('td', { class: 'num' }, String(r.partition)), el('td', { class: 'num' }, String(r.offset)),
      el('td', {}, r.timestamp), el('td', {}, r.key === null ? '—' : r.key),
      el('td', { class: 'reason-col' }, r.value && r.value.reason ? String(r.value.reason) : ''),
      el('td', { class: 'value', title: JSON.stringify(r.value) }, JSON.stringify(r.value)))));
    browse.shown = res.records;
  } catch (e) {
    $('#browse-error').textContent = e.message;
  }
}

/* Older / Newer page through one partition (the first one shown when "all"). */
function pageRecords(direction) {
  const shown = browse.shown;
  const p = $('#browse-partition').value !== '' ? Number($('#browse-partition').value) : (shown[0] ? shown[0].partition : 0);
  const offsets = shown.filter((r) => r.partition === p).map((r) => r.offset);
  const lowest = offsets.length ? Math.min(...offsets) : browse.ends[p];
  const highest = offsets.length ? Math.max(...offsets) : browse.starts[p] - 1;
  const from = direction < 0 ? Math.max(browse.starts[p], lowest - 50) : Math.min(highest + 1, browse.ends[p]);
  $('#browse-partition').value = String(p);
  $('#browse-offset').value = String(from);
  $('#browse-time').value = '';
  loadRecords().catch(() => {});
}

$('#browse-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadRecords().catch(() => {}); });
$('#browse-older').addEventListener('click', () => pageRecords(-1));
$('#browse-newer').addEventListener('click', () => pageRecords(1));
$('#browse-close').addEventListener('click', () => { $('#browser').hidden = true; browse.stream = null; });

// ---- consumer groups: committed offsets and lag ----
async function pollGroups() {
  const { groups } = await api('/v1/groups');
  $('#groups-card').hidden = groups.length === 0;
  $('#groups tbody').replaceChildren(...groups.map((g) => el('tr', {},
    el('td', {}, g.group), el('td', {}, g.stream), el('td', { class: 'num' }, show(g.lag)),
    el('td', { class: 'muted', title: g.partitions.map((p) => `${p.partition}: ${p.committed}/${p.end}`).join(' · ') },
      offsets(g.partitions.map((p) => `${p.committed}/${p.end}`))))));
}

// ---- sinks: delivery, lag (the backlog kept while a destination is down) ----
async function pollSinks() {
  const { sinks } = await api('/v1/sinks');
  $('#sinks-card').hidden = sinks.length === 0;
  $('#sinks tbody').replaceChildren(...sinks.map((k) => el('tr', {},
    el('td', {}, k.name), el('td', {}, k.from), el('td', {}, k.connector),
    // state (delivering, retrying, failed) when the server sends it; else down covers both kinds of failure
    el('td', {}, el('span', { class: 'pill ' + (k.up ? 'ok' : 'down') }, k.state || (k.up ? 'delivering' : 'down'))),
    el('td', { class: 'num' }, show(k.delivered)), el('td', { class: 'num' }, show(k.lag)),
    el('td', { class: 'num' }, show(k.failures)), el('td', { class: 'record', title: k.last_error }, k.last_error))));
}

// ---- queries: each continuous query's progress; a new set (a statement applied) reloads the tables ----
const queries = { shape: null };

async function pollQueries() {
  const { queries: list } = await api('/v1/queries');
  $('#queries-card').hidden = list.length === 0;
  const num = (v) => el('td', { class: 'num' }, show(v));
  $('#queries tbody').replaceChildren(...list.map((q) => el('tr', {},
    el('td', {}, q.name), el('td', {}, q.group || 'file'), el('td', {}, `${q.reads.join(', ')} → ${q.writes}`),
    num(q.rows_in), num(q.rows_out), num(q.lag), num(q.dead_letters), num(q.state_bytes))));
  const shape = list.map((q) => `${q.name}@${q.group}`).join();
  if (queries.shape !== null && shape !== queries.shape) await reloadPipeline();
  queries.shape = shape;
}

/* The catalog changed: every table card and the feed start again from the server's tables. */
async function reloadPipeline() {
  if (feed.source) feed.source.close();
  Object.assign(feed, { names: [], source: null, lastId: '' });
  for (const name of Object.keys(tables)) { tables[name].card.remove(); delete tables[name]; }
  Object.assign(dead, { reasons: {}, recent: [] });
  await showPipeline();
  await loadTables();
}

// ---- tables: live rows and a chart per windowed table ----
const tables = {};

function keyOf(t, row) { return t.primary_key.map((k) => JSON.stringify(row[k])).join('|'); }

function tableCard(t) {
  const card = el('section', { class: 'card', id: 'table-' + t.name, 'data-table': t.name });
  const head = el('tr', {}, ...t.columns.map((c) => el('th', { class: NUMERIC.has(c.type) ? 'num' : '' }, c.name)));
  const subtitle = !t.from ? 'source table: the latest record per key'
    : t.window === 'none' ? `from ${t.from}` : `${t.window} ${t.window_ms / 1000} s over ${t.from}, emit ${t.emit}`;
  card.append(el('h2', {}, t.name, el('span', { class: 'muted' }, subtitle),
    el('span', { class: 'muted rows' }, '')));
  if (t.window !== 'none') card.append(el('div', { class: 'chart' }));
  card.append(el('div', { class: 'scroll' }, el('table', { class: 'rows-table' }, el('thead', {}, head), el('tbody'))));
  $('#tables').append(card);
  return card;
}

function chartFor(t) {
  const value = t.columns.find((c) => NUMERIC.has(c.type) && !t.primary_key.includes(c.name));
  const key = t.primary_key.find((k) => k !== 'window_start');
  if (!value) return;
  const rows = [...t.rows.values()].filter((r) => r.window_start);
  const starts = [...new Set(rows.map((r) => Date.parse(r.window_start) / 1000))].sort((a, b) => a - b).slice(-60);
  const totals = {};
  for (const r of rows) if (key) totals[r[key]] = (totals[r[key]] || 0) + (r[value.name] || 0);
  const keys = key ? Object.keys(totals).sort((a, b) => totals[b] - totals[a]).slice(0, 5) : ['all'];
  const data = [starts, ...keys.map((k) => starts.map((s) => {
    const hits = rows.filter((r) => Date.parse(r.window_start) / 1000 === s && (!key || String(r[key]) === k));
    return hits.length ? hits.reduce((a, r) => a + (r[value.name] || 0), 0) : null;
  }))];
  const label = keys.join();
  if (!t.plot || t.plotKeys !== label) {
    if (t.plot) t.plot.destroy();
    const box = t.card.querySelector('.chart');
    t.plot = new uPlot({
      width: box.clientWidth || 500, height: 170,
      series: [{}, ...keys.map((k, i) => ({ label: `${k} ${value.name}`, stroke: COLORS[i], width: 2,
        points: { size: 5 }, spanGaps: true }))],
      axes: axes(55), scales: timeScale(Math.max(60, (t.window_ms / 1000) * 4)),
    }, data, box);
    t.plotKeys = label;
  } else {
    t.plot.setData(data);
  }
  t.card.dataset.points = String(data.slice(1).flat().filter((v) => v !== null).length);
}

function renderTable(t) {
  t.pending = false;
  const numeric = t.columns.find((c) => NUMERIC.has(c.type) && !t.primary_key.includes(c.name));
  const rows = [...t.rows.values()].sort((a, b) =>
    (t.window !== 'none' && a.window_start !== b.window_start ? (a.window_start < b.window_start ? 1 : -1) : 0) ||
    (numeric ? (b[numeric.name] || 0) - (a[numeric.name] || 0) : 0)).slice(0, 20);
  t.card.querySelector('.rows-table tbody').replaceChildren(...rows.map((r) => {
    const tr = el('tr', { 'data-key': keyOf(t, r) },
      ...t.columns.map((c) => el('td', { class: NUMERIC.has(c.type) ? 'num' : '' }, show(r[c.name]))));
    if (t.flash.has(keyOf(t, r))) tr.className = 'flash';
    return tr;
  }));
  t.flash.clear();
  t.card.querySelector('.rows').textContent = ` · ${t.rows.size} rows · ${t.updates} updates live`;
  t.card.dataset.updates = String(t.updates);
  if (t.window !== 'none') chartFor(t);
}

function schedule(t) {
  if (!t.pending) { t.pending = true; requestAnimationFrame(() => renderTable(t)); }
}

/* A new row replaces its key's; a removal (row null, removed: the key's columns) drops it. */
function tableChange(t, row, removed) {
  if (row) {
    t.rows.set(keyOf(t, row), row);
    t.flash.add(keyOf(t, row));
  } else if (removed && typeof removed === 'object') {
    t.rows.delete(keyOf(t, removed));
  }
  t.updates++;
  schedule(t);
}

async function loadTables() {
  const { tables: list } = await api('/v1/tables');
  const added = list.filter((info) => !tables[info.name]);
  for (const info of added) {
    const t = Object.assign(info, { rows: new Map(), flash: new Set(), updates: 0 });
    t.card = tableCard(t);
    tables[t.name] = t;
  }
  follow(added.map((t) => t.name)); /* changes first: none is missed while the rows load */
  await Promise.all(added.map(async (t) => {
    const { rows } = await api(`/v1/tables/${encodeURIComponent(t.name)}?limit=500`);
    for (const r of rows) if (!t.rows.has(keyOf(t, r))) t.rows.set(keyOf(t, r), r);
    schedule(t);
  }));
}

// ---- dead letters ----
const dead = { reasons: {}, recent: [] };

function deadLetter(stream, letter) {
  const reason = String(letter.reason || 'unknown').split(':')[0];
  dead.reasons[reason] = (dead.reasons[reason] || 0) + 1;
  dead.recent.unshift({ stream, reason: letter.reason, record: letter.record });
  dead.recent.length = Math.min(dead.recent.length, 15);
  $('#dlq-reasons').replaceChildren(...Object.entries(dead.reasons).map(([r, n]) => el('span', {}, `${r} ${fmt.format(n)}`)));
  $('#dlq tbody').replaceChildren(...dead.recent.map((d) => el('tr', {}, el('td', {}, d.stream),
    el('td', {}, String(d.reason)), el('td', { class: 'record', title: String(d.record) }, String(d.record)))));
}

// ---- live changes: every table (from now) and dead-letter stream (from its beginning), one connection ----
const feed = { names: [], source: null, lastId: '' };

/* Adds streams to the feed; a new set reopens it where the last event left off. */
function follow(names) {
  const more = names.filter((n) => !feed.names.includes(n));
  if (!more.length) return;
  feed.names.push(...more);
  if (feed.source) feed.source.close();
  const spec = feed.names.map((n) => encodeURIComponent(n) + (tables[n] ? '' : '@beginning')).join(',');
  const resume = feed.lastId ? `&last_event_id=${encodeURIComponent(feed.lastId)}` : '';
  feed.source = new EventSource(`/v1/changes?streams=${spec}${resume}`);
  feed.source.addEventListener('change', (ev) => {
    if (ev.lastEventId) feed.lastId = ev.lastEventId;
    const change = JSON.parse(ev.data);
    if (tables[change.stream]) tableChange(tables[change.stream], change.row, change.removed);
    else deadLetter(change.stream, change.row);
  });
}

// ---- pull queries ----
async function runQuery(ev) {
  ev.preventDefault();
  $('#query-error').textContent = '';
  try {
    const res = await api('/v1/query', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: $('#sql').value }) });
    $('#query-result thead').replaceChildren(el('tr', {}, ...res.columns.map((c) => el('th', { title: c.type }, c.name))));
    $('#query-result tbody').replaceChildren(...res.rows.map((r) =>
      el('tr', {}, ...res.columns.map((c) => el('td', {}, show(r[c.name]))))));
  } catch (e) {
    $('#query-error').textContent = e.message;
  }
}

// ---- the pipeline: the file's SQL, then each group of statements added at runtime ----
async function showPipeline() {
  const { sql, statements = [] } = await api('/v1/pipeline');
  const all = [sql, ...statements.map((g) => `-- added at runtime as ${g.group} (weir sql)\n${g.sql}`)].join('\n');
  $('#pipeline').textContent = all;
  return all;
}

// ---- start ----
async function start() {
  $('#login').hidden = true;
  const sql = await showPipeline();
  const first = sql.match(/CREATE\s+TABLE\s+("?[\w.-]+"?)/i);
  if (first) $('#sql').value = `SELECT * FROM ${first[1]} LIMIT 10`;
  await loadTables();
  await pollStreams();
  await pollQueries();
  await pollSinks();
  await pollGroups();
  setInterval(() => { pollStreams().catch(() => {}); pollQueries().catch(() => {}); pollSinks().catch(() => {}); }, 1000);
  setInterval(() => { pollGroups().catch(() => {}); showPipeline().catch(() => {}); }, 5000);
}

$('#login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  await fetch('/v1/streams?token=' + encodeURIComponent($('#token').value), { credentials: 'same-origin' });
  start().catch(() => {});
});
$('#query').addEventListener('submit', runQuery);
health();
setInterval(health, 2000);
start().catch(() => {});
