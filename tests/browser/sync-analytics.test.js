// Sync performance on the Manage page: after real deliveries to an open
// admin page, the deliveries chart draws a line whose total matches the
// API's series, the range picker reloads the charts, the health panel lists
// early warnings beside the alerts, and today's health report opens as a
// page. The server records a row a second (--analytics-interval-secs 1).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, rest, apiToken, waitLive, until, PAGES, TIMEOUT, serverAndBrowser } from './helpers.js';

process.env.STORESYNC_ANALYTICS_INTERVAL_SECS = '1';
const env = serverAndBrowser();

test('the Manage page charts deliveries over the picked range and links the health reports', async () => {
  const base = env.server.url;
  const context = await newContext(env.browser);
  const admin = await context.newPage();
  await loginPage(admin, base, PAGES.admin, 'admin');
  await waitLive(admin);
  await admin.waitForSelector('[data-field="warnings"]', { timeout: TIMEOUT });
  const token = await apiToken(base, 'admin');
  const products = await rest(base, token, 'GET', '/stores/s1/products?page_size=1');
  const id = products.body.rows[0].id;
  for (let i = 0; i < 3; i++) {
    assert.equal((await rest(base, token, 'PATCH', `/stores/s1/products/${id}`, { stock: 700 + i })).status, 200);
  }
  const delivered = async () => {
    const series = await rest(base, token, 'GET', '/admin/analytics/sync?metric=deliveries&from=' + encodeURIComponent(new Date(Date.now() - 3600e3).toISOString()));
    return series.body.points.reduce((a, p) => a + (p.value ?? 0), 0);
  };
  await until(async () => (await delivered()) >= 3, 'deliveries recorded');

  const manage = await context.newPage();
  await manage.goto(`${base}/manage`);
  const chart = manage.locator('figure[data-metric="deliveries"]');
  await chart.waitFor({ timeout: TIMEOUT });
  await manage.getByLabel('1 hour').check();
  await until(async () => Number(await chart.getAttribute('data-total')) >= 3, 'the chart shows the deliveries');
  assert.ok(await chart.locator('polyline.line').count() >= 1, 'a line is drawn');
  assert.match(await chart.locator('p.muted').textContent(), /in the range/);
  // A store's view hides the node-only charts.
  await manage.locator('select[name="analytics-store"]').selectOption('s1');
  await until(async () => manage.locator('figure[data-metric="bytes_sent"]').isHidden(), 'node-only charts hidden');

  const today = manage.getByRole('link', { name: 'Today so far' });
  await today.click();
  await manage.waitForSelector('h1', { timeout: TIMEOUT });
  assert.match(await manage.locator('h1').textContent(), /storesync health report, .* \(so far\)/);
  assert.match(await manage.locator('body').textContent(), /Incidents/);
  await context.close();
});
