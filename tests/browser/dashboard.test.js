// The figures at a glance: KPI cards with the revenue target as a progress
// bar; the chart's axis, readable dates, metric switch, today marked as a
// partial day, and tooltips the keyboard reaches; the admin's table as
// cards on a phone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, apiToken, rest, product, PAGES, TIMEOUT, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

test('revenue leads the KPI cards and its target is a progress bar', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const token = await apiToken(env.server.url, 'admin');
  try {
    await loginPage(page, env.server.url, PAGES.storefront, 'viewer');
    const first = await page.$eval('.figures .figure', (f) => f.dataset.kpi);
    assert.equal(first, 'revenue_today');
    const revenue = (await rest(env.server.url, token, 'GET', '/stores/s1/snapshot')).body.dashboard.revenue_today;
    assert.equal((await rest(env.server.url, token, 'PATCH', '/stores/s1/dashboard', { revenue_target: revenue * 2 })).status, 200);
    await waitText(page, '[data-field="revenue_target"]', /^50(\.0)?% of \$[\d,.]+ target$/);
    assert.equal(await page.getAttribute('.target-bar[role="progressbar"]', 'aria-valuenow'), '50');
  } finally {
    await ctx.close();
  }
});

test('the chart has an axis, dates, a metric switch, a partial today and keyboard tooltips', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.storefront, 'viewer');
    await page.waitForSelector('svg.chart rect.bar.today', { timeout: TIMEOUT });
    assert.equal(await page.locator('svg.chart line.grid').count(), 4);
    assert.equal(await page.locator('.y-axis span').count(), 5);
    const dates = await page.$$eval('.x-axis span', (s) => s.map((x) => x.textContent));
    assert.equal(dates.at(-1), 'Today');
    assert.ok(dates.slice(0, -1).every((d) => /^[A-Z][a-z]{2} \d{1,2}$/.test(d)), `readable dates: ${dates}`);
    assert.match(await page.textContent('.legend'), /Today so far/);

    // Orders instead of revenue.
    await page.getByLabel('Orders', { exact: true }).check();
    await waitText(page, '#chart-title', 'Orders per day, last 30 days');
    const today = await page.$eval('svg.chart rect.bar.today', (b) => Number(b.dataset.value));
    const orders = await page.$eval('dd[data-field="orders_today"]', (d) => Number(d.textContent.replace(/\D/g, '')));
    assert.equal(today, orders);

    // One tab stop for the days; arrows move; the tooltip follows focus.
    await page.focus('.chart-days .day[tabindex="0"]');
    await page.keyboard.press('End');
    await waitText(page, '.chart-tip', /\(today so far\): \$[\d,.]+, \d+ orders, \d+ units$/);
    await page.keyboard.press('ArrowLeft');
    await waitText(page, '.chart-tip', (t) => !t.includes('today') && /^[A-Z][a-z]{2}, [A-Z][a-z]{2} \d{1,2}: /.test(t));
    assert.equal(await page.locator('.chart-days .day[tabindex="0"]').count(), 1);
  } finally {
    await ctx.close();
  }
});

test('on a phone the admin table is cards: nothing scrolls sideways, prices in view', async () => {
  const ctx = await newContext(env.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    const overflow = await page.evaluate(() => ({
      // clientWidth: the viewport less a classic scrollbar (Firefox has one).
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      table: (() => { const w = document.querySelector('.table-wrap'); return w.scrollWidth - w.clientWidth; })(),
    }));
    assert.deepEqual(overflow, { page: 0, table: 0 });
    for (const col of ['price', 'status', 'stock']) {
      const box = await page.locator(`${product(100000)} td[data-col="${col}"]`).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${col} within the screen: ${JSON.stringify(box)}`);
    }
  } finally {
    await ctx.close();
  }
});
