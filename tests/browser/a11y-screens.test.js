// Accessibility (axe-core: no serious or critical violations), live
// announcements, phone-width layout, and the screenshots for docs/.
// UPDATE_DOCS_SCREENSHOTS=1 also copies them into docs/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import axe from 'axe-core';
import {
  startServer, launchBrowser, newContext, loginPage, waitText, apiToken, rest, makePng,
  PAGES, SCREENSHOT_DIR, DOCS_DIR, TIMEOUT, cspViolations,
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

async function seriousViolations(page) {
  // Evaluated through the DevTools protocol: the page's CSP refuses inline
  // script tags, as it should.
  await page.evaluate(axe.source);
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

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
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
        const file = join(SCREENSHOT_DIR, `${name}-${label}.png`);
        await page.screenshot({ path: file, animations: 'disabled' });
        if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') await copyFile(file, join(DOCS_DIR, `${name}-${label}.png`));
      } finally {
        await ctx.close();
      }
    });
  }
}
