// Honest connection states: an outage banner with the reason, the time of
// the data shown, a countdown to the next try and "Retry now"; a polling
// fallback shown as live; a Refresh that visibly reloads; and status texts
// that stay true after the offline queue is sent.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, newContext, loginPage, waitConnection, waitLive, waitText, recordFrames, until,
  apiToken, rest, PAGES, TIMEOUT, serverAndBrowser,
} from './helpers.js';

const env = serverAndBrowser();

test('a server outage shows a banner with reason, data time, countdown and retry', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    assert.equal(await page.isHidden('#outage'), true, 'no banner while live');
    const { dataDir, port } = env.server;
    await env.server.kill();
    await waitConnection(page, 'reconnecting');
    await page.waitForSelector('#outage:not([hidden])', { timeout: TIMEOUT });
    await waitText(page, '#outage-title', 'The server cannot be reached right now.');
    await waitText(page, '#outage [data-field="last-updated"]', /^Showing data from .+ \(\d+ s ago\)\.$/);
    // The countdown counts down.
    const first = await waitText(page, '#outage [data-field="next-try"]', /Next try in \d+ s\.|Trying now…/);
    await waitText(page, '#outage [data-field="next-try"]', (t) => t !== first);
    // An outage that lasts is also told as a notice (a system notification
    // when the tab is hidden and the user allowed them).
    await waitText(page, '#notifications', /Lost the connection to the server/);

    // A dashboard edit made now waits in the queue, and its form says so.
    await page.getByLabel('Notice', { exact: true }).fill('Written during the outage');
    await page.getByRole('button', { name: 'Save dashboard' }).click();
    await waitText(page, '#dash-form-title ~ [role="status"]', /^Offline: saved to send/);

    env.server = await startServer({ dataDir, port });
    // "Retry now" does not wait out the backoff.
    await page.click('#outage >> text=Retry now');
    await waitLive(page);
    assert.equal(await page.isHidden('#outage'), true, 'the banner goes once live again');
    await waitText(page, '#notifications', /Connected again; the data is current\./);
    await waitText(page, '#dash-form-title ~ [role="status"]', 'Dashboard saved (sent after reconnecting).');
    await waitText(page, '#table-status', 'Queued change to the dashboard sent.');
    const token = await apiToken(env.server.url, 'admin');
    await until(async () => (await rest(env.server.url, token, 'GET', '/stores/s1/snapshot')).body?.dashboard?.notice === 'Written during the outage', 'the queued dashboard edit');
  } finally {
    await ctx.close();
  }
});

test('with WebSockets blocked the page is live by polling, and says so', async () => {
  const ctx = await newContext(env.browser);
  // A proxy that refuses WebSockets: every socket fails at once.
  await ctx.addInitScript(() => {
    window.WebSocket = class { constructor() { throw new Error('blocked by the test'); } };
  });
  const page = await ctx.newPage();
  try {
    await page.goto(`${env.server.url}${PAGES.storefront}`);
    await page.getByLabel('User name').fill('viewer');
    await page.getByLabel('Password').fill('browser-test-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await waitConnection(page, 'polling');
    await waitText(page, '#connection .conn-text', 'Live (polling)');
    assert.equal(await page.isHidden('#outage'), true, 'polling is not an outage');
    const token = await apiToken(env.server.url, 'admin');
    await rest(env.server.url, token, 'PATCH', '/stores/s1/products/100005', { price: 6543 });
    await waitText(page, '.products-card [data-id="100005"] [data-col="price"]', '$65.43');
  } finally {
    await ctx.close();
  }
});

test('Refresh visibly reloads from a fresh snapshot', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const frames = recordFrames(page);
  try {
    await loginPage(page, env.server.url, PAGES.storefront, 'viewer');
    // What the click shows at once, read in the same task.
    const busy = await page.evaluate(() => {
      const b = document.querySelector('#refresh');
      b.click();
      return { text: b.textContent, busy: b.getAttribute('aria-busy'), dimmed: document.querySelector('main').classList.contains('refreshing') };
    });
    assert.deepEqual(busy, { text: 'Refreshing…', busy: 'true', dimmed: true });
    await waitText(page, '#refresh', 'Refresh');
    await waitText(page, '#announcer', /Refreshed at/);
    assert.equal(await page.evaluate(() => document.querySelector('main').classList.contains('refreshing')), false);
    const fresh = frames.sent.filter((f) => f.type === 'subscribe').at(-1);
    assert.equal(fresh.since, undefined, 'a fresh snapshot, not a resume');
  } finally {
    await ctx.close();
  }
});
