// views/history.js: recent events of the store (the audit trail): loaded
// from GET /events on entering a store, then extended by live events.

import { h, setText } from '../dom.js';
import { formatTime } from '../format.js';
import { describeEvent } from './describe.js';

const KEEP = 50;

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function historyView(client) {
  const list = h('ol', { class: 'history', reversed: true, tabindex: '0', 'aria-labelledby': 'history-title' });
  const status = h('p', { class: 'muted' });
  const el = h('section', { class: 'card history-card', 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title', text: 'Recent changes' }), status, list);
  let loadedFor = null;
  let shown = new Set();

  const item = (e) => h('li', { dataset: { seq: String(e.seq), kind: e.kind } },
    h('span', { class: 'seq', text: `#${e.seq}` }), ' ',
    h('time', { datetime: e.at, text: formatTime(e.at) }), ' ',
    h('span', { class: 'by', text: e.by.replace(/^user:/, '') }), ': ',
    h('span', { text: describeEvent(e, client.state.get()) || e.kind }));

  const add = (e) => {
    if (shown.has(e.seq)) return;
    shown.add(e.seq);
    list.prepend(item(e));
    while (list.children.length > KEEP) list.lastElementChild.remove();
    setText(status, '');
  };

  async function load(store, seq) {
    list.replaceChildren();
    shown = new Set();
    setText(status, 'Loading…');
    try {
      const since = Math.max(0, (seq ?? 0) - 30);
      const body = await client.api.events(store, { since, limit: 30 });
      if (client.state.get().store !== store) return;
      for (const e of body.events ?? []) add(e);
      setText(status, list.children.length ? '' : 'No changes yet.');
    } catch (err) {
      setText(status, `History unavailable: ${err.message}`);
    }
  }

  client.state.subscribe((s, reason) => {
    if (s.store !== loadedFor && s.seq !== null) {
      loadedFor = s.store;
      load(s.store, s.seq);
    } else if (reason === 'switch') {
      loadedFor = null;
      list.replaceChildren();
      setText(status, 'Loading…');
    }
  });
  client.addEventListener('event', (ev) => {
    if (client.state.get().store === loadedFor) add(ev.detail.event);
  });
  return el;
}
