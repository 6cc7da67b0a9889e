// views/chart.js: the daily sales chart of the last 30 days, a plain SVG bar
// chart (no chart library): a metric switch (revenue, orders, units), a
// y-axis with gridlines, readable dates, today's bar hatched as a partial
// day, and a tooltip for every day that the keyboard reaches too (one tab
// stop; arrow keys move between days). The week-over-week trend comes from
// GET /sales/summary. The text alternative states what a sighted user
// reads off the chart. Guarded by tests/browser/dashboard.test.js.

import { h, svg, setText, uniqueId } from '../dom.js';
import { formatMoney, formatMoneyShort, formatNumber, formatNumberShort, formatBp, formatDay } from '../format.js';

/** The plot's viewBox: every chart of the pages draws in it. */
export const W = 600;
export const H = 200;
const TICKS = 4;

/** The metrics the switch offers: the series field and how to show it. */
const METRICS = {
  revenue: { label: 'Revenue', value: (p) => p.revenue, full: (v, c) => formatMoney(v, c), short: (v, c) => formatMoneyShort(v, c) },
  orders: { label: 'Orders', value: (p) => p.orders, full: (v) => formatNumber(v), short: (v) => formatNumberShort(v) },
  units: { label: 'Units', value: (p) => p.units, full: (v) => formatNumber(v), short: (v) => formatNumberShort(v) },
};

/**
 * A round axis maximum at or above `max` (1, 2, 2.5 or 5 × 10^n per tick).
 * @param {number} max
 * @returns {number}
 */
export function niceMax(max) {
  if (max <= 0) return TICKS;
  const raw = max / TICKS;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  return step * TICKS;
}

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{trend?: boolean}} [opts] show the trend (fetched from the summary)
 * @returns {HTMLElement}
 */
export function salesChart(client, { trend = true } = {}) {
  let metric = 'revenue';
  const caption = h('p', { class: 'muted', id: 'chart-desc' });
  const trendEl = h('p', { class: 'trend', dataset: { field: 'trend' } });
  const title = h('h2', { id: 'chart-title', text: 'Revenue per day, last 30 days' });
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc', class: 'chart', preserveAspectRatio: 'none' });
  const yAxis = h('div', { class: 'y-axis', 'aria-hidden': 'true' });
  const xAxis = h('div', { class: 'x-axis', 'aria-hidden': 'true' });
  const tooltip = h('div', { class: 'chart-tip', role: 'tooltip', id: uniqueId('tip'), hidden: true });
  const days = h('div', { class: 'chart-days', role: 'group', 'aria-label': 'Days (arrow keys move between days)' });
  const plot = h('div', { class: 'plot' }, chart, days, tooltip);
  const legend = h('p', { class: 'legend muted' },
    h('span', { class: 'swatch partial', 'aria-hidden': 'true' }), ' Today so far (the day is not over)');
  const el = h('section', { class: 'card chart-card', 'aria-labelledby': 'chart-title' },
    h('div', { class: 'chart-head' }, title, metricSwitch()), trendEl,
    h('div', { class: 'chart-body' }, yAxis, plot), xAxis, legend, caption);
  let focusIndex = -1;

  function metricSwitch() {
    const name = uniqueId('metric');
    const group = h('fieldset', { class: 'metric-switch' }, h('legend', { class: 'visually-hidden', text: 'Metric' }));
    for (const [key, m] of Object.entries(METRICS)) {
      const id = uniqueId('m');
      const input = h('input', { type: 'radio', name, id, value: key, checked: key === metric });
      input.addEventListener('change', () => {
        metric = key;
        render(client.state.get());
      });
      group.append(h('span', { class: 'metric' }, input, h('label', { for: id, text: m.label })));
    }
    return group;
  }

  function render(s) {
    const sales = s.sales ?? [];
    const cur = s.info?.currency;
    const m = METRICS[metric];
    // A live update rebuilds the days: a focused one gets its focus back.
    const hadFocus = days.contains(document.activeElement);
    chart.replaceChildren();
    el.dataset.store = s.store ?? '';
    el.dataset.metric = metric;
    setText(title, `${m.label} per day, last 30 days`);
    if (!sales.length || !cur) {
      setText(caption, 'No sales data yet.');
      for (const part of [yAxis, xAxis, days]) part.replaceChildren();
      chart.dataset.total = '';
      return;
    }
    const top = niceMax(Math.max(...sales.map(m.value)));
    drawGrid(chart, yAxis, top, (v) => m.short(v, cur));
    chart.append(hatchPattern());
    const step = W / sales.length;
    days.replaceChildren();
    xAxis.replaceChildren();
    sales.forEach((p, i) => {
      const v = m.value(p);
      const bh = (v / top) * H;
      const today = i === sales.length - 1;
      const bar = svg('rect', {
        x: i * step + step * 0.12, y: H - bh, width: step * 0.76, height: Math.max(bh, 0.5),
        class: today ? 'bar today' : 'bar',
      });
      bar.dataset.day = p.day;
      bar.dataset.revenue = String(p.revenue);
      bar.dataset.value = String(v);
      chart.append(bar);
      // One button per day carries the tooltip for mouse and keyboard.
      const text = `${formatDay(p.day, true)}${today ? ' (today so far)' : ''}: ${formatMoney(p.revenue, cur)}, ${formatNumber(p.orders)} orders, ${formatNumber(p.units)} units`;
      const day = h('button', { type: 'button', class: 'day', tabindex: i === Math.max(focusIndex, 0) ? '0' : '-1', 'aria-label': text, dataset: { day: p.day } });
      day.style.left = `${(i / sales.length) * 100}%`;
      day.style.width = `${100 / sales.length}%`;
      day.addEventListener('focus', () => { focusIndex = i; showTip(day, text); });
      day.addEventListener('mouseenter', () => showTip(day, text));
      day.addEventListener('mouseleave', () => { if (document.activeElement !== day) tooltip.hidden = true; });
      day.addEventListener('blur', () => { tooltip.hidden = true; });
      day.addEventListener('keydown', (ev) => moveFocus(ev, i, sales.length));
      days.append(day);
      // A date under every 7th day, counted back from today so today has one.
      if ((sales.length - 1 - i) % 7 === 0) {
        const label = h('span', { text: today ? 'Today' : formatDay(p.day), class: today ? 'last' : '' });
        // Centred under its bar; today's ends at the plot's edge instead of past it.
        if (!today) label.style.left = `${((i + 0.5) / sales.length) * 100}%`;
        xAxis.append(label);
      }
    });
    const total = sales.reduce((a, p) => a + m.value(p), 0);
    const best = sales.reduce((a, p) => (m.value(p) > m.value(a) ? p : a), sales[0]);
    const last = sales[sales.length - 1];
    chart.dataset.total = String(sales.reduce((a, p) => a + p.revenue, 0));
    setText(caption, `${m.label} in 30 days: ${m.full(total, cur)}; best day ${formatDay(best.day, true)} (${m.full(m.value(best), cur)}); `
      + `today so far ${m.full(m.value(last), cur)}.`);
    if (hadFocus) days.children[Math.min(focusIndex, sales.length - 1)]?.focus();
  }

  function showTip(day, text) {
    setText(tooltip, text);
    tooltip.hidden = false;
    tooltip.style.left = day.style.left;
    tooltip.classList.toggle('right', parseFloat(day.style.left) > 60);
    day.setAttribute('aria-describedby', tooltip.id);
  }

  function moveFocus(ev, i, n) {
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: n - 1 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    const next = days.children[Math.max(0, Math.min(n - 1, to))];
    days.children[i].tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  }

  // The trend comes from the server's summary: refetched on a store change
  // and, debounced, after sales.
  let trendTimer = null;
  let trendFor = null;
  const loadTrend = async () => {
    const store = client.state.get().store;
    try {
      const summary = await client.api.summary(store);
      if (client.state.get().store !== store) return;
      const bp = summary?.trend_bp;
      setText(trendEl, Number.isInteger(bp) ? `Revenue, last 7 days vs the 7 before: ${formatBp(bp, true)}` : 'Revenue, last 7 days vs the 7 before: no earlier sales');
      trendEl.dataset.trend = bp > 0 ? 'up' : bp < 0 ? 'down' : 'flat';
    } catch {
      setText(trendEl, '');
    }
  };
  const scheduleTrend = (delay) => {
    clearTimeout(trendTimer);
    trendTimer = setTimeout(loadTrend, delay);
  };

  render(client.state.get());
  // Redrawn only when the series, the store or the metric changed: most
  // live updates are product edits that leave the chart as it is.
  let drawn = { sales: client.state.get().sales, info: client.state.get().info };
  client.state.subscribe((s, reason) => {
    if (['snapshot', 'batch', 'switch', 'refresh'].includes(reason) && (s.sales !== drawn.sales || s.info !== drawn.info)) {
      drawn = { sales: s.sales, info: s.info };
      render(s);
    }
    if (!trend) return;
    if (s.store !== trendFor) {
      trendFor = s.store;
      setText(trendEl, '');
      scheduleTrend(0);
    }
  });
  if (trend) {
    client.addEventListener('event', (ev) => {
      if (ev.detail.event.kind === 'sales.updated') scheduleTrend(1000);
    });
  } else {
    trendEl.hidden = true;
  }
  return el;
}

/**
 * Gridlines from 0 to `top` on `chart`, and their labels in `yAxis` (the
 * labels are HTML: the SVG stretches).
 * @param {SVGElement} chart
 * @param {HTMLElement} yAxis
 * @param {number} top
 * @param {(v: number) => string} label
 */
export function drawGrid(chart, yAxis, top, label) {
  yAxis.replaceChildren();
  for (let i = 0; i <= TICKS; i++) {
    const v = (top / TICKS) * i;
    const y = H - (v / top) * H;
    chart.append(svg('line', { x1: 0, x2: W, y1: y, y2: y, class: i === 0 ? 'axis' : 'grid', 'vector-effect': 'non-scaling-stroke' }));
    const text = h('span', { text: label(v) });
    text.style.bottom = `${(i / TICKS) * 100}%`;
    yAxis.append(text);
  }
}

/** The hatching of today's partial bar. */
function hatchPattern() {
  const defs = svg('defs');
  const pattern = svg('pattern', { id: 'partial-day', width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
  pattern.append(svg('rect', { width: 6, height: 6, class: 'hatch-bg' }), svg('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'hatch' }));
  defs.append(pattern);
  return defs;
}
