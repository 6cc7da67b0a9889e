// views/product-history.js: a product's history for store admins: "History"
// on a product row opens a dialog listing who changed what and when, field
// by field with the value before and after, newest first. The server walks
// the product's events to know each "before" (GET
// /products/{id}/history); while the dialog is open, a live change of the
// product (from the batches the page receives) reads it again.

import { h, replace, setText, uniqueId } from '../dom.js';
import { formatMoney, formatTime } from '../format.js';
import { failure } from './admin-forms.js';

/** Most changes the dialog reads (1000 a request). */
const MAX_PAGES = 5;

/**
 * A field's value as the table shows it.
 * @param {string} field
 * @param {any} value
 * @param {string|undefined} currency
 * @returns {string}
 */
function showValue(field, value, currency) {
  if (field === 'price') return formatMoney(value, currency);
  if (field === 'image') return value ? 'an image' : 'no image';
  return String(value);
}

/** The before cell: the value, "(new)" at creation, "—" when none was recorded. */
function beforeText(entry, change, currency) {
  if (!change) return '';
  if ('before' in change) return showValue(change.field, change.before, currency);
  return entry.kind === 'product.created' ? '(new)' : '—';
}

/** What an entry with no field changes says. */
const KIND_TEXT = { 'product.deleted': 'Deleted', 'product.created': 'Created' };

/**
 * @typedef {object} ProductHistory
 * @property {(product: {id: number, sku?: string, name?: string}) => void} open shows a product's history
 * @property {import('./product-table.js').RowPart} part the History button of each row
 * @property {HTMLElement} el the dialog (goes anywhere in the page)
 */

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {ReturnType<typeof import('../api.js').createApi>} api
 * @param {{canAudit: (store: string) => boolean}} opts who may read a store's history
 * @returns {ProductHistory}
 */
export function productHistory(client, api, { canAudit }) {
  const titleId = uniqueId('history-title');
  const title = h('h2', { id: titleId });
  const status = h('p', { class: 'muted', role: 'status' });
  const body = h('tbody');
  const table = h('table', { class: 'product-history' },
    h('caption', { class: 'visually-hidden', text: 'Changes, newest first' }),
    h('thead', {}, h('tr', {}, ...['When', 'Who', 'Field', 'Before', 'After'].map((t) => h('th', { scope: 'col', text: t })))),
    body);
  const close = h('button', { type: 'button', class: 'secondary', text: 'Close' });
  const el = h('dialog', { class: 'card history-dialog', id: 'product-history', 'aria-labelledby': titleId },
    title, status, h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': titleId }, table), close);
  close.addEventListener('click', () => el.close());
  let shown = null;
  let loading = null;

  async function load(id) {
    const store = client.state.get().store;
    const path = `/stores/${encodeURIComponent(store)}/products/${id}/history`;
    const entries = [];
    let after = 0;
    for (let i = 0; i < MAX_PAGES && after !== null; i += 1) {
      const page = await api.request('GET', `${path}?after=${after}&limit=1000`);
      entries.push(...page.entries);
      after = page.next_after ?? null;
    }
    return entries;
  }

  function render(entries) {
    const cur = client.state.get().info?.currency;
    const rows = [];
    for (const e of [...entries].reverse()) {
      const when = h('time', { datetime: e.at, text: formatTime(e.at) });
      const who = e.by.replace(/^user:/, '');
      const changes = e.changes.length ? e.changes : [null];
      changes.forEach((c, i) => {
        const first = i === 0;
        rows.push(h('tr', { dataset: { seq: String(e.seq), field: c?.field ?? '' } },
          h('td', {}, first ? when : ''),
          h('td', { text: first ? who : '' }),
          h('td', { text: c ? c.field : KIND_TEXT[e.kind] ?? e.kind }),
          h('td', { class: 'before', text: beforeText(e, c, cur) }),
          h('td', { class: 'after', text: c ? showValue(c.field, c.after, cur) : '' })));
      });
    }
    replace(body, ...rows);
    setText(status, rows.length ? `${entries.length} changes.` : 'No change recorded since this product was added.');
  }

  async function refresh() {
    if (!shown) return;
    const id = shown.id;
    const run = load(id);
    loading = run;
    try {
      const entries = await run;
      if (loading === run && shown?.id === id) render(entries);
    } catch (err) {
      if (loading === run) setText(status, `History unavailable: ${failure(err)}`);
    }
  }

  function open(product) {
    shown = product;
    setText(title, `History of ${product.sku ?? `product ${product.id}`}${product.name ? ` (${product.name})` : ''}`);
    body.replaceChildren();
    setText(status, 'Loading…');
    if (!el.open) el.showModal();
    refresh();
  }

  el.addEventListener('close', () => { shown = null; });
  client.addEventListener('event', (ev) => {
    const e = ev.detail.event;
    if (shown && e.kind.startsWith('product.') && e.entity_id === shown.id) refresh();
  });
  client.state.subscribe((s, reason) => {
    if (reason === 'switch' && el.open) el.close();
  });

  const part = {
    build(tr, row) {
      tr.historyButton = h('button', {
        type: 'button', class: 'small secondary', text: 'History', dataset: { action: 'history' },
        'aria-label': `History of ${row.sku}`, on: { click: () => open(tr.rowData) },
      });
      tr.cells2.actions.prepend(tr.historyButton);
    },
    update(tr, row, s) {
      tr.historyButton.hidden = !canAudit(s.store);
    },
  };
  return { open, part, el };
}
