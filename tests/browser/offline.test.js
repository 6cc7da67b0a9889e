// Admin edits made offline: queued, replayed with their If-Match version
// once the network is back; an edit that a newer change made stale is shown
// as a conflict instead of overwriting that change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newContext, loginPage, waitText, until, apiToken, rest, editCell, product, PAGES, TIMEOUT, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();


test('offline edits replay after reconnect; a stale one shows a conflict', async () => {
  const ctx = await newContext(env.browser);
  const admin = await ctx.newPage();
  const token = await apiToken(env.server.url, 'admin');
  try {
    await loginPage(admin, env.server.url, PAGES.admin, 'admin');

    await ctx.setOffline(true);
    // Edit A (nobody else touches it) and B (someone else changes it meanwhile).
    await editCell(admin, 100020, 'price', '11.11');
    await waitText(admin, '#table-status', /queued/);
    await editCell(admin, 100021, 'price', '22.22');
    await waitText(admin, 'dd[data-field="queued"]', '2');
    await admin.waitForSelector(`${product(100021)}.pending`, { timeout: TIMEOUT });

    // The newer change, made elsewhere while this admin is offline.
    const newer = await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100021', { price: 5555 });
    assert.equal(newer.status, 200);

    await ctx.setOffline(false);
    await waitText(admin, 'dd[data-field="queued"]', '0');
    await admin.waitForSelector('.alert.conflict[data-product-id="100021"]', { timeout: TIMEOUT });
    await waitText(admin, '.alert.conflict[data-product-id="100021"] p', /S1-00022.*changed by someone else.*\$22\.22.*\$55\.55/);

    // A was applied; B kept the newer price.
    await until(async () => (await rest(env.server.url, token, 'GET', '/stores/s1/products/100020')).body.price === 1111, 'the queued edit to be applied');
    assert.equal((await rest(env.server.url, token, 'GET', '/stores/s1/products/100021')).body.price, 5555);
    await waitText(admin, `${product(100021)} td[data-col="price"] .cell-value`, '$55.55');
    // The texts after the queue was sent name what was sent.
    await waitText(admin, '#table-status', /Queued change to S1-0002[12] sent\./);

    // The admin may still choose to apply theirs, against the current version.
    await admin.click('.alert.conflict[data-product-id="100021"] >> text=Apply my change');
    await until(async () => (await rest(env.server.url, token, 'GET', '/stores/s1/products/100021')).body.price === 2222, 'the override');
  } finally {
    await ctx.close();
  }
});

test('an edit made while the env.server is down is applied after it returns', async () => {
  const ctx = await newContext(env.browser);
  const admin = await ctx.newPage();
  try {
    await loginPage(admin, env.server.url, PAGES.admin, 'admin');
    const { dataDir, port } = env.server;
    await env.server.kill();
    await admin.waitForSelector('#connection[data-state="reconnecting"]', { timeout: TIMEOUT });
    await editCell(admin, 100015, 'price', '33.33');
    await waitText(admin, 'dd[data-field="queued"]', '1');

    env.server = await startServer({ dataDir, port });
    await admin.waitForSelector('#connection[data-state="live"]', { timeout: TIMEOUT });
    await waitText(admin, 'dd[data-field="queued"]', '0');
    const token = await apiToken(env.server.url, 'admin');
    await until(async () => (await rest(env.server.url, token, 'GET', '/stores/s1/products/100015')).body.price === 3333, 'the queued edit');
  } finally {
    await ctx.close();
  }
});
