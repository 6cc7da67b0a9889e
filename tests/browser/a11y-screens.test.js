// Accessibility (axe-core: no serious or critical violations), live
// announcements, phone-width layout, and the screenshots for docs/.
// UPDATE_DOCS_SCREENSHOTS=1 also copies them into docs/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import {
  startServer, launchBrowser, newContext, loginPage, waitText, waitConnection, apiToken, rest, makePng, product,
  seriousViolations, screenshot, PAGES, SCREENSHOT_DIR, TIMEOUT, cspViolations,
} from './helpers.js';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // A couple of product images make the screenshots realistic (when the
  // server has the image API; the tests here do not depend on it).
  const token = await apiToken(server.url, 'admin');
  for (const [id, rgba] of [[100000, [30, 110, 200, 255]], [100002, [220, 120, 30, 255]]]) {
    await fetch(`${server.url}/api/v1/stores/s1/products/${id}/image`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' }, body: makePng(32, 32, rgba),
    }).catch(() => {});
  }
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  assert.deepEqual(cspViolations, [], 'the pages broke the Content-Security-Policy');
});

let stock = 4000;
for (const [name, path, user] of [['admin', PAGES.admin, 'admin'], ['storefront', PAGES.storefront, 'viewer']]) {
  test(`${name}: axe finds no serious or critical violations (login form and live page)`, async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    try {
      await page.goto(`${server.url}${path}`);
      await page.waitForSelector('form.login', { timeout: TIMEOUT });
      assert.deepEqual(await seriousViolations(page), []);
      await loginPage(page, server.url, path, user);
      await page.waitForSelector('svg.chart rect.bar', { timeout: TIMEOUT });
      assert.deepEqual(await seriousViolations(page), []);
    } finally {
      await ctx.close();
    }
  });

  test(`${name}: updates are announced politely`, async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    try {
      await loginPage(page, server.url, path, user);
      assert.equal(await page.getAttribute('#announcer', 'aria-live'), 'polite');
      const token = await apiToken(server.url, 'admin');
      stock += 1;
      await rest(server.url, token, 'PATCH', '/stores/s1/products/100004', { stock });
      await waitText(page, '#announcer', new RegExp(`stock ${stock}`));
    } finally {
      await ctx.close();
    }
  });

  for (const [width, height, label] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
    test(`${name}: ${label} layout and screenshot`, async () => {
      const ctx = await newContext(browser, { viewport: { width, height } });
      const page = await ctx.newPage();
      try {
        await loginPage(page, server.url, path, user);
        await page.waitForSelector('svg.chart rect.bar', { timeout: TIMEOUT });
        await page.waitForFunction(() => document.querySelector('[data-field="trend"]')?.textContent !== '', null, { timeout: TIMEOUT });
        // Nothing wider than the screen except the table, which scrolls in its own region.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
        await screenshot(page, `${name}-${label}`);
      } finally {
        await ctx.close();
      }
    });
  }
}

test('admin: axe is clean with a row being edited, a change by someone else and a conflict', async () => {
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  const token = await apiToken(server.url, 'editor');
  try {
    await loginPage(page, server.url, PAGES.admin, 'admin');
    const input = `${product(100001)} input[data-field="price"]`;
    await page.click(`${product(100001)} td[data-col="price"] button.cell-edit`);
    await page.fill(input, '19.99');
    await rest(server.url, token, 'PATCH', '/stores/s1/products/100001', { price: 2599 });
    await page.waitForSelector('tr.row-note .row-alert.changed', { timeout: TIMEOUT });
    assert.deepEqual(await seriousViolations(page), []);
    await page.press(input, 'Enter');
    await page.waitForSelector('tr.row-note .alert.conflict', { timeout: TIMEOUT });
    assert.deepEqual(await seriousViolations(page), []);
    await page.locator(`${product(100001)}`).scrollIntoViewIfNeeded();
    await screenshot(page, 'admin-conflict-row');
  } finally {
    await ctx.close();
  }
});

test('viewer admin, chart tooltip and the outage banner: axe is clean; banner screenshot', async () => {
  const own = await startServer();
  const ctx = await newContext(browser);
  const page = await ctx.newPage();
  try {
    await loginPage(page, own.url, PAGES.admin, 'viewer');
    await page.waitForSelector('#read-only', { timeout: TIMEOUT });
    await page.focus('.chart-days .day[tabindex="0"]');
    await page.keyboard.press('End');
    await page.waitForSelector('.chart-tip:not([hidden])', { timeout: TIMEOUT });
    assert.deepEqual(await seriousViolations(page), []);
    await own.kill();
    await waitConnection(page, 'reconnecting');
    await page.waitForSelector('#outage:not([hidden])', { timeout: TIMEOUT });
    await waitText(page, '#outage [data-field="next-try"]', /\S/);
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, 'offline-banner', { clip: { x: 0, y: 0, width: 1280, height: 420 } });
  } finally {
    await ctx.close();
    await own.stop();
  }
});
