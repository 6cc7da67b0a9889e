// sync/write-queue.js: REST writes and the offline queue. A write that fails
// on the network is queued (localStorage by default, never a Blob body) and
// replayed in order with its If-Match version and Idempotency-Key, so a
// replay never overwrites a newer change and never applies twice; a 412
// becomes a `conflict` event.

import { ApiError } from '../api.js';
import { removePrefixed } from './core.js';

/**
 * @typedef {object} WriteQueue
 * @property {(op: import('../sync-client.js').WriteOp) => Promise<any>} write sends, or queues behind earlier queued writes
 * @property {() => Promise<void>} flush replays the queue (one replay at a time)
 * @property {() => void} clear forgets the queue and its stored copies
 * @property {() => void} stop cancels the retry timer
 */

/**
 * Creates the queue, loading what a previous page left in storage.
 * @param {import('./core.js').SyncCore} core
 * @returns {WriteQueue}
 */
export function createWriteQueue(core) {
  const { opts, state, api } = core;
  let flushing = false;
  let retryTimer;
  let queue = load();
  publish();

  function key() {
    return `${opts.cacheKey}:queue:${state.get().user ?? 'anon'}`;
  }

  function load() {
    try {
      const raw = opts.queueStorage?.getItem(key());
      const list = raw ? JSON.parse(raw) : [];
      return Array.isArray(list) ? list.filter((op) => op && typeof op.path === 'string' && typeof op.method === 'string') : [];
    } catch {
      return [];
    }
  }

  function save() {
    try {
      opts.queueStorage?.setItem(key(), JSON.stringify(queue.filter((op) => !(op.body instanceof Blob))));
    } catch { /* storage full or disabled: the queue still lives in memory */ }
    publish();
  }

  /** The queue length and the queued writes' `meta`, in the state. */
  function publish() {
    core.setState({ queued: queue.length, pending: queue.map((op) => op.meta) }, 'queue');
  }

  async function write(op) {
    op = { idempotencyKey: crypto.randomUUID(), ...op };
    if (queue.length && !(op.body instanceof Blob)) {
      enqueue(op);
      flush();
      return { queued: true };
    }
    return send(op, true);
  }

  /** One request: `{ok, data}`, `{conflict, current}`, or queued on a network error. */
  async function send(op, queueOnNetworkError) {
    try {
      const data = await api.request(op.method, op.path, op);
      core.emit('write-applied', { op, result: data });
      return { ok: true, data };
    } catch (err) {
      if (err instanceof ApiError) {
        if (err.status === 412) {
          const current = err.details?.current ?? null;
          core.emit('conflict', { op, current });
          return { conflict: true, current };
        }
        throw err;
      }
      if (!queueOnNetworkError || op.body instanceof Blob) throw err;
      enqueue(op);
      return { queued: true };
    }
  }

  function enqueue(op) {
    queue.push(op);
    save();
    core.emit('queued', { op });
    scheduleRetry();
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    if (queue.length && !core.stopped) retryTimer = setTimeout(() => flush(), 3_000);
  }

  async function flush() {
    if (flushing || !queue.length || core.stopped) return;
    flushing = true;
    // A replayed edit raises the product's version; a later queued edit of the
    // same product made against the same old version is ours, not a conflict.
    const rebased = new Map();
    try {
      while (queue.length) {
        const op = queue[0];
        op.replayed = true;
        const moved = rebased.get(op.path);
        if (moved && op.ifMatch === moved.from) op.ifMatch = moved.to;
        try {
          const result = await send(op, false);
          const version = result.data?.product?.version;
          if (result.ok && op.ifMatch !== undefined && Number.isInteger(version)) {
            rebased.set(op.path, { from: op.ifMatch, to: version });
          }
        } catch (err) {
          if (!(err instanceof ApiError)) break; // still offline: keep it, retry later
          core.emit('write-failed', { op, error: err });
        }
        queue.shift();
        save();
      }
    } finally {
      flushing = false;
      scheduleRetry();
    }
  }

  function clear() {
    removePrefixed(opts.queueStorage, `${opts.cacheKey}:`);
    queue = [];
    core.setState({ queued: 0, pending: [] }, 'queue');
  }

  function stop() {
    clearTimeout(retryTimer);
  }

  return { write, flush, clear, stop };
}
