// The audit trail in the admin page: a product's history (who, when, each
// field before → after) opened from its row, and the store's Activity feed,
// which follows live changes from the page's own batches, filters by kind
// and person, and links its export. Also the history screenshot for docs/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newContext, loginPage, waitText, apiToken, rest, product, seriousViolations, screenshot, recordFrames, until,
  PAGES, TIMEOUT, serverAndBrowser,
} from './helpers.js';

const env = serverAndBrowser();

test('History shows a price edit by another session as before → after, and follows live changes', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const editor = await apiToken(env.server.url, 'editor');
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    const created = await rest(env.server.url, editor, 'POST', '/stores/s1/products',
      { sku: 'HIST-UI', name: 'History hat', price: 1250, stock: 4, status: 'active' });
    assert.equal(created.status, 201);
    const id = created.body.product.id;
    await rest(env.server.url, editor, 'PATCH', `/stores/s1/products/${id}`, { price: 1499 });
    await page.fill('.products-card input[type="search"]', 'HIST-UI');
    await page.waitForSelector(`${product(id)} button[data-action="history"]`, { timeout: TIMEOUT });

    await page.click(`${product(id)} button[data-action="history"]`);
    const dialog = '#product-history';
    await waitText(page, `${dialog} h2`, 'History of HIST-UI (History hat)');
    const priceRow = `${dialog} tbody tr[data-field="price"]`;
    await waitText(page, `${priceRow} td.after`, '$14.99');
    assert.equal(await page.textContent(`${priceRow} td.before`), '$12.50');
    assert.match(await page.textContent(`${priceRow}`), /editor/);
    // The creation is listed last (oldest), with nothing before.
    assert.equal(await page.locator(`${dialog} tbody tr`).count(), 7);

    // Open dialog, live change: it reads the history again.
    await rest(env.server.url, editor, 'PATCH', `/stores/s1/products/${id}`, { stock: 9 });
    await waitText(page, `${dialog} tbody tr[data-field="stock"] td.after`, '9');
    assert.equal(await page.textContent(`${dialog} tbody tr[data-field="stock"] td.before`), '4');
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page.locator(dialog), 'guide-product-history');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator(`${dialog}[open]`).count(), 0);
  } finally {
    await ctx.close();
  }
});

test('the Activity feed shows new events live, filters by kind and person, and links its export', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const frames = recordFrames(page);
  const editor = await apiToken(env.server.url, 'editor');
  const admin = await apiToken(env.server.url, 'admin');
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    await page.waitForSelector('#activity:not([hidden])', { timeout: TIMEOUT });
    const audits = [];
    page.on('request', (r) => { if (r.url().includes('/audit')) audits.push(r.url()); });

    const r = await rest(env.server.url, editor, 'PATCH', '/stores/s1/products/100020', { stock: 321 });
    assert.equal(r.status, 200);
    const live = `#activity li[data-seq="${r.body.seq}"]`;
    await waitText(page, live, /editor: .*stock 321/);
    assert.deepEqual(audits, [], 'the feed follows the batches, without asking the server again');
    assert.ok(frames.received.some((f) => f.type === 'batch'));

    // Filter by kind: only product changes; the dashboard change is left out.
    await page.selectOption('#activity select[name="activity-kind"]', 'product.updated');
    await until(async () => (await page.locator('#activity li').count()) > 0, 'the filtered feed');
    await rest(env.server.url, admin, 'PATCH', '/stores/s1/dashboard', { notice: 'feed test' });
    await rest(env.server.url, admin, 'PATCH', '/stores/s1/products/100021', { stock: 322 });
    await waitText(page, '#activity li:first-child', /admin: .*stock 322/);
    const kinds = await page.$$eval('#activity li', (items) => items.map((li) => li.dataset.kind));
    assert.ok(kinds.every((k) => k === 'product.updated'), kinds.join());

    // Filter by person: the editor's changes only.
    await page.selectOption('#activity select[name="activity-who"]', 'user:editor');
    await until(async () => {
      const text = await page.$$eval('#activity li .by', (els) => els.map((e) => e.textContent));
      return text.length > 0 && text.every((t) => t === 'editor');
    }, 'only the editor');
    const href = await page.getAttribute('#activity a[data-export="csv"]', 'href');
    assert.match(href, /\/audit\?.*kind=product\.updated.*principal=user%3Aeditor.*format=csv/);
    const csv = await page.evaluate(async (url) => (await fetch(url)).text(), href);
    assert.match(csv.split('\n')[0], /^seq,at,kind,entity_id,by,data/);
    // CSV doubles the quotes of the JSON in the data column.
    assert.ok(csv.includes('""stock"":321') && !csv.includes('""stock"":322'), csv);
    assert.deepEqual(await seriousViolations(page), []);
  } finally {
    await ctx.close();
  }
});
