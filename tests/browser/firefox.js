// firefox.js: Debian's Firefox ESR for the browser suite (BROWSER=firefox).
// Playwright cannot drive a stock Firefox; puppeteer-core can, over
// WebDriver BiDi. The tests are written against Playwright's API, so this
// module offers the part of it they use (browser, context, page, locator),
// built on puppeteer-core; anything else throws a clear error naming the
// missing call, so a new test that needs more says so at once.
// Differences worth knowing: locators act on their first match (Chromium's
// run keeps Playwright's strictness), `animations: 'disabled'` in
// screenshots is ignored, and only the locale en-US is offered.

import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

/** Default wait of actions and auto-waiting reads (Playwright's has none). */
const WAIT = 20_000;

/**
 * Wraps `target` so that a member it lacks throws instead of being
 * undefined; methods are bound to it (they use private members).
 */
function strict(kind, target) {
  return new Proxy(target, {
    get(t, key) {
      if (typeof key === 'symbol' || key === 'then' || key === 'toJSON' || key in t) {
        const value = Reflect.get(t, key, t);
        return typeof value === 'function' ? value.bind(t) : value;
      }
      throw new Error(`BROWSER=firefox: ${kind}.${key}() is not implemented by tests/browser/firefox.js`);
    },
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Playwright's key names that puppeteer spells otherwise. */
const keyName = (key) => (key === 'Space' ? ' ' : key);

/**
 * Resolves a locator's steps in the page: CSS, `text=`, label, role and
 * has-text steps, each applied to the matches of the step before. Runs in
 * the page, so it is self-contained.
 * @returns {Element[]}
 */
function resolveSteps(steps) {
  const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
  const matches = (text, want, exact) => (exact ? norm(text) === norm(want) : norm(text).toLowerCase().includes(norm(want).toLowerCase()));
  const shown = (el) => !el.closest('[aria-hidden="true"]') && (el.checkVisibility?.() ?? true);
  const below = (roots, css) => roots.flatMap((r) => [...r.querySelectorAll(css)]);
  const labelsOf = (el) => [
    ...[...(el.labels ?? [])].map((l) => l.textContent),
    el.getAttribute('aria-label'),
    ...(el.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean).map((id) => document.getElementById(id)?.textContent),
  ].filter((t) => t != null);
  const ROLES = {
    button: 'button, input[type="button"], input[type="submit"], input[type="reset"], [role="button"]',
    link: 'a[href], [role="link"]',
  };
  const nameOf = (el) => el.getAttribute('aria-label')
    ?? ((el.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean).map((id) => document.getElementById(id)?.textContent).join(' ')
      || (el instanceof HTMLInputElement ? el.value : el.textContent) || el.getAttribute('title') || '');
  let found = [document];
  for (const step of steps) {
    if (step.css) found = below(found, step.css);
    else if (step.text !== undefined) {
      const all = below(found, '*').filter((el) => matches(el.textContent, step.text, false));
      found = all.filter((el) => ![...el.children].some((c) => all.includes(c)));
    } else if (step.label !== undefined) {
      found = below(found, '*').filter((el) => labelsOf(el).some((t) => matches(t, step.label, step.exact)));
    } else if (step.role) {
      if (!ROLES[step.role]) throw new Error(`getByRole('${step.role}') is not implemented by tests/browser/firefox.js`);
      found = below(found, ROLES[step.role]).filter((el) => shown(el) && (step.name === undefined || matches(nameOf(el), step.name, step.exact)));
    } else if (step.hasText !== undefined) found = found.filter((el) => matches(el.textContent, step.hasText, false));
    else if (step.first) found = found.slice(0, 1);
    found = [...new Set(found)];
  }
  return found.filter((el) => el !== document);
}

/** Playwright's "visible": a non-empty box and not visibility:hidden. */
function visibleInPage(el) {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
}

/** A Playwright selector (CSS, with `>> text=…` parts) as locator steps. */
function selectorSteps(selector) {
  return selector.split(/\s+>>\s+/).map((part) => (part.startsWith('text=') ? { text: part.slice(5).replace(/^"(.*)"$/, '$1') } : { css: part }));
}

class Locator {
  /** @param {FirefoxPage} owner @param {object[]} steps */
  constructor(owner, steps) {
    this.owner = owner;
    this.steps = steps;
  }

  #more(...steps) { return strict('locator', new Locator(this.owner, [...this.steps, ...steps])); }

  locator(selector, { hasText, ...rest } = {}) {
    if (Object.keys(rest).length) throw new Error(`BROWSER=firefox: locator options ${Object.keys(rest)} are not implemented`);
    return this.#more(...selectorSteps(selector), ...(hasText === undefined ? [] : [{ hasText }]));
  }

  getByLabel(label, { exact = false } = {}) { return this.#more({ label, exact }); }

  getByRole(role, { name, exact = false } = {}) { return this.#more({ role, name, exact }); }

  first() { return this.#more({ first: true }); }

  count() { return this.owner.raw.evaluate((steps) => window.__pwResolve(steps).length, this.steps); }

  /** The first match, waiting until it exists (and is visible, unless `attached`). */
  async handle({ state = 'visible', timeout = WAIT } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      // A navigation under way destroys the document asked: ask the next one.
      const h = await this.owner.raw.evaluateHandle((steps, state) => {
        const el = window.__pwResolve(steps)[0];
        return el && (state === 'attached' || window.__pwVisible(el)) ? el : null;
      }, this.steps, state).catch((err) => {
        if (Date.now() > deadline) throw err;
        return null;
      });
      const el = h?.asElement();
      if (el) return el;
      await h?.dispose();
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${JSON.stringify(this.steps)} to be ${state}`);
      await sleep(100);
    }
  }

  async waitFor({ state = 'visible', timeout = WAIT } = {}) { await this.handle({ state, timeout }); }

  /** `fn(element, arg)` in the page on the first match. */
  async evaluate(fn, arg) {
    const el = await this.handle({ state: 'attached' });
    try {
      return await el.evaluate(fn, arg);
    } finally {
      await el.dispose();
    }
  }

  async isVisible() {
    return this.owner.raw.evaluate((steps) => {
      const el = window.__pwResolve(steps)[0];
      return Boolean(el && window.__pwVisible(el));
    }, this.steps);
  }

  async #onElement(fn, arg, opts = { state: 'attached' }) {
    const el = await this.handle(opts);
    try {
      return await el.evaluate(fn, arg);
    } finally {
      await el.dispose();
    }
  }

  textContent({ timeout } = {}) { return this.#onElement((el) => el.textContent, null, { state: 'attached', timeout }); }

  getAttribute(name) { return this.#onElement((el, name) => el.getAttribute(name), name); }

  inputValue() { return this.#onElement((el) => el.value); }

  isChecked() { return this.#onElement((el) => el.checked); }

  async isHidden() { return !(await this.isVisible()); }

  focus() { return this.#onElement((el) => el.focus()); }

  async click() {
    const el = await this.handle();
    await el.click();
    await el.dispose();
  }

  /**
   * Like Playwright: focus, select all, then the value as typed keys (so
   * `change` follows on blur, as after typing; Firefox fires none for a
   * value set by script).
   */
  async fill(value) {
    const el = await this.handle();
    try {
      await this.owner.toFront();
      await el.evaluate((el) => el.focus());
      const keys = this.owner.raw.keyboard;
      await keys.down('Control');
      await keys.press('a');
      await keys.up('Control');
      if (value === '') await keys.press('Backspace');
      else await keys.type(value);
      const now = await el.evaluate((el) => el.value);
      if (now !== value) throw new Error(`fill(${JSON.stringify(value)}) left ${JSON.stringify(now)} in ${JSON.stringify(this.steps)}`);
    } finally {
      await el.dispose();
    }
  }

  async press(key) {
    await this.owner.toFront();
    await this.focus();
    await this.owner.raw.keyboard.press(keyName(key));
  }

  async #setChecked(want) {
    if ((await this.isChecked()) !== want) await this.click();
    if ((await this.isChecked()) !== want) throw new Error(`${JSON.stringify(this.steps)} did not become ${want ? 'checked' : 'unchecked'}`);
  }

  check() { return this.#setChecked(true); }

  uncheck() { return this.#setChecked(false); }

  /** Selects by value or label and fires `input` and `change`, as Playwright does. */
  async selectOption(value) {
    const ok = await this.#onElement((el, value) => {
      const option = [...el.options].find((o) => o.value === value) ?? [...el.options].find((o) => o.label === value);
      if (!option) return false;
      el.value = option.value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
      return true;
    }, value, { state: 'visible' });
    if (!ok) throw new Error(`no option ${value} in ${JSON.stringify(this.steps)}`);
  }

  /**
   * Playwright's file payload, written to a temporary file (BiDi sets files
   * by path); the file stays until the context closes, since the page may
   * read it later.
   */
  async setInputFiles({ name, buffer, ...rest }) {
    if (!buffer || Object.keys(rest).some((k) => k !== 'mimeType')) throw new Error('BROWSER=firefox: setInputFiles takes {name, mimeType, buffer}');
    const dir = await mkdtemp(join(tmpdir(), 'storesync-upload-'));
    this.owner.context.uploadDirs.push(dir);
    await writeFile(join(dir, name), buffer);
    const el = await this.handle({ state: 'attached' });
    await el.uploadFile(join(dir, name));
    await el.dispose();
  }

  async boundingBox() {
    const el = await this.handle();
    try {
      return await el.boundingBox();
    } finally {
      await el.dispose();
    }
  }

  scrollIntoViewIfNeeded() { return this.#onElement((el) => el.scrollIntoView({ block: 'center' }), null, { state: 'visible' }); }

  async screenshot({ path, animations, ...rest } = {}) {
    if (Object.keys(rest).length) throw new Error(`BROWSER=firefox: screenshot options ${Object.keys(rest)} are not implemented`);
    const el = await this.handle();
    await el.screenshot({ path });
    await el.dispose();
  }
}

/**
 * Wraps each WebSocket so the page's text frames reach
 * `__pwRecordFrame(doc, n, socketId, 'sent'|'received', text)`; `n` counts
 * the frames of this document (`__pwFrames`), so Node can wait for all of
 * them (FirefoxPage.#framesDelivered).
 */
function recordWebSockets() {
  const Native = window.WebSocket;
  const doc = Math.random().toString(36).slice(2);
  window.__pwFrames = { doc, n: 0 };
  const record = (id, dir, data) => {
    if (typeof data === 'string') window.__pwRecordFrame(doc, ++window.__pwFrames.n, id, dir, data);
  };
  let next = 0;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const id = next++;
      this.__pwId = id;
      this.addEventListener('message', (ev) => record(id, 'received', ev.data));
    }

    send(data) {
      record(this.__pwId, 'sent', data);
      return super.send(data);
    }
  };
}

/** Reports violations of the Content-Security-Policy on the console, where helpers.js looks for them. */
function reportCspViolations() {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`Refused by the Content Security Policy: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`);
  });
}

class FirefoxPage {
  /** @param {FirefoxContext} context @param {import('puppeteer-core').Page} raw */
  constructor(context, raw) {
    this.context = context;
    this.raw = raw;
    this.keyboard = strict('keyboard', { press: async (key) => { await this.toFront(); await raw.keyboard.press(keyName(key)); } });
    /** Work `on()` started that navigation must wait for. */
    this.setup = Promise.resolve();
    /** Listeners of `websocket`, once a test asked for frames. */
    this.socketListeners = null;
    /** Per document, how many of its frames reached Node. */
    this.delivered = new Map();
  }

  /**
   * Makes this the focused page: Firefox sends keys only to the focused
   * window, and each context's page is a window of its own.
   */
  async toFront() {
    if (this.context.shared.front === this) return;
    await this.raw.bringToFront();
    this.context.shared.front = this;
  }

  async init(opts) {
    const { viewport, isMobile = false, hasTouch = false, timezoneId } = opts;
    await this.raw.setViewport({ ...viewport, isMobile, hasTouch, deviceScaleFactor: 1 });
    if (timezoneId) await this.raw.emulateTimezone(timezoneId);
    await this.raw.evaluateOnNewDocument(`window.__pwResolve = ${resolveSteps}; window.__pwVisible = ${visibleInPage};`);
    await this.raw.evaluateOnNewDocument(reportCspViolations);
    for (const script of this.context.initScripts) await this.raw.evaluateOnNewDocument(script);
    if (this.context.offline) await this.raw.setOfflineMode(true);
    this.raw.on('console', (msg) => this.context.emit('console', msg));
  }

  /**
   * Playwright's page events the suite uses: `websocket` (frames), `dialog`
   * and `request` (puppeteer's request has the same `url()` and `method()`).
   */
  on(event, fn) {
    if (event === 'dialog' || event === 'request') this.raw.on(event, fn);
    else if (event === 'websocket') this.#onWebSocket(fn);
    else throw new Error(`BROWSER=firefox: page.on('${event}') is not implemented`);
    return this;
  }

  once(event, fn) {
    if (event !== 'dialog') throw new Error(`BROWSER=firefox: page.once('${event}') is not implemented`);
    this.raw.once('dialog', fn);
    return this;
  }

  #onWebSocket(fn) {
    if (!this.socketListeners) {
      this.socketListeners = [];
      const sockets = new Map();
      this.setup = this.setup.then(async () => {
        await this.raw.exposeFunction('__pwRecordFrame', (doc, n, id, dir, payload) => {
          const key = `${doc}:${id}`;
          if (!sockets.has(key)) {
            const handlers = { sent: [], received: [] };
            sockets.set(key, handlers);
            const ws = { on: (ev, h) => { handlers[{ framesent: 'sent', framereceived: 'received' }[ev]].push(h); return ws; } };
            for (const l of this.socketListeners) l(ws);
          }
          for (const h of sockets.get(key)[dir]) h({ payload });
          this.delivered.set(doc, Math.max(n, this.delivered.get(doc) ?? 0));
        });
        await this.raw.evaluateOnNewDocument(recordWebSockets);
      });
    }
    this.socketListeners.push(fn);
  }

  /**
   * Waits until every frame the page has sent or received so far reached
   * Node: Playwright delivers frame events before a later wait sees the DOM
   * they changed, and tests rely on that order.
   */
  async #framesDelivered() {
    if (!this.socketListeners) return;
    const at = await this.raw.evaluate(() => window.__pwFrames ?? null).catch(() => null);
    const deadline = Date.now() + 5_000;
    while (at && (this.delivered.get(at.doc) ?? 0) < at.n && Date.now() < deadline) await sleep(10);
  }

  async goto(url) {
    await this.setup;
    await this.raw.goto(url);
  }

  async reload() {
    await this.setup;
    await this.raw.reload();
  }

  url() { return this.raw.url(); }

  close() { return this.raw.close(); }

  async evaluate(fn, arg) {
    const value = await this.raw.evaluate(fn, arg);
    await this.#framesDelivered();
    return value;
  }

  /** Resolves with a handle whose jsonValue() is the truthy value, as Playwright's. */
  async waitForFunction(fn, arg, { timeout = WAIT, polling = 'raf' } = {}) {
    const handle = await this.raw.waitForFunction(fn, { timeout, polling }, arg);
    await this.#framesDelivered();
    return handle;
  }

  waitForTimeout(ms) { return sleep(ms); }

  /** Playwright's `state: 'detached'`: until nothing matches `selector`. */
  async #waitDetached(selector, timeout) {
    const locator = this.locator(selector);
    for (const deadline = Date.now() + timeout; await locator.count() > 0;) {
      if (Date.now() > deadline) throw new Error(`waitForSelector: ${selector} still attached after ${timeout} ms`);
      await sleep(50);
    }
    return null;
  }

  async waitForSelector(selector, { state = 'visible', timeout = WAIT } = {}) {
    if (state === 'detached') return this.#waitDetached(selector, timeout);
    if (state !== 'visible' && state !== 'attached') throw new Error(`BROWSER=firefox: waitForSelector state ${state} is not implemented`);
    const handle = await this.locator(selector).handle({ state, timeout });
    await this.#framesDelivered();
    return handle;
  }

  locator(selector, opts) { return strict('locator', new Locator(this, [])).locator(selector, opts); }

  getByLabel(label, opts) { return strict('locator', new Locator(this, [])).getByLabel(label, opts); }

  getByRole(role, opts) { return strict('locator', new Locator(this, [])).getByRole(role, opts); }

  $eval(selector, fn, arg) { return this.raw.$eval(selector, fn, arg); }

  $$eval(selector, fn, arg) { return this.raw.$$eval(selector, fn, arg); }

  click(selector) { return this.locator(selector).click(); }

  fill(selector, value) { return this.locator(selector).fill(value); }

  press(selector, key) { return this.locator(selector).press(key); }

  selectOption(selector, value) { return this.locator(selector).selectOption(value); }

  focus(selector) { return this.locator(selector).focus(); }

  check(selector) { return this.locator(selector).check(); }

  uncheck(selector) { return this.locator(selector).uncheck(); }

  isChecked(selector) { return this.locator(selector).isChecked(); }

  isHidden(selector) { return this.locator(selector).isHidden(); }

  textContent(selector) { return this.locator(selector).textContent(); }

  getAttribute(selector, name) { return this.locator(selector).getAttribute(name); }

  inputValue(selector) { return this.locator(selector).inputValue(); }

  setInputFiles(selector, files) { return this.locator(selector).setInputFiles(files); }

  async screenshot({ path, clip, animations, ...rest } = {}) {
    if (Object.keys(rest).length) throw new Error(`BROWSER=firefox: screenshot options ${Object.keys(rest)} are not implemented`);
    await this.raw.screenshot({ path, clip });
  }

  /** Aborts the requests matching a glob (`**` any path, `*` one segment); nothing else. */
  async route(glob, handler) {
    const re = new RegExp(`^${glob.split('**').map((p) => p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')).join('.*')}$`);
    await this.raw.setRequestInterception(true);
    this.raw.on('request', (req) => {
      if (req.isInterceptResolutionHandled()) return;
      if (!re.test(req.url())) {
        req.continue();
        return;
      }
      handler(strict('route', { abort: () => req.abort() }));
    });
  }
}

class FirefoxContext {
  /** @param {{front: FirefoxPage|null}} shared what the browser's contexts share */
  constructor(raw, opts, shared) {
    this.raw = raw;
    this.opts = opts;
    this.shared = shared;
    /** Temporary directories of setInputFiles, removed on close. */
    this.uploadDirs = [];
    this.initScripts = [];
    this.offline = false;
    this.pages = [];
    this.listeners = { console: [] };
  }

  emit(event, arg) {
    for (const fn of this.listeners[event]) fn(arg);
  }

  on(event, fn) {
    if (!this.listeners[event]) throw new Error(`BROWSER=firefox: context.on('${event}') is not implemented`);
    this.listeners[event].push(fn);
    return this;
  }

  async newPage() {
    const page = new FirefoxPage(this, await this.raw.newPage());
    await page.init(this.opts);
    this.pages.push(page);
    this.shared.front = page; // a new window has the focus
    return strict('page', page);
  }

  async addInitScript(fn) {
    this.initScripts.push(fn);
    for (const page of this.pages) await page.raw.evaluateOnNewDocument(fn);
  }

  /** Offline for every page of the context (BiDi emulation.setNetworkConditions). */
  async setOffline(offline) {
    this.offline = offline;
    for (const page of this.pages) await page.raw.setOfflineMode(offline);
  }

  async close() {
    await this.raw.close();
    await Promise.all(this.uploadDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** The context options the suite uses; others throw. */
const CONTEXT_OPTIONS = new Set(['locale', 'timezoneId', 'viewport', 'isMobile', 'hasTouch']);

/** Launches Debian's Firefox ESR; resolves a Playwright-like Browser. */
export async function launchFirefox() {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
    headless: true,
    // Money and dates format as en-US, as the Chromium contexts ask.
    extraPrefsFirefox: { 'intl.locale.requested': 'en-US', 'intl.accept_languages': 'en-US' },
  });
  const shared = { front: null };
  return strict('browser', {
    async newContext(opts = {}) {
      const unknown = Object.keys(opts).filter((k) => !CONTEXT_OPTIONS.has(k));
      if (unknown.length) throw new Error(`BROWSER=firefox: context options ${unknown} are not implemented`);
      if (opts.locale && opts.locale !== 'en-US') throw new Error('BROWSER=firefox: only the locale en-US is offered');
      return strict('context', new FirefoxContext(await browser.createBrowserContext(), opts, shared));
    },
    close: () => browser.close(),
  });
}
