// views/products.js: the product performance table with its toolbar (search,
// status filter, page size), sortable headers and pager. Rows are keyed by
// product id and patched in place, so a live update does not wipe what an
// admin is typing in another row, and an input being edited is never
// overwritten under the cursor.

import { h, setText, uniqueId } from '../dom.js';
import { formatMoney, formatNumber, formatRatio, moneyInputValue, parseMoney } from '../format.js';
import { mediaUrl } from '../api.js';

const STATUSES = ['active', 'draft', 'archived'];
const PAGE_SIZES = [10, 25, 50, 100, 200];
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
 * @typedef {object} ProductActions what an editable table calls; each returns a promise
 * @property {(row: any, fields: object, baseVersion: number) => Promise<any>} edit
 * @property {(row: any, baseVersion: number) => Promise<any>} remove
 * @property {(row: any, file: File) => Promise<any>} uploadImage
 * @property {(row: any) => Promise<any>} removeImage
 */

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{actions?: ProductActions}} [opts] actions: makes the table editable
 * @returns {HTMLElement}
 */
export function productsView(client, { actions } = {}) {
  const editable = Boolean(actions);
  const columns = editable ? [...COLUMNS, { key: 'actions', label: 'Actions' }] : COLUMNS;

  // Toolbar.
  const searchId = uniqueId('search');
  const statusId = uniqueId('status');
  const sizeId = uniqueId('size');
  const search = h('input', { id: searchId, type: 'search', name: 'q', autocomplete: 'off' });
  const status = h('select', { id: statusId, name: 'status' },
    h('option', { value: '', text: 'All' }), ...STATUSES.map((s) => h('option', { value: s, text: s })));
  const size = h('select', { id: sizeId, name: 'page_size' }, ...PAGE_SIZES.map((n) => h('option', { value: String(n), text: String(n) })));
  let searchTimer = null;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => client.setView({ q: search.value.trim(), page: 1 }), 300);
  });
  status.addEventListener('change', () => client.setView({ status: status.value, page: 1 }));
  size.addEventListener('change', () => client.setView({ page_size: Number(size.value), page: 1 }));
  const toolbar = h('div', { class: 'toolbar' },
    h('span', { class: 'field-inline' }, h('label', { for: searchId, text: 'Search' }), search),
    h('span', { class: 'field-inline' }, h('label', { for: statusId, text: 'Status' }), status),
    h('span', { class: 'field-inline' }, h('label', { for: sizeId, text: 'Rows per page' }), size));

  // Table.
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
  const caption = h('caption', { class: 'visually-hidden' });
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted empty' });
  const table = h('table', { class: 'products' }, caption, h('thead', {}, headRow), tbody);
  const wrap = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'products-title' }, table);

  // Pager.
  const prev = h('button', { type: 'button', text: 'Previous', on: { click: () => goTo(currentView().page - 1) } });
  const next = h('button', { type: 'button', text: 'Next', on: { click: () => goTo(currentView().page + 1) } });
  const pageId = uniqueId('page');
  const pageInput = h('input', { id: pageId, type: 'number', min: '1', inputmode: 'numeric', class: 'page-input', name: 'page' });
  pageInput.addEventListener('change', () => goTo(Number(pageInput.value)));
  const pageInfo = h('span', { class: 'page-info', dataset: { field: 'page-info' } });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Product pages' },
    prev, h('label', { for: pageId, text: 'Page' }), pageInput, pageInfo, next);

  const title = h('h2', { id: 'products-title', text: 'Products' });
  const el = h('section', { class: 'card products-card', 'aria-labelledby': 'products-title' }, title, toolbar, wrap, empty, pager);

  const rows = new Map();
  const currentView = () => client.state.get().view;
  const pages = (s) => Math.max(1, Math.ceil((s.page?.total ?? 0) / (s.page?.view.page_size ?? s.view.page_size)));
  function goTo(page) {
    const s = client.state.get();
    if (!Number.isInteger(page) || page < 1 || page > pages(s)) return;
    client.setView({ page });
  }
  function sortBy(key) {
    const v = currentView();
    client.setView({ sort: key, dir: v.sort === key && v.dir === 'asc' ? 'desc' : 'asc', page: 1 });
  }

  // ---- rows -------------------------------------------------------------------

  function input(row, key, attrs, toValue) {
    const el = h('input', { ...attrs, 'aria-label': `${attrs['aria-label']} of ${row.sku}`, dataset: { field: key } });
    // The version the user saw when starting to edit: sending it as If-Match
    // turns a concurrent change into a conflict rather than a silent overwrite.
    el.addEventListener('focus', () => { el.dataset.baseVersion = String(rowData(el).version); });
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        el.value = toValue(rowData(el));
        el.blur();
      }
    });
    el.addEventListener('change', () => {
      const data = rowData(el);
      const fields = parse(key, el.value, client.state.get().info?.currency);
      if (!fields) {
        el.setAttribute('aria-invalid', 'true');
        return;
      }
      el.removeAttribute('aria-invalid');
      const base = Number(el.dataset.baseVersion || data.version);
      delete el.dataset.baseVersion;
      actions.edit(data, fields, base);
    });
    return el;
  }

  function rowData(el) {
    return el.closest('tr').rowData;
  }

  function createRow(row) {
    const tr = h('tr', { dataset: { id: String(row.id) } });
    tr.cells2 = {};
    for (const c of columns) {
      const td = h('td', { class: c.num ? 'num' : '', dataset: { col: c.key } });
      tr.cells2[c.key] = td;
      tr.append(td);
    }
    if (editable) {
      const cur = () => client.state.get().info?.currency;
      tr.inputs = {
        name: input(row, 'name', { type: 'text', 'aria-label': 'Name', maxlength: '200', required: true }, (r) => r.name),
        price: input(row, 'price', { type: 'text', inputmode: 'decimal', 'aria-label': 'Price', size: '8' }, (r) => moneyInputValue(r.price, cur())),
        stock: input(row, 'stock', { type: 'number', min: '0', 'aria-label': 'Stock', class: 'narrow' }, (r) => String(r.stock)),
      };
      const statusSel = h('select', { 'aria-label': `Status of ${row.sku}`, dataset: { field: 'status' } },
        ...STATUSES.map((s) => h('option', { value: s, text: s })));
      statusSel.addEventListener('focus', () => { statusSel.dataset.baseVersion = String(tr.rowData.version); });
      statusSel.addEventListener('change', () => {
        const base = Number(statusSel.dataset.baseVersion || tr.rowData.version);
        actions.edit(tr.rowData, { status: statusSel.value }, base);
      });
      tr.inputs.status = statusSel;
      tr.cells2.name.append(tr.inputs.name);
      tr.cells2.price.append(tr.inputs.price);
      tr.cells2.stock.append(tr.inputs.stock);
      tr.cells2.status.append(statusSel);

      const file = h('input', { type: 'file', accept: 'image/*', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', dataset: { field: 'image-file' } });
      file.addEventListener('change', () => {
        if (file.files?.[0]) actions.uploadImage(tr.rowData, file.files[0]).finally(() => { file.value = ''; });
      });
      const upload = h('button', { type: 'button', class: 'small', 'aria-label': `Upload image for ${row.sku}`, text: 'Upload', on: { click: () => file.click() } });
      const unimage = h('button', { type: 'button', class: 'small', 'aria-label': `Remove image of ${row.sku}`, text: 'Remove', dataset: { action: 'remove-image' }, on: { click: () => actions.removeImage(tr.rowData) } });
      // Two steps instead of confirm(): a modal dialog blocks live updates.
      const del = h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${row.sku}`, text: 'Delete', dataset: { action: 'delete' } });
      del.addEventListener('click', () => {
        if (del.dataset.armed) {
          actions.remove(tr.rowData, tr.rowData.version);
          return;
        }
        del.dataset.armed = 'true';
        del.textContent = 'Confirm delete';
        setTimeout(() => { delete del.dataset.armed; del.textContent = 'Delete'; }, 4000);
      });
      tr.unimage = unimage;
      tr.pendingBadge = h('span', { class: 'badge', text: 'queued', hidden: true });
      tr.cells2.actions.append(upload, file, unimage, del, tr.pendingBadge);
    }
    return tr;
  }

  function updateRow(tr, row, s) {
    const cur = s.info?.currency;
    const old = tr.rowData;
    tr.rowData = row;
    tr.dataset.sku = row.sku;
    tr.dataset.version = String(row.version);
    updateThumb(tr.cells2.image, s.store, row);
    if (editable) {
      const put = (el, value) => {
        if (document.activeElement !== el && el.value !== value) el.value = value;
      };
      put(tr.inputs.name, row.name);
      put(tr.inputs.price, moneyInputValue(row.price, cur));
      put(tr.inputs.stock, String(row.stock));
      put(tr.inputs.status, row.status);
      tr.unimage.disabled = !row.image;
      const pending = s.pending.some((m) => m?.productId === row.id);
      tr.pendingBadge.hidden = !pending;
      tr.classList.toggle('pending', pending);
      tr.cells2.price.dataset.value = String(row.price);
      tr.cells2.price.title = formatMoney(row.price, cur);
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

  function render(s) {
    const page = s.page;
    const view = s.view;
    el.dataset.store = s.store ?? '';
    // Headers: currency in the money columns, sort state for assistive tech.
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
    if (document.activeElement !== search) search.value = view.q ?? '';
    status.value = view.status ?? '';
    size.value = String(view.page_size);

    const list = page?.rows ?? [];
    const keep = new Set();
    list.forEach((row, i) => {
      let tr = rows.get(row.id);
      if (!tr) {
        tr = createRow(row);
        rows.set(row.id, tr);
      }
      keep.add(row.id);
      updateRow(tr, row, s);
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
    });
    for (const [id, tr] of rows) {
      if (!keep.has(id)) {
        tr.remove();
        rows.delete(id);
      }
    }
    const n = page ? page.view.page : view.page;
    const total = pages(s);
    setText(pageInfo, page ? `of ${total} (${formatNumber(page.total)} products)` : 'Loading…');
    pageInfo.dataset.page = String(n);
    if (document.activeElement !== pageInput) pageInput.value = String(n);
    pageInput.max = String(total);
    prev.disabled = !page || n <= 1;
    next.disabled = !page || n >= total;
    setText(caption, page ? `Products sorted by ${view.sort} ${view.dir === 'desc' ? 'descending' : 'ascending'}, page ${n} of ${total}` : 'Products');
    setText(empty, page && !list.length ? 'No products match.' : '');
    empty.hidden = !(page && !list.length);
  }

  render(client.state.get());
  client.state.subscribe((s, reason) => {
    if (!['health', 'connection', 'presence'].includes(reason)) render(s);
  });
  return el;
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

/** Parses an edited cell into PATCH fields, or null when invalid. */
function parse(key, value, currency) {
  if (key === 'name') {
    const name = value.trim();
    return name && name.length <= 200 ? { name } : null;
  }
  if (key === 'price') {
    const price = parseMoney(value, currency);
    return price === null ? null : { price };
  }
  if (key === 'stock') {
    const stock = Number(value);
    return Number.isSafeInteger(stock) && stock >= 0 ? { stock } : null;
  }
  return null;
}
