// The admin page's Scheduled changes panel: an editor schedules a product's
// new price a few seconds ahead and sees it listed as pending, then
// applied, and the price change in the table, live; a change scheduled
// for later is moved and then cancelled from the list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, apiToken, rest, PAGES, TIMEOUT, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

/** A `datetime-local` value `ms` from now (the context's zone is UTC). */
const localIn = (ms) => new Date(Date.now() + ms).toISOString().slice(0, 19);

/** Sets the panel's time input (typing into datetime-local differs by locale). */
async function setWhen(page, value) {
  await page.$eval('.schedule-form input[name="due_at"]', (el, v) => { el.value = v; }, value);
}

test('an editor schedules a price, sees it applied live, and moves and cancels another change', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'editor');
    const panel = page.locator('.scheduled-changes');
    await panel.locator('text=Nothing scheduled.').waitFor({ timeout: TIMEOUT });
    const id = await panel.locator('select[name="product_id"]').inputValue();
    assert.ok(id, 'the page\'s products are offered');
    await panel.getByLabel('New price').fill('7.50');
    await setWhen(page, localIn(4000));
    await panel.getByRole('button', { name: 'Schedule…' }).click();
    await waitText(page, '.scheduled-changes .form-status', 'Scheduled.');
    await page.waitForSelector('.scheduled-list li[data-status="pending"]', { timeout: TIMEOUT });
    // Applied at its time: the list and the table follow without a reload.
    await page.waitForSelector('.scheduled-list li[data-status="applied"]', { timeout: TIMEOUT });
    await waitText(page, `.products-card [data-id="${id}"] td[data-col="price"]`, /7\.50/);

    // A change for tomorrow, cancelled from the list.
    await panel.locator('select[name="target"]').selectOption('dashboard');
    await panel.getByLabel('New notice').fill('Closed tomorrow');
    await setWhen(page, localIn(86_400_000));
    await panel.getByRole('button', { name: 'Schedule…' }).click();
    const pending = page.locator('.scheduled-list li[data-status="pending"]');
    await pending.waitFor({ timeout: TIMEOUT });
    assert.match(await pending.textContent(), /Dashboard: notice “Closed tomorrow”/);
    await pending.getByRole('button', { name: 'Edit time' }).click();
    const later = localIn(2 * 86_400_000);
    await pending.locator('input[type="datetime-local"]').evaluate((el, v) => { el.value = v; }, later);
    await pending.getByRole('button', { name: 'Save time' }).click();
    await waitText(page, '.scheduled-changes .form-status', 'Time changed.');
    const token = await apiToken(env.server.url, 'editor');
    const moved = await rest(env.server.url, token, 'GET', '/stores/s1/schedule?status=pending');
    assert.equal(moved.body[0].due_at.slice(0, 19), later);
    await pending.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForSelector('.scheduled-list li[data-status="cancelled"]', { timeout: TIMEOUT });
    const listed = await rest(env.server.url, token, 'GET', '/stores/s1/schedule');
    assert.deepEqual(listed.body.map((c) => c.status).sort(), ['applied', 'cancelled']);
  } finally {
    await ctx.close();
  }
});
