// In-app feedback: a user rates how live updates work and comments from the
// storefront; the page sends its own sync statistics along (connection
// state history, last latency, resync count); the store's admin sees the
// report in the admin page's Feedback list. Also the screenshots of the
// control and the list for docs/ (UPDATE_DOCS_SCREENSHOTS=1 copies them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  newContext, loginPage, waitText, recordFrames, until, apiToken, rest, PAGES, SCREENSHOT_DIR, DOCS_DIR, TIMEOUT,
  serverAndBrowser,
} from './helpers.js';

const env = serverAndBrowser();

async function screenshot(locator, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await locator.screenshot({ path: file, animations: 'disabled' });
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') await copyFile(file, join(DOCS_DIR, `${name}.png`));
}

test('feedback sent from the storefront is listed for the admin with its sync statistics', async () => {
  const shopCtx = await newContext(env.browser);
  const adminCtx = await newContext(env.browser);
  const shop = await shopCtx.newPage();
  const admin = await adminCtx.newPage();
  const frames = recordFrames(shop);
  try {
    await loginPage(shop, env.server.url, PAGES.storefront, 'viewer');
    // A store restart ends the storefront's subscription with `resync`:
    // the page counts it, and starts over.
    const token = await apiToken(env.server.url, 'admin');
    assert.equal((await rest(env.server.url, token, 'POST', '/admin/stores/s1/reload')).status, 202);
    await until(() => frames.received.some((f) => f.type === 'resync'), 'the resync frame');
    await until(() => frames.received.filter((f) => f.type === 'snapshot').length >= 2, 'the fresh snapshot');

    await shop.click('#feedback summary');
    await shop.getByLabel('2 – weak').check();
    await shop.getByLabel('Comment (optional)').fill('Prices took a while after the restart.');
    await screenshot(shop.locator('#feedback'), 'guide-feedback');
    await shop.getByRole('button', { name: 'Send feedback' }).click();
    await waitText(shop, '#feedback [role="status"]', /Thank you/);

    await loginPage(admin, env.server.url, PAGES.admin, 'admin');
    const report = admin.locator('.feedback-list li').first();
    await report.waitFor({ timeout: TIMEOUT });
    const text = await report.textContent();
    assert.match(text, /2\/5 – weak · viewer/);
    assert.match(text, /Prices took a while after the restart\./);
    assert.match(text, /1 resyncs/);
    assert.match(text, /connecting → live/);
    assert.match(text, /last latency \d+ ms|no latency measured/);
    await screenshot(admin.locator('.feedback-reports'), 'guide-feedback-list');

    // What the page sent is what the server stored.
    const [stored] = (await rest(env.server.url, token, 'GET', '/stores/s1/feedback')).body;
    assert.equal(stored.rating, 2);
    assert.equal(stored.stats.resyncs, 1);
    assert.equal(stored.stats.states[0].state, 'connecting');
  } finally {
    await shopCtx.close();
    await adminCtx.close();
  }
});

test('an editor sees that only administrators read feedback', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'editor');
    await waitText(page, '.feedback-reports [role="status"]', /Only the store’s administrators see feedback/);
  } finally {
    await ctx.close();
  }
});
