// views/scheduled.js: the admin page's "Scheduled changes" panel. Schedule…
// sets a product's price, status or stock, or the dashboard's revenue
// target or notice, at a time; the list shows the upcoming changes (with
// Edit time and Cancel) and the latest results (applied, late, failed with
// its reason, cancelled), reloaded on every `schedule.updated` event of the
// store, whoever scheduled. Bulk changes are scheduled through the API.

import { h, replace, setText } from '../dom.js';
import { formatMoney, formatTime, parseMoney } from '../format.js';
import { field, failure } from './admin-forms.js';

/** Results shown below the upcoming changes. */
const RESULTS = 10;

/** A `datetime-local` value (local time) as an RFC 3339 instant, or null. */
function instant(local) {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * What a scheduled change does, in words.
 * @param {object} change the change's `{kind, …}`
 * @param {object} s the client's state (currency, the page's products)
 */
function describeChange(change, s) {
  const cur = s.info?.currency;
  const money = (v) => formatMoney(v, cur);
  if (change.kind === 'bulk') return `bulk ${change.change.op.replaceAll('_', ' ')} of ${change.ids.length} products`;
  const p = change.patch;
  const parts = [
    p.price !== undefined && `price ${money(p.price)}`,
    p.status !== undefined && `status ${p.status}`,
    p.stock !== undefined && `stock ${p.stock}`,
    p.revenue_target !== undefined && `revenue target ${money(p.revenue_target)}`,
    p.notice !== undefined && `notice “${p.notice}”`,
  ].filter(Boolean);
  if (change.kind === 'dashboard') return `Dashboard: ${parts.join(', ')}`;
  const row = s.page?.rows?.find((r) => r.id === change.id);
  return `${row ? row.sku : `Product ${change.id}`}: ${parts.join(', ')}`;
}

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {ReturnType<typeof import('../api.js').createApi>} api
 */
export function scheduledChanges(client, api) {
  const status = h('p', { class: 'form-status', role: 'status' });
  const list = h('ul', { class: 'scheduled-list' });
  const path = (id) => `/stores/${encodeURIComponent(client.state.get().store)}/schedule${id ? `/${id}` : ''}`;
  const run = (promise, done) => promise.then(() => setText(status, done), (err) => setText(status, failure(err)));

  async function load() {
    if (!client.state.get().store) return;
    try {
      const [upcoming, all] = await Promise.all([api.request('GET', `${path()}?status=pending`), api.request('GET', path())]);
      const results = all.filter((c) => c.status !== 'pending').slice(0, RESULTS);
      replace(list, ...upcoming.map(item), ...results.map(item));
      if (!upcoming.length && !results.length) list.append(h('li', { class: 'muted', text: 'Nothing scheduled.' }));
    } catch (err) {
      setText(status, failure(err));
    }
  }

  /** @param {object} c a scheduled change */
  function item(c) {
    const badges = [
      h('span', { class: `badge schedule-${c.status}`, text: c.status }),
      c.late ? h('span', { class: 'badge schedule-late', text: 'late' }) : null,
    ];
    const why = c.status === 'failed' ? h('span', { class: 'schedule-reason', text: ` ${c.reason}: ${c.message}` }) : null;
    const li = h('li', { dataset: { id: String(c.id), status: c.status } },
      h('span', { text: `${formatTime(c.due_at)} – ${describeChange(c.change, client.state.get())} ` }), ...badges, why);
    if (c.status !== 'pending') return li;
    const [whenF, when] = field('New time', { type: 'datetime-local', step: '1', required: true });
    const edit = h('form', { class: 'schedule-edit', hidden: true }, whenF, h('button', { type: 'submit', text: 'Save time' }));
    edit.addEventListener('submit', (ev) => {
      ev.preventDefault();
      run(api.request('PATCH', path(c.id), { body: { due_at: instant(when.value) } }), 'Time changed.');
    });
    li.append(
      h('button', { type: 'button', text: 'Edit time', on: { click: () => { edit.hidden = !edit.hidden; } } }),
      h('button', { type: 'button', class: 'secondary', text: 'Cancel', on: { click: () => run(api.request('DELETE', path(c.id)), 'Cancelled.') } }),
      edit);
    return li;
  }

  const option = (value, text) => h('option', { value, text });
  const [targetF, target] = field('Change', { tag: 'select', name: 'target', options: [option('product', 'A product'), option('dashboard', 'The dashboard')] });
  const [productF, product] = field('Product to change', { tag: 'select', name: 'product_id', options: [] });
  const [priceF, price] = field('New price', { name: 'price', inputmode: 'decimal' });
  const statuses = ['', 'active', 'draft', 'archived'].map((v) => option(v, v || 'unchanged'));
  const [stateF, state] = field('New status', { tag: 'select', name: 'status', options: statuses });
  const [stockF, stock] = field('New stock', { name: 'stock', type: 'number', min: '0' });
  const [goalF, goal] = field('New revenue target', { name: 'revenue_target', inputmode: 'decimal' });
  const [noticeF, notice] = field('New notice', { name: 'notice', tag: 'textarea', rows: 2, maxlength: '500' });
  const [whenF, when] = field('When', { name: 'due_at', type: 'datetime-local', step: '1', required: true });
  const productFields = [productF, priceF, stateF, stockF];
  const show = () => {
    for (const f of productFields) f.hidden = target.value !== 'product';
    for (const f of [goalF, noticeF]) f.hidden = target.value !== 'dashboard';
  };
  target.addEventListener('change', show);
  show();

  /** The change the form describes, or a message saying what is missing. */
  function change() {
    const cur = client.state.get().info?.currency;
    const patch = {};
    if (target.value === 'dashboard') {
      if (goal.value.trim()) patch.revenue_target = parseMoney(goal.value, cur);
      if (notice.value) patch.notice = notice.value;
    } else {
      if (price.value.trim()) patch.price = parseMoney(price.value, cur);
      if (state.value) patch.status = state.value;
      if (stock.value !== '') patch.stock = Number(stock.value);
    }
    if (Object.values(patch).some((v) => v === null)) return 'Enter amounts like 12.50.';
    if (!Object.keys(patch).length) return 'Give at least one new value.';
    if (target.value === 'dashboard') return { kind: 'dashboard', patch };
    if (!product.value) return 'Pick a product.';
    return { kind: 'product', id: Number(product.value), patch };
  }

  const form = h('form', { class: 'schedule-form' },
    targetF, ...productFields, goalF, noticeF, whenF, h('button', { type: 'submit', text: 'Schedule…' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const c = change();
    if (typeof c === 'string') {
      setText(status, c);
      return;
    }
    run(api.request('POST', path(), { body: { due_at: instant(when.value), change: c } }), 'Scheduled.');
  });

  // The product choice follows the table's page (not its live figures);
  // the list is read again for each store entered.
  let listedFor = null;
  client.state.subscribe((s, reason) => {
    if (s.store !== listedFor) {
      listedFor = s.store;
      load();
    }
    if (!['switch', 'snapshot', 'page'].includes(reason)) return;
    const keep = product.value;
    product.replaceChildren(...(s.page?.rows ?? []).map((r) => option(String(r.id), `${r.sku} – ${r.name}`)));
    if ([...product.options].some((o) => o.value === keep)) product.value = keep;
  });
  client.addEventListener('event', (ev) => {
    if (ev.detail.event.kind === 'schedule.updated') load();
  });
  return h('section', { class: 'card scheduled-changes', 'aria-labelledby': 'scheduled-title' },
    h('h2', { id: 'scheduled-title', text: 'Scheduled changes' }), list, form, status);
}
