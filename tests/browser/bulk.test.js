// Bulk changes in the admin's product table: select rows (or every product
// matching the filter), preview, apply, see the rows update live, undo; a
// change one product cannot take is refused whole, naming it. Also the
// screenshot of the bar for docs/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newContext, loginPage, waitText, apiToken, rest, product, seriousViolations, screenshot,
  PAGES, TIMEOUT, serverAndBrowser,
} from './helpers.js';

const env = serverAndBrowser();

const BAR = '#bulk-bar';
const priceOf = (id) => `${product(id)} td[data-col="price"] .cell-value`;

/** New s1 products `SKU-1..n` priced 10.00, 20.00, …; their ids. */
async function createProducts(token, prefix, n) {
  const ids = [];
  for (let i = 1; i <= n; i++) {
    const r = await rest(env.server.url, token, 'POST', '/stores/s1/products',
      { sku: `${prefix}-${i}`, name: `Bulk ${prefix} ${i}`, price: i * 1000, stock: 5, status: 'active' });
    assert.equal(r.status, 201);
    ids.push(r.body.product.id);
  }
  return ids;
}

async function adminPage(search) {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  await loginPage(page, env.server.url, PAGES.admin, 'admin');
  await page.fill('.products-card input[type="search"]', search);
  return { page, close: () => ctx.close() };
}

async function choose(page, op, value) {
  await page.selectOption(`${BAR} select[name="bulk-op"]`, op);
  if (value !== undefined) await page.fill(`${BAR} input[name="bulk-value"]`, value);
}

test('select three rows, preview, apply a price change, see the rows update, undo', async () => {
  const token = await apiToken(env.server.url, 'admin');
  const ids = await createProducts(token, 'BLKA', 3);
  const { page, close } = await adminPage('BLKA-');
  try {
    await page.waitForSelector(product(ids[2]), { timeout: TIMEOUT });
    assert.equal(await page.isHidden(BAR), true, 'no bar before a selection');
    // Keyboard: Tab reaches the row checkboxes, Space ticks them.
    for (const id of ids) {
      await page.focus(`${product(id)} input[data-bulk="row"]`);
      await page.keyboard.press('Space');
    }
    await waitText(page, `${BAR} [data-field="bulk-count"]`, '3 selected.');
    await choose(page, 'scale_price', '10');
    await page.click(`${BAR} button[data-bulk="preview"]`);
    await waitText(page, `${BAR} [data-field="bulk-preview"]`, 'Preview: would change 3 of 3 selected products.');
    assert.match(await page.textContent(`${BAR} .bulk-examples`), /BLKA-1: \$10\.00 → \$11\.00/);
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page.locator('.products-card'), 'guide-bulk-preview');
    assert.equal((await rest(env.server.url, token, 'GET', `/stores/s1/products/${ids[0]}`)).body.price, 1000, 'a preview changes nothing');

    await page.click(`${BAR} button[data-bulk="apply"]`);
    await waitText(page, `${BAR} [data-field="bulk-result"]`, /Applied: change price by percent on 3 products/);
    for (const [i, price] of ['$11.00', '$22.00', '$33.00'].entries()) await waitText(page, priceOf(ids[i]), price);
    assert.equal(await page.locator(`${product(ids[0])} input[data-bulk="row"]:checked`).count(), 0, 'the selection is cleared');

    await page.click(`${BAR} button[data-bulk="undo"]`);
    for (const [i, price] of ['$10.00', '$20.00', '$30.00'].entries()) await waitText(page, priceOf(ids[i]), price);
    await waitText(page, `${BAR} [data-field="bulk-result"]`, /Undone/);
    assert.equal(await page.isHidden(`${BAR} button[data-bulk="undo"]`), true);
  } finally {
    await close();
  }
});

test('"all matching the current filter" changes products beyond the page', async () => {
  const token = await apiToken(env.server.url, 'admin');
  const ids = await createProducts(token, 'BLKM', 12);
  const { page, close } = await adminPage('BLKM-');
  try {
    await page.selectOption('.products-card select[name="page_size"]', '10');
    await waitText(page, '[data-field="page-info"]', 'of 2 (12 products)');
    await page.check('.products-card thead input[data-bulk="page"]');
    await waitText(page, `${BAR} [data-field="bulk-count"]`, '10 selected.');
    await page.click(`${BAR} button[data-bulk="all-matching"]`);
    await waitText(page, `${BAR} [data-field="bulk-count"]`, 'All 12 products matching the current filter are selected.');
    await choose(page, 'set_stock', '77');
    await page.click(`${BAR} button[data-bulk="preview"]`);
    await waitText(page, `${BAR} [data-field="bulk-preview"]`, /would change 12 of 12/);
    await page.click(`${BAR} button[data-bulk="apply"]`);
    await waitText(page, `${BAR} [data-field="bulk-result"]`, /Applied: set stock on 12 products/);
    const last = await rest(env.server.url, token, 'GET', `/stores/s1/products/${ids[11]}`);
    assert.equal(last.body.stock, 77, 'a product on the next page changed too');
  } finally {
    await close();
  }
});

test('a change one product cannot take is refused whole and names it under its row', async () => {
  const token = await apiToken(env.server.url, 'admin');
  const ids = await createProducts(token, 'BLKE', 3);
  const { page, close } = await adminPage('BLKE-');
  try {
    await page.waitForSelector(product(ids[2]), { timeout: TIMEOUT });
    await page.check('.products-card thead input[data-bulk="page"]');
    await choose(page, 'add_to_price', '-15.00');
    await page.click(`${BAR} button[data-bulk="apply"]`);
    await waitText(page, `${BAR} .bulk-errors`, /BLKE-1: price would leave/);
    assert.equal(await page.locator(`${BAR} .bulk-errors li`).count(), 1);
    await waitText(page, `tr.row-note[data-note-for="${ids[0]}"] .bulk-failed`, /BLKE-1/);
    assert.deepEqual(await seriousViolations(page), []);
    const second = await rest(env.server.url, token, 'GET', `/stores/s1/products/${ids[1]}`);
    assert.equal(second.body.price, 2000, 'nothing changed');
    // An invalid value is marked on the field and never sent.
    await choose(page, 'set_stock', 'lots');
    await page.click(`${BAR} button[data-bulk="preview"]`);
    assert.equal(await page.getAttribute(`${BAR} input[name="bulk-value"]`, 'aria-invalid'), 'true');
  } finally {
    await close();
  }
});

test('a viewer sees no selection and no bulk bar', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'viewer');
    assert.equal(await page.locator('input[data-bulk]').count(), 0);
    assert.equal(await page.locator(BAR).count(), 0);
    assert.equal(await page.locator('button[data-action="history"]').count(), 0);
  } finally {
    await ctx.close();
  }
});
