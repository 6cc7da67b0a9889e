// The server goes away and comes back (same data, same port) while both
// pages are open: they show "reconnecting", then "live" again, resume from
// the last applied seq (subscribe with `since`), and show what changed
// while they were disconnected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, newContext, loginPage, waitConnection, waitLive, waitText,
  apiToken, rest, recordFrames, PAGES, TIMEOUT,
  serverAndBrowser,
} from './helpers.js';

const env = serverAndBrowser();

test('both pages reconnect after a env.server restart and catch up', async () => {
  const adminCtx = await newContext(env.browser);
  const shopCtx = await newContext(env.browser);
  const admin = await adminCtx.newPage();
  const shop = await shopCtx.newPage();
  const shopFrames = recordFrames(shop);
  try {
    await loginPage(admin, env.server.url, PAGES.admin, 'admin');
    await loginPage(shop, env.server.url, PAGES.storefront, 'viewer');
    await shop.evaluate(() => { window.__noReload = true; });

    // One change first, so the pages have a seq to resume from.
    let token = await apiToken(env.server.url, 'admin');
    assert.equal((await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100010', { stock: 11 })).status, 200);
    await waitText(shop, '.products-card [data-id="100010"] [data-col="stock"]', '11');

    const { dataDir, port } = env.server;
    await env.server.kill();
    await waitConnection(admin, 'reconnecting');
    await waitConnection(shop, 'reconnecting');

    env.server = await startServer({ dataDir, port });
    // Changes right after the restart, likely before the pages are back.
    token = await apiToken(env.server.url, 'admin');
    assert.equal((await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100011', { price: 7777 })).status, 200);
    assert.equal((await rest(env.server.url, token, 'PATCH', '/stores/s1/dashboard', { notice: 'Back after the restart' })).status, 200);

    await waitLive(admin);
    await waitLive(shop);
    await waitText(shop, '.products-card [data-id="100011"] [data-col="price"]', '$77.77');
    await waitText(shop, '[data-field="notice"]', 'Back after the restart');
    await waitText(admin, '.products-card [data-id="100011"] td[data-col="price"] .cell-value', '$77.77');
    await waitText(admin, 'dd[data-field="reconnects"]', (t) => Number(t) >= 1);
    assert.equal(await shop.evaluate(() => window.__noReload), true);

    // It resumed rather than starting over: the re-subscription carried `since`.
    const subs = shopFrames.sent.filter((f) => f.type === 'subscribe');
    assert.ok(subs.length >= 2, 'subscribed again after the restart');
    assert.ok(Number.isInteger(subs[subs.length - 1].since), `resubscribed with since: ${JSON.stringify(subs.at(-1))}`);
  } finally {
    await adminCtx.close();
    await shopCtx.close();
  }
});

test('a reload resumes from the cached snapshot instead of refetching it', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const frames = recordFrames(page);
  try {
    await loginPage(page, env.server.url, PAGES.storefront, 'viewer');
    // The cache is written shortly after the snapshot is applied (debounced).
    await page.waitForFunction(() => Object.keys(sessionStorage).some((k) => k.includes(':snap:')), null, { timeout: TIMEOUT });
    await page.reload();
    await waitLive(page);
    const subs = frames.sent.filter((f) => f.type === 'subscribe');
    assert.ok(Number.isInteger(subs.at(-1).since), 'subscribed with since after the reload');
    const replies = frames.received.filter((f) => f.type === 'subscribed');
    assert.equal(replies.at(-1).mode, 'replay');
  } finally {
    await ctx.close();
  }
});
