// Store switching in both pages: the new store's figures in its currency,
// and never a figure of the previous store left on screen, not even for the
// moment before the new store's snapshot arrives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, PAGES, TIMEOUT, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

/** Every figure, chart label and row the page shows for the current store. */
function storeTexts(page) {
  return page.evaluate(() => ({
    figures: [...document.querySelectorAll('.dashboard dd')].map((d) => d.textContent),
    skus: [...document.querySelectorAll('.products-card [data-id]')].map((tr) => tr.dataset.sku),
    chart: document.querySelector('#chart-desc')?.textContent ?? '',
    headings: document.querySelector('#dash-title')?.textContent ?? '',
  }));
}

/**
 * Switches the store select and, in the same task (before any frame can
 * arrive), reads what the page shows; then waits for the new store.
 */
async function switchTo(page, slug, symbol, skuPrefix) {
  const immediate = await page.evaluate((slug) => {
    const select = document.querySelector('select[name="store"]');
    select.value = slug;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    return {
      figures: [...document.querySelectorAll('.dashboard dd')].map((d) => d.textContent),
      skus: [...document.querySelectorAll('.products-card [data-id]')].map((tr) => tr.dataset.sku),
    };
  }, slug);
  await page.waitForFunction(({ prefix }) => {
    const rows = [...document.querySelectorAll('.products-card [data-id]')];
    return rows.length > 0 && rows.every((tr) => tr.dataset.sku.startsWith(prefix));
  }, { prefix: skuPrefix }, { timeout: TIMEOUT });
  await waitText(page, 'dd[data-field="revenue_today"]', (t) => t.includes(symbol));
  return immediate;
}

async function checkSwitching(page, stores) {
  const [first, ...rest] = stores;
  let previous = await storeTexts(page);
  let prevStore = first;
  assert.ok(previous.skus.every((s) => s.startsWith(first.prefix)));
  assert.ok(previous.figures[0].includes(first.symbol));
  for (const next of rest) {
    const immediate = await switchTo(page, next.slug, next.symbol, next.prefix);
    // Right after the switch: placeholders (or the new store's cache), nothing old.
    assert.ok(immediate.skus.every((s) => !s.startsWith(previous.skus[0].slice(0, 3))), `old rows shown: ${immediate.skus}`);
    // Money figures carry the currency, so any figure of the old store shows its symbol.
    assert.ok(immediate.figures.every((f) => !f.includes(prevStore.symbol)), `old figures shown: ${immediate.figures}`);
    const now = await storeTexts(page);
    assert.ok(now.figures.every((f) => !f.includes(previous.figures[0])), 'old revenue figure still shown');
    assert.ok(!now.chart.includes(previous.chart) || previous.chart === '', 'old chart still shown');
    assert.ok(now.skus.every((s) => s.startsWith(next.prefix)));
    previous = now;
    prevStore = next;
  }
}

const S1 = { slug: 's1', symbol: '$', prefix: 'S1-' };
const S2 = { slug: 's2', symbol: '€', prefix: 'S2-' };
const S3 = { slug: 's3', symbol: '¥', prefix: 'S3-' };

test('the admin switches stores without showing figures of the previous one', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    await checkSwitching(page, [S1, S2, S3, S1]);
    // JPY has no minor digits: no decimals in the price editor.
    await switchTo(page, 's3', '¥', 'S3-');
    await page.click('.products-card [data-id] td[data-col="price"] button.cell-edit');
    const price = await page.inputValue('.products-card [data-id] input[data-field="price"]');
    assert.match(price, /^\d+$/);
  } finally {
    await ctx.close();
  }
});

test('the storefront switches stores without showing figures of the previous one', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.storefront, 'viewer');
    // The viewer has s1 and s2 only.
    const options = await page.$$eval('select[name="store"] option', (os) => os.map((o) => o.value));
    assert.deepEqual(options, ['s1', 's2']);
    await checkSwitching(page, [S1, S2, S1]);
    // After a reload the page comes back to the store last shown.
    await switchTo(page, 's2', '€', 'S2-');
    await page.reload();
    await page.waitForSelector('#connection[data-state="live"]', { timeout: TIMEOUT });
    await waitText(page, 'dd[data-field="revenue_today"]', /€/);
  } finally {
    await ctx.close();
  }
});
