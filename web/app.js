// Takt's directors' dashboard: enterprise -> region -> plant -> line ->
// unit, over Takt's HTTP/JSON API (libs/http). Every figure is what the
// API answers for the scope and period shown; the footer names the log
// positions and lag it reflects, and each tile links to its explanation
// (recomputed from the raw events by the audit service).
'use strict';

const KPIS = [
  ['oee', 'OEE'],
  ['availability', 'Availability'],
  ['effectiveness', 'Effectiveness'],
  ['quality_ratio', 'Quality'],
  ['schedule_adherence', 'Schedule adherence'],
  ['on_time_completion', 'On-time completion'],
];
const POLL_MS = 1000;
const COLOURS = {oee: '#1565c0', availability: '#2e7d32', effectiveness: '#ef6c00', quality_ratio: '#6a1b9a'};

// The page's state lives in the URL fragment: scope, from, to, by, target.
function readState() {
  const p = new URLSearchParams(location.hash.slice(1));
  const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
  return {
    scope: p.get('scope') || 'enterprise',
    from: p.get('from') || day(-14),
    to: p.get('to') || day(-1),
    by: p.get('by') || 'day',
    target: Number(p.get('target') || 85),
  };
}
function writeState(s) {
  location.hash = new URLSearchParams({scope: s.scope, from: s.from, to: s.to, by: s.by, target: s.target}).toString();
}

// A bearer token, when the server wants one: ?token= once, then kept for the tab.
function token() {
  const q = new URLSearchParams(location.search).get('token');
  if (q) sessionStorage.setItem('takt-token', q);
  return sessionStorage.getItem('takt-token');
}

async function api(path) {
  const headers = {};
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  const r = await fetch(path, {headers, cache: 'no-store'});
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error(body.error ? body.error.status + ': ' + body.error.message : 'HTTP ' + r.status);
    e.status = r.status;
    throw e;
  }
  return body;
}

function query(scope, from, to, extra) {
  const params = new URLSearchParams({kpis: KPIS.map((k) => k[0]).join(','), from, to, ...extra});
  return api('/v1/' + scope + ':queryKpis?' + params.toString());
}

// {oee: 71.2, ...} from a response row or total (absent: no data).
function values(row) {
  const out = {};
  for (const k of (row && row.kpis) || []) if (k.hasValue) out[k.kpi] = k.value;
  return out;
}
const fmt = (v) => (v === undefined ? '\u2014' : v.toFixed(1) + ' %');

function shiftDays(day, n) {
  return new Date(Date.parse(day + 'T00:00:00Z') + n * 86400000).toISOString().slice(0, 10);
}
function daysBetween(a, b) {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86400000) + 1;
}

// The scope's ancestors, for the breadcrumb: [['enterprise','Enterprise'], ...].
async function ancestors(scope) {
  const parts = scope.split('/');
  const out = [['enterprise', 'Enterprise']];
  if (parts[0] === 'regions') out.push([scope, parts[1]]);
  if (parts[0] === 'facilities') {
    const facility = 'facilities/' + parts[1];
    try {
      const f = await api('/v1/' + facility);
      if (f.parent) out.push([f.parent, f.parent.split('/')[1]]);
      out.push([facility, f.displayName || parts[1]]);
    } catch (e) {
      out.push([facility, parts[1]]);
    }
    if (parts.length >= 4) out.push([scope, parts[3]]);
  }
  return out;
}

// The children a scope is ranked by: [scope name, label] pairs, or null
// when the rollups' own child breakdown gives them (enterprise, region,
// work center).
async function lineChildren(scope) {
  const parts = scope.split('/');
  if (parts[0] === 'facilities' && parts.length === 2) {
    // A plant's lines: its work centers (navigation), each queried.
    const r = await api('/v1/' + scope + '/workCenters?page_size=1000');
    return (r.elements || []).map((e) => [e.name, e.displayName || e.id]);
  }
  return null;
}

let charts = {};
function chart(id, config) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(document.getElementById(id), config);
}

let lastPositions = '';
let rendering = false;

async function render() {
  if (rendering) return;
  rendering = true;
  const s = readState();
  document.getElementById('from').value = s.from;
  document.getElementById('to').value = s.to;
  document.getElementById('by').value = s.by;
  document.getElementById('target').value = s.target;
  const error = document.getElementById('error');
  error.hidden = true;
  try {
    const len = daysBetween(s.from, s.to);
    const [now, before, trend, crumbs] = await Promise.all([
      // The downtime Pareto is kept per facility: for a facility and above.
      query(s.scope, s.from, s.to, s.scope.split('/').length <= 2 ? {downtime_pareto: 'true'} : {}),
      query(s.scope, shiftDays(s.from, -len), shiftDays(s.from, -1), {}),
      query(s.scope, s.from, s.to, {by: s.by}),
      ancestors(s.scope),
    ]);
    lastPositions = JSON.stringify(now.positions || []);
    renderCrumbs(crumbs);
    renderTiles(s, values(now.total), values(before.total));
    renderTrend(s, trend);
    await renderChildren(s);
    renderPareto(now.downtimePareto || []);
    await renderShifts(s);
    renderProvenance(now);
    document.body.dataset.ready = 'true';
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    document.body.dataset.ready = 'error';
  } finally {
    rendering = false;
  }
}

function renderCrumbs(crumbs) {
  const nav = document.getElementById('crumbs');
  nav.replaceChildren();
  crumbs.forEach(([scope, label], i) => {
    if (i > 0) nav.append(Object.assign(document.createElement('span'), {className: 'sep', textContent: '\u203a'}));
    const a = document.createElement('a');
    a.href = '#';
    a.textContent = label;
    a.dataset.scope = scope;
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      go(scope);
    });
    nav.append(a);
  });
}

function renderTiles(s, now, before) {
  const tiles = document.getElementById('tiles');
  tiles.replaceChildren();
  for (const [id, name] of KPIS) {
    const t = document.createElement('div');
    t.className = 'tile';
    t.dataset.kpi = id;
    if (now[id] !== undefined) t.dataset.value = String(now[id]);
    const delta = now[id] !== undefined && before[id] !== undefined ? now[id] - before[id] : undefined;
    const vsTarget = id === 'oee' && now[id] !== undefined ? now[id] - s.target : undefined;
    const explain = '/v1/' + s.scope + ':explain?' + new URLSearchParams({kpi: id, from: s.from, to: s.to});
    t.innerHTML = '<div class="name"></div><div class="value"></div><div class="delta prev"></div>' +
        '<div class="delta target"></div><a target="_blank" rel="noopener">explain</a>';
    t.querySelector('.name').textContent = name;
    t.querySelector('.value').textContent = fmt(now[id]);
    const prev = t.querySelector('.prev');
    prev.textContent = delta === undefined ? 'previous period: \u2014'
                                           : (delta >= 0 ? '+' : '') + delta.toFixed(1) + ' pts vs previous period';
    if (delta !== undefined) prev.classList.add(delta >= 0 ? 'up' : 'down');
    const target = t.querySelector('.target');
    if (vsTarget !== undefined) {
      target.textContent = (vsTarget >= 0 ? '+' : '') + vsTarget.toFixed(1) + ' pts vs target ' + s.target + ' %';
      target.classList.add(vsTarget >= 0 ? 'up' : 'down');
    }
    t.querySelector('a').href = explain;
    tiles.append(t);
  }
}

function renderTrend(s, trend) {
  const rows = trend.rows || [];
  const labels = rows.map((r) => r.label);
  const series = KPIS.slice(0, 4).map(([id, name]) => ({
    label: name,
    data: rows.map((r) => (values(r)[id] === undefined ? null : values(r)[id])),
    spanGaps: true,
    borderColor: COLOURS[id],
    backgroundColor: COLOURS[id],
    borderWidth: id === 'oee' ? 3 : 1.5,
  }));
  series.push({label: 'OEE target', data: labels.map(() => s.target), borderDash: [6, 4], pointRadius: 0,
               borderColor: '#c62828', backgroundColor: '#c62828', borderWidth: 1});
  chart('trend', {type: 'line', data: {labels, datasets: series},
                  options: {animation: false, scales: {y: {min: 0, max: 100, title: {display: true, text: '%'}}}}});
}

async function renderChildren(s) {
  const body = document.querySelector('#children tbody');
  const title = document.getElementById('children-title');
  let rows = [];
  const lines = await lineChildren(s.scope);
  if (lines) {
    title.textContent = 'Lines, ranked by OEE';
    const answers = await Promise.all(lines.map(([scope]) => query(scope, s.from, s.to, {})));
    rows = lines.map(([scope, label], i) => ({scope, label, v: values(answers[i].total)}));
  } else if (!s.scope.includes('/workUnits/')) {
    const parts = s.scope.split('/');
    title.textContent = s.scope === 'enterprise' ? 'Regions, ranked by OEE'
                      : parts[0] === 'regions' ? 'Plants, ranked by OEE' : 'Units, ranked by OEE';
    const r = await query(s.scope, s.from, s.to, {by: 'child'});
    rows = (r.rows || []).map((row) => ({scope: row.label, label: row.label.split('/').pop(), v: values(row)}));
  } else {
    title.textContent = 'A unit has no children';
  }
  rows.sort((a, b) => (b.v.oee ?? -1) - (a.v.oee ?? -1));
  body.replaceChildren();
  rows.forEach((row, i) => {
    const tr = document.createElement('tr');
    tr.dataset.scope = row.scope;
    if (row.v.oee !== undefined) tr.dataset.oee = String(row.v.oee);
    const drillable = !row.scope.startsWith('regions/(none)');
    if (drillable) {
      tr.className = 'drill';
      tr.addEventListener('click', () => go(row.scope));
    }
    for (const text of [String(i + 1), row.label, fmt(row.v.oee), fmt(row.v.availability), fmt(row.v.effectiveness),
                        fmt(row.v.quality_ratio), fmt(row.v.schedule_adherence)]) {
      tr.append(Object.assign(document.createElement('td'), {textContent: text}));
    }
    body.append(tr);
  });
}

function renderPareto(reasons) {
  const panel = document.getElementById('pareto-panel');
  panel.hidden = reasons.length === 0;
  if (panel.hidden) return;
  chart('pareto', {type: 'bar',
                   data: {labels: reasons.map((r) => r.reason),
                          datasets: [{label: 'hours of stoppage', data: reasons.map((r) => r.hours),
                                      backgroundColor: '#c62828'}]},
                   options: {animation: false, indexAxis: 'y', maintainAspectRatio: false}});
}

async function renderShifts(s) {
  const panel = document.getElementById('shift-panel');
  if (!s.scope.startsWith('facilities/')) {
    panel.hidden = true;
    return;
  }
  try {
    const r = await query(s.scope, s.from, s.to, {by: 'shift'});
    // Shifts that ran (a calendar's shifts on days without production have no figures).
    const rows = (r.rows || []).filter((x) => values(x).oee !== undefined);
    panel.hidden = rows.length === 0;
    chart('shifts', {type: 'bar',
                     data: {labels: rows.map((x) => x.label),
                            datasets: KPIS.slice(0, 4).map(([id, name]) => ({
                              label: name, data: rows.map((x) => values(x)[id] ?? null), backgroundColor: COLOURS[id]}))},
                     options: {animation: false, maintainAspectRatio: false, scales: {y: {min: 0, max: 100}}}});
  } catch (e) {
    panel.hidden = true;
  }
}

function renderProvenance(answer) {
  const positions = (answer.positions || []).map((p) => JSON.stringify(p)).join(', ');
  document.getElementById('provenance').textContent =
      'These figures reflect the log up to ' + (positions || 'its start') + '; lag ' + (answer.lagEvents || 0) +
      ' events. Refreshed every ' + POLL_MS / 1000 + ' s while the log moves.';
}

function go(scope) {
  const s = readState();
  s.scope = scope;
  writeState(s);
}

// Live: re-render when the log positions of the scope's answer move.
async function poll() {
  const s = readState();
  const live = document.getElementById('live');
  try {
    const r = await query(s.scope, s.from, s.to, {kpis: 'oee'});
    live.classList.remove('stale');
    if (JSON.stringify(r.positions || []) !== lastPositions) await render();
  } catch (e) {
    live.classList.add('stale');
  }
  setTimeout(poll, POLL_MS);
}

document.getElementById('period').addEventListener('change', () => {
  const s = readState();
  s.from = document.getElementById('from').value;
  s.to = document.getElementById('to').value;
  s.by = document.getElementById('by').value;
  s.target = Number(document.getElementById('target').value);
  writeState(s);
});
window.addEventListener('hashchange', render);
render().then(() => setTimeout(poll, POLL_MS));
