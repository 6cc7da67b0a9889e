// The admin's analytics panel and KPIs, live: a sale recorded elsewhere
// moves the panel's hourly bar and "today so far" without a reload or
// polling, the headline cards show the change against yesterday with an
// arrow and words, and a KPI a store admin defines shows on the dashboard
// with its state; an admin adds and deletes one in the card. A file of its own: its server's login limiter is its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, until, apiToken, rest, PAGES, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

test('the analytics panel follows a sale live and a KPI shows on the dashboard', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    await page.evaluate(() => { window.__noReload = true; });
    const token = await apiToken(env.server.url, 'admin');
    await page.waitForSelector('#analytics .hour[data-hour="23"]');

    // A sale through the API: the panel's bar for this hour follows.
    const product = (await rest(env.server.url, token, 'GET', '/stores/s1/products?page_size=1')).body.rows[0];
    const sale = await rest(env.server.url, token, 'POST', '/stores/s1/sales', { lines: [{ product_id: product.id, quantity: 3, unit_price: 12345 }] });
    assert.equal(sale.status, 201);
    const after = (await rest(env.server.url, token, 'GET', '/stores/s1/analytics')).body;
    const hour = Number(after.as_of.slice(0, 2));
    await until(async () => (await page.getAttribute(`#analytics .hour[data-hour="${hour}"]`, 'data-today')) === String(after.today.revenue[hour]),
      'the hourly bar to include the sale');
    await waitText(page, '#analytics dd[data-field="today-so-far"]', (t) => t.includes('$') && t.length > 1);

    // The cards compare with yesterday at the same time, in words too.
    const change = await waitText(page, '[data-change="revenue_today"]', /vs yesterday/);
    assert.match(change, /[▲▼■]/);
    assert.match(change, /(up from|down from|same as) .* yesterday by \d\d:\d\d/);

    // A KPI defined elsewhere appears with its state.
    const kpi = await rest(env.server.url, token, 'PUT', '/stores/s1/kpis/Busy%20day', { metric: 'orders_today', op: '>=', threshold: 1 });
    assert.equal(kpi.status, 200);
    await page.waitForSelector('#kpis .kpi[data-kpi="Busy day"][data-status="breached"]');
    await waitText(page, '#kpis .kpi[data-kpi="Busy day"] .kpi-status', 'Breached');

    // A store admin adds one through the card's form, and deletes it.
    await page.fill('#kpis input[name="kpi-name"]', 'Quiet week');
    await page.selectOption('#kpis select[name="kpi-metric"]', 'orders_7d');
    await page.selectOption('#kpis select[name="kpi-op"]', '<');
    await page.fill('#kpis input[name="kpi-threshold"]', '1');
    await page.click('#kpis button[type="submit"]');
    await page.waitForSelector('#kpis .kpi[data-kpi="Quiet week"][data-status="ok"]');
    const stored = (await rest(env.server.url, token, 'GET', '/stores/s1/kpis')).body;
    assert.deepEqual(stored.find((k) => k.name === 'Quiet week').definition, { metric: 'orders_7d', op: '<', threshold: 1 });
    await page.click('#kpis button[aria-label="Delete KPI Quiet week"]');
    await page.waitForSelector('#kpis .kpi[data-kpi="Quiet week"]', { state: 'detached' });
    assert.equal(await page.evaluate(() => window.__noReload), true, 'no reload');
  } finally {
    await ctx.close();
  }
});
