// views/product-table.js: the product table itself: its columns, sortable
// headers, caption, and rows keyed by product id (views/keyed.js): a live
// update patches only the rows whose data changed, so one edit costs one
// row however many the page holds, and focus in another row survives.
// Cells are read-only text with status and stock badges; what makes a row
// editable (click a value to edit it) comes in as a RowEditor
// (views/product-editing.js). On phones the rows become cards (app.css).

import { h, setText } from '../dom.js';
import { formatMoney, formatNumber, formatRatio } from '../format.js';
import { mediaUrl } from '../api.js';
import { createKeyedList } from './keyed.js';

/** Product statuses, in the order filters and selects list them. */
export const STATUSES = ['active', 'draft', 'archived'];

/** Columns of the table; `sort` is the server's sort key, `num` right-aligns. */
const COLUMNS = [
  { key: 'image', label: 'Image' },
  { key: 'name', label: 'Name', sort: 'name' },
  { key: 'sku', label: 'SKU', sort: 'sku' },
  { key: 'price', label: 'Price', sort: 'price', num: true },
  { key: 'stock', label: 'Stock', sort: 'stock', num: true },
  { key: 'status', label: 'Status', sort: 'status' },
  { key: 'units_sold', label: 'Units sold, all time', sort: 'units_sold', num: true },
  { key: 'revenue', label: 'Revenue, all time', sort: 'revenue', num: true },
  { key: 'conversion', label: 'Conversion', num: true },
];

/** Stock at or below this shows a "low stock" badge. */
const LOW_STOCK = 10;

/**
 * The badge a product's stock earns: out of stock, low, or none.
 * @param {number} stock
 * @returns {{text: string, tone: string}|null}
 */
function stockBadge(stock) {
  if (stock <= 0) return { text: 'Out of stock', tone: 'bad' };
  if (stock <= LOW_STOCK) return { text: 'Low stock', tone: 'warn' };
  return null;
}

/**
 * Puts a product's status badge into `el` (`data-status` styles it).
 * @param {HTMLElement} el
 * @param {string} status
 */
export function renderStatusBadge(el, status) {
  el.className = 'status-badge';
  el.dataset.status = status;
  setText(el, status);
}

/**
 * Puts the stock figure and its badge into a cell or card line.
 * @param {HTMLElement} el
 * @param {number} stock
 */
export function renderStock(el, stock) {
  const badge = stockBadge(stock);
  el.replaceChildren(formatNumber(stock));
  if (badge) el.append(' ', h('span', { class: `stock-badge ${badge.tone}`, text: badge.text }));
}

/**
 * The product's image (the `variant` rendition), or a placeholder when there
 * is none or it fails to load; replaced only when the image changed.
 * @param {HTMLElement} el
 * @param {string} store
 * @param {any} row
 * @param {'thumb'|'card'} variant
 * @param {number} size width and height in CSS pixels
 */
export function renderImage(el, store, row, variant, size) {
  const key = `${store}/${row.image ?? ''}`;
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  const url = mediaUrl(store, row.image, variant);
  if (!url) {
    el.replaceChildren(placeholder());
    return;
  }
  const img = h('img', { src: url, alt: '', width: size, height: size, decoding: 'async', loading: 'lazy', class: 'thumb' });
  img.addEventListener('error', () => {
    if (el.dataset.key === key) el.replaceChildren(placeholder());
  });
  el.replaceChildren(img);
}

function placeholder() {
  return h('span', { class: 'thumb placeholder', role: 'img', 'aria-label': 'No image' });
}

/**
 * Number of pages the current result has (at least 1).
 * @param {any} s sync state
 * @returns {number}
 */
export function pageCount(s) {
  return Math.max(1, Math.ceil((s.page?.total ?? 0) / (s.page?.view.page_size ?? s.view.page_size)));
}

/**
 * The page number shown: the served page's, or the requested one while loading.
 * @param {any} s sync state
 * @returns {number}
 */
export function pageNumber(s) {
  return s.page ? s.page.view.page : s.view.page;
}

/**
 * @typedef {object} RowEditor the editing half of a row (views/product-editing.js)
 * @property {(tr: any, row: any) => void} build puts edit buttons and action buttons into a new row's cells
 * @property {(tr: any, row: any, s: any) => void} update patches them from fresh data
 * @property {(tr: any) => void} reset closes an open field and shows the row's current data
 */

/**
 * @typedef {object} RowPart more of an editable row (row selection, history)
 * @property {{key: string, label: string}} [column] a column of its own, placed first
 * @property {(th: HTMLElement) => void} [head] fills that column's header cell
 * @property {(tr: any, row: any) => void} build adds its controls to a new row's cells
 * @property {(tr: any, row: any, s: any) => void} update patches them from fresh data
 */

/**
 * @typedef {object} ProductTable
 * @property {HTMLElement} el the region holding the table
 * @property {HTMLElement} empty the "no products match" note (placed after `el`)
 * @property {(s: any) => void} renderHead currency labels and sort state of the headers
 * @property {(s: any) => void} renderRows creates, patches (changed rows only), reorders and drops rows
 * @property {(s: any) => void} renderSummary the caption and the empty note
 * @property {(id: number, note: HTMLElement|null) => boolean} setNote shows (or removes) a
 *   note under a product's row; false when the product is not on the page
 * @property {(id: number) => boolean} resetRow closes an open editor, shows the current data
 */

/**
 * Creates the table. An `editor` makes rows editable and adds an Actions
 * column; `parts` add more to editable rows.
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{editor?: RowEditor|null, parts?: RowPart[]}} [opts]
 * @returns {ProductTable}
 */
export function createProductTable(client, { editor = null, parts = [] } = {}) {
  const rowParts = editor ? [editor, ...parts] : [];
  const own = rowParts.filter((p) => p.column).map((p) => p.column);
  const columns = editor ? [...own, ...COLUMNS, { key: 'actions', label: 'Actions' }] : COLUMNS;
  const { headRow, headCells } = createHead(columns, sortBy);
  for (const p of rowParts) p.head?.(headCells.get(p.column.key));
  const caption = h('caption', { class: 'visually-hidden' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted empty' });
  const table = h('table', { class: 'products' }, caption, h('thead', {}, headRow), tbody);
  const wrap = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'products-title' }, table);
  const list = createKeyedList(tbody, {
    create: (row) => createRow(row, columns, rowParts, (note) => setNote(row.id, note)),
    update: (tr, row, s) => updateRow(tr, row, s, rowParts),
    context: (s, row) => `${s.store}|${s.info?.currency}|${s.pending.length ? s.pending.some((m) => m?.productId === row.id) : false}`,
  });

  function sortBy(key) {
    const v = client.state.get().view;
    client.setView({ sort: key, dir: v.sort === key && v.dir === 'asc' ? 'desc' : 'asc', page: 1 });
  }

  // Headers: currency in the money columns, sort state for assistive tech.
  function renderHead(s) {
    const view = s.view;
    for (const c of columns) {
      const th = headCells.get(c.key);
      if (c.key === 'price' || c.key === 'revenue') {
        const label = s.info ? `${c.label} (${s.info.currency})` : c.label;
        setText(th.querySelector('button') ?? th, label);
      }
      if (c.sort) {
        if (view.sort === c.sort) th.setAttribute('aria-sort', view.dir === 'desc' ? 'descending' : 'ascending');
        else th.removeAttribute('aria-sort');
      }
    }
  }

  function renderRows(s) {
    list.render(s.page?.rows ?? [], s);
  }

  function renderSummary(s) {
    const { page, view } = s;
    const rows = page?.rows ?? [];
    const n = pageNumber(s);
    const total = pageCount(s);
    setText(caption, page ? `Products sorted by ${view.sort} ${view.dir === 'desc' ? 'descending' : 'ascending'}, page ${n} of ${total}` : 'Products');
    setText(empty, page && !rows.length ? 'No products match.' : '');
    empty.hidden = !(page && !rows.length);
  }

  function setNote(id, note) {
    const tr = list.get(id);
    if (!tr) return false;
    for (const el of tr.trailing ?? []) el.remove();
    tr.trailing = [];
    if (note) {
      const noteRow = h('tr', { class: 'row-note', dataset: { noteFor: String(id) } },
        h('td', { colspan: String(columns.length) }, note));
      tr.after(noteRow);
      tr.trailing = [noteRow];
    }
    return true;
  }

  /** Closes an open editor of a product and shows its current data; false when not on the page. */
  function resetRow(id) {
    const tr = list.get(id);
    if (!tr || !editor) return false;
    editor.reset(tr);
    renderStatusBadge(tr.statusBadge, tr.rowData.status);
    return true;
  }

  return { el: wrap, empty, renderHead, renderRows, renderSummary, setNote, resetRow };
}

/** The header row: a sort button in each sortable column's header. */
function createHead(columns, sortBy) {
  const headCells = new Map();
  const headRow = h('tr', {}, ...columns.map((c) => {
    const th = h('th', { scope: 'col', class: c.num ? 'num' : '', dataset: { col: c.key } });
    if (c.sort) {
      th.append(h('button', { type: 'button', class: 'sort', text: c.label, on: { click: () => sortBy(c.sort) } }));
    } else {
      th.textContent = c.label;
    }
    headCells.set(c.key, th);
    return th;
  }));
  return { headRow, headCells };
}

/**
 * A new, empty row: one cell per column (`tr.cells2` by key), plus the
 * controls of the editor and its parts; `tr.setNote` shows a note under it.
 */
function createRow(row, columns, rowParts, setNote) {
  const tr = h('tr', { dataset: { id: String(row.id) } });
  tr.setNote = setNote;
  tr.cells2 = {};
  for (const c of columns) {
    // data-label names the value where phones show rows as cards.
    const td = h('td', { class: c.num ? 'num' : '', dataset: { col: c.key, label: c.label } });
    tr.cells2[c.key] = td;
    tr.append(td);
  }
  tr.statusBadge = h('span');
  for (const p of rowParts) p.build(tr, row);
  if (!rowParts.length) tr.cells2.status.append(tr.statusBadge);
  return tr;
}

/** Patches a row from fresh data. */
function updateRow(tr, row, s, rowParts) {
  const cur = s.info?.currency;
  const old = tr.rowData;
  tr.dataset.sku = row.sku;
  tr.dataset.version = String(row.version);
  tr.dataset.stock = stockBadge(row.stock)?.tone ?? 'ok';
  renderImage(tr.cells2.image, s.store, row, 'thumb', 48);
  if (rowParts.length) {
    for (const p of rowParts) p.update(tr, row, s);
  } else {
    setText(tr.cells2.name, row.name);
    setText(tr.cells2.price, formatMoney(row.price, cur));
    renderStock(tr.cells2.stock, row.stock);
  }
  renderStatusBadge(tr.statusBadge, row.status);
  tr.cells2.price.dataset.value = String(row.price);
  setText(tr.cells2.sku, row.sku);
  setText(tr.cells2.units_sold, formatNumber(row.units_sold));
  setText(tr.cells2.revenue, formatMoney(row.revenue, cur));
  setText(tr.cells2.conversion, formatRatio(row.units_sold, row.views));
  // A short highlight shows sighted users what just changed (an animation
  // rather than a class toggle, which would force a layout per row).
  if (old && old.version !== row.version && !REDUCED_MOTION?.matches) {
    tr.animate?.([{ backgroundColor: '#fff4c2' }, { backgroundColor: 'transparent' }], { duration: 1200, easing: 'ease-out' });
  }
}

const REDUCED_MOTION = globalThis.matchMedia?.('(prefers-reduced-motion: reduce)');
