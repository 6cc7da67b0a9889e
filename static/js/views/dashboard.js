// views/dashboard.js: the store's headline figures, read-only. Every field
// is rendered from the current store's state or as "–", so nothing of a
// previously shown store can linger after a switch.

import { h, setText } from '../dom.js';
import { formatMoney, formatNumber, formatBp, formatRatio } from '../format.js';

const FIELDS = [
  ['revenue_today', 'Revenue today', (d, c) => formatMoney(d.revenue_today, c)],
  ['orders_today', 'Orders today', (d) => formatNumber(d.orders_today)],
  ['units_today', 'Units today', (d) => formatNumber(d.units_today)],
  ['visitors_today', 'Visitors today', (d) => formatNumber(d.visitors_today)],
  ['conversion_bp', 'Conversion', (d) => formatBp(d.conversion_bp)],
  ['average_order_value', 'Average order', (d, c) => formatMoney(d.average_order_value, c)],
  ['refunds_today', 'Refunds today', (d, c) => formatMoney(d.refunds_today, c)],
  ['revenue_target', 'Revenue target', (d, c) => (d.revenue_target
    ? `${formatMoney(d.revenue_target, c)} (${formatRatio(d.revenue_today, d.revenue_target)} reached)` : '–')],
];

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function dashboardView(client) {
  const heading = h('h2', { id: 'dash-title', text: 'Today' });
  const storeLine = h('p', { class: 'muted store-line' });
  const cells = new Map();
  const list = h('dl', { class: 'figures' },
    ...FIELDS.map(([key, label]) => {
      const dd = h('dd', { dataset: { field: key } });
      cells.set(key, dd);
      return h('div', { class: 'figure' }, h('dt', { text: label }), dd);
    }));
  const notice = h('p', { class: 'notice', dataset: { field: 'notice' } });
  const el = h('section', { class: 'card dashboard', 'aria-labelledby': 'dash-title' }, heading, storeLine, list, notice);

  const render = (s) => {
    const d = s.dashboard;
    const cur = s.info?.currency;
    el.dataset.store = s.store ?? '';
    setText(heading, s.info ? `${s.info.name} – today` : 'Today');
    setText(storeLine, s.info ? `${s.info.currency} · ${s.info.time_zone}${d ? ` · ${d.day}` : ''}` : '');
    for (const [key, , fmt] of FIELDS) setText(cells.get(key), d && cur ? fmt(d, cur) : '–');
    setText(notice, d?.notice ?? '');
    notice.hidden = !d?.notice;
  };
  render(client.state.get());
  client.state.subscribe(render);
  return el;
}
