// views/status.js: what the page says about its connection: the indicator
// in the header, the outage banner (why, since when the data is from, when
// the next try is, "retry now"), the Refresh button that shows it is
// reloading, and the polite announcer that tells screen-reader users about
// live updates without stealing focus. Guarded by tests/browser/outage.test.js.

import { h, setText } from '../dom.js';
import { formatTime } from '../format.js';

const LABELS = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  // Data still arrives, a few seconds late at most: live, by another path.
  polling: 'Live (polling)',
  stopped: 'Offline',
};

/**
 * The connection indicator; `data-state` carries the machine-readable state.
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function connectionIndicator(client) {
  const text = h('span', { class: 'conn-text' });
  const el = h('p', { class: 'conn', id: 'connection', role: 'status' },
    h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), text);
  const render = (s) => {
    el.dataset.state = s.connection;
    setText(text, LABELS[s.connection] ?? s.connection);
    el.title = s.connection === 'polling'
      ? 'The live connection is blocked; updates arrive by polling the server.'
      : s.queued ? `${s.queued} change(s) waiting to be sent` : '';
  };
  render(client.state.get());
  client.state.subscribe(render);
  return el;
}

/** "12 s", "3 min", "2 h": how long ago, roughly. */
function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/**
 * The outage banner: shown while the server cannot be reached, with the
 * reason, the time of the data shown, a countdown to the next try and
 * "Retry now"; hidden while live or polling.
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function outageBanner(client) {
  const title = h('strong', { class: 'outage-title' });
  const since = h('span', { class: 'outage-since', dataset: { field: 'last-updated' } });
  const next = h('span', { class: 'outage-next', dataset: { field: 'next-try' } });
  const queued = h('span', { class: 'outage-queued' });
  const retry = h('button', { type: 'button', text: 'Retry now', on: { click: () => client.retryNow() } });
  const el = h('section', { class: 'outage', id: 'outage', 'aria-labelledby': 'outage-title', hidden: true },
    h('p', { id: 'outage-title' }, title), h('p', {}, since, ' ', next, ' ', queued), retry);
  let ticker = null;

  const render = () => {
    const s = client.state.get();
    const down = s.connection === 'reconnecting' || (s.connection === 'connecting' && s.retryAt !== null);
    el.hidden = !down;
    if (!down) {
      clearInterval(ticker);
      ticker = null;
      return;
    }
    ticker ??= setInterval(render, 1000);
    setText(title, globalThis.navigator?.onLine === false
      ? 'You are offline: this device has no network.'
      : 'The server cannot be reached right now.');
    setText(since, s.syncedAt
      ? `Showing data from ${formatTime(new Date(s.syncedAt).toISOString())} (${ago(Date.now() - s.syncedAt)} ago).`
      : 'No data loaded yet.');
    const wait = s.retryAt === null ? null : Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
    setText(next, wait === null ? '' : wait > 0 ? `Next try in ${wait} s.` : 'Trying now…');
    setText(queued, s.queued ? `${s.queued} change(s) will be sent when it is back.` : '');
  };
  render();
  client.state.subscribe((s, reason) => {
    if (['connection', 'retry', 'queue', 'hello'].includes(reason)) render();
  });
  globalThis.addEventListener?.('offline', render);
  globalThis.addEventListener?.('online', render);
  return el;
}

/**
 * The Refresh button: reloads the store from a fresh snapshot and shows it
 * is doing so (busy, then "Refreshed at …" in `say`).
 * @param {import('../sync-client.js').SyncClient} client
 * @param {(msg: string) => void} say
 * @param {HTMLElement} main dimmed while reloading
 * @returns {HTMLElement}
 */
export function refreshButton(client, say, main) {
  const button = h('button', { type: 'button', id: 'refresh', text: 'Refresh' });
  let timer = null;
  const done = (msg) => {
    clearTimeout(timer);
    button.removeAttribute('aria-busy');
    button.disabled = false;
    setText(button, 'Refresh');
    main.classList.remove('refreshing');
    say(msg);
  };
  button.addEventListener('click', () => {
    button.setAttribute('aria-busy', 'true');
    button.disabled = true;
    setText(button, 'Refreshing…');
    main.classList.add('refreshing');
    client.refresh();
    timer = setTimeout(() => done('Refresh is taking long: the server does not answer yet.'), 15_000);
  });
  client.state.subscribe((s, reason) => {
    if (reason === 'snapshot' && button.disabled) done(`Refreshed at ${formatTime(new Date().toISOString())}.`);
  });
  return button;
}

/**
 * A visually hidden aria-live region. Bursts of updates are merged so a busy
 * store does not flood the reader: one message at most every 1.5 s, the
 * latest ones summarised.
 * @returns {{el: HTMLElement, announce: (msg: string) => void}}
 */
export function createAnnouncer() {
  const el = h('div', { class: 'visually-hidden', id: 'announcer', 'aria-live': 'polite', 'aria-atomic': 'true' });
  let pending = [];
  let timer = null;
  const flush = () => {
    timer = null;
    if (!pending.length) return;
    const msgs = pending;
    pending = [];
    el.textContent = msgs.length > 3 ? `${msgs.length} updates. ${msgs.slice(-2).join('. ')}` : msgs.join('. ');
    timer = setTimeout(flush, 1500);
  };
  return {
    el,
    announce(msg) {
      pending.push(msg);
      if (!timer) timer = setTimeout(flush, 150);
    },
  };
}
