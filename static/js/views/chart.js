// views/chart.js: the daily revenue chart, a plain SVG bar chart (no chart
// library), with the week-over-week trend from GET /sales/summary. The
// chart's text alternative states the figures a sighted user reads off it.

import { h, svg, setText } from '../dom.js';
import { formatMoney, formatBp } from '../format.js';

const W = 600;
const H = 200;
const PAD = { top: 10, right: 0, bottom: 0, left: 0 };

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{trend?: boolean}} [opts] show the trend (fetched from the summary)
 * @returns {HTMLElement}
 */
export function salesChart(client, { trend = true } = {}) {
  const caption = h('p', { class: 'muted', id: 'chart-desc' });
  const axis = h('div', { class: 'axis-labels', 'aria-hidden': 'true' });
  const trendEl = h('p', { class: 'trend', dataset: { field: 'trend' } });
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title chart-desc', class: 'chart', preserveAspectRatio: 'none' });
  const el = h('section', { class: 'card chart-card', 'aria-labelledby': 'chart-title' },
    h('h2', { id: 'chart-title', text: 'Revenue per day, last 30 days' }), trendEl, chart, axis, caption);

  const render = (s) => {
    const sales = s.sales ?? [];
    const cur = s.info?.currency;
    chart.replaceChildren();
    el.dataset.store = s.store ?? '';
    if (!sales.length || !cur) {
      setText(caption, 'No sales data yet.');
      axis.replaceChildren();
      chart.dataset.total = '';
      return;
    }
    const max = Math.max(1, ...sales.map((p) => p.revenue));
    const innerW = W - PAD.left - PAD.right;
    const innerH = H - PAD.top - PAD.bottom;
    const step = innerW / sales.length;
    sales.forEach((p, i) => {
      const bh = (p.revenue / max) * innerH;
      const bar = svg('rect', {
        x: PAD.left + i * step + step * 0.1, y: PAD.top + innerH - bh,
        width: step * 0.8, height: Math.max(bh, 0.5), class: i === sales.length - 1 ? 'bar today' : 'bar',
      });
      bar.dataset.day = p.day;
      bar.dataset.revenue = String(p.revenue);
      const title = svg('title');
      title.textContent = `${p.day}: ${formatMoney(p.revenue, cur)}, ${p.orders} orders`;
      bar.append(title);
      chart.append(bar);
    });
    // Day labels live in HTML: the SVG stretches to the card and would distort text.
    axis.replaceChildren(h('span', { text: sales[0].day }), h('span', { text: sales[sales.length - 1].day }));
    const total = sales.reduce((a, p) => a + p.revenue, 0);
    const best = sales.reduce((a, p) => (p.revenue > a.revenue ? p : a), sales[0]);
    const today = sales[sales.length - 1];
    chart.dataset.total = String(total);
    setText(caption, `Total ${formatMoney(total, cur)}; best day ${best.day} (${formatMoney(best.revenue, cur)}); `
      + `today ${formatMoney(today.revenue, cur)} from ${today.orders} orders.`);
  };

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
      setText(trendEl, Number.isInteger(bp) ? `Last 7 days vs the 7 before: ${formatBp(bp, true)}` : 'Last 7 days vs the 7 before: no earlier sales');
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
  client.state.subscribe((s, reason) => {
    if (['snapshot', 'batch', 'switch', 'refresh'].includes(reason)) render(s);
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
