// views/admin-forms.js: the admin's forms: dashboard figures, new product,
// record a sale, publish the current page. Each reports its outcome in its
// own status line.

import { h, setText, uniqueId } from '../dom.js';
import { moneyInputValue, parseMoney, formatMoney } from '../format.js';

/** A labelled input; returns [wrapper, input]. */
export function field(label, attrs = {}) {
  const id = uniqueId('f');
  const input = attrs.tag === 'select'
    ? h('select', { id, name: attrs.name }, ...attrs.options)
    : h(attrs.tag ?? 'input', { id, ...attrs, tag: undefined, options: undefined });
  return [h('div', { class: 'field' }, h('label', { for: id, text: label }), input), input];
}

function statusLine() {
  return h('p', { class: 'form-status', role: 'status' });
}

/**
 * What a write was about, for status lines ("S1-00001", "the dashboard").
 * @param {import('../sync-client.js').WriteOp} op
 * @returns {string}
 */
export function describeOp(op) {
  const m = op.meta ?? {};
  if (m.sku) return m.sku;
  if (m.kind === 'dashboard') return 'the dashboard';
  if (m.kind === 'create') return `new product ${op.body?.sku ?? ''}`.trim();
  if (m.kind === 'sale') return 'the sale';
  return 'a change';
}

/**
 * Keeps a form's status line true after it said "offline": when the queued
 * write of `kind` is replayed, says how it ended.
 * @param {import('../sync-client.js').SyncClient} client
 * @param {string} kind the writes' `meta.kind`
 * @param {HTMLElement} status
 * @param {string} done what to say once it was sent
 */
function reportReplay(client, kind, status, done) {
  client.addEventListener('write-applied', (ev) => {
    if (ev.detail.op.replayed && ev.detail.op.meta?.kind === kind) setText(status, done);
  });
  client.addEventListener('write-failed', (ev) => {
    if (ev.detail.op.meta?.kind === kind) setText(status, `Sent after reconnecting, but refused: ${failure(ev.detail.error)}`);
  });
}

/** Describes a failed write for a status line. */
export function failure(err) {
  if (err?.code === 'forbidden') return 'Not allowed: your role cannot change this store.';
  if (err?.code === 'invalid_field') return `Invalid: ${err.message}`;
  return `Failed: ${err?.message ?? err}`;
}

/**
 * The dashboard's hand-set figures.
 * @param {import('../sync-client.js').SyncClient} client
 */
export function dashboardForm(client) {
  const [visitorsF, visitors] = field('Visitors today', { name: 'visitors_today', type: 'number', min: '0' });
  const [refundsF, refunds] = field('Refunds today', { name: 'refunds_today', inputmode: 'decimal' });
  const [targetF, target] = field('Revenue target', { name: 'revenue_target', inputmode: 'decimal' });
  const [noticeF, notice] = field('Notice', { name: 'notice', tag: 'textarea', rows: 2, maxlength: '500' });
  const status = statusLine();
  const form = h('form', { class: 'card form', 'aria-labelledby': 'dash-form-title' },
    h('h2', { id: 'dash-form-title', text: 'Edit dashboard' }),
    visitorsF, refundsF, targetF, noticeF, h('button', { type: 'submit', text: 'Save dashboard' }), status);

  reportReplay(client, 'dashboard', status, 'Dashboard saved (sent after reconnecting).');
  let dirty = false;
  form.addEventListener('input', () => { dirty = true; });
  const fill = (s) => {
    const d = s.dashboard;
    const cur = s.info?.currency;
    if (!d || !cur) {
      for (const el of [visitors, refunds, target, notice]) el.value = '';
      return;
    }
    visitors.value = String(d.visitors_today);
    refunds.value = moneyInputValue(d.refunds_today, cur);
    target.value = moneyInputValue(d.revenue_target, cur);
    notice.value = d.notice;
  };
  client.state.subscribe((s, reason) => {
    if (reason === 'switch') dirty = false;
    // Live updates refill the form unless the admin is in the middle of editing it.
    if (['switch', 'snapshot', 'batch'].includes(reason) && !dirty && !form.contains(document.activeElement)) fill(s);
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const s = client.state.get();
    const cur = s.info?.currency;
    const body = {
      visitors_today: Number(visitors.value),
      refunds_today: parseMoney(refunds.value, cur),
      revenue_target: parseMoney(target.value, cur),
      notice: notice.value,
    };
    if (!Number.isSafeInteger(body.visitors_today) || body.visitors_today < 0 || body.refunds_today === null || body.revenue_target === null) {
      setText(status, 'Check the figures: whole visitors, amounts like 12.50.');
      return;
    }
    setText(status, 'Saving…');
    try {
      const r = await client.write({ method: 'PATCH', path: client.api.paths.dashboard(s.store), body, meta: { kind: 'dashboard' } });
      dirty = false;
      setText(status, r.queued ? 'Offline: saved to send when the connection returns.' : 'Dashboard saved.');
    } catch (err) {
      setText(status, failure(err));
    }
  });
  return form;
}

/**
 * Creates products.
 * @param {import('../sync-client.js').SyncClient} client
 */
export function createProductForm(client) {
  const [skuF, sku] = field('SKU', { name: 'sku', required: true, maxlength: '64', autocomplete: 'off' });
  const [nameF, name] = field('Name', { name: 'name', required: true, maxlength: '200', autocomplete: 'off' });
  const [priceF, price] = field('Price', { name: 'price', required: true, inputmode: 'decimal' });
  const [stockF, stock] = field('Stock', { name: 'stock', type: 'number', min: '0', value: '0' });
  const [statusF, statusSel] = field('Status', { tag: 'select', name: 'status', options: ['draft', 'active', 'archived'].map((v) => h('option', { value: v, text: v })) });
  const status = statusLine();
  const form = h('form', { class: 'card form', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title', text: 'New product' }), skuF, nameF, priceF, stockF, statusF,
    h('button', { type: 'submit', text: 'Create product' }), status);
  reportReplay(client, 'create', status, 'Product created (sent after reconnecting).');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const s = client.state.get();
    const p = parseMoney(price.value, s.info?.currency);
    if (p === null) {
      setText(status, 'Enter the price like 12.50.');
      return;
    }
    const body = { sku: sku.value.trim(), name: name.value.trim(), price: p, stock: Number(stock.value) || 0, status: statusSel.value };
    setText(status, 'Creating…');
    try {
      const r = await client.write({ method: 'POST', path: client.api.paths.products(s.store), body, meta: { kind: 'create' } });
      setText(status, r.queued ? 'Offline: the product will be created when the connection returns.' : `Created ${body.sku}.`);
      if (!r.queued) form.reset();
    } catch (err) {
      setText(status, err.code === 'conflict' ? `SKU ${body.sku} already exists.` : failure(err));
    }
  });
  return form;
}

/**
 * Records a sale of one product of the current page.
 * @param {import('../sync-client.js').SyncClient} client
 */
export function saleForm(client) {
  const [productF, product] = field('Product', { tag: 'select', name: 'product_id', options: [] });
  const [qtyF, qty] = field('Quantity', { name: 'quantity', type: 'number', min: '1', max: '1000000', value: '1', required: true });
  const status = statusLine();
  const form = h('form', { class: 'card form', 'aria-labelledby': 'sale-title' },
    h('h2', { id: 'sale-title', text: 'Record a sale' }), productF, qtyF,
    h('button', { type: 'submit', text: 'Record sale' }), status);
  reportReplay(client, 'sale', status, 'Sale recorded (sent after reconnecting).');
  // The options are rebuilt only when the page's products or their names
  // changed, not on every price or stock update.
  let listed = [];
  const sameList = (rows) => rows.length === listed.length
    && rows.every((r, i) => r === listed[i] || (r.id === listed[i].id && r.sku === listed[i].sku && r.name === listed[i].name));
  client.state.subscribe((s) => {
    const rows = s.page?.rows ?? [];
    if (sameList(rows)) return;
    listed = rows;
    const keep = product.value;
    product.replaceChildren(...rows.map((r) => h('option', { value: String(r.id), text: `${r.sku} – ${r.name}` })));
    if (rows.some((r) => String(r.id) === keep)) product.value = keep;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const s = client.state.get();
    const quantity = Number(qty.value);
    if (!product.value || !Number.isSafeInteger(quantity) || quantity < 1) {
      setText(status, 'Pick a product and a quantity of 1 or more.');
      return;
    }
    setText(status, 'Recording…');
    try {
      const r = await client.write({
        method: 'POST', path: client.api.paths.sales(s.store),
        body: { lines: [{ product_id: Number(product.value), quantity }] }, meta: { kind: 'sale' },
      });
      setText(status, r.queued ? 'Offline: the sale will be recorded when the connection returns.'
        : `Recorded a sale of ${formatMoney(r.data.sale.amount, s.info?.currency)}.`);
    } catch (err) {
      setText(status, failure(err));
    }
  });
  return form;
}

/**
 * Publishes the admin's current page to following storefronts.
 * @param {import('../sync-client.js').SyncClient} client
 */
export function publishControl(client) {
  const status = statusLine();
  const button = h('button', { type: 'button', text: 'Publish this page to followers' });
  button.addEventListener('click', () => {
    try {
      client.publishView();
      setText(status, `Publishing page ${client.state.get().view.page}…`);
    } catch (err) {
      setText(status, err.message);
    }
  });
  client.addEventListener('published', (ev) => {
    setText(status, `Page ${ev.detail.view.page} published by ${ev.detail.by.replace(/^user:/, '')}.`);
  });
  client.addEventListener('server-error', (ev) => {
    if (ev.detail.code === 'forbidden') setText(status, 'Not allowed: publishing needs the editor role.');
  });
  // How many a publish moves (storefronts with "Follow" ticked).
  const followers = h('span', { class: 'muted', dataset: { field: 'followers-count' } });
  client.state.subscribe((s, reason) => {
    if (reason !== 'presence' && reason !== 'switch') return;
    const n = s.presence?.followers;
    setText(followers, Number.isInteger(n) ? `${n} ${n === 1 ? 'storefront follows' : 'storefronts follow'} your published page` : '');
  });
  return h('div', { class: 'publish' }, button, followers, status);
}
