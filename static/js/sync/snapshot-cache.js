// sync/snapshot-cache.js: the per-user, per-store copy of the last applied
// data and seq (sessionStorage by default). It is what lets a reconnect or
// a page reload resume with `since` instead of refetching a snapshot.

import { isSnapshot } from '../protocol.js';
import { removePrefixed } from './core.js';

/**
 * @typedef {object} SnapshotCache
 * @property {(slug: string) => any} load the cached entry of a store, or null
 * @property {() => void} save stores the current store's data (debounced)
 * @property {() => void} clear forgets every cached entry of this client
 */

/**
 * @param {import('./core.js').SyncCore} core
 * @returns {SnapshotCache}
 */
export function createSnapshotCache(core) {
  const { opts, state } = core;
  let timer;

  const keyOf = (slug) => `${opts.cacheKey}:snap:${state.get().user ?? 'anon'}:${slug}`;

  function load(slug) {
    try {
      const raw = opts.cache?.getItem(keyOf(slug));
      if (!raw) return null;
      const c = JSON.parse(raw);
      // Only a complete, well-formed entry is trusted; anything else refetches.
      return c?.v === 1 && isSnapshot(c) ? c : null;
    } catch {
      return null;
    }
  }

  function save() {
    // Debounced: a busy store changes many times a second.
    clearTimeout(timer);
    timer = setTimeout(() => {
      const s = state.get();
      if (s.seq === null || !s.dashboard || !s.page || !s.info) return;
      const entry = { v: 1, seq: s.seq, info: s.info, dashboard: s.dashboard, sales: s.sales, page: s.page, view: s.view, syncedAt: s.syncedAt };
      try {
        opts.cache?.setItem(keyOf(s.store), JSON.stringify(entry));
      } catch { /* quota: resume then falls back to a snapshot */ }
    }, 200);
  }

  function clear() {
    removePrefixed(opts.cache, `${opts.cacheKey}:`);
  }

  return { load, save, clear };
}
