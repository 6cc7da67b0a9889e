// The Manage page (/manage): a global admin creates a store (an open admin
// page lists it in its switcher without a reload), renames one (the open
// page shows the new name), creates a user with a generated password and
// grants them the new store, issues an API token (the secret shown once,
// with a copy button, and it works), revokes it, reads the audit log, and
// archives and deletes the store. axe finds no serious violation on it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, rest, waitText, until, seriousViolations, PAGES, TIMEOUT, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

/** The switcher's options of an open page, as [value, text]. */
function switcher(page) {
  return page.evaluate(() => [...document.querySelectorAll('select[name="store"] option')].map((o) => [o.value, o.textContent]));
}

test('a global admin manages stores, people and tokens, and open pages follow without a reload', async () => {
  const base = env.server.url;
  const context = await newContext(env.browser);
  const admin = await context.newPage();
  await loginPage(admin, base, PAGES.admin, 'admin');
  await admin.getByRole('link', { name: 'Manage' }).waitFor({ timeout: TIMEOUT });
  const manage = await context.newPage();
  await manage.goto(`${base}/manage`);
  await manage.waitForSelector('tr[data-store="s1"]', { timeout: TIMEOUT });

  // A new store: listed here, and in the open admin page's switcher.
  const storeForm = manage.locator('form[aria-label="New store"]');
  await storeForm.getByLabel('Slug').fill('kiosk');
  await storeForm.getByLabel('Name').fill('Airport Kiosk');
  await storeForm.getByLabel('Currency (ISO 4217)').fill('EUR');
  await storeForm.getByLabel('Time zone').fill('Europe/Paris');
  await storeForm.getByRole('button', { name: 'Create store' }).click();
  await manage.waitForSelector('tr[data-store="kiosk"]', { timeout: TIMEOUT });
  await until(async () => (await switcher(admin)).some(([slug]) => slug === 'kiosk'), 'kiosk in the switcher');

  // A bad currency is refused with the server's reason, and nothing is created.
  await storeForm.getByLabel('Slug').fill('bad-one');
  await storeForm.getByLabel('Name').fill('Bad');
  await storeForm.getByLabel('Currency (ISO 4217)').fill('XYZ');
  await storeForm.getByRole('button', { name: 'Create store' }).click();
  await waitText(manage, '#manage-status', /ISO 4217/);
  assert.equal(await manage.locator('tr[data-store="bad-one"]').count(), 0);

  // Renaming s1 renames it in the open page, which shows s1.
  const s1 = manage.locator('tr[data-store="s1"]');
  await s1.locator('input[name="name"]').fill('Northwind Renamed');
  await s1.getByRole('button', { name: 'Save' }).click();
  await until(async () => (await switcher(admin)).some(([slug, text]) => slug === 's1' && text.startsWith('Northwind Renamed')),
    'the new name in the switcher');

  // A user with a generated password, granted the new store.
  const userForm = manage.locator('form[aria-label="New user"]');
  await userForm.getByLabel('User name').fill('clerk');
  await userForm.getByRole('button', { name: 'Generate' }).click();
  const password = await userForm.getByLabel('Password (8 or more characters)').inputValue();
  assert.ok(password.length >= 16, password);
  await userForm.getByRole('button', { name: 'Create user' }).click();
  await manage.waitForSelector('tr[data-user="clerk"]', { timeout: TIMEOUT });
  await manage.locator('tr[data-user="clerk"] select[data-store="kiosk"]').selectOption('viewer');
  await waitText(manage, '#manage-status', /clerk is now viewer in kiosk/);
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'clerk', password }),
  });
  assert.equal(login.status, 200);
  assert.deepEqual((await login.json()).stores.map((s) => s.slug), ['kiosk']);

  // An API token: the secret once, with a copy button; it works until revoked.
  const tokenForm = manage.locator('form[aria-label="New API token"]');
  await tokenForm.getByLabel('Name').fill('feed');
  await tokenForm.getByLabel('kiosk').check();
  await tokenForm.getByRole('button', { name: 'Create token' }).click();
  const secretBox = manage.getByLabel('New token (shown once)');
  await until(async () => (await secretBox.inputValue()).length === 64, 'the token');
  const secret = await secretBox.inputValue();
  assert.ok(await manage.getByRole('button', { name: 'Copy' }).isVisible());
  assert.equal((await rest(base, secret, 'GET', '/stores/kiosk')).status, 200);
  await manage.locator('tr[data-token]', { hasText: 'feed' }).getByRole('button', { name: 'Revoke' }).click();
  await waitText(manage, '#manage-status', 'Revoked feed.');
  assert.equal((await rest(base, secret, 'GET', '/stores/kiosk')).status, 401);
  assert.equal(await secretBox.inputValue(), secret, 'the secret stays on the page that created it');

  // The audit log names every change.
  await until(async () => manage.locator('tr[data-action="token.revoked"]').count(), 'the audit entry');
  for (const action of ['store.created', 'store.updated', 'user.created', 'grant.put', 'token.created']) {
    assert.ok(await manage.locator(`tr[data-action="${action}"]`).count() > 0, action);
  }

  // Archive, then delete (only archived stores offer it).
  const kiosk = manage.locator('tr[data-store="kiosk"]');
  assert.equal(await kiosk.getByRole('button', { name: 'Delete' }).count(), 0);
  await kiosk.getByRole('button', { name: 'Archive' }).click();
  await waitText(manage, 'tr[data-store="kiosk"] td:nth-of-type(5)', 'archived');
  manage.once('dialog', (dialog) => dialog.accept());
  await kiosk.getByRole('button', { name: 'Delete' }).click();
  await until(async () => (await manage.locator('tr[data-store="kiosk"]').count()) === 0, 'kiosk gone');
  await until(async () => !(await switcher(admin)).some(([slug]) => slug === 'kiosk'), 'kiosk gone from the switcher');
  await context.close();
});

test('/manage: axe finds no serious or critical violations', async () => {
  const base = env.server.url;
  const context = await newContext(env.browser);
  const page = await context.newPage();
  await loginPage(page, base, PAGES.admin, 'admin');
  await page.goto(`${base}/manage`);
  await page.waitForSelector('tr[data-action]', { timeout: TIMEOUT });
  assert.deepEqual(await seriousViolations(page), []);
  await context.close();
});
