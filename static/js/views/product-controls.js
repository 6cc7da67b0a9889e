// views/product-controls.js: the controls around the product table that
// change the requested view through `client.setView`: the toolbar (search,
// status filter, rows per page) and the pager. On render they show the
// current view, but never overwrite a field while the user is typing in it.

import { h, setText, uniqueId } from '../dom.js';
import { formatNumber } from '../format.js';
import { STATUSES, pageCount, pageNumber } from './product-table.js';

const PAGE_SIZES = [10, 25, 50, 100, 200];

/**
 * @typedef {object} ViewControl
 * @property {HTMLElement} el
 * @property {(s: any) => void} render shows the current state's view
 */

/** Sort orders the toolbar offers where there are no sortable headers. */
const SORTS = [
  ['id:asc', 'Catalogue order'], ['name:asc', 'Name'], ['price:asc', 'Price, low to high'],
  ['price:desc', 'Price, high to low'], ['units_sold:desc', 'Best selling'], ['stock:desc', 'Most in stock'],
];

/**
 * The toolbar: search (debounced), status filter and page size; `sort`
 * adds a sort select (for the cards, which have no headers).
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{sort?: boolean}} [opts]
 * @returns {ViewControl}
 */
export function createToolbar(client, { sort = false } = {}) {
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
  const sortId = uniqueId('sort');
  const sortSel = sort ? h('select', { id: sortId, name: 'sort' }, ...SORTS.map(([v, t]) => h('option', { value: v, text: t }))) : null;
  sortSel?.addEventListener('change', () => {
    const [key, dir] = sortSel.value.split(':');
    client.setView({ sort: key, dir, page: 1 });
  });
  const el = h('div', { class: 'toolbar' },
    h('span', { class: 'field-inline' }, h('label', { for: searchId, text: 'Search' }), search),
    sortSel ? h('span', { class: 'field-inline' }, h('label', { for: sortId, text: 'Sort by' }), sortSel) : null,
    h('span', { class: 'field-inline' }, h('label', { for: statusId, text: 'Status' }), status),
    h('span', { class: 'field-inline' }, h('label', { for: sizeId, text: sort ? 'Per page' : 'Rows per page' }), size));

  function render(s) {
    const view = s.view;
    if (sortSel) {
      const v = `${view.sort}:${view.dir}`;
      if (!SORTS.some(([k]) => k === v)) sortSel.append(h('option', { value: v, text: `${view.sort} (${view.dir})` }));
      sortSel.value = v;
    }
    if (document.activeElement !== search) search.value = view.q ?? '';
    status.value = view.status ?? '';
    size.value = String(view.page_size);
  }

  return { el, render };
}

/**
 * The pager: previous/next buttons, a page number input and "of N".
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {ViewControl}
 */
export function createPager(client) {
  function goTo(page) {
    const s = client.state.get();
    if (!Number.isInteger(page) || page < 1 || page > pageCount(s)) return;
    client.setView({ page });
  }
  const currentPage = () => client.state.get().view.page;
  const prev = h('button', { type: 'button', text: 'Previous', on: { click: () => goTo(currentPage() - 1) } });
  const next = h('button', { type: 'button', text: 'Next', on: { click: () => goTo(currentPage() + 1) } });
  const pageId = uniqueId('page');
  const pageInput = h('input', { id: pageId, type: 'number', min: '1', inputmode: 'numeric', class: 'page-input', name: 'page' });
  pageInput.addEventListener('change', () => goTo(Number(pageInput.value)));
  const pageInfo = h('span', { class: 'page-info', dataset: { field: 'page-info' } });
  const el = h('nav', { class: 'pager', 'aria-label': 'Product pages' },
    prev, h('label', { for: pageId, text: 'Page' }), pageInput, pageInfo, next);

  function render(s) {
    const page = s.page;
    const n = pageNumber(s);
    const total = pageCount(s);
    setText(pageInfo, page ? `of ${total} (${formatNumber(page.total)} products)` : 'Loading…');
    pageInfo.dataset.page = String(n);
    if (document.activeElement !== pageInput) pageInput.value = String(n);
    pageInput.max = String(total);
    prev.disabled = !page || n <= 1;
    next.disabled = !page || n >= total;
  }

  return { el, render };
}
