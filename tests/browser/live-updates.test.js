// Live updates from the admin to storefronts, without reloads: prices,
// sales (figures and chart), images, and published pages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newContext, loginPage, waitText, num, makePng, recordFrames, until, editCell, product,
  apiToken, rest, PAGES, TIMEOUT,
  serverAndBrowser,
} from './helpers.js';

const env = serverAndBrowser();

/** An admin page and a storefront page (viewer), each in its own context. */
async function openPair({ follow = false } = {}) {
  const adminCtx = await newContext(env.browser);
  const shopCtx = await newContext(env.browser);
  if (follow) await shopCtx.addInitScript(() => localStorage.setItem('storesync:follow', '1'));
  const admin = await adminCtx.newPage();
  const shop = await shopCtx.newPage();
  await loginPage(admin, env.server.url, PAGES.admin, 'admin');
  await loginPage(shop, env.server.url, PAGES.storefront, 'viewer');
  // A marker that a reload would erase.
  await shop.evaluate(() => { window.__noReload = true; });
  return { admin, shop, close: () => Promise.all([adminCtx.close(), shopCtx.close()]) };
}

const row = product;

test('a price changed in the admin shows on the storefront without reload', async () => {
  const { admin, shop, close } = await openPair();
  try {
    await editCell(admin, 100000, 'price', '123.45');
    await waitText(shop, `${row(100000)} [data-col="price"]`, '$123.45');
    assert.equal(await shop.evaluate(() => window.__noReload), true);
    await waitText(admin, '#table-status', /Saved S1-00001/);
  } finally {
    await close();
  }
});

test('a sale recorded in the admin updates the storefront figures and chart', async () => {
  const { admin, shop, close } = await openPair();
  try {
    const orders = num(await shop.textContent('dd[data-field="orders_today"]'));
    const revenueText = await shop.textContent('dd[data-field="revenue_today"]');
    const todayBar = 'svg.chart rect.bar.today';
    const barBefore = Number(await shop.getAttribute(todayBar, 'data-revenue'));

    await admin.getByLabel('Product', { exact: true }).selectOption('100001');
    await admin.getByLabel('Quantity').fill('3');
    await admin.getByRole('button', { name: 'Record sale' }).click();

    await waitText(shop, 'dd[data-field="orders_today"]', (t) => num(t) === orders + 1);
    await waitText(shop, 'dd[data-field="revenue_today"]', (t) => t !== revenueText && num(t) > num(revenueText));
    await shop.waitForFunction(({ sel, before }) => Number(document.querySelector(sel)?.dataset.revenue) > before,
      { sel: todayBar, before: barBefore }, { timeout: TIMEOUT });
    // The product's own figures move too.
    await waitText(admin, `${row(100001)} td[data-col="units_sold"]`, /\d/);
    assert.equal(await shop.evaluate(() => window.__noReload), true);
  } finally {
    await close();
  }
});

test('an image uploaded in the admin appears on the storefront', async () => {
  const { admin, shop, close } = await openPair();
  try {
    // Without an image the storefront shows the placeholder.
    await shop.waitForSelector(`${row(100002)} [data-col="image"] .placeholder`, { timeout: TIMEOUT });
    await admin.setInputFiles(`${row(100002)} input[data-field="image-file"]`,
      { name: 'product.png', mimeType: 'image/png', buffer: makePng() });
    const img = `${row(100002)} [data-col="image"] img`;
    await shop.waitForSelector(img, { timeout: TIMEOUT });
    // The storefront's cards show the card rendition, the admin's rows the thumbnail.
    assert.match(await shop.getAttribute(img, 'src'), /^\/media\/s1\/[^/]+\/card$/);
    await admin.waitForSelector(img, { timeout: TIMEOUT });
    assert.match(await admin.getAttribute(img, 'src'), /^\/media\/s1\/[^/]+\/thumb$/);
    // It really loaded (a broken image would have been swapped for the placeholder).
    await shop.waitForFunction((sel) => document.querySelector(sel)?.naturalWidth > 0, img, { timeout: TIMEOUT });

    // Removing it brings the placeholder back.
    await admin.click(`${row(100002)} button[data-action="remove-image"]`);
    await shop.waitForSelector(`${row(100002)} [data-col="image"] .placeholder`, { timeout: TIMEOUT });
  } finally {
    await close();
  }
});

test('an image that fails to load shows the placeholder', async () => {
  const token = await apiToken(env.server.url, 'admin');
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    // Every image request fails: the view must fall back, not show a broken icon.
    await page.route('**/media/**', (route) => route.abort());
    const res = await fetch(`${env.server.url}/api/v1/stores/s1/products/100003/image`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' }, body: makePng(),
    });
    assert.equal(res.status < 300, true, `image upload answered ${res.status}`);
    await loginPage(page, env.server.url, PAGES.storefront, 'viewer');
    await page.waitForSelector(`${row(100003)} [data-col="image"] .placeholder`, { timeout: TIMEOUT });
    await rest(env.server.url, token, 'DELETE', '/stores/s1/products/100003/image');
  } finally {
    await ctx.close();
  }
});

test('a published page moves following storefronts only', async () => {
  const { admin, shop: follower, close } = await openPair({ follow: true });
  const otherCtx = await newContext(env.browser);
  const other = await otherCtx.newPage();
  const frames = recordFrames(other);
  try {
    assert.equal(await follower.isChecked('#follow'), true);
    await loginPage(other, env.server.url, PAGES.storefront, 'viewer');
    assert.equal(await other.isChecked('#follow'), false);

    // The admin goes to page 3 and publishes it.
    const pageInput = admin.getByLabel('Page', { exact: true });
    await pageInput.fill('3');
    await pageInput.press('Tab');
    await admin.waitForSelector('[data-field="page-info"][data-page="3"]', { timeout: TIMEOUT });
    await admin.getByRole('button', { name: 'Publish this page to followers' }).click();
    await waitText(admin, '.publish [role="status"]', /Page 3 published/);

    await follower.waitForSelector('[data-field="page-info"][data-page="3"]', { timeout: TIMEOUT });
    await follower.waitForSelector(`${row(100050)}`, { timeout: TIMEOUT }); // page 3 of 25 by id: 100050…100074
    // The other storefront saw the same event (its seq caught up) and stayed.
    const seq = num(await admin.textContent('dd[data-field="seq"]'));
    await other.waitForFunction((s) => Number(document.querySelector('dd[data-field="seq"]')?.textContent) >= s, seq, { timeout: TIMEOUT });
    assert.equal(await other.getAttribute('[data-field="page-info"]', 'data-page'), '1');

    // Following can be switched on from the page too: then the next publish moves it.
    await other.check('#follow');
    await until(() => frames.received.some((f) => f.type === 'subscribed'), 'the re-subscription');
    await pageInput.fill('2');
    await pageInput.press('Tab');
    await admin.waitForSelector('[data-field="page-info"][data-page="2"]', { timeout: TIMEOUT });
    await admin.getByRole('button', { name: 'Publish this page to followers' }).click();
    await other.waitForSelector('[data-field="page-info"][data-page="2"]', { timeout: TIMEOUT });
  } finally {
    await otherCtx.close();
    await close();
  }
});
