// Editing products in the admin table while others edit them too: read-only
// cells that open an editor on click, a field never silently stale (it
// follows live changes until the user types; after that the row says who
// changed it), If-Match conflicts on the row being edited, and a viewer's
// read-only admin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, apiToken, rest, editCell, product, PAGES, TIMEOUT, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

const cell = (id, field) => `${product(id)} td[data-col="${field}"]`;
const input = (id, field) => `${cell(id, field)} input[data-field="${field}"]`;

async function adminPage() {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  await loginPage(page, env.server.url, PAGES.admin, 'admin');
  return { page, close: () => ctx.close() };
}

test('cells are read-only text with badges until clicked; Enter saves, Escape cancels', async () => {
  const { page, close } = await adminPage();
  const token = await apiToken(env.server.url, 'admin');
  try {
    // Row selection checkboxes (bulk changes) are the only inputs always on.
    const inputs = '.products-card tbody input:not([type="file"]):not([data-bulk="row"])';
    assert.equal(await page.locator(inputs).count(), 0, 'no always-on inputs');
    await page.waitForSelector(`${cell(100000, 'status')} .status-badge[data-status]`, { timeout: TIMEOUT });
    // Low stock earns a badge.
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100010', { stock: 3 });
    await waitText(page, `${cell(100010, 'stock')} .stock-badge`, 'Low stock');

    await page.click(`${cell(100011, 'price')} button.cell-edit`);
    await page.fill(input(100011, 'price'), '99.99');
    await page.press(input(100011, 'price'), 'Escape');
    assert.equal(await page.locator(input(100011, 'price')).count(), 0);
    assert.notEqual((await rest(env.server.url, token, 'GET', '/stores/s1/products/100011')).body.price, 9999);

    await editCell(page, 100011, 'price', '12.34');
    await waitText(page, '#table-status', /Saved S1-00012/);
    assert.equal((await rest(env.server.url, token, 'GET', '/stores/s1/products/100011')).body.price, 1234);
    // Focus went back to the value, which follows later changes.
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('cell-edit')), true);
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100011', { price: 2345 });
    await waitText(page, `${cell(100011, 'price')} .cell-value`, '$23.45');
  } finally {
    await close();
  }
});

test('an open field follows live changes until the user types', async () => {
  const { page, close } = await adminPage();
  const token = await apiToken(env.server.url, 'editor');
  try {
    await page.click(`${cell(100012, 'stock')} button.cell-edit`);
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100012', { stock: 777 });
    await page.waitForFunction((sel) => document.querySelector(sel)?.value === '777', input(100012, 'stock'), { timeout: TIMEOUT });
    assert.equal(await page.locator(`${product(100012)} ~ tr.row-note`).count(), 0, 'no note when nothing was typed');
    // Saving from there is not a conflict: the edit now starts from 777's version.
    await page.fill(input(100012, 'stock'), '778');
    await page.press(input(100012, 'stock'), 'Enter');
    await waitText(page, '#table-status', /Saved S1-00013/);
    assert.equal((await rest(env.server.url, token, 'GET', '/stores/s1/products/100012')).body.stock, 778);
  } finally {
    await close();
  }
});

test('a change to a field being typed in shows who made it: take theirs or keep mine', async () => {
  const { page, close } = await adminPage();
  const token = await apiToken(env.server.url, 'editor');
  try {
    // Take theirs: the field shows their value.
    await page.click(`${cell(100013, 'price')} button.cell-edit`);
    await page.fill(input(100013, 'price'), '10.00');
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100013', { price: 3333 });
    const note = `tr.row-note[data-note-for="100013"] .row-alert.changed`;
    await waitText(page, `${note} p`, /Price changed by editor to \$33\.33/);
    assert.equal(await page.inputValue(input(100013, 'price')), '10.00', 'what the user typed is kept until they choose');
    await page.click(`${note} >> text=Take theirs`);
    assert.equal(await page.inputValue(input(100013, 'price')), '33.33');
    await page.press(input(100013, 'price'), 'Escape');

    // Keep mine: saving overwrites their value, knowingly.
    await page.click(`${cell(100014, 'price')} button.cell-edit`);
    await page.fill(input(100014, 'price'), '11.00');
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100014', { price: 4444 });
    await page.waitForSelector(`tr.row-note[data-note-for="100014"] .row-alert.changed`, { timeout: TIMEOUT });
    await page.click(`tr.row-note[data-note-for="100014"] >> text=Keep mine`);
    assert.equal(await page.inputValue(input(100014, 'price')), '11.00');
    await page.press(input(100014, 'price'), 'Enter');
    await waitText(page, '#table-status', /Saved S1-00015/);
    assert.equal((await rest(env.server.url, token, 'GET', '/stores/s1/products/100014')).body.price, 1100);
  } finally {
    await close();
  }
});

test('a conflict shows on the row being edited; Keep theirs shows their value', async () => {
  const { page, close } = await adminPage();
  const token = await apiToken(env.server.url, 'editor');
  try {
    // Saving over a change the row already reported, without choosing,
    // sends the version the edit started from: the server refuses it.
    await page.click(`${cell(100015, 'price')} button.cell-edit`);
    await page.fill(input(100015, 'price'), '12.00');
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100015', { price: 5555 });
    await page.waitForSelector(`tr.row-note[data-note-for="100015"] .row-alert.changed`, { timeout: TIMEOUT });
    await page.press(input(100015, 'price'), 'Enter');
    const alert = `tr.row-note[data-note-for="100015"] .alert.conflict`;
    await waitText(page, `${alert} p`, /S1-00016 was changed by someone else.*\$12\.00.*\$55\.55/);
    // On the row, near the user: the table's region holds it, not the page top.
    assert.equal(await page.locator('#alerts .alert').count(), 0);
    await page.click(`${alert} >> text=Keep theirs`);
    assert.equal(await page.locator(alert).count(), 0);
    await waitText(page, `${cell(100015, 'price')} .cell-value`, '$55.55');
    assert.equal((await rest(env.server.url, token, 'GET', '/stores/s1/products/100015')).body.price, 5555);
  } finally {
    await close();
  }
});

test('a viewer gets a read-only admin that points to the storefront', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'viewer');
    await waitText(page, '#read-only', /not change it/);
    assert.equal(await page.locator('button.cell-edit').count(), 0, 'no edit controls');
    assert.equal(await page.locator('form').count(), 0, 'no forms');
    assert.equal(await page.getAttribute('#read-only a', 'href'), '/storefront');
    await page.waitForSelector(`${cell(100000, 'price')}`, { timeout: TIMEOUT });
  } finally {
    await ctx.close();
  }
});
