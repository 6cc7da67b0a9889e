// views/status.js: the connection indicator and the polite announcer that
// tells screen-reader users about live updates without stealing focus.

import { h, setText } from '../dom.js';

const LABELS = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Offline – polling',
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
    el.title = s.queued ? `${s.queued} change(s) waiting to be sent` : '';
  };
  render(client.state.get());
  client.state.subscribe(render);
  return el;
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
