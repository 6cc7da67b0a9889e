// views/analytics.js: the admin's live business analytics panel: today
// against the same weekday last week by local hour (revenue, orders or
// units), the totals so far against yesterday and last week at the same
// time, conversion from visitors, the top movers and the low-stock
// forecast. Fed by `analytics-feed.js`, so it follows the store's live
// events without polling.

import { h, replace, setText, uniqueId } from '../dom.js';
import { formatMoney, formatNumber, formatBp } from '../format.js';
import { analyticsFeed } from './analytics-feed.js';

/** [metric, label, format]. */
const METRICS = [
  ['revenue', 'Revenue', (v, c) => formatMoney(v, c)],
  ['orders', 'Orders', (v) => formatNumber(v)],
  ['units', 'Units', (v) => formatNumber(v)],
];

/** "+12%" / "−5%" / "new" / "–" of `now` against `before`. */
export function changeText(now, before) {
  if (!before) return now ? 'new' : '–';
  const pct = Math.round(((now - before) / before) * 100);
  return `${pct > 0 ? '+' : pct < 0 ? '−' : '±'}${Math.abs(pct)}%`;
}

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function analyticsView(client) {
  const titleId = uniqueId('analytics-title');
  const heading = h('h2', { id: titleId, text: 'Analytics' });
  const asOf = h('p', { class: 'muted', dataset: { field: 'as-of' } });
  let metric = 'revenue';
  const name = uniqueId('metric');
  const switcher = h('fieldset', { class: 'metric-switch' }, h('legend', { class: 'visually-hidden', text: 'Metric' }),
    ...METRICS.map(([key, label]) => h('label', {},
      h('input', { type: 'radio', name, value: key, checked: key === metric, on: { change: () => { metric = key; render(); } } }),
      ` ${label}`)));
  const sofar = h('dl', { class: 'figures analytics-sofar' });
  const hours = h('div', { class: 'hours', role: 'img', 'aria-label': 'Sales by hour: not loaded yet' });
  const conversion = h('p', { dataset: { field: 'conversion' } });
  const movers = h('ol', { class: 'movers', dataset: { field: 'movers' } });
  const lowStock = h('ul', { class: 'low-stock', dataset: { field: 'low-stock' } });
  const el = h('section', { class: 'card analytics', 'aria-labelledby': titleId, id: 'analytics' },
    heading, asOf, switcher, sofar, hours, conversion,
    h('div', { class: 'grid two' },
      h('div', {}, h('h3', { text: 'Top movers since yesterday' }), movers),
      h('div', {}, h('h3', { text: 'Running out at the last 7 days’ pace' }), lowStock)));

  function render() {
    const a = analyticsFeed(client).current();
    const cur = client.state.get().info?.currency;
    el.dataset.day = a?.day ?? '';
    if (!a || !cur) {
      setText(asOf, 'Loading…');
      replace(sofar);
      replace(hours);
      hours.setAttribute('aria-label', 'Sales by hour: not loaded yet');
      return;
    }
    const [, label, fmt] = METRICS.find(([k]) => k === metric);
    const weekday = new Date(`${a.compare_day}T00:00:00Z`).toLocaleDateString(undefined, { weekday: 'long', timeZone: 'UTC' });
    setText(heading, `Analytics – today vs last ${weekday}`);
    setText(asOf, `Up to ${a.as_of} store time, ${a.day}.`);
    const figure = (key, text, value) => h('div', { class: 'figure', dataset: { kpi: key } }, h('dt', { text }), h('dd', { dataset: { field: key }, text: value }));
    const sel = (t) => t[metric];
    replace(sofar,
      figure('today-so-far', `${label} today`, fmt(sel(a.today_so_far), cur)),
      figure('yesterday-so-far', 'Yesterday by now', `${fmt(sel(a.yesterday_so_far), cur)} (${changeText(sel(a.today_so_far), sel(a.yesterday_so_far))})`),
      figure('last-week-so-far', `Last ${weekday} by now`, `${fmt(sel(a.last_week_so_far), cur)} (${changeText(sel(a.today_so_far), sel(a.last_week_so_far))})`));
    const today = a.today[metric];
    const before = a.last_week[metric];
    const top = Math.max(1, ...today, ...before);
    const nowHour = Number(a.as_of.slice(0, 2));
    hours.setAttribute('aria-label', `${label} by hour, today against last ${weekday}`);
    replace(hours, ...today.map((v, hour) => {
      const bar = (value, cls) => {
        const el = h('span', { class: `bar ${cls}` });
        // CSSOM, not a style attribute: the Content-Security-Policy allows it.
        el.style.height = `${(value / top) * 100}%`;
        return el;
      };
      return h('div', { class: `hour${hour > nowHour ? ' later' : ''}`, title: `${String(hour).padStart(2, '0')}:00 – today ${fmt(v, cur)}, last ${weekday} ${fmt(before[hour], cur)}`, dataset: { hour: String(hour), today: String(v) } },
        bar(before[hour], 'last-week'), bar(v, 'today'), h('span', { class: 'hour-label', text: hour % 6 === 0 ? String(hour) : '' }));
    }));
    setText(conversion, a.conversion_bp === null ? 'Conversion: no visitors recorded today.' : `Conversion: ${formatBp(a.conversion_bp)} of ${formatNumber(a.visitors_today)} visitors ordered.`);
    replace(movers, ...(a.top_movers.length ? a.top_movers.map((m) => h('li', { dataset: { productId: String(m.id) } },
      h('span', { class: m.change > 0 ? 'up' : 'down', 'aria-hidden': 'true', text: m.change > 0 ? '▲ ' : '▼ ' }),
      `${m.name}: #${m.rank_today}, ${m.change > 0 ? 'up' : 'down'} ${Math.abs(m.change)} from #${m.rank_yesterday} (${formatMoney(m.revenue_today, cur)} today)`))
      : [h('li', { class: 'muted', text: 'No rank changes yet today.' })]));
    replace(lowStock, ...(a.low_stock.length ? a.low_stock.map((f) => h('li', { dataset: { productId: String(f.id) } },
      `${f.name}: ${formatNumber(f.stock)} in stock, ${f.days_left.toFixed(1)} days left (${formatNumber(f.units_7d)} sold in 7 days)`))
      : [h('li', { class: 'muted', text: 'No active product runs out within two weeks.' })]));
  }

  analyticsFeed(client).subscribe(render);
  return el;
}
