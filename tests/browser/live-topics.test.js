// Selective sync in the admin: switching products off keeps the table as it
// was (and says "paused") while others edit; switching it on catches the
// table up by replay from where it was paused, without a snapshot. A file of
// its own: its server's login limiter is its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, recordFrames, product, apiToken, rest, PAGES, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

test('products paused while others edit, then resumed by replay', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const frames = recordFrames(page);
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    const token = await apiToken(env.server.url, 'admin');
    const first = (await rest(env.server.url, token, 'GET', '/stores/s1/products?page_size=1')).body.rows[0];
    const stock = `${product(first.id)} td[data-col="stock"]`;
    const toggle = '#live-topics input[data-topic="products"]';

    await page.uncheck(toggle);
    await waitText(page, '#live-topics .topic-state[data-topic="products"]', 'paused');
    await waitText(page, '#live-topics [role="status"]', /Paused: Products/);
    const paused = frames.sent.find((f) => f.type === 'set_topics');
    assert.deepEqual(paused.topics, ['dashboard', 'sales', 'presence']);

    assert.equal((await rest(env.server.url, token, 'PATCH', `/stores/s1/products/${first.id}`, { stock: 4242 })).status, 200);
    // The dashboard stays live: once its later change shows, the product
    // change (earlier) would have shown too, had products been live.
    assert.equal((await rest(env.server.url, token, 'PATCH', '/stores/s1/dashboard', { notice: 'Marker' })).status, 200);
    await waitText(page, '[data-field="notice"]', 'Marker');
    assert.doesNotMatch(await page.textContent(stock), /4,?242/);

    const snapshotsBefore = frames.received.filter((f) => f.type === 'snapshot').length;
    await page.check(toggle);
    await waitText(page, stock, /4,?242/);
    await waitText(page, '#live-topics .topic-state[data-topic="products"]', (text) => text === '');
    const resumed = frames.sent.filter((f) => f.type === 'set_topics').at(-1);
    assert.deepEqual(resumed.topics, ['dashboard', 'products', 'sales', 'presence']);
    assert.ok(Number.isInteger(resumed.since), 'it resumes from the seq where it paused');
    assert.ok(frames.received.some((f) => f.type === 'topics' && f.mode === 'replay' && f.since === resumed.since));
    assert.equal(frames.received.filter((f) => f.type === 'snapshot').length, snapshotsBefore, 'caught up without a snapshot');
  } finally {
    await ctx.close();
  }
});
