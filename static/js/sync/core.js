// sync/core.js: what every part of the sync client shares: the resolved
// options, the REST helper, the state store, the event emitter, the frame
// id counter and the stopped flag. The parts (socket, poller, frames, write
// queue, snapshot cache) are created around one core and reach each other
// through it, so none of them holds the public SyncClient object.

import { createApi } from '../api.js';
import { createStateStore } from '../state.js';
import { TOPICS } from './topics.js';

/** The product-table view the server uses when none is given. */
export const DEFAULT_VIEW = Object.freeze({ page: 1, page_size: 25, sort: 'id', dir: 'asc' });

/**
 * @typedef {object} SyncCore
 * @property {any} opts the options with their defaults filled in
 * @property {ReturnType<typeof createApi>} api
 * @property {import('../state.js').StateStore<import('../sync-client.js').SyncState>} state
 * @property {boolean} stopped `stop()` was called (and `start()` not since)
 * @property {() => number} newId the next id for a client frame
 * @property {(type: string, detail: any) => void} emit dispatches a CustomEvent on the client
 * @property {(patch: object, reason: string) => void} setState sets state and emits `change`
 * @property {(connection: import('../sync-client.js').ConnectionState) => void} setConnection
 * @property {() => void} synced records that the server just answered (`syncedAt`)
 * @property {() => void} stop stops the whole client (set by the client)
 * @property {import('./socket.js').SyncSocket} socket
 * @property {import('./poller.js').Poller} poller
 * @property {import('./frames.js').FrameApplier} frames
 * @property {import('./write-queue.js').WriteQueue} queue
 * @property {import('./snapshot-cache.js').SnapshotCache} cache
 * @property {import('./digest.js').DigestCheck} digest
 * @property {import('./topics.js').TopicSwitch} topics
 */

/**
 * Creates the shared core; the client then attaches the parts to it.
 * @param {EventTarget} target where events are dispatched (the SyncClient)
 * @param {import('../sync-client.js').SyncClientOptions} opts
 * @returns {SyncCore}
 */
export function createCore(target, opts) {
  const ls = safeStorage('localStorage');
  const resolved = {
    baseUrl: globalThis.location?.origin ?? '',
    cache: safeStorage('sessionStorage'),
    queueStorage: ls,
    cacheKey: 'storesync',
    pollWaitSec: 25,
    pingIntervalMs: 10_000,
    digestCheckMs: 3_000,
    WebSocket: globalThis.WebSocket,
    ...opts,
    backoff: { baseMs: 500, capMs: 15_000, ...opts.backoff },
  };
  const api = createApi({ base: resolved.baseUrl, token: resolved.token, fetch: resolved.fetch });
  const state = createStateStore({
    user: resolved.user ?? null, stores: [], store: null, info: null, seq: null,
    dashboard: null, sales: null, page: null, presence: null,
    view: { ...DEFAULT_VIEW, ...resolved.view }, follow: Boolean(resolved.follow),
    connection: 'connecting', rttMs: null, eventDelayMs: null, reconnects: 0, resyncs: 0, queued: 0, pending: [],
    retryAt: null, syncedAt: null,
    topics: TOPICS.filter((t) => !resolved.topics || resolved.topics.includes(t)), paused: {},
    digestChecks: 0, digestMismatches: 0, digestMatchedSeq: null,
  });
  let nextId = 1;
  const core = {
    opts: resolved,
    api,
    state,
    stopped: false,
    newId: () => nextId++,
    emit(type, detail) {
      target.dispatchEvent(new CustomEvent(type, { detail }));
    },
    setState(patch, reason) {
      state.set(patch, reason);
      core.emit('change', { state: state.get(), reason });
    },
    setConnection(connection) {
      if (state.get().connection === connection) return;
      core.setState({ connection }, 'connection');
      core.emit('connection', { state: connection });
    },
    /** The server answered: the data shown is current as of now. */
    synced() {
      core.setState({ syncedAt: Date.now() }, 'health');
    },
    stop: () => {},
    socket: null,
    poller: null,
    frames: null,
    queue: null,
    cache: null,
    digest: null,
    topics: null,
  };
  return core;
}

/**
 * The page object of a `page` frame or answer (drops `type` and `store`).
 * @param {any} f
 */
export function pageOf(f) {
  return { seq: f.seq, view: f.view, total: f.total, rows: f.rows };
}

/**
 * Drops empty filters so views compare and serialize the same way.
 * @param {object} view
 * @returns {object}
 */
export function cleanView(view) {
  const v = { ...view };
  for (const k of ['q', 'status']) if (v[k] === undefined || v[k] === null || v[k] === '') delete v[k];
  return v;
}

/**
 * Removes the keys of this client (`prefix…`) from a storage.
 * @param {Storage|null|undefined} storage
 * @param {string} prefix
 */
export function removePrefixed(storage, prefix) {
  if (!storage) return;
  for (const key of Object.keys(storage)) if (key.startsWith(prefix)) storage.removeItem(key);
}

function safeStorage(name) {
  try {
    return globalThis[name] ?? null;
  } catch {
    return null; // blocked by the browser's privacy settings
  }
}
