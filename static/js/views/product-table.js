// views/product-table.js: the product table itself: its columns, sortable
// headers, caption, and rows keyed by product id that are patched in place,
// so a live update never rebuilds a row (focus and half-typed input in
// another row survive). What makes a row editable comes in as a RowEditor
// (views/product-editing.js); without one the cells are read-only text.

import { h, setText } from '../dom.js';
import { formatMoney, formatNumber, formatRatio } from '../format.js';
import { mediaUrl } from '../api.js';

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
  { key: 'units_sold', label: 'Units sold', sort: 'units_sold', num: true },
  { key: 'revenue', label: 'Revenue', sort: 'revenue', num: true },
  { key: 'conversion', label: 'Conversion', num: true },
];

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
 * @property {(tr: any, row: any) => void} build puts inputs and action buttons into a new row's cells
 * @property {(tr: any, row: any, s: any) => void} update patches them from fresh data
 */

/**
 * @typedef {object} ProductTable
 * @property {HTMLElement} el the scrollable region holding the table
 * @property {HTMLElement} empty the "no products match" note (placed after `el`)
 * @property {(s: any) => void} renderHead currency labels and sort state of the headers
 * @property {(s: any) => void} renderRows creates, patches, reorders and drops rows
 * @property {(s: any) => void} renderSummary the caption and the empty note
 */

/**
 * Creates the table. An `editor` makes rows editable and adds an Actions column.
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{editor?: RowEditor|null}} [opts]
 * @returns {ProductTable}
 */
export function createProductTable(client, { editor = null } = {}) {
  const columns = editor ? [...COLUMNS, { key: 'actions', label: 'Actions' }] : COLUMNS;
  const { headRow, headCells } = createHead(columns, sortBy);
  const caption = h('caption', { class: 'visually-hidden' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted empty' });
  const table = h('table', { class: 'products' }, caption, h('thead', {}, headRow), tbody);
  const wrap = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'products-title' }, table);
  /** @type {Map<number, any>} product id → its <tr> */
  const rows = new Map();

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

  // Keyed reconciliation: reuse each product's row, move it into place, and
  // drop the rows of products no longer on the page.
  function renderRows(s) {
    const list = s.page?.rows ?? [];
    const keep = new Set();
    list.forEach((row, i) => {
      let tr = rows.get(row.id);
      if (!tr) {
        tr = createRow(row, columns, editor);
        rows.set(row.id, tr);
      }
      keep.add(row.id);
      updateRow(tr, row, s, editor);
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
    });
    for (const [id, tr] of rows) {
      if (!keep.has(id)) {
        tr.remove();
        rows.delete(id);
      }
    }
  }

  function renderSummary(s) {
    const { page, view } = s;
    const list = page?.rows ?? [];
    const n = pageNumber(s);
    const total = pageCount(s);
    setText(caption, page ? `Products sorted by ${view.sort} ${view.dir === 'desc' ? 'descending' : 'ascending'}, page ${n} of ${total}` : 'Products');
    setText(empty, page && !list.length ? 'No products match.' : '');
    empty.hidden = !(page && !list.length);
  }

  return { el: wrap, empty, renderHead, renderRows, renderSummary };
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

/** A new, empty row: one cell per column (`tr.cells2` by key), plus the editor's controls. */
function createRow(row, columns, editor) {
  const tr = h('tr', { dataset: { id: String(row.id) } });
  tr.cells2 = {};
  for (const c of columns) {
    const td = h('td', { class: c.num ? 'num' : '', dataset: { col: c.key } });
    tr.cells2[c.key] = td;
    tr.append(td);
  }
  if (editor) editor.build(tr, row);
  return tr;
}

/** Patches a row from fresh data, touching only what changed. */
function updateRow(tr, row, s, editor) {
  const cur = s.info?.currency;
  const old = tr.rowData;
  tr.rowData = row;
  tr.dataset.sku = row.sku;
  tr.dataset.version = String(row.version);
  updateThumb(tr.cells2.image, s.store, row);
  if (editor) {
    editor.update(tr, row, s);
  } else {
    setText(tr.cells2.name, row.name);
    setText(tr.cells2.price, formatMoney(row.price, cur));
    setText(tr.cells2.stock, formatNumber(row.stock));
    setText(tr.cells2.status, row.status);
    tr.cells2.price.dataset.value = String(row.price);
  }
  setText(tr.cells2.sku, row.sku);
  setText(tr.cells2.units_sold, formatNumber(row.units_sold));
  setText(tr.cells2.revenue, formatMoney(row.revenue, cur));
  setText(tr.cells2.conversion, formatRatio(row.units_sold, row.views));
  // A short highlight shows sighted users what just changed.
  if (old && old.version !== row.version) {
    tr.classList.remove('flash');
    void tr.offsetWidth;
    tr.classList.add('flash');
  }
}

/** The thumbnail, or a placeholder when there is no image or it fails to load. */
function updateThumb(td, store, row) {
  const key = `${store}/${row.image ?? ''}`;
  if (td.dataset.key === key) return;
  td.dataset.key = key;
  const url = mediaUrl(store, row.image, 'thumb');
  if (!url) {
    td.replaceChildren(placeholder());
    return;
  }
  const img = h('img', { src: url, alt: '', width: 40, height: 40, decoding: 'async', class: 'thumb' });
  img.addEventListener('error', () => {
    if (td.dataset.key === key) td.replaceChildren(placeholder());
  });
  td.replaceChildren(img);
}

function placeholder() {
  return h('span', { class: 'thumb placeholder', role: 'img', 'aria-label': 'No image' });
}
