// sync/frames.js: applying validated data to the state: snapshot, batch,
// page and presence frames (and the same shapes from REST while polling).
// This is where "exactly once" is kept: events at or below the applied seq
// are ignored, and a batch that does not start at applied + 1 resubscribes
// instead of guessing (a gap means a frame was lost).

import { applyEvents } from '../state.js';
import { isPage } from '../protocol.js';
import { cleanView, pageOf } from './core.js';

/**
 * @typedef {object} FrameApplier
 * @property {(f: any) => void} apply a store frame: snapshot, batch, page or presence
 * @property {(f: any) => void} applySnapshot
 * @property {(events: any[], to: number) => boolean} applyEventList applies events above the
 *   applied seq and advances it to `to`; true when the page's rows may have moved
 * @property {(slug: string, view?: object) => void} enterStore shows a store's cached data, or none
 * @property {() => Promise<void>} fetchPage refetches the product page over REST
 */

/**
 * @param {import('./core.js').SyncCore} core
 * @returns {FrameApplier}
 */
export function createFrameApplier(core) {
  const { state } = core;
  // The applied seq at the last gap: a second gap there cannot be filled.
  let gapSeq = null;

  function apply(f) {
    switch (f.type) {
      case 'snapshot': applySnapshot(f); break;
      case 'batch': applyBatch(f); break;
      case 'page': applyPage(f); break;
      case 'presence':
        core.setState({ presence: { admins: f.admins, editors: f.editors, viewers: f.viewers, followers: f.followers } }, 'presence');
        break;
      default: break;
    }
  }

  function applySnapshot(f) {
    const s = state.get();
    const info = f.info ?? s.info ?? s.stores.find((x) => x.slug === s.store) ?? null;
    gapSeq = null;
    core.setState({
      info, seq: f.seq, dashboard: f.dashboard, sales: f.sales,
      page: pageOf(f.page), view: f.page.view, syncedAt: Date.now(),
    }, 'snapshot');
    core.topics.refreshedAt(f.seq);
    core.cache.save();
  }

  function applyBatch(f) {
    const seq = state.get().seq;
    if (seq === null || f.to <= seq) return; // waiting for a snapshot, or a duplicate
    if (f.from > seq + 1) {
      // A gap: resume from what was applied; twice at the same seq means the
      // server cannot fill it, so start over from a snapshot.
      const again = gapSeq === seq;
      gapSeq = seq;
      core.socket.subscribe({ fresh: again });
      return;
    }
    applyEventList(f.events.filter((e) => e.seq > seq), f.to);
    core.digest.schedule();
  }

  function applyEventList(events, to) {
    const s = state.get();
    const next = applyEvents(s, events);
    const last = events[events.length - 1];
    const delay = last ? Date.now() - Date.parse(last.at) : s.eventDelayMs;
    core.setState({
      info: next.info, dashboard: next.dashboard, sales: next.sales, page: next.page,
      seq: to, eventDelayMs: delay, syncedAt: Date.now(),
    }, 'batch');
    for (const event of events) {
      core.emit('event', { event });
      if (event.kind === 'view.published') core.emit('published', { view: event.data.view, by: event.by });
    }
    core.cache.save();
    return next.membershipChanged;
  }

  function applyPage(f) {
    core.setState({ page: pageOf(f), view: f.view }, 'page');
    core.cache.save();
  }

  function enterStore(slug, view) {
    const s = state.get();
    const cached = core.cache.load(slug);
    const info = cached?.info ?? s.stores.find((x) => x.slug === slug) ?? null;
    gapSeq = null;
    core.setState({
      store: slug, info,
      seq: cached?.seq ?? null, dashboard: cached?.dashboard ?? null, sales: cached?.sales ?? null,
      page: cached?.page ?? null, presence: null,
      view: cleanView(view ?? cached?.view ?? s.view),
      // When the cached data was current: shown while the server is out of reach.
      syncedAt: Number.isFinite(cached?.syncedAt) ? cached.syncedAt : null,
    }, 'switch');
  }

  async function fetchPage() {
    const s = state.get();
    const page = await core.api.products(s.store, s.view);
    if (state.get().store !== s.store || !isPage(page)) return;
    core.setState({ page: pageOf(page) }, 'page');
    core.cache.save();
  }

  return { apply, applySnapshot, applyEventList, enterStore, fetchPage };
}
