// views/products.js: the product performance card: toolbar (search, status
// filter, page size), the table with sortable headers and keyed rows, and
// the pager. This module only assembles the parts and re-renders them on
// state changes; each part lives in its own module:
// - views/product-controls.js: toolbar and pager (they change the view)
// - views/product-table.js: headers, caption, rows patched in place by id
// - views/product-grid.js: the storefront's cards, patched the same way
// - views/product-editing.js: editable cells and row actions (admin only)

import { h } from '../dom.js';
import { createToolbar, createPager } from './product-controls.js';
import { createProductTable } from './product-table.js';
import { createProductGrid } from './product-grid.js';
import { createRowEditor } from './product-editing.js';

/**
 * @typedef {object} ProductActions what an editable table calls; each returns a promise
 * @property {(row: any, fields: object, baseVersion: number) => Promise<any>} edit
 * @property {(row: any, baseVersion: number) => Promise<any>} remove
 * @property {(row: any, file: File) => Promise<any>} uploadImage
 * @property {(row: any) => Promise<any>} removeImage
 */

/** State changes that can change what the card shows. */
const RENDER_ON = new Set(['snapshot', 'batch', 'page', 'switch', 'view', 'queue', 'refresh', 'hello', 'follow']);

/**
 * @typedef {object} ProductsView
 * @property {HTMLElement} el the card
 * @property {(id: number, note: HTMLElement|null) => boolean} setNote a note under a product's row
 * @property {(id: number) => boolean} resetRow shows a product's current data in its row
 */

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{actions?: ProductActions, parts?: import('./product-table.js').RowPart[], grid?: boolean}} [opts]
 *   actions: makes the table editable; parts: more controls of editable rows;
 *   grid: cards (the storefront) instead of a table
 * @returns {ProductsView}
 */
export function productsView(client, { actions, parts, grid = false } = {}) {
  const toolbar = createToolbar(client, { sort: grid });
  const table = grid ? createProductGrid()
    : createProductTable(client, { editor: actions ? createRowEditor(client, actions) : null, parts });
  const pager = createPager(client);
  const title = h('h2', { id: 'products-title', text: 'Products' });
  const el = h('section', { class: 'card products-card', 'aria-labelledby': 'products-title' },
    title, toolbar.el, table.el, table.empty, pager.el);

  function render(s) {
    el.dataset.store = s.store ?? '';
    table.renderHead(s);
    toolbar.render(s);
    table.renderRows(s);
    pager.render(s);
    table.renderSummary(s);
  }

  render(client.state.get());
  client.state.subscribe((s, reason) => {
    if (RENDER_ON.has(reason)) render(s);
  });
  return { el, setNote: table.setNote, resetRow: table.resetRow };
}
