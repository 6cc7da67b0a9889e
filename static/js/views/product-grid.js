// views/product-grid.js: the storefront's products as a grid of cards: the
// card rendition of the image, name, price, status and stock badges. Cards
// are keyed by product id (views/keyed.js), so a live price or badge change
// patches one card. It offers the same parts as the admin's table
// (views/product-table.js), so views/products.js can use either.

import { h, setText } from '../dom.js';
import { formatMoney } from '../format.js';
import { createKeyedList } from './keyed.js';
import { pageCount, pageNumber, renderImage, renderStatusBadge, renderStock } from './product-table.js';

/**
 * Creates the grid.
 * @returns {import('./product-table.js').ProductTable}
 */
export function createProductGrid() {
  const grid = h('ul', { class: 'product-grid', 'aria-labelledby': 'products-title' });
  const summary = h('p', { class: 'visually-hidden', 'aria-live': 'off' });
  const empty = h('p', { class: 'muted empty' });
  const wrap = h('div', { class: 'grid-wrap' }, summary, grid);
  const list = createKeyedList(grid, {
    create: createCard,
    update: updateCard,
    context: (s) => `${s.store}|${s.info?.currency}`,
  });

  function renderSummary(s) {
    const rows = s.page?.rows ?? [];
    setText(summary, s.page ? `Products, page ${pageNumber(s)} of ${pageCount(s)}` : 'Products');
    setText(empty, s.page && !rows.length ? 'No products match.' : '');
    empty.hidden = !(s.page && !rows.length);
  }

  return {
    el: wrap,
    empty,
    renderHead: () => {},
    renderRows: (s) => list.render(s.page?.rows ?? [], s),
    renderSummary,
    setNote: () => false,
    resetRow: () => false,
  };
}

/** A card: the parts carry `data-col` like the table's cells. */
function createCard(row) {
  const card = h('li', { class: 'product-card', dataset: { id: String(row.id) } });
  card.parts = {
    image: h('div', { class: 'card-image', dataset: { col: 'image' } }),
    name: h('h3', { class: 'card-name', dataset: { col: 'name' } }),
    price: h('p', { class: 'card-price', dataset: { col: 'price' } }),
    status: h('span', { dataset: { col: 'status' } }),
    stock: h('p', { class: 'card-stock', dataset: { col: 'stock' } }),
    sku: h('p', { class: 'card-sku muted', dataset: { col: 'sku' } }),
  };
  const p = card.parts;
  card.append(p.image, h('div', { class: 'card-body' }, p.name, p.price, h('p', { class: 'card-badges' }, p.status), p.stock, p.sku));
  return card;
}

function updateCard(card, row, s) {
  const p = card.parts;
  const old = card.rowData;
  card.dataset.sku = row.sku;
  renderImage(p.image, s.store, row, 'card', 400);
  setText(p.name, row.name);
  setText(p.price, formatMoney(row.price, s.info?.currency));
  p.price.dataset.value = String(row.price);
  renderStatusBadge(p.status, row.status);
  p.status.dataset.col = 'status';
  renderStock(p.stock, row.stock);
  setText(p.sku, row.sku);
  if (old && old.price !== row.price) {
    p.price.animate?.([{ backgroundColor: '#fff4c2' }, { backgroundColor: 'transparent' }], { duration: 1200 });
  }
}
