// views/dashboard.js: the store's headline figures as KPI cards, read-only:
// revenue first and largest, with its progress towards the day's target;
// then orders, average order and conversion; then the smaller figures.
// Every field is rendered from the current store's state or as "–", so
// nothing of a previously shown store can linger after a switch.
// `applyDashboard` is the one place a dashboard's figures reach the cards.
// The headline cards also show the change against yesterday at the same
// local time, from the store's analytics (`analytics-feed.js`).

import { h, replace, setText } from '../dom.js';
import { formatMoney, formatNumber, formatBp, formatRatio } from '../format.js';
import { analyticsFeed } from './analytics-feed.js';
import { changeText } from './analytics.js';

/** [field, label, format, tier]: tier 1 is the headline row. */
const FIELDS = [
  ['revenue_today', 'Revenue today', (d, c) => formatMoney(d.revenue_today, c), 1],
  ['orders_today', 'Orders', (d) => formatNumber(d.orders_today), 1],
  ['average_order_value', 'Average order', (d, c) => formatMoney(d.average_order_value, c), 1],
  ['conversion_bp', 'Conversion', (d) => formatBp(d.conversion_bp), 1],
  ['units_today', 'Units sold', (d) => formatNumber(d.units_today), 2],
  ['visitors_today', 'Visitors', (d) => formatNumber(d.visitors_today), 2],
  ['refunds_today', 'Refunds', (d, c) => formatMoney(d.refunds_today, c), 2],
];

/** Cards with a change against yesterday: [field, yesterday's figure, format]. */
const CHANGES = [
  ['revenue_today', (y) => y.revenue, (v, c) => formatMoney(v, c)],
  ['orders_today', (y) => y.orders, (v) => formatNumber(v)],
  ['units_today', (y) => y.units, (v) => formatNumber(v)],
  ['average_order_value', (y) => (y.orders ? Math.trunc(y.revenue / y.orders) : 0), (v, c) => formatMoney(v, c)],
];

/**
 * The change cue of one card: an arrow for the eye, the change in words for
 * everyone, and yesterday's figure for screen readers.
 */
function renderChange(el, now, before, a, fmt, cur) {
  const trend = now > before ? 'up' : now < before ? 'down' : 'flat';
  el.dataset.trend = trend;
  replace(el,
    h('span', { 'aria-hidden': 'true', text: { up: '▲ ', down: '▼ ', flat: '■ ' }[trend] }),
    `${changeText(now, before)} vs yesterday`,
    h('span', { class: 'visually-hidden', text: ` (${trend === 'flat' ? 'same as' : trend === 'up' ? 'up from' : 'down from'} ${fmt(before, cur)} yesterday by ${a.as_of})` }));
}

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function dashboardView(client) {
  const heading = h('h2', { id: 'dash-title', text: 'Today' });
  const storeLine = h('p', { class: 'muted store-line' });
  const cells = new Map();
  const changes = new Map();
  const card = ([key, label, , tier]) => {
    const dd = h('dd', { dataset: { field: key } });
    cells.set(key, dd);
    const change = CHANGES.some(([k]) => k === key) ? h('dd', { class: 'change', dataset: { change: key } }) : null;
    if (change) changes.set(key, change);
    return h('div', { class: `figure tier${tier}`, dataset: { kpi: key } }, h('dt', { text: label }), dd, change);
  };
  const target = targetBar();
  const list = h('dl', { class: 'figures' }, ...FIELDS.map(card));
  list.querySelector('[data-kpi="revenue_today"]').append(target.el);
  const notice = h('p', { class: 'notice', dataset: { field: 'notice' } });
  const el = h('section', { class: 'card dashboard', 'aria-labelledby': 'dash-title' }, heading, storeLine, list, notice);

  /** Shows a dashboard (the whole object, as the state holds it). */
  function applyDashboard(d, s) {
    const cur = s.info?.currency;
    setText(storeLine, s.info ? `${s.info.currency} · ${s.info.time_zone}${d ? ` · ${d.day}` : ''}` : '');
    for (const [key, , fmt] of FIELDS) setText(cells.get(key), d && cur ? fmt(d, cur) : '–');
    target.render(d, cur);
    setText(notice, d?.notice ?? '');
    notice.hidden = !d?.notice;
    applyChanges(d, cur);
  }

  /** The change against yesterday so far, while the analytics are of the same day. */
  function applyChanges(d, cur) {
    const a = analyticsFeed(client).current();
    const shown = d && cur && a && a.day === d.day;
    for (const [key, yesterday, fmt] of CHANGES) {
      const el = changes.get(key);
      el.hidden = !shown;
      // Emptied too: nothing of another store or day may linger.
      if (shown) renderChange(el, d[key], yesterday(a.yesterday_so_far), a, fmt, cur);
      else replace(el);
    }
  }

  const render = (s) => {
    el.dataset.store = s.store ?? '';
    setText(heading, s.info ? `${s.info.name} – today` : 'Today');
    applyDashboard(s.dashboard, s);
  };
  render(client.state.get());
  analyticsFeed(client).subscribe(() => {
    const s = client.state.get();
    applyChanges(s.dashboard, s.info?.currency);
  });
  client.state.subscribe((s, reason) => {
    if (['snapshot', 'batch', 'switch', 'refresh', 'hello'].includes(reason)) render(s);
  });
  return el;
}

/** The revenue target as a progress bar with its figures in words. */
function targetBar() {
  const fill = h('span', { class: 'target-fill' });
  const bar = h('span', { class: 'target-bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-label': 'Revenue target reached' }, fill);
  const text = h('span', { class: 'target-text', dataset: { field: 'revenue_target' } });
  const el = h('dd', { class: 'target' }, bar, text);
  return {
    el,
    render(d, cur) {
      const has = d && cur && d.revenue_target > 0;
      bar.hidden = !has;
      if (!has) {
        setText(text, d && cur ? 'No target set' : '');
        return;
      }
      const pct = Math.min(100, (d.revenue_today / d.revenue_target) * 100);
      fill.style.width = `${pct}%`;
      bar.setAttribute('aria-valuenow', String(Math.round(pct)));
      bar.dataset.reached = String(d.revenue_today >= d.revenue_target);
      setText(text, `${formatRatio(d.revenue_today, d.revenue_target)} of ${formatMoney(d.revenue_target, cur)} target`);
    },
  };
}
