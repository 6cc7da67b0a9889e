// sync-client.js: keeps one store's live data in step with a storesync
// server over WebSocket protocol v1 (docs/protocol.md), for any page or app.
// It knows nothing of the DOM: views read `client.state` and subscribe to it.
//
// Guarantees it keeps, and why:
// - Exactly once: events at or below the applied seq are ignored, and a
//   batch must start at applied + 1, else the client resubscribes with
//   `since` (a gap means a frame was lost; guessing would corrupt figures).
// - Resume, not refetch: the applied seq and data are cached in
//   sessionStorage, so a reconnect or a reload subscribes with `since`.
// - Never silent: while the socket cannot be held it long-polls
//   `GET /events`, and the connection state says which path is in use.
// - No lost edits, no blind overwrites: writes that fail on the network are
//   queued (localStorage) and replayed with their `If-Match` version and
//   Idempotency-Key; a 412 is surfaced as a `conflict` event.
// Usage and options: docs/sync-client.md.

import { backoffDelay } from './backoff.js';
import { parseServerFrame, parseEventsPage, frameStore, isSnapshot, isPage } from './protocol.js';
import { createApi, ApiError } from './api.js';
import { createStateStore, applyEvents } from './state.js';

/** The product-table view the server uses when none is given. */
export const DEFAULT_VIEW = Object.freeze({ page: 1, page_size: 25, sort: 'id', dir: 'asc' });

/**
 * @typedef {'connecting'|'live'|'reconnecting'|'polling'|'stopped'} ConnectionState
 * `polling`: the socket is down but `GET /events` long-polling works.
 */

/**
 * @typedef {object} SyncState
 * @property {string|null} user
 * @property {any[]} stores stores of the hello frame
 * @property {string|null} store current store slug
 * @property {any} info StoreInfo of the current store (currency, time zone)
 * @property {number|null} seq last applied seq of the current store
 * @property {any} dashboard
 * @property {any[]|null} sales last 30 local days
 * @property {any} page {seq, view, total, rows}
 * @property {any} presence {admins, editors, viewers}
 * @property {any} view the requested product-table view
 * @property {boolean} follow
 * @property {ConnectionState} connection
 * @property {number|null} rttMs round trip of the last protocol ping
 * @property {number|null} eventDelayMs commit-to-receipt delay of the last event
 * @property {number} reconnects successful reconnects since start
 * @property {number} queued writes waiting in the offline queue
 * @property {any[]} pending the queued writes' `meta`
 */

/**
 * @typedef {object} SyncClientOptions
 * @property {string} [baseUrl] server origin; default the page's
 * @property {string} [token] bearer token for apps without the session cookie
 * @property {string} [user] user name, to keep caches of users apart
 * @property {string} [store] store slug to start with
 * @property {object} [view] initial product-table view
 * @property {boolean} [follow] follow views editors publish
 * @property {string[]} [topics] subscription topics (default all)
 * @property {Storage|null} [cache] snapshot cache (default sessionStorage; null: off)
 * @property {Storage|null} [queueStorage] offline queue (default localStorage; null: memory)
 * @property {string} [cacheKey] storage key prefix
 * @property {{baseMs?: number, capMs?: number}} [backoff]
 * @property {number} [pollWaitSec] long-poll wait (≤ 60)
 * @property {number} [pingIntervalMs] protocol ping interval (latency, dead sockets)
 * @property {typeof WebSocket} [WebSocket]
 * @property {typeof fetch} [fetch]
 */

/**
 * @typedef {object} WriteOp
 * @property {'POST'|'PATCH'|'PUT'|'DELETE'} method
 * @property {string} path under /api/v1 (see `client.api.paths`)
 * @property {any} [body] JSON, or a Blob (never queued: too big to persist)
 * @property {number} [ifMatch] version the edit was made against
 * @property {string} [idempotencyKey] default: a fresh UUID
 * @property {any} [meta] anything the app wants back in events (e.g. product id)
 */

/**
 * Creates a sync client. Call `start()` to connect.
 * @param {SyncClientOptions} [opts]
 * @returns {SyncClient}
 */
export function createSyncClient(opts = {}) {
  return new SyncClient(opts);
}

/**
 * Events (CustomEvent, data in `detail`): `change` {state, reason},
 * `connection` {state}, `event` {event} per applied event, `published` {view, by},
 * `conflict` {op, current}, `write-applied` {op, result}, `write-failed` {op, error},
 * `queued` {op}, `invalid-frame` {reason}, `server-error` {code, message, ref},
 * `unauthenticated` {}.
 */
export class SyncClient extends EventTarget {
  /** @param {SyncClientOptions} opts */
  constructor(opts) {
    super();
    const ls = safeStorage('localStorage');
    this.opts = {
      baseUrl: globalThis.location?.origin ?? '',
      cache: safeStorage('sessionStorage'),
      queueStorage: ls,
      cacheKey: 'storesync',
      pollWaitSec: 25,
      pingIntervalMs: 10_000,
      WebSocket: globalThis.WebSocket,
      ...opts,
      backoff: { baseMs: 500, capMs: 15_000, ...opts.backoff },
    };
    this.api = createApi({ base: this.opts.baseUrl, token: this.opts.token, fetch: this.opts.fetch });
    /** @type {import('./state.js').StateStore<SyncState>} */
    this.state = createStateStore({
      user: this.opts.user ?? null, stores: [], store: null, info: null, seq: null,
      dashboard: null, sales: null, page: null, presence: null,
      view: { ...DEFAULT_VIEW, ...this.opts.view }, follow: Boolean(this.opts.follow),
      connection: 'connecting', rttMs: null, eventDelayMs: null, reconnects: 0, queued: 0, pending: [],
    });
    this.ws = null;
    this.attempt = 0;
    this.everLive = false;
    this.nextId = 1;
    this.subId = null;
    this.gapSeq = null;
    this.pings = new Map();
    this.queue = this.loadQueue();
    this.setState({ queued: this.queue.length, pending: this.queue.map((op) => op.meta) }, 'queue');
    this.onOnline = () => {
      if (!this.ws) this.reconnectNow();
      this.flushQueue();
    };
  }

  // ---- lifecycle -------------------------------------------------------

  /** Connects and subscribes to `opts.store` (resuming from the cache). */
  start() {
    this.stopped = false;
    globalThis.addEventListener?.('online', this.onOnline);
    if (this.opts.store) this.enterStore(this.opts.store);
    this.connect();
    if (this.queue.length) this.flushQueue();
  }

  /** Closes the socket, stops polling and timers. The cache is kept. */
  stop() {
    this.stopped = true;
    globalThis.removeEventListener?.('online', this.onOnline);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.queueTimer);
    clearInterval(this.pingTimer);
    this.stopPolling();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onerror = null;
      ws.close(1000);
    }
    this.setConnection('stopped');
  }

  /** Forgets every cached snapshot and the offline queue (logout). */
  clearStorage() {
    for (const storage of [this.opts.cache, this.opts.queueStorage]) {
      if (!storage) continue;
      for (const key of Object.keys(storage)) if (key.startsWith(`${this.opts.cacheKey}:`)) storage.removeItem(key);
    }
    this.queue = [];
    this.setState({ queued: 0, pending: [] }, 'queue');
  }

  // ---- what apps call ---------------------------------------------------

  /**
   * Shows another store: leaves the current one in the same round trip.
   * Data of the previous store is cleared at once, never shown under the new
   * store's name.
   * @param {string} slug
   */
  switchStore(slug) {
    if (slug === this.state.get().store) return;
    this.enterStore(slug, { ...this.state.get().view, page: 1, q: undefined, status: undefined });
    if (this.isLive()) {
      this.send({ type: 'switch_store', id: (this.subId = this.nextId++), ...this.subscription() });
    } else {
      this.restartPolling();
    }
  }

  /**
   * Changes the product-table page, sort, filter or size.
   * @param {object} view fields to change
   */
  setView(view) {
    const s = this.state.get();
    const next = cleanView({ ...s.view, ...view });
    this.setState({ view: next }, 'view');
    if (this.isLive()) {
      this.send({ type: 'set_view', id: this.nextId++, store: s.store, view: next });
    } else {
      this.fetchPage().catch(() => {});
    }
  }

  /**
   * Follows (or stops following) the views editors publish.
   * @param {boolean} follow
   */
  setFollow(follow) {
    this.setState({ follow }, 'follow');
    if (this.isLive()) this.subscribe();
  }

  /**
   * Publishes a view so that following clients move to it (editor or admin).
   * @param {object} [view] default: the current view
   */
  publishView(view = this.state.get().view) {
    if (!this.isLive()) throw new Error('publishing needs the live connection');
    this.send({ type: 'publish_view', id: this.nextId++, store: this.state.get().store, view: cleanView(view) });
  }

  /** Starts over from a fresh snapshot (the manual refresh button). */
  refresh() {
    if (this.isLive()) {
      this.subscribe({ fresh: true });
    } else {
      this.setState({ seq: null }, 'refresh');
      this.restartPolling();
      this.reconnectNow();
    }
  }

  /**
   * Sends a write. A network failure queues it for replay (unless its body is
   * a Blob); writes queue behind earlier queued ones to keep their order.
   * Resolves `{ok, data}`, `{queued}` or `{conflict, current}`; rejects with
   * ApiError for other refusals.
   * @param {WriteOp} op
   */
  async write(op) {
    op = { idempotencyKey: crypto.randomUUID(), ...op };
    if (this.queue.length && !(op.body instanceof Blob)) {
      this.enqueue(op);
      this.flushQueue();
      return { queued: true };
    }
    return this.sendWrite(op, true);
  }

  /** Replays the offline queue now (it also replays on reconnect). */
  retryQueue() {
    this.flushQueue();
  }

  // ---- socket -------------------------------------------------------------

  isLive() {
    return this.ws?.readyState === 1 && this.helloSeen;
  }

  connect() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.reconnectTimer);
    const url = new URL('/ws', this.opts.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.opts.token) url.searchParams.set('token', this.opts.token);
    let ws;
    try {
      ws = new this.opts.WebSocket(url);
    } catch {
      this.socketDown();
      return;
    }
    this.ws = ws;
    this.helloSeen = false;
    ws.onmessage = (ev) => this.onText(ev.data);
    ws.onclose = () => {
      if (this.ws === ws) this.socketDown();
    };
  }

  /** The socket closed or never opened: back off, and poll meanwhile. */
  socketDown() {
    this.ws = null;
    this.helloSeen = false;
    clearInterval(this.pingTimer);
    this.pings.clear();
    if (this.stopped) return;
    if (this.state.get().connection !== 'polling') this.setConnection(this.everLive ? 'reconnecting' : 'connecting');
    const { baseMs, capMs } = this.opts.backoff;
    this.reconnectTimer = setTimeout(() => this.connect(), backoffDelay(this.attempt++, baseMs, capMs));
    this.startPolling();
  }

  /** Skips the rest of the backoff: there is reason to think the server is back. */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.reconnectTimer);
    this.connect();
  }

  send(frame) {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(frame));
  }

  subscription({ fresh = false } = {}) {
    const s = this.state.get();
    const frame = { store: s.store, view: s.view, follow: s.follow };
    if (this.opts.topics) frame.topics = this.opts.topics;
    if (!fresh && s.seq !== null) frame.since = s.seq;
    return frame;
  }

  subscribe({ fresh = false } = {}) {
    if (!this.state.get().store) return;
    this.subId = this.nextId++;
    this.send({ type: 'subscribe', id: this.subId, ...this.subscription({ fresh }) });
  }

  onText(text) {
    const parsed = parseServerFrame(text);
    if (!parsed.ok) {
      this.emit('invalid-frame', { reason: parsed.reason });
      return;
    }
    const f = parsed.frame;
    if (f.type === 'hello') return this.onHello(f);
    if (f.type === 'pong') return this.onPong(f);
    if (f.type === 'error') return this.onServerError(f);
    // Frames of a store we just left may still be in flight.
    if (frameStore(f) !== this.state.get().store) return;
    switch (f.type) {
      case 'subscribed':
        if (f.ref === this.subId) {
          this.setConnection('live');
          this.flushQueue();
        }
        break;
      case 'snapshot': this.applySnapshot(f); break;
      case 'batch': this.onBatch(f); break;
      case 'page': this.applyPage(f); break;
      case 'presence':
        this.setState({ presence: { admins: f.admins, editors: f.editors, viewers: f.viewers } }, 'presence');
        break;
      case 'resync': this.subscribe({ fresh: true }); break;
      default: break;
    }
  }

  onHello(f) {
    this.helloSeen = true;
    this.stopPolling();
    if (this.everLive) this.setState({ reconnects: this.state.get().reconnects + 1 }, 'health');
    this.everLive = true;
    this.attempt = 0;
    this.setState({ user: f.user, stores: f.stores }, 'hello');
    clearInterval(this.pingTimer);
    // Protocol pings measure latency and find sockets that died silently
    // (no close event, e.g. a laptop that slept).
    this.pingTimer = setInterval(() => this.ping(), this.opts.pingIntervalMs);
    this.ping();
    this.subscribe();
  }

  ping() {
    const now = Date.now();
    for (const sent of this.pings.values()) {
      if (now - sent > 2 * this.opts.pingIntervalMs + 5_000) {
        const ws = this.ws;
        if (ws) {
          ws.onclose = ws.onmessage = null;
          ws.close(4000);
        }
        this.socketDown();
        return;
      }
    }
    const id = `p${this.nextId++}`;
    this.pings.set(id, now);
    this.send({ type: 'ping', id });
  }

  onPong(f) {
    const sent = this.pings.get(f.ref);
    if (sent === undefined) return;
    this.pings.delete(f.ref);
    this.setState({ rttMs: Date.now() - sent }, 'health');
  }

  onServerError(f) {
    this.emit('server-error', { code: f.code, message: f.message, ref: f.ref });
    // The store actor is restarting: ask again shortly.
    if (f.ref === this.subId && f.code === 'unavailable') setTimeout(() => this.subscribe(), 1_000);
  }

  // ---- applying data --------------------------------------------------------

  applySnapshot(f) {
    const s = this.state.get();
    const info = f.info ?? s.info ?? s.stores.find((x) => x.slug === s.store) ?? null;
    this.gapSeq = null;
    this.setState({
      info, seq: f.seq, dashboard: f.dashboard, sales: f.sales,
      page: pageOf(f.page), view: f.page.view,
    }, 'snapshot');
    this.saveCache();
  }

  onBatch(f) {
    const seq = this.state.get().seq;
    if (seq === null || f.to <= seq) return; // waiting for a snapshot, or a duplicate
    if (f.from > seq + 1) {
      // A gap: resume from what was applied; twice at the same seq means the
      // server cannot fill it, so start over from a snapshot.
      const again = this.gapSeq === seq;
      this.gapSeq = seq;
      this.subscribe({ fresh: again });
      return;
    }
    this.applyEventList(f.events.filter((e) => e.seq > seq), f.to);
  }

  /** Applies events (all above the applied seq) and advances it to `to`. */
  applyEventList(events, to) {
    const s = this.state.get();
    const next = applyEvents(s, events);
    const last = events[events.length - 1];
    const delay = last ? Date.now() - Date.parse(last.at) : s.eventDelayMs;
    this.setState({
      info: next.info, dashboard: next.dashboard, sales: next.sales, page: next.page,
      seq: to, eventDelayMs: delay,
    }, 'batch');
    for (const event of events) {
      this.emit('event', { event });
      if (event.kind === 'view.published') this.emit('published', { view: event.data.view, by: event.by });
    }
    this.saveCache();
    return next.membershipChanged;
  }

  applyPage(f) {
    this.setState({ page: pageOf(f), view: f.view }, 'page');
    this.saveCache();
  }

  /** Enters a store locally: its cached data, or nothing (never the old store's). */
  enterStore(slug, view) {
    const s = this.state.get();
    const cached = this.loadCache(slug);
    const info = cached?.info ?? s.stores.find((x) => x.slug === slug) ?? null;
    this.gapSeq = null;
    this.setState({
      store: slug, info,
      seq: cached?.seq ?? null, dashboard: cached?.dashboard ?? null, sales: cached?.sales ?? null,
      page: cached?.page ?? null, presence: null,
      view: cleanView(view ?? cached?.view ?? s.view),
    }, 'switch');
  }

  // ---- long-poll fallback ------------------------------------------------------

  stopPolling() {
    this.pollAbort?.abort();
    this.pollAbort = null;
  }

  restartPolling() {
    this.stopPolling();
    if (!this.isLive()) this.startPolling();
  }

  async startPolling() {
    if (this.pollAbort || this.stopped || !this.state.get().store) return;
    const ctl = new AbortController();
    this.pollAbort = ctl;
    const store = this.state.get().store;
    let failures = 0;
    let answered = false;
    while (!ctl.signal.aborted && !this.isLive() && this.state.get().store === store) {
      try {
        const seq = this.state.get().seq;
        if (seq === null) {
          const snap = await this.api.snapshot(store, this.state.get().view);
          if (ctl.signal.aborted) break;
          if (!isSnapshot(snap)) throw new Error('invalid snapshot');
          this.applySnapshot(snap);
        } else {
          const body = await this.api.events(store, { since: seq, wait: this.opts.pollWaitSec, limit: 1000 }, ctl.signal);
          if (ctl.signal.aborted || this.state.get().seq !== seq) break;
          const parsed = parseEventsPage(body);
          if (!parsed.ok) {
            this.emit('invalid-frame', { reason: parsed.reason });
            throw new Error(parsed.reason);
          }
          const events = parsed.events.filter((e) => e.seq > seq);
          if (events.length) {
            const moved = this.applyEventList(events, events[events.length - 1].seq);
            // No page frames on this path: refetch the rows when they may have moved.
            if (moved) await this.fetchPage();
          }
        }
        // HTTP answers again (or for the first time), so the socket may work
        // too: try it now rather than wait out the backoff. Only then, so a
        // proxy that blocks WebSockets is not hammered at the event rate.
        if (failures > 0 || !answered) this.reconnectNow();
        failures = 0;
        answered = true;
        this.setConnection('polling');
      } catch (err) {
        if (ctl.signal.aborted) break;
        if (err instanceof ApiError && err.status === 401) {
          this.emit('unauthenticated', {});
          this.stop();
          break;
        }
        if (this.state.get().connection === 'polling') this.setConnection('reconnecting');
        const { baseMs, capMs } = this.opts.backoff;
        await sleep(backoffDelay(Math.min(failures++, 6), baseMs, capMs), ctl.signal);
      }
    }
    if (this.pollAbort === ctl) this.pollAbort = null;
  }

  async fetchPage() {
    const s = this.state.get();
    const page = await this.api.products(s.store, s.view);
    if (this.state.get().store !== s.store || !isPage(page)) return;
    this.setState({ page: pageOf(page) }, 'page');
    this.saveCache();
  }

  // ---- offline queue -------------------------------------------------------------

  async sendWrite(op, queueOnNetworkError) {
    try {
      const data = await this.api.request(op.method, op.path, op);
      this.emit('write-applied', { op, result: data });
      return { ok: true, data };
    } catch (err) {
      if (err instanceof ApiError) {
        if (err.status === 412) {
          const current = err.details?.current ?? null;
          this.emit('conflict', { op, current });
          return { conflict: true, current };
        }
        throw err;
      }
      if (!queueOnNetworkError || op.body instanceof Blob) throw err;
      this.enqueue(op);
      return { queued: true };
    }
  }

  enqueue(op) {
    this.queue.push(op);
    this.saveQueue();
    this.emit('queued', { op });
    this.scheduleQueueRetry();
  }

  scheduleQueueRetry() {
    clearTimeout(this.queueTimer);
    if (this.queue.length && !this.stopped) this.queueTimer = setTimeout(() => this.flushQueue(), 3_000);
  }

  async flushQueue() {
    if (this.flushing || !this.queue.length || this.stopped) return;
    this.flushing = true;
    // A replayed edit raises the product's version; a later queued edit of the
    // same product made against the same old version is ours, not a conflict.
    const rebased = new Map();
    try {
      while (this.queue.length) {
        const op = this.queue[0];
        op.replayed = true;
        const moved = rebased.get(op.path);
        if (moved && op.ifMatch === moved.from) op.ifMatch = moved.to;
        try {
          const result = await this.sendWrite(op, false);
          const version = result.data?.product?.version;
          if (result.ok && op.ifMatch !== undefined && Number.isInteger(version)) {
            rebased.set(op.path, { from: op.ifMatch, to: version });
          }
        } catch (err) {
          if (!(err instanceof ApiError)) break; // still offline: keep it, retry later
          this.emit('write-failed', { op, error: err });
        }
        this.queue.shift();
        this.saveQueue();
      }
    } finally {
      this.flushing = false;
      this.scheduleQueueRetry();
    }
  }

  queueKey() {
    return `${this.opts.cacheKey}:queue:${this.state.get().user ?? 'anon'}`;
  }

  loadQueue() {
    try {
      const raw = this.opts.queueStorage?.getItem(this.queueKey());
      const list = raw ? JSON.parse(raw) : [];
      return Array.isArray(list) ? list.filter((op) => op && typeof op.path === 'string' && typeof op.method === 'string') : [];
    } catch {
      return [];
    }
  }

  saveQueue() {
    try {
      this.opts.queueStorage?.setItem(this.queueKey(), JSON.stringify(this.queue.filter((op) => !(op.body instanceof Blob))));
    } catch { /* storage full or disabled: the queue still lives in memory */ }
    this.setState({ queued: this.queue.length, pending: this.queue.map((op) => op.meta) }, 'queue');
  }

  // ---- snapshot cache ----------------------------------------------------------------

  cacheKeyOf(slug) {
    return `${this.opts.cacheKey}:snap:${this.state.get().user ?? 'anon'}:${slug}`;
  }

  loadCache(slug) {
    try {
      const raw = this.opts.cache?.getItem(this.cacheKeyOf(slug));
      if (!raw) return null;
      const c = JSON.parse(raw);
      // Only a complete, well-formed entry is trusted; anything else refetches.
      return c?.v === 1 && isSnapshot(c) ? c : null;
    } catch {
      return null;
    }
  }

  saveCache() {
    // Debounced: a busy store changes many times a second.
    clearTimeout(this.cacheTimer);
    this.cacheTimer = setTimeout(() => {
      const s = this.state.get();
      if (s.seq === null || !s.dashboard || !s.page || !s.info) return;
      const entry = { v: 1, seq: s.seq, info: s.info, dashboard: s.dashboard, sales: s.sales, page: s.page, view: s.view };
      try {
        this.opts.cache?.setItem(this.cacheKeyOf(s.store), JSON.stringify(entry));
      } catch { /* quota: resume then falls back to a snapshot */ }
    }, 200);
  }

  // ---- helpers ---------------------------------------------------------------------

  setState(patch, reason) {
    this.state.set(patch, reason);
    this.emit('change', { state: this.state.get(), reason });
  }

  setConnection(connection) {
    if (this.state.get().connection === connection) return;
    this.setState({ connection }, 'connection');
    this.emit('connection', { state: connection });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function pageOf(f) {
  return { seq: f.seq, view: f.view, total: f.total, rows: f.rows };
}

/** Drops empty filters so views compare and serialize the same way. */
function cleanView(view) {
  const v = { ...view };
  for (const k of ['q', 'status']) if (v[k] === undefined || v[k] === null || v[k] === '') delete v[k];
  return v;
}

function safeStorage(name) {
  try {
    return globalThis[name] ?? null;
  } catch {
    return null; // blocked by the browser's privacy settings
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
