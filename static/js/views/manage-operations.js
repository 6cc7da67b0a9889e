// views/manage-operations.js: sync performance on /manage: line charts of
// the sync analytics series (GET /admin/analytics/sync) over a picked range
// (1 h, 24 h, 7 d or custom), for every store (global admins) or one store
// the user administers; and, for global admins, the daily health reports
// (GET /admin/reports) with links to their pages. The charts share the
// sales chart's viewBox, axis scale and gridlines (views/chart.js).

import { h, svg, setText, uniqueId } from '../dom.js';
import { formatBytes, formatNumber, formatNumberShort, formatTime } from '../format.js';
import { H, W, drawGrid, niceMax } from './chart.js';

const HOUR = 3600e3;
const RANGES = [['1h', '1 hour', HOUR], ['24h', '24 hours', 24 * HOUR], ['7d', '7 days', 7 * 24 * HOUR], ['custom', 'Custom', 0]];

const ms = (v) => `${formatNumberShort(Math.round(v))} ms`;
const count = (v) => formatNumberShort(v);
/** The charts: metric, title, value format, and whether stores have it. */
const CHARTS = [
  ['latency_p99_ms', 'p99 commit-to-socket latency', ms, true],
  ['latency_p50_ms', 'p50 commit-to-socket latency', ms, true],
  ['deliveries', 'Deliveries', count, true],
  ['deliveries_dropped', 'Dropped deliveries', count, true],
  ['reconnects', 'Reconnects', count, true],
  ['resyncs', 'Resyncs', count, false],
  ['resyncs.slow_consumer', 'Slow consumers', count, false],
  ['bytes_sent', 'Bytes sent', formatBytes, false],
];

/**
 * One metric's line chart; a step without a value breaks the line.
 * @param {string} metric
 * @param {string} title
 * @param {(v: number) => string} fmt
 */
function lineChart(metric, title, fmt) {
  const id = uniqueId('sync-chart');
  const desc = h('p', { class: 'muted', id: `${id}-desc` });
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id} ${id}-desc`, class: 'chart', preserveAspectRatio: 'none' });
  const yAxis = h('div', { class: 'y-axis', 'aria-hidden': 'true' });
  const xAxis = h('div', { class: 'x-axis', 'aria-hidden': 'true' });
  const el = h('figure', { class: 'sync-chart', dataset: { metric } },
    h('h3', { id, text: title }), h('div', { class: 'chart-body' }, yAxis, h('div', { class: 'plot' }, chart)), xAxis, desc);

  function render(series) {
    const points = series.points ?? [];
    const values = points.map((p) => p.value).filter(Number.isFinite);
    chart.replaceChildren();
    const top = niceMax(Math.max(0, ...values));
    drawGrid(chart, yAxis, top, fmt);
    const x = (i) => (points.length > 1 ? (i / (points.length - 1)) * W : W / 2);
    let run = [];
    const flush = () => {
      if (run.length) chart.append(svg('polyline', { points: run.join(' '), class: 'line', 'vector-effect': 'non-scaling-stroke' }));
      run = [];
    };
    points.forEach((p, i) => {
      if (Number.isFinite(p.value)) run.push(`${x(i)},${H - (p.value / top) * H}`);
      else flush();
    });
    flush();
    xAxis.replaceChildren(...(points.length ? [0, points.length - 1] : []).map((i) => {
      const label = h('span', { text: formatTime(points[i].at), class: i ? 'last' : '' });
      if (!i) label.style.left = '0';
      return label;
    }));
    const total = values.reduce((a, v) => a + v, 0);
    el.dataset.total = String(total);
    setText(desc, !values.length ? 'No data in this range.'
      : series.kind === 'count' ? `${fmt(total)} in the range; busiest step ${fmt(Math.max(...values))}.`
        : `Highest ${fmt(Math.max(...values))}; last ${fmt(values[values.length - 1])}.`);
  }
  return { el, render };
}

/**
 * @param {{api: any, me: any, say: (msg: string) => void}} ctx
 * @returns {{el: HTMLElement, load: () => Promise<void>}}
 */
export function operationsPanel(ctx) {
  const globalAdmin = ctx.me.user.is_admin;
  const adminOf = ctx.me.stores.filter((s) => s.role === 'admin').map((s) => s.slug);
  let range = '24h';
  const status = h('p', { class: 'muted', role: 'status' });

  const name = uniqueId('range');
  const picker = h('fieldset', { class: 'metric-switch range-picker' }, h('legend', { text: 'Range' }));
  const from = h('input', { type: 'datetime-local', name: 'from', 'aria-label': 'From' });
  const to = h('input', { type: 'datetime-local', name: 'to', 'aria-label': 'To' });
  const custom = h('span', { class: 'custom-range', hidden: true }, from, ' to ', to,
    h('button', { type: 'button', class: 'small', text: 'Show', on: { click: () => load() } }));
  for (const [key, label] of RANGES) {
    const id = uniqueId('r');
    const input = h('input', { type: 'radio', name, id, value: key, checked: key === range });
    input.addEventListener('change', () => {
      range = key;
      custom.hidden = key !== 'custom';
      if (key !== 'custom') load();
    });
    picker.append(h('span', { class: 'metric' }, input, h('label', { for: id, text: label })));
  }
  picker.append(custom);

  const storeSelect = h('select', { name: 'analytics-store', 'aria-label': 'Store', on: { change: () => load() } },
    globalAdmin ? h('option', { value: '', text: 'All stores' }) : null,
    ...adminOf.map((slug) => h('option', { value: slug, text: slug })));
  const nodeSelect = h('select', { name: 'analytics-node', 'aria-label': 'Node', on: { change: () => load() } },
    h('option', { value: '', text: 'All nodes' }));
  const charts = new Map(CHARTS.map(([metric, title, fmt, perStore]) => [metric, { ...lineChart(metric, title, fmt), perStore }]));
  const grid = h('div', { class: 'sync-charts' }, ...[...charts.values()].map((c) => c.el));

  const reports = h('ul', { class: 'reports' });
  const el = h('section', { class: 'card operations', 'aria-labelledby': 'operations-title', id: 'operations' },
    h('h2', { id: 'operations-title', text: 'Sync performance' }),
    h('div', { class: 'chart-head' }, picker, h('span', {}, storeSelect, ' ', nodeSelect)),
    status, grid,
    globalAdmin ? h('h3', { text: 'Daily health reports' }) : null,
    globalAdmin ? reports : null);

  /** The picked range as ISO instants. */
  function picked() {
    if (range !== 'custom') {
      const end = new Date();
      return { from: new Date(end.getTime() - RANGES.find((r) => r[0] === range)[2]).toISOString(), to: end.toISOString() };
    }
    return { from: from.value ? new Date(from.value).toISOString() : '', to: to.value ? new Date(to.value).toISOString() : '' };
  }

  async function loadReports() {
    const listed = await ctx.api.request('GET', '/admin/reports');
    const link = (day, text) => h('a', { href: `/api/v1/admin/reports/${encodeURIComponent(day)}/html`, text });
    reports.replaceChildren(h('li', {}, link('today', 'Today so far')),
      ...listed.map((r) => h('li', { dataset: { day: r.day } }, link(r.day, r.day), ' ',
        h('a', { href: `/api/v1/admin/reports/${encodeURIComponent(r.day)}`, text: 'JSON' }))));
  }

  async function load() {
    if (!storeSelect.options.length) return;
    const { from: f, to: t } = picked();
    const store = storeSelect.value;
    const node = nodeSelect.value;
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries({ from: f, to: t, store, node })) if (v) query.set(k, v);
    setText(status, 'Loading…');
    try {
      const shown = [...charts.entries()].filter(([, c]) => !store || c.perStore);
      for (const [, c] of charts) c.el.hidden = !shown.some(([, s]) => s === c);
      const answers = await Promise.all(shown.map(([metric]) => {
        query.set('metric', metric);
        return ctx.api.request('GET', `/admin/analytics/sync?${query}`);
      }));
      answers.forEach((series, i) => shown[i][1].render(series));
      const nodes = answers[0]?.nodes ?? [];
      const known = [...nodeSelect.options].map((o) => o.value);
      nodeSelect.append(...nodes.filter((n) => !known.includes(n)).map((n) => h('option', { value: n, text: n })));
      setText(status, `${formatNumber(answers[0]?.points?.length ?? 0)} points per chart, ${answers[0]?.step ?? 0} s each.`);
      if (globalAdmin) await loadReports();
    } catch (err) {
      setText(status, `Sync performance unavailable: ${err.message}`);
    }
  }
  return { el, load };
}
