// Consistency checks in the browser: the client's digest functions give the
// server's values, and a client whose state went wrong (here: its resumed
// cache holds a dashboard that is not the server's) finds out by the digest
// check, starts over from a snapshot, shows the right data again and counts
// it, and the server counts the resync as `digest_mismatch`. A file of its
// own: its server's login limiter is its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newContext, loginPage, waitText, recordFrames, until, apiToken, rest, PAGES, serverAndBrowser } from './helpers.js';

const env = serverAndBrowser();

test('the digest of a corrupted state differs from the server\'s: detected, resynced, repaired, counted', async () => {
  const ctx = await newContext(env.browser);
  const page = await ctx.newPage();
  const frames = recordFrames(page);
  try {
    await loginPage(page, env.server.url, PAGES.admin, 'admin');
    const token = await apiToken(env.server.url, 'admin');

    // The same hash as src/model/digest.rs (values pinned there), and the
    // same page digest as the server's REST answer.
    const body = (await rest(env.server.url, token, 'GET', '/stores/s1/products?page_size=25&sort=name')).body;
    const js = await page.evaluate(async (p) => {
      const d = await import('/js/sync/digest.js');
      return [d.hashWords([0x87654321]), d.rowHash(100000, 4), d.rowHash(2 ** 40 + 7, 2 ** 33 + 1), d.pageDigest(p)];
    }, body);
    assert.deepEqual(js, [0xf55b516b, 0x184d5552, 0x39b78267, body.digest]);

    // Corrupt what the page resumes from: a dashboard version the server
    // never had (it would hide every later dashboard change) and a notice.
    const key = 'storesync:snap:admin:s1';
    await until(() => page.evaluate((k) => sessionStorage.getItem(k) !== null, key), 'the cached snapshot');
    await page.evaluate((k) => {
      const c = JSON.parse(sessionStorage.getItem(k));
      c.dashboard = { ...c.dashboard, version: c.dashboard.version + 1000, notice: 'Corrupted notice' };
      sessionStorage.setItem(k, JSON.stringify(c));
    }, key);
    await page.reload();
    await waitText(page, 'dd[data-field="consistency"]', /1 mismatched/);
    const ask = frames.sent.find((f) => f.type === 'digest');
    assert.ok(ask && Number.isInteger(ask.seq), 'the client asked for the digest at its seq');
    assert.ok(frames.sent.some((f) => f.type === 'subscribe' && f.resync === 'digest_mismatch' && f.since === undefined),
      'it started over from a snapshot, saying why');
    await until(async () => (await page.textContent('[data-field="notice"]')) !== 'Corrupted notice', 'the repaired notice');

    // Repaired: the next check passes, and dashboard changes show again.
    await waitText(page, 'dd[data-field="consistency"]', /^[2-9]\d* checked, 1 mismatched/);
    assert.equal((await rest(env.server.url, token, 'PATCH', '/stores/s1/dashboard', { notice: 'After the repair' })).status, 200);
    await waitText(page, '[data-field="notice"]', 'After the repair');
    const metrics = await (await fetch(`${env.server.url}/metrics`)).text();
    assert.match(metrics, /storesync_resyncs_total\{reason="digest_mismatch"\} 1/);
  } finally {
    await ctx.close();
  }
});
