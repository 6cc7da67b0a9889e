// sync/poller.js: the fallback while the socket cannot be held: long-polls
// `GET /events` (or takes a REST snapshot when there is no seq yet) and
// applies the same events through frames.js, so the page is never silently
// stale. When HTTP answers it asks the socket to retry at once.

import { backoffDelay } from '../backoff.js';
import { ApiError } from '../api.js';
import { parseEventsPage, isSnapshot } from '../protocol.js';

/**
 * @typedef {object} Poller
 * @property {() => Promise<void>} start polls until the socket is live, the store changes or `stop()`
 * @property {() => void} stop aborts the current poll
 * @property {() => void} restart stops, then starts again unless the socket is live
 */

/**
 * @param {import('./core.js').SyncCore} core
 * @returns {Poller}
 */
export function createPoller(core) {
  const { opts, state, api } = core;
  let pollAbort = null;

  function stop() {
    pollAbort?.abort();
    pollAbort = null;
  }

  function restart() {
    stop();
    if (!core.socket.isLive()) start();
  }

  async function start() {
    if (pollAbort || core.stopped || !state.get().store) return;
    const ctl = new AbortController();
    pollAbort = ctl;
    const store = state.get().store;
    let failures = 0;
    let answered = false;
    while (!ctl.signal.aborted && !core.socket.isLive() && state.get().store === store) {
      try {
        if (!(await pollOnce(store, ctl.signal))) break;
        // HTTP answers again (or for the first time), so the socket may work
        // too: try it now rather than wait out the backoff. Only then, so a
        // proxy that blocks WebSockets is not hammered at the event rate.
        if (failures > 0 || !answered) core.socket.reconnectNow();
        failures = 0;
        answered = true;
        core.setConnection('polling');
        core.synced();
      } catch (err) {
        if (ctl.signal.aborted) break;
        if (err instanceof ApiError && err.status === 401) {
          core.emit('unauthenticated', {});
          core.stop();
          break;
        }
        if (state.get().connection === 'polling') core.setConnection('reconnecting');
        const { baseMs, capMs } = opts.backoff;
        await sleep(backoffDelay(Math.min(failures++, 6), baseMs, capMs), ctl.signal);
      }
    }
    if (pollAbort === ctl) pollAbort = null;
  }

  /**
   * One round: a snapshot when there is no seq yet, else one long poll of
   * events. False when the answer is moot (aborted, or the seq moved meanwhile).
   */
  async function pollOnce(store, signal) {
    const seq = state.get().seq;
    if (seq === null) {
      const snap = await api.snapshot(store, state.get().view);
      if (signal.aborted) return false;
      if (!isSnapshot(snap)) throw new Error('invalid snapshot');
      core.frames.applySnapshot(snap);
      return true;
    }
    const body = await api.events(store, { since: seq, wait: opts.pollWaitSec, limit: 1000 }, signal);
    if (signal.aborted || state.get().seq !== seq) return false;
    const parsed = parseEventsPage(body);
    if (!parsed.ok) {
      core.emit('invalid-frame', { reason: parsed.reason });
      throw new Error(parsed.reason);
    }
    const events = parsed.events.filter((e) => e.seq > seq);
    if (events.length) {
      const moved = core.frames.applyEventList(events, events[events.length - 1].seq);
      // No page frames on this path: refetch the rows when they may have moved.
      if (moved) await core.frames.fetchPage();
    }
    return true;
  }

  return { start, stop, restart };
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
