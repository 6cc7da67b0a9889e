// views/kpis.js: the store's custom KPIs on the dashboard: each rule with
// its figure now and its state (ok, breached, waiting for its time, no
// data), for everyone who may read the store; store admins also define and
// delete them. Reloaded on the store's `kpi.*` events and on the events
// that move the figures, and once a minute for rules that start at a time
// of day.

import { h, replace, setText, uniqueId } from '../dom.js';
import { formatMoney, formatNumber } from '../format.js';
import { failure } from './admin-forms.js';
import { roleOn } from './by-role.js';

/** [metric, label, unit]: unit `money`, `count` or `percent`. */
const METRICS = [
  ['revenue_today', 'Revenue today', 'money'],
  ['orders_today', 'Orders today', 'count'],
  ['units_today', 'Units today', 'count'],
  ['target_percent', 'Revenue today, % of target', 'percent'],
  ['conversion_percent', 'Conversion today, %', 'percent'],
  ['revenue_7d', 'Revenue, last 7 days', 'money'],
  ['orders_7d', 'Orders, last 7 days', 'count'],
  ['min_active_stock', 'Lowest stock of an active product', 'count'],
];

const STATUS_TEXT = { ok: 'OK', breached: 'Breached', waiting: 'Waiting', no_data: 'No data' };

const RELOAD_ON = /^(kpi\.|sales\.updated|dashboard\.updated|product\.)/;

/** A figure in its metric's unit. */
function figure(metric, value, cur) {
  if (value === null || value === undefined) return '–';
  const unit = METRICS.find(([m]) => m === metric)?.[2];
  if (unit === 'money') return formatMoney(value, cur);
  if (unit === 'percent') return `${formatNumber(value)}%`;
  return formatNumber(value);
}

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{ user: { is_admin: boolean }, stores?: { slug: string, role: string }[] }} me
 * @returns {HTMLElement}
 */
export function kpiView(client, me) {
  const titleId = uniqueId('kpi-title');
  const list = h('ul', { class: 'kpis', dataset: { field: 'kpis' } });
  const status = h('p', { class: 'form-status', role: 'status' });
  const store = () => client.state.get().store;
  const isAdmin = () => me.user.is_admin || roleOn(client, me, store()) === 'admin';
  const path = (name) => `/stores/${encodeURIComponent(store())}/kpis${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

  let inFlight = false;
  let again = false;
  async function load() {
    if (!store()) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    const slug = store();
    try {
      const kpis = await client.api.request('GET', path());
      if (slug === store()) render(kpis);
    } catch (err) {
      setText(status, failure(err));
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        load();
      }
    }
  }

  function render(kpis) {
    const cur = client.state.get().info?.currency;
    const admin = isAdmin();
    if (form) form.hidden = !admin;
    replace(list, ...(kpis.length ? kpis.map((k) => {
      const d = k.definition;
      const rule = `${METRICS.find(([m]) => m === d.metric)?.[1] ?? d.metric} ${d.op} ${figure(d.metric, d.threshold, cur)}${d.after ? ` from ${d.after}` : ''}`;
      return h('li', { class: 'kpi', dataset: { kpi: k.name, status: k.status } },
        h('span', { class: `kpi-status ${k.status}`, text: STATUS_TEXT[k.status] ?? k.status }),
        h('strong', { text: ` ${k.name}` }),
        h('span', { text: `: ${figure(d.metric, k.value, cur)} (rule: ${rule})` }),
        admin ? h('button', { type: 'button', class: 'secondary', text: 'Delete', 'aria-label': `Delete KPI ${k.name}`, on: { click: () => remove(k.name) } }) : null);
    }) : [h('li', { class: 'muted', text: admin ? 'No KPIs yet: add one below.' : 'No KPIs defined for this store.' })]));
  }

  async function remove(name) {
    try {
      await client.api.request('DELETE', path(name));
      setText(status, `Deleted KPI ${name}.`);
    } catch (err) {
      setText(status, failure(err));
    }
  }

  const field = (label, input) => {
    input.id = uniqueId('kpi-field');
    return h('label', { for: input.id }, `${label} `, input);
  };
  const nameInput = h('input', { maxlength: 60, required: true, autocomplete: 'off', name: 'kpi-name' });
  const metricInput = h('select', { name: 'kpi-metric' }, ...METRICS.map(([m, label]) => h('option', { value: m, text: label })));
  const opInput = h('select', { name: 'kpi-op' }, ...['<', '<=', '>', '>='].map((op) => h('option', { value: op, text: op })));
  const thresholdInput = h('input', { type: 'number', step: 'any', required: true, name: 'kpi-threshold' });
  const afterInput = h('input', { type: 'time', name: 'kpi-after' });
  // Only for users who administer a store: a read-only page has no forms.
  const mayDefine = me.user.is_admin || (me.stores ?? []).some((s) => s.role === 'admin');
  const form = mayDefine ? h('form', { class: 'kpi-form', hidden: true },
    field('Name', nameInput), field('Metric', metricInput), field('Is', opInput),
    field('Threshold (money in minor units)', thresholdInput), field('From (store time, optional)', afterInput),
    h('button', { type: 'submit', text: 'Save KPI' })) : null;
  form?.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { metric: metricInput.value, op: opInput.value, threshold: Number(thresholdInput.value) };
    if (afterInput.value) body.after = afterInput.value.slice(0, 5);
    try {
      await client.api.request('PUT', path(nameInput.value), { body });
      setText(status, `Saved KPI ${nameInput.value}.`);
      nameInput.value = '';
    } catch (err) {
      setText(status, failure(err));
    }
  });

  let shown = null;
  client.addEventListener('change', (ev) => {
    if (store() !== shown || ev.detail.reason === 'snapshot') {
      shown = store();
      load();
    }
  });
  client.addEventListener('event', (ev) => {
    if (RELOAD_ON.test(ev.detail.event.kind)) load();
  });
  setInterval(load, 60_000);
  load();
  return h('section', { class: 'card kpi-panel', 'aria-labelledby': titleId, id: 'kpis' },
    h('h2', { id: titleId, text: 'KPIs' }), list, form, status);
}
