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
// The quality and the safety and staffing contexts' KPIs (their families
// in the rollups), shown for every scope as the production ones are.
const QUALITY_KPIS = [
  ['quality_fpy', 'First pass yield'],
  ['spc_violations', 'SPC rule violations'],
  ['ncr_raised', 'NCRs raised'],
  ['ncr_closed', 'NCRs closed'],
  ['ncr_days_to_close', 'Mean days to close an NCR'],
];
const SAFETY_KPIS = [
  ['safety_trir', 'TRIR'],
  ['safety_dart', 'DART rate'],
  ['safety_recordable_cases', 'Recordable cases'],
  ['staffing_coverage', 'Qualified staffing coverage'],
  ['absenteeism', 'Unplanned absence'],
  ['overtime_ratio', 'Overtime'],
];
const ALL_KPIS = [...KPIS, ...QUALITY_KPIS, ...SAFETY_KPIS];
const LOWER_IS_BETTER = new Set(['spc_violations', 'ncr_raised', 'ncr_days_to_close', 'safety_trir', 'safety_dart',
                                 'safety_recordable_cases', 'absenteeism', 'overtime_ratio']);
const VARIABLE_CHARTS = new Set(['XBAR_R', 'XBAR_S', 'I_MR']);
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

// The scope of the signed-in person's first role binding: where the page
// opens for someone who may not read the enterprise (a regional director,
// a plant manager). Null without a token or a binding.
async function homeScope() {
  const t = token();
  if (!t) return null;
  let subject;
  try {
    const payload = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    subject = JSON.parse(atob(payload)).sub;
  } catch (e) {
    return null;
  }
  if (!subject) return null;
  const r = await api('/v1/roleBindings?' + new URLSearchParams({subject}));
  const b = (r.bindings || [])[0];
  return b ? b.scope : null;
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

function query(scope, from, to, extra, kpis = KPIS) {
  const params = new URLSearchParams({kpis: kpis.map((k) => k[0]).join(','), from, to, ...extra});
  return api('/v1/' + scope + ':queryKpis?' + params.toString());
}

// {oee: 71.2, ...} from a response row or total (absent: no data).
function values(row) {
  const out = {};
  for (const k of (row && row.kpis) || []) if (k.hasValue) out[k.kpi] = k.value;
  return out;
}
// {oee: '%', safety_trir: 'cases/200,000 h', ...}
function units(row) {
  const out = {};
  for (const k of (row && row.kpis) || []) out[k.kpi] = k.unit;
  return out;
}
const fmt = (v) => (v === undefined ? '\u2014' : v.toFixed(1) + ' %');
function fmtKpi(v, unit) {
  if (v === undefined) return '\u2014';
  if (unit === '%' || unit === undefined) return fmt(v);
  return (Number.isInteger(v) ? String(v) : v.toFixed(2)) + ' ' + unit;
}
// Minor units of a currency as money ("1,234.56 USD").
function money(minor, currency) {
  const n = Number(minor || 0) / 100;
  return n.toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2}) + ' ' + (currency || '');
}

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
      query(s.scope, s.from, s.to, s.scope.split('/').length <= 2 ? {downtime_pareto: 'true'} : {}, ALL_KPIS),
      query(s.scope, shiftDays(s.from, -len), shiftDays(s.from, -1), {}, ALL_KPIS),
      query(s.scope, s.from, s.to, {by: s.by}),
      ancestors(s.scope),
    ]);
    lastPositions = JSON.stringify(now.positions || []);
    renderCrumbs(crumbs);
    const nowValues = values(now.total), beforeValues = values(before.total), nowUnits = units(now.total);
    renderTiles('tiles', KPIS, s, nowValues, beforeValues, nowUnits);
    renderTiles('quality-tiles', QUALITY_KPIS, s, nowValues, beforeValues, nowUnits);
    renderTiles('safety-tiles', SAFETY_KPIS, s, nowValues, beforeValues, nowUnits);
    renderTrend(s, trend);
    await renderChildren(s);
    renderPareto(now.downtimePareto || []);
    await renderShifts(s);
    // A context's panel that cannot be read (a process without that module,
    // a role without that read) says so in the panel; the rest stands.
    await Promise.all([
      renderCapability(s).catch((e) => panelError('capability-note', e)),
      renderNcrs(s).catch((e) => panelError('ncr-note', e)),
      renderBudget(s).catch((e) => panelError('budget-note', e)),
    ]);
    renderProvenance(now);
    // The first complete render: what the page-load benchmark measures.
    if (performance.getEntriesByName('takt-ready').length === 0) performance.mark('takt-ready');
    document.body.dataset.ready = 'true';
  } catch (e) {
    // Opened at the enterprise by someone bound lower down: go to their scope.
    if (e.status === 403 && s.scope === 'enterprise' && !new URLSearchParams(location.hash.slice(1)).has('scope')) {
      const home = await homeScope().catch(() => null);
      if (home && home !== 'enterprise') {
        go(home);
        return;
      }
    }
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

// One tile per KPI of `list` into the element `id`: the value, the change
// against the previous period of the same length (green when better), the
// OEE against its target, and a link to the figure's explanation.
function renderTiles(id, list, s, now, before, unitOf) {
  const tiles = document.getElementById(id);
  tiles.replaceChildren();
  for (const [kpi, name] of list) {
    const unit = unitOf[kpi];
    const t = document.createElement('div');
    t.className = 'tile';
    t.dataset.kpi = kpi;
    if (now[kpi] !== undefined) t.dataset.value = String(now[kpi]);
    const delta = now[kpi] !== undefined && before[kpi] !== undefined ? now[kpi] - before[kpi] : undefined;
    const vsTarget = kpi === 'oee' && now[kpi] !== undefined ? now[kpi] - s.target : undefined;
    const explain = '/v1/' + s.scope + ':explain?' + new URLSearchParams({kpi, from: s.from, to: s.to});
    t.innerHTML = '<div class="name"></div><div class="value"></div><div class="delta prev"></div>' +
        '<div class="delta target"></div><a target="_blank" rel="noopener">explain</a>';
    t.querySelector('.name').textContent = name;
    const value = t.querySelector('.value');
    if (unit === '%' || unit === undefined || now[kpi] === undefined) {
      value.textContent = fmtKpi(now[kpi], unit);
    } else {
      // The number large, its unit ("cases/200,000 h") small beside it.
      const v = now[kpi];
      value.textContent = Number.isInteger(v) ? String(v) : v.toFixed(2);
      value.append(Object.assign(document.createElement('span'), {className: 'unit', textContent: ' ' + unit}));
    }
    const prev = t.querySelector('.prev');
    const step = unit === '%' || unit === undefined ? ' pts' : '';
    prev.textContent = delta === undefined ? 'previous period: \u2014'
                                           : (delta >= 0 ? '+' : '') + delta.toFixed(1) + step + ' vs previous period';
    if (delta !== undefined && delta !== 0) {
      prev.classList.add((delta > 0) !== LOWER_IS_BETTER.has(kpi) ? 'up' : 'down');
    }
    const target = t.querySelector('.target');
    if (vsTarget !== undefined) {
      target.textContent = (vsTarget >= 0 ? '+' : '') + vsTarget.toFixed(1) + ' pts vs target ' + s.target + ' %';
      target.classList.add(vsTarget >= 0 ? 'up' : 'down');
    }
    t.querySelector('a').href = explain;
    tiles.append(t);
  }
}

// The scope a plant-level read takes: the enterprise, a region or a plant
// (null below a plant: lines and units have no budget or pooled capability).
function plantLevel(scope) {
  const parts = scope.split('/');
  return parts.length <= 2 ? scope : null;
}

function panelError(noteId, e) {
  document.getElementById(noteId).textContent = 'Not available: ' + e.message;
}

function fillTable(tableId, rows) {
  const body = document.querySelector('#' + tableId + ' tbody');
  body.replaceChildren();
  for (const cells of rows) {
    const tr = document.createElement('tr');
    for (const text of cells) tr.append(Object.assign(document.createElement('td'), {textContent: text}));
    body.append(tr);
  }
}

// Cpk and Ppk of the scope's variable characteristics, each pooled over
// the scope's plants that measure it (quality's GetCapability).
async function renderCapability(s) {
  const note = document.getElementById('capability-note');
  const scope = plantLevel(s.scope);
  if (!scope) {
    fillTable('capability', []);
    note.textContent = 'Capability is pooled per plant, region or the enterprise: see the plant.';
    return;
  }
  const period = {from: s.from, to: s.to};
  const listed = await api('/v1/' + scope + '/characteristics?' + new URLSearchParams(period));
  const variables = (listed.characteristics || []).filter((c) => VARIABLE_CHARTS.has(c.characteristic.chart));
  const answers = await Promise.all(variables.map((c) =>
      api('/v1/' + scope + ':capability?' + new URLSearchParams({characteristic: c.characteristic.id, ...period}))
          .catch((e) => ({error: e.message}))));
  const rows = variables.map((c, i) => {
    const a = answers[i];
    const name = c.characteristic.name || c.characteristic.id;
    if (a.error) return [name, c.characteristic.chart, '\u2014', '\u2014', '0', a.error];
    return [name, c.characteristic.chart, a.cpk.toFixed(2), a.ppk.toFixed(2), String(a.subgroups || 0),
            (a.facilities || []).join(', ')];
  });
  fillTable('capability', rows);
  note.textContent = rows.length === 0 ? 'No variable characteristic is planned in this scope.' :
      'Cpk from within-subgroup sigma, Ppk from overall sigma; 1.33 is the usual minimum.';
}

// A plant's open NCRs (quality's ListNcrs); above a plant, the NCR counts
// are in the tiles.
async function renderNcrs(s) {
  const box = document.getElementById('ncr-box');
  const parts = s.scope.split('/');
  box.hidden = parts[0] !== 'facilities';
  if (box.hidden) return;
  const r = await api('/v1/facilities/' + parts[1] + '/ncrs?open_only=true');
  const ncrs = r.ncrs || [];
  fillTable('ncrs', ncrs.map((n) => [n.ncrId, n.characteristic || '\u2014', (n.raised || '').slice(0, 16).replace('T', ' '),
                                     n.defectCode || '\u2014', String(n.actionsOpen || 0)]));
  document.getElementById('ncr-note').textContent =
      ncrs.length === 0 ? 'No open nonconformance in ' + parts[1] + '.' : ncrs.length + ' open in ' + parts[1] + '.';
}

// Budget variances over the whole months of the period, and improvement
// savings over its days (budgets' GetVariances and GetSavings).
async function renderBudget(s) {
  const panel = document.getElementById('budget-panel');
  const note = document.getElementById('budget-note');
  const scope = plantLevel(s.scope);
  const parts = s.scope.split('/');
  const tiles = document.getElementById('budget-tiles');
  const savingsTiles = document.getElementById('savings-tiles');
  if (!scope) {
    note.textContent = 'Budgets are kept per plant: see the plant.';
    tiles.replaceChildren();
    savingsTiles.replaceChildren();
    if (charts.variances) charts.variances.destroy();
    delete charts.variances;
    return;
  }
  const base = scope === 'enterprise' ? '/v1/enterprise' : '/v1/' + parts[0] + '/' + parts[1];
  const fromMonth = s.from.slice(0, 7), toMonth = s.to.slice(0, 7);
  const [variances, savings] = await Promise.all([
    api(base + ':variances?' + new URLSearchParams({from_month: fromMonth, to_month: toMonth})).catch((e) => ({error: e})),
    api(base + ':savings?' + new URLSearchParams({from_day: s.from, to_day: s.to})).catch((e) => ({error: e})),
  ]);
  panel.hidden = false;
  tiles.replaceChildren();
  if (variances.error) {
    note.textContent = 'Variances: ' + variances.error.message;
  } else {
    const t = variances.total || {};
    const cur = variances.currency;
    const flexible = Number(t.actual || 0) - Number(t.flexibleBudget || 0);
    const fixed = Number(t.actual || 0) - Number(t.staticBudget || 0);
    note.textContent = 'Whole months ' + fromMonth + ' to ' + toMonth + ', in ' + cur +
        (variances.withoutLedger && variances.withoutLedger.length ? '; without a ledger yet: ' +
         variances.withoutLedger.join(', ') : '') + '. Variances are actual minus budget: positive is unfavourable (U).';
    const uf = (v) => money(Math.abs(v), cur) + (v > 0 ? ' U' : v < 0 ? ' F' : '');
    // A plant's variances recomputed from the raw events (budgets'
    // ExplainVariances, for auditors); a region's are the sum of its plants'.
    const explain = parts[0] === 'facilities'
        ? base + ':explainVariances?' + new URLSearchParams({from_month: fromMonth, to_month: toMonth}) : null;
    for (const [name, text, cls, key] of [
      ['Actual cost', money(t.actual, cur), '', 'actual'],
      ['Flexible budget', money(t.flexibleBudget, cur), '', 'flexible'],
      ['Variance vs flexible budget', uf(flexible), flexible > 0 ? 'down' : 'up', 'flexible_variance'],
      ['Variance vs static budget', uf(fixed), fixed > 0 ? 'down' : 'up', 'static_variance'],
      ['Cost per good unit', money(t.costPerGoodUnit, cur), '', 'cost_per_good_unit'],
      ['Cost of poor quality', money(t.costOfPoorQuality, cur), '', 'cost_of_poor_quality'],
    ]) {
      const tile = moneyTile(name, text, cls, key);
      if (explain) {
        tile.append(Object.assign(document.createElement('a'), {href: explain, target: '_blank', rel: 'noopener',
                                                                textContent: 'explain'}));
      }
      tiles.append(tile);
    }
    const lines = t.lines || [];
    chart('variances', {type: 'bar',
                        data: {labels: lines.map((l) => l.account),
                               datasets: [{label: 'actual - flexible budget (' + cur + ')',
                                           data: lines.map((l) => Number(l.flexibleVariance || 0) / 100),
                                           backgroundColor: lines.map((l) => (Number(l.flexibleVariance) > 0 ? '#c62828'
                                                                                                            : '#2e7d32'))}]},
                        options: {animation: false, indexAxis: 'y', maintainAspectRatio: false}});
  }
  savingsTiles.replaceChildren();
  if (savings.error) {
    savingsTiles.textContent = 'Savings: ' + savings.error.message;
  } else {
    const t = savings.total || {};
    for (const [name, key] of [['Planned', 'planned'], ['Measured', 'measured'], ['Confirmed', 'confirmed']]) {
      savingsTiles.append(moneyTile(name + ' savings', money(t[key], t.currency), '', 'savings_' + key));
    }
    savingsTiles.append(moneyTile('Initiatives', String(t.initiatives || 0), '', 'initiatives'));
  }
}

function moneyTile(name, text, cls, key) {
  const t = document.createElement('div');
  t.className = 'tile';
  t.dataset.figure = key;
  t.innerHTML = '<div class="name"></div><div class="value small"></div>';
  t.querySelector('.name').textContent = name;
  const v = t.querySelector('.value');
  v.textContent = text;
  if (cls) v.classList.add(cls);
  return t;
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
  const positions = answer.positions || [];
  const footer = document.getElementById('provenance');
  footer.replaceChildren();
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = 'These figures reflect ' + positions.length + ' log partitions up to the positions listed here; lag ' +
      (answer.lagEvents || 0) + ' events. Refreshed every ' + POLL_MS / 1000 + ' s while the log moves.';
  const list = document.createElement('div');
  list.className = 'positions';
  list.textContent = positions.map((p) => (p.context || '') + ' ' + (p.partition || '') + ' @ ' + (p.nextOffset || 0))
                         .join(' \u00b7 ');
  details.append(summary, list);
  footer.append(details);
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
