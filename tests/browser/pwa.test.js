// The pages as an installable app: a manifest with icons, and a service
// worker that serves the shell when there is no network, so a reload
// offline shows the last data, marked as stale, and keeps the offline queue.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  newContext, loginPage, waitLive, waitText, until, apiToken, rest, editCell, product, seriousViolations,
  PAGES, TIMEOUT, serverAndBrowser,
} from './helpers.js';

const env = serverAndBrowser();

test('the manifest names the app and its icons, all served', async () => {
  const res = await fetch(`${env.server.url}/manifest.webmanifest`);
  assert.equal(res.status, 200);
  const manifest = await res.json();
  assert.equal(manifest.display, 'standalone');
  for (const size of ['192x192', '512x512']) {
    const icon = manifest.icons.find((i) => i.sizes === size);
    const got = await fetch(`${env.server.url}${icon.src}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/png');
  }
});

/** Waits until the service worker controls the page and holds the page's modules. */
async function shellCached(page, module) {
  await page.waitForFunction(async (module) => {
    if (!navigator.serviceWorker.controller) return false;
    const cache = await caches.open('storesync-shell-v1');
    return Boolean(await cache.match(module));
  }, module, { timeout: TIMEOUT, polling: 200 });
  await page.waitForFunction(() => Object.keys(sessionStorage).some((k) => k.includes(':snap:')), null, { timeout: TIMEOUT });
}

test('a reload without network shows the last data, marked stale', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const token = await apiToken(env.server.url, 'admin');
  try {
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100007', { price: 1717 });
    await loginPage(page, env.server.url, PAGES.storefront, 'viewer');
    await waitText(page, `${product(100007)} [data-col="price"]`, '$17.17');
    await shellCached(page, '/js/storefront.js');

    await ctx.setOffline(true);
    await page.reload();
    await waitText(page, `${product(100007)} [data-col="price"]`, '$17.17');
    await page.waitForSelector('#outage:not([hidden])', { timeout: TIMEOUT });
    await waitText(page, '#outage-title', 'You are offline: this device has no network.');
    await waitText(page, '#outage [data-field="last-updated"]', /^Showing data from /);
    assert.deepEqual(await seriousViolations(page), [], 'axe on the storefront reloaded offline');

    // Back online, the page reconnects by itself (the browser's online event).
    await ctx.setOffline(false);
    await waitLive(page);
  } finally {
    await ctx.close();
  }
});

test('edits queued offline survive a reload and are sent when back online', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const token = await apiToken(env.server.url, 'admin');
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    await shellCached(page, '/js/admin.js');
    await ctx.setOffline(true);
    await editCell(page, 100008, 'price', '18.18');
    await waitText(page, 'dd[data-field="queued"]', '1');

    await page.reload();
    await waitText(page, 'dd[data-field="queued"]', '1');
    await page.waitForSelector(`${product(100008)}.pending`, { timeout: TIMEOUT });
    await page.waitForSelector('#outage:not([hidden])', { timeout: TIMEOUT });
    assert.deepEqual(await seriousViolations(page), [], 'axe on the admin reloaded offline');

    // Back online, the page reconnects by itself (the browser's online event).
    await ctx.setOffline(false);
    await waitLive(page);
    await waitText(page, 'dd[data-field="queued"]', '0');
    await until(async () => (await rest(env.server.url, token, 'GET', '/stores/s1/products/100008')).body.price === 1818, 'the queued edit');
  } finally {
    await ctx.close();
  }
});
