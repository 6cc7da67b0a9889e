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
//
// This module is the public face (options, state, methods, events); the work
// is done by one module per concern under sync/, sharing one core:
//   sync/core.js            options, state store, events, ids
//   sync/socket.js          WebSocket, reconnect backoff, pings, frame routing
//   sync/poller.js          long-poll fallback over GET /events
//   sync/frames.js          applying snapshots, batches, pages, presence
//   sync/write-queue.js     REST writes and the offline queue
//   sync/snapshot-cache.js  the per-store cache that makes resume possible
//   sync/digest.js          consistency checks against the server's digests
//   sync/topics.js          selective sync: pausing and resuming topics

import { createCore, cleanView, DEFAULT_VIEW } from './sync/core.js';
import { createSocket } from './sync/socket.js';
import { createPoller } from './sync/poller.js';
import { createFrameApplier } from './sync/frames.js';
import { createWriteQueue } from './sync/write-queue.js';
import { createSnapshotCache } from './sync/snapshot-cache.js';
import { createDigestCheck } from './sync/digest.js';
import { createTopicSwitch, TOPICS } from './sync/topics.js';

export { DEFAULT_VIEW, TOPICS };

/**
 * @typedef {'connecting'|'live'|'reconnecting'|'polling'|'stopped'} ConnectionState
 * `polling`: the socket is down but `GET /events` long-polling works.
 */

/**
 * @typedef {object} SyncState
 * @property {string|null} user
 * @property {any[]} stores the stores the user may use (`hello`, then each `stores` frame)
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
 * @property {number} resyncs subscriptions the server ended with `resync` since start
 * @property {number} queued writes waiting in the offline queue
 * @property {any[]} pending the queued writes' `meta`
 * @property {number|null} retryAt when the socket is tried next (epoch ms), while it is down
 * @property {number|null} syncedAt when the server last answered (data current as of then)
 * @property {string[]} topics the topics live now (`setTopicLive`)
 * @property {Object<string, number>} paused each paused topic and the seq it was paused at
 * @property {number} digestChecks digests compared with the server's since start
 * @property {number} digestMismatches of those, how many differed (each one resynced)
 * @property {number|null} digestMatchedSeq the seq of the last digest that matched
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
 * @property {number} [digestCheckMs] quiet time after which the state is checked against
 *   the server's digest (default 3000; 0: never)
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
 * `unauthenticated` {}, `digest-mismatch` {seq, parts}.
 */
export class SyncClient extends EventTarget {
  /** @type {import('./sync/core.js').SyncCore} */
  #core;
  #onOnline;

  /** @param {SyncClientOptions} opts */
  constructor(opts) {
    super();
    const core = createCore(this, opts);
    core.cache = createSnapshotCache(core);
    core.queue = createWriteQueue(core);
    core.frames = createFrameApplier(core);
    core.poller = createPoller(core);
    core.socket = createSocket(core);
    core.digest = createDigestCheck(core);
    core.topics = createTopicSwitch(core);
    core.stop = () => this.stop();
    this.#core = core;
    this.opts = core.opts;
    this.api = core.api;
    /** @type {import('./state.js').StateStore<SyncState>} */
    this.state = core.state;
    this.#onOnline = () => {
      core.socket.reconnectNow();
      core.queue.flush();
    };
  }

  /** Connects and subscribes to `opts.store` (resuming from the cache). */
  start() {
    const core = this.#core;
    core.stopped = false;
    globalThis.addEventListener?.('online', this.#onOnline);
    // An explicit `view` option (a deep link) wins over the cached one.
    if (core.opts.store) core.frames.enterStore(core.opts.store, core.opts.view ? core.state.get().view : undefined);
    core.socket.connect();
    core.queue.flush();
  }

  /** Closes the socket, stops polling and timers. The cache is kept. */
  stop() {
    const core = this.#core;
    core.stopped = true;
    globalThis.removeEventListener?.('online', this.#onOnline);
    core.socket.close();
    core.digest.stop();
    core.queue.stop();
    core.poller.stop();
    core.setConnection('stopped');
  }

  /** Forgets every cached snapshot and the offline queue (logout). */
  clearStorage() {
    this.#core.cache.clear();
    this.#core.queue.clear();
  }

  /**
   * Shows another store: leaves the current one in the same round trip.
   * Data of the previous store is cleared at once, never shown under the new
   * store's name.
   * @param {string} slug
   */
  switchStore(slug) {
    const core = this.#core;
    if (slug === core.state.get().store) return;
    core.frames.enterStore(slug, { ...core.state.get().view, page: 1, q: undefined, status: undefined });
    if (core.socket.isLive()) core.socket.switchStore();
    else core.poller.restart();
  }

  /**
   * Changes the product-table page, sort, filter or size.
   * @param {object} view fields to change
   */
  setView(view) {
    const core = this.#core;
    const s = core.state.get();
    const next = cleanView({ ...s.view, ...view });
    core.setState({ view: next }, 'view');
    if (core.socket.isLive()) {
      core.socket.send({ type: 'set_view', id: core.newId(), store: s.store, view: next });
    } else {
      core.frames.fetchPage().catch(() => {});
    }
  }

  /**
   * Follows (or stops following) the views editors publish.
   * @param {boolean} follow
   */
  setFollow(follow) {
    this.#core.setState({ follow }, 'follow');
    if (this.#core.socket.isLive()) this.#core.socket.subscribe();
  }

  /**
   * Publishes a view so that following clients move to it (editor or admin).
   * @param {object} [view] default: the current view
   */
  publishView(view = this.state.get().view) {
    const core = this.#core;
    if (!core.socket.isLive()) throw new Error('publishing needs the live connection');
    core.socket.send({ type: 'publish_view', id: core.newId(), store: core.state.get().store, view: cleanView(view) });
  }

  /**
   * Publishes one of the store's saved views by name (editor or admin).
   * @param {string} name
   */
  publishSaved(name) {
    const core = this.#core;
    if (!core.socket.isLive()) throw new Error('publishing needs the live connection');
    core.socket.send({ type: 'publish_view', id: core.newId(), store: core.state.get().store, name });
  }

  /**
   * Keeps a data type live or pauses it (selective sync): `dashboard`,
   * `products`, `sales` or `presence`. A paused type keeps what it showed;
   * resuming catches it up from where it was paused. Needs the live socket.
   * @param {string} topic
   * @param {boolean} live
   * @returns {boolean} false when nothing was sent (offline, unchanged, or the last live topic)
   */
  setTopicLive(topic, live) {
    return this.#core.topics.set(topic, live);
  }

  /** Compares the state with the server's digest now (it is also checked after each quiet period). */
  checkDigest() {
    this.#core.digest.checkNow();
  }

  /** Starts over from a fresh snapshot (the manual refresh button). */
  refresh() {
    const core = this.#core;
    if (core.socket.isLive()) {
      core.socket.subscribe({ fresh: true });
    } else {
      core.setState({ seq: null }, 'refresh');
      core.poller.restart();
      core.socket.reconnectNow();
    }
  }

  /**
   * Sends a write. A network failure queues it for replay (unless its body is
   * a Blob); writes queue behind earlier queued ones to keep their order.
   * Resolves `{ok, data}`, `{queued}` or `{conflict, current}`; rejects with
   * ApiError for other refusals.
   * @param {WriteOp} op
   * @returns {Promise<{ok: true, data: any} | {queued: true} | {conflict: true, current: any}>}
   */
  write(op) {
    return this.#core.queue.write(op);
  }

  /** Tries the socket now instead of waiting out the backoff, and replays the queue. */
  retryNow() {
    this.#core.socket.reconnectNow();
    this.#core.queue.flush();
  }

  /** Replays the offline queue now (it also replays on reconnect). */
  retryQueue() {
    this.#core.queue.flush();
  }
}
