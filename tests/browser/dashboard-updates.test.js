// A dashboard change reaches a storefront as its changed fields only
// (protocol: `dashboard.updated` carries what changed and `version`); the
// storefront merges it and keeps the rest. A file of its own: its server's
// login limiter is its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, num, apiToken, rest, PAGES, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

test('a dashboard change arrives as its changed fields and the storefront keeps the rest', async () => {
  const ctx = await newContext(env.browser);
  const shop = await ctx.newPage();
  const close = () => ctx.close();
  await loginPage(shop, env.server.url, PAGES.storefront, 'viewer');
  await shop.evaluate(() => { window.__noReload = true; });
  try {
    const token = await apiToken(env.server.url, 'admin');
    const before = (await rest(env.server.url, token, 'GET', '/stores/s1/dashboard')).body;
    const patched = await rest(env.server.url, token, 'PATCH', '/stores/s1/dashboard', { notice: 'Only the notice moved' });
    assert.equal(patched.status, 200);
    await waitText(shop, '[data-field="notice"]', 'Only the notice moved');
    // Merged, not replaced: the fields the event left out still show.
    assert.equal(num(await shop.textContent('dd[data-field="visitors_today"]')), before.visitors_today);
    assert.equal(num(await shop.textContent('dd[data-field="orders_today"]')), before.orders_today);
    assert.equal(await shop.evaluate(() => window.__noReload), true);
  } finally {
    await close();
  }
});
