// helpers.js: what every browser test needs: the real storesync server as a
// child process (fresh data directory, ephemeral port), Debian's Chromium
// driven by playwright-core (or, with BROWSER=firefox, Debian's Firefox ESR
// through firefox.js), logins, REST calls and DOM waits.

import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import axe from 'axe-core';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

export const BIN = resolve(here, process.env.STORESYNC_BIN ?? '../../target/debug/storesync');
export const STATIC_DIR = resolve(here, '../../static');
export const SCREENSHOT_DIR = join(here, 'screenshots');
/** Figures the suite measures (render cost), one JSON file per benchmark. */
export const REPORT_DIR = join(here, 'reports');
export const DOCS_DIR = resolve(here, '../../docs');
export const PASSWORD = 'browser-test-password';
/** Generous: a 2-core CI machine runs the server and Chromium side by side. */
export const TIMEOUT = 20_000;

/**
 * Starts the real server and resolves once it logs where it listens.
 * @param {{dataDir?: string, port?: number}} [opts]
 */
export async function startServer({ dataDir, port = 0 } = {}) {
  const dir = dataDir ?? await mkdtemp(join(tmpdir(), 'storesync-browser-'));
  const proc = spawn(BIN, ['--addr', `127.0.0.1:${port}`, '--data-dir', dir, '--static-dir', STATIC_DIR], {
    env: { ...process.env, STORESYNC_DEMO_PASSWORD: PASSWORD, STORESYNC_LOG: 'info', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), TIMEOUT);
    const onData = (chunk) => {
      log += chunk;
      const m = /listening on (https?:\/\/[^\s"]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1].replace(/\/$/, ''));
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  const exited = new Promise((r) => proc.on('exit', r));
  return {
    url,
    port: Number(new URL(url).port),
    dataDir: dir,
    log: () => log,
    /** Kills the process (SIGKILL: no graceful shutdown waiting on sockets). */
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    /** Kills it and removes its data directory (tests restart with kill()). */
    async stop() {
      await this.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The browser the suite runs in: `chromium` (default) or `firefox` (BROWSER=firefox). */
export const BROWSER = process.env.BROWSER ?? 'chromium';
if (!['chromium', 'firefox'].includes(BROWSER)) throw new Error(`BROWSER=${BROWSER}: use chromium or firefox`);

/** For node:test's `skip` option: a reason to skip a test in Firefox, or false. */
export const skipInFirefox = (reason) => BROWSER === 'firefox' && `not in Firefox: ${reason}`;

/** Launches Debian's Chromium or Firefox ESR (never a downloaded browser). */
export async function launchBrowser() {
  // Loaded only when asked for: a Chromium run needs no puppeteer-core.
  if (BROWSER === 'firefox') return (await import('./firefox.js')).launchFirefox();
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * What the browser reported blocking under the server's Content-Security-Policy,
 * in any context `newContext` made; `serverAndBrowser` fails a test file
 * that saw any, so the pages are proven to work under the policy.
 * @type {string[]}
 */
export const cspViolations = [];

/** A fresh browser context with a fixed locale, so money formats predictably. */
export async function newContext(browser, opts = {}) {
  const ctx = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1280, height: 800 }, ...opts });
  ctx.on('console', (msg) => {
    if (msg.text().includes('Content Security Policy')) cspViolations.push(`${msg.location().url}: ${msg.text()}`);
  });
  return ctx;
}

/**
 * Opens `path` and logs in through the page's form; resolves when live.
 * @param {import('playwright-core').Page} page
 */
export async function loginPage(page, baseUrl, path, username) {
  await page.goto(`${baseUrl}${path}`);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  for (let attempt = 1; ; attempt++) {
    await page.getByRole('button', { name: 'Log in' }).click();
    const outcome = await (await page.waitForFunction(() => (document.querySelector('#connection[data-state="live"]') ? 'live'
      : document.querySelector('form.login .error')?.textContent || false), null, { timeout: TIMEOUT })).jsonValue();
    if (outcome === 'live') break;
    // A file's logins can outrun the server's limit on a fast machine: wait for the next one.
    if (!/too many requests/.test(outcome) || attempt === LOGIN_TRIES) throw new Error(`login as ${username}: ${outcome}`);
    await page.waitForTimeout(LOGIN_WAIT_MS);
  }
  await page.waitForSelector(PRODUCT, { timeout: TIMEOUT });
}

/**
 * The server allows 10 logins a minute per address and gives one back
 * every 6 s: a login refused for that is tried again this often, this long apart.
 */
const LOGIN_TRIES = 4;
const LOGIN_WAIT_MS = 6_500;

/** A product on either page: an admin table row or a storefront card. */
export const PRODUCT = '.products-card [data-id]';

/** The selector of product `id` (row or card). */
export const product = (id) => `.products-card [data-id="${id}"]`;

/**
 * Edits a product's field in the admin table the way a user does: click the
 * value, type, Enter.
 * @param {import('playwright-core').Page} page
 */
export async function editCell(page, id, field, value) {
  await page.click(`${product(id)} td[data-col="${field}"] button.cell-edit`);
  const input = `${product(id)} td[data-col="${field}"] input[data-field="${field}"]`;
  await page.fill(input, value);
  await page.press(input, 'Enter');
}

/** Waits for the connection indicator to show `state`. */
export function waitConnection(page, state) {
  return page.waitForSelector(`#connection[data-state="${state}"]`, { timeout: TIMEOUT });
}

export const waitLive = (page) => waitConnection(page, 'live');

/**
 * Polls until the text of `selector` satisfies `test` (a string to equal, a
 * RegExp, or a function); returns the text.
 */
export async function waitText(page, selector, test, timeout = TIMEOUT) {
  const spec = test instanceof RegExp ? { re: test.source, flags: test.flags }
    : typeof test === 'string' ? { eq: test } : null;
  if (!spec) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const text = await page.locator(selector).first().textContent({ timeout }).catch(() => null);
      if (text !== null && test(text)) return text;
      if (Date.now() > deadline) throw new Error(`${selector}: last text ${JSON.stringify(text)}`);
      await page.waitForTimeout(100);
    }
  }
  const handle = await page.waitForFunction(({ selector, spec }) => {
    const el = document.querySelector(selector);
    if (!el) return false;
    const text = el.textContent;
    const ok = spec.eq !== undefined ? text === spec.eq : new RegExp(spec.re, spec.flags).test(text);
    return ok ? text : false;
  }, { selector, spec }, { timeout });
  return handle.jsonValue();
}

/**
 * axe-core's serious and critical violations on the page as it is now, one
 * line each (an empty list when clean).
 */
export async function seriousViolations(page) {
  // Evaluated through the automation protocol: the page's CSP refuses
  // inline script tags, as it should.
  await page.evaluate(axe.source);
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

/** Logs in over REST; returns a bearer token. */
export async function apiToken(baseUrl, username) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD }),
    });
    if (res.ok) return (await res.json()).token;
    if (res.status !== 429 || attempt === LOGIN_TRIES) throw new Error(`login ${username}: ${res.status}`);
    await new Promise((r) => setTimeout(r, LOGIN_WAIT_MS));
  }
}

/** One REST call with a bearer token; resolves {status, body}. */
export async function rest(baseUrl, token, method, path, body, headers = {}) {
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Records the JSON text frames a page's WebSockets send and receive. */
export function recordFrames(page) {
  const frames = { sent: [], received: [] };
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => { try { frames.sent.push(JSON.parse(f.payload)); } catch { /* binary */ } });
    ws.on('framereceived', (f) => { try { frames.received.push(JSON.parse(f.payload)); } catch { /* binary */ } });
  });
  return frames;
}

/** Polls `fn` until it returns a truthy value. */
export async function until(fn, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Parses "1,234" (en-US) into 1234. */
export const num = (text) => Number(String(text).replace(/[^\d.-]/g, ''));

/**
 * A valid PNG (RGBA, solid colour) built here, so no binary file is needed.
 * @returns {Buffer}
 */
export function makePng(width = 24, height = 24, rgba = [200, 40, 40, 255]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(rgba, y * (1 + width * 4) + 1 + x * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Page paths. STORESYNC_PAGES_HTML=1 uses the file names (`/admin.html`),
 * for a server built before the `/admin` and `/storefront` routes.
 */
export const PAGES = process.env.STORESYNC_PAGES_HTML === '1'
  ? { admin: '/admin.html', storefront: '/storefront.html' }
  : { admin: '/admin', storefront: '/storefront' };

/**
 * One server and one browser for a test file, started before its tests and
 * stopped after them (node:test hooks).
 * @returns {{server: any, browser: any}}
 */
export function serverAndBrowser() {
  const env = { server: null, browser: null };
  before(async () => {
    env.server = await startServer();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
    assert.deepEqual(cspViolations, [], 'the pages broke the Content-Security-Policy');
  });
  return env;
}

/**
 * Saves a screenshot of a page or a locator under screenshots/ (and docs/
 * with UPDATE_DOCS_SCREENSHOTS=1).
 * @param {import('playwright-core').Page|import('playwright-core').Locator} target
 * @param {string} name file name without `.png`
 */
export async function screenshot(target, name, opts = {}) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await target.screenshot({ path: file, animations: 'disabled', ...opts });
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') await copyFile(file, join(DOCS_DIR, `${name}.png`));
}
