// The admin page follows the user's role on the store it shows: a viewer of
// s1 who edits s2 reads s1 (no edit controls, no forms) and edits s2 after
// switching; grants changed while the page is open (the server's `stores`
// frame) apply without a reload. A file of its own: its server's login
// limit is its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, apiToken, rest, editCell, product, PAGES, PASSWORD, TIMEOUT, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

/** Picks `slug` in the header's store switcher. */
async function switchStore(page, slug) {
  await page.getByLabel('Store', { exact: true }).selectOption(slug);
  await page.waitForFunction((slug) => document.querySelector('.products-card')?.dataset.store === slug
    && document.querySelectorAll('.products-card [data-id]').length > 0, slug, { timeout: TIMEOUT });
}

/** What the admin page offers for editing now. */
function editingUi(page) {
  return page.evaluate(() => ({
    readOnlyNote: Boolean(document.querySelector('#read-only')),
    editButtons: document.querySelectorAll('button.cell-edit').length > 0,
    forms: document.querySelectorAll('main form').length > 0,
  }));
}

const READ_ONLY = { readOnlyNote: true, editButtons: false, forms: false };
const EDITING = { readOnlyNote: false, editButtons: true, forms: true };

test('a viewer of one store and editor of another reads one and edits the other', async () => {
  const base = env.server.url;
  const token = await apiToken(base, 'admin');
  const created = await rest(base, token, 'POST', '/admin/users', { username: 'mixed', password: PASSWORD, is_admin: false });
  assert.equal(created.status, 201);
  const id = created.body.id;
  assert.equal((await rest(base, token, 'PUT', `/admin/users/${id}/grants/s1`, { role: 'viewer' })).status, 200);
  assert.equal((await rest(base, token, 'PUT', `/admin/users/${id}/grants/s2`, { role: 'editor' })).status, 200);

  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, base, `${PAGES.admin}?store=s1`, 'mixed');
    await waitText(page, '#read-only', /your role here is viewer/);
    assert.deepEqual(await editingUi(page), READ_ONLY);

    await switchStore(page, 's2');
    await page.waitForSelector('.products-card button.cell-edit', { timeout: TIMEOUT });
    assert.deepEqual(await editingUi(page), EDITING);
    // And the editing works there.
    const first = await page.$eval('.products-card [data-id]', (tr) => Number(tr.dataset.id));
    await editCell(page, first, 'stock', '321');
    await waitText(page, '#table-status', /^Saved S2-/);
    assert.equal((await rest(base, token, 'GET', `/stores/s2/products/${first}`)).body.stock, 321);

    await switchStore(page, 's1');
    await page.waitForSelector('#read-only', { timeout: TIMEOUT });
    assert.deepEqual(await editingUi(page), READ_ONLY);
    await page.waitForSelector(`${product(100000)} td[data-col="price"]`, { timeout: TIMEOUT });

    // Grants changed now reach the open page (the `stores` frame, within
    // --revalidate-secs, 10 s): a new role on the store shown applies at once…
    assert.equal((await rest(base, token, 'PUT', `/admin/users/${id}/grants/s1`, { role: 'editor' })).status, 200);
    await page.waitForSelector('.products-card button.cell-edit', { timeout: 3 * TIMEOUT });
    assert.deepEqual(await editingUi(page), EDITING);

    // … and a store granted now is listed, editable once chosen.
    assert.equal((await rest(base, token, 'PUT', `/admin/users/${id}/grants/s3`, { role: 'editor' })).status, 200);
    await page.waitForSelector('select[name="store"] option[value="s3"]', { state: 'attached', timeout: 3 * TIMEOUT });
    await switchStore(page, 's3');
    await page.waitForSelector('.products-card button.cell-edit', { timeout: TIMEOUT });
    assert.deepEqual(await editingUi(page), EDITING);
  } finally {
    await ctx.close();
  }
});
