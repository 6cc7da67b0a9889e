// The storefront as a shop: product cards with live prices and badges,
// deep links to a store and a page, and following the admin's published
// page: a follower who moves away is told so and can go back; the admin
// sees how many follow.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, apiToken, rest, product, PAGES, TIMEOUT, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

test('cards show the card rendition, price and badges, updated live', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const token = await apiToken(env.server.url, 'admin');
  try {
    await loginPage(page, env.server.url, PAGES.storefront, 'viewer');
    assert.equal(await page.locator('.product-grid li.product-card').count(), 25);
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100006', { stock: 0, status: 'archived' });
    await waitText(page, `${product(100006)} .stock-badge`, 'Out of stock');
    await waitText(page, `${product(100006)} .status-badge`, 'archived');
  } finally {
    await ctx.close();
  }
});

test('a link opens the store and page it names, and the address follows the page', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, `${PAGES.storefront}?store=s2&page=2&sort=price&dir=desc`, 'viewer');
    await waitText(page, 'dd[data-field="revenue_today"]', /€/);
    await page.waitForSelector('[data-field="page-info"][data-page="2"]', { timeout: TIMEOUT });
    const prices = await page.$$eval('.product-card [data-col="price"]', (ps) => ps.map((p) => Number(p.dataset.value)));
    assert.deepEqual(prices, [...prices].sort((a, b) => b - a), 'sorted by price, descending');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForSelector('[data-field="page-info"][data-page="3"]', { timeout: TIMEOUT });
    await page.waitForFunction(() => new URLSearchParams(location.search).get('page') === '3', null, { timeout: TIMEOUT });
    assert.match(page.url(), /store=s2/);
  } finally {
    await ctx.close();
  }
});

test('a follower who leaves the published page is told, and can go back', async () => {
  const adminCtx = await newContext(env.browser);
  const shopCtx = await newContext(env.browser);
  await shopCtx.addInitScript(() => localStorage.setItem('storesync:follow', '1'));
  const admin = await adminCtx.newPage();
  const shop = await shopCtx.newPage();
  try {
    await loginPage(admin, env.server.url, PAGES.admin, 'admin');
    await loginPage(shop, env.server.url, PAGES.storefront, 'viewer');
    // The admin sees one follower.
    await waitText(admin, '[data-field="followers-count"]', '1 storefront follows your published page');

    const pageInput = admin.getByLabel('Page', { exact: true });
    await pageInput.fill('4');
    await pageInput.press('Tab');
    await admin.waitForSelector('[data-field="page-info"][data-page="4"]', { timeout: TIMEOUT });
    await admin.getByRole('button', { name: 'Publish this page to followers' }).click();
    await shop.waitForSelector('[data-field="page-info"][data-page="4"]', { timeout: TIMEOUT });
    assert.equal(await shop.isHidden('#follow-left'), true);

    // The follower moves on by themselves.
    await shop.getByRole('button', { name: 'Next' }).click();
    await shop.waitForSelector('[data-field="page-info"][data-page="5"]', { timeout: TIMEOUT });
    await waitText(shop, '#follow-left', /You left the admin’s page \(page 4\)/);
    await shop.click('#follow-left >> text=Back to the admin’s page');
    await shop.waitForSelector('[data-field="page-info"][data-page="4"]', { timeout: TIMEOUT });
    assert.equal(await shop.isHidden('#follow-left'), true);

    // Unfollowing is counted too.
    await shop.uncheck('#follow');
    await waitText(admin, '[data-field="followers-count"]', '0 storefronts follow your published page');
  } finally {
    await adminCtx.close();
    await shopCtx.close();
  }
});
