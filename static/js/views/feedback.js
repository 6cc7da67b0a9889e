// views/feedback.js: "Send feedback": a rating and a comment about how live
// updates work for this user, sent with the page's own sync statistics
// (connection state history, last ping latency, resync count) to
// POST /stores/{store}/feedback; and, for the store's admins, the list of
// what users sent (GET /stores/{store}/feedback).

import { h, replace, setText, uniqueId } from '../dom.js';
import { formatTime } from '../format.js';

/** Most state changes kept and sent (the server takes at most 50). */
const MAX_STATES = 50;
const RATINGS = ['poor', 'weak', 'fair', 'good', 'excellent'];

const feedbackPath = (slug) => `/stores/${encodeURIComponent(slug)}/feedback`;

/**
 * Records the page's connection state changes from now on.
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {() => Array<{state: string, at: string}>} the latest changes, oldest first
 */
function recordStates(client) {
  const states = [];
  let last = null;
  const note = (s) => {
    if (s.connection === last) return;
    last = s.connection;
    states.push({ state: s.connection, at: new Date().toISOString() });
    if (states.length > MAX_STATES) states.shift();
  };
  note(client.state.get());
  client.state.subscribe(note);
  return () => states.slice();
}

/**
 * The "Send feedback" control.
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function feedbackControl(client) {
  const states = recordStates(client);
  const name = uniqueId('rating');
  const commentId = uniqueId('comment');
  const ratings = h('fieldset', { class: 'ratings' },
    h('legend', { text: 'How well do live updates work for you?' }),
    ...RATINGS.map((word, i) => {
      const id = `${name}-${i + 1}`;
      return h('span', { class: 'rating' },
        h('input', { type: 'radio', id, name, value: String(i + 1), required: true }),
        h('label', { for: id, text: `${i + 1} – ${word}` }));
    }));
  const comment = h('textarea', { id: commentId, name: 'comment', rows: 3, maxlength: '2000' });
  const status = h('p', { class: 'form-status', role: 'status' });
  const form = h('form', { class: 'form feedback-form' },
    ratings,
    h('div', { class: 'field' }, h('label', { for: commentId, text: 'Comment (optional)' }), comment),
    h('button', { type: 'submit', text: 'Send feedback' }), status);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const s = client.state.get();
    const rating = Number(form.querySelector('input[type="radio"]:checked')?.value);
    const body = {
      rating,
      comment: comment.value.trim(),
      stats: { states: states(), last_latency_ms: s.rttMs, resyncs: s.resyncs ?? 0 },
    };
    setText(status, 'Sending…');
    try {
      await client.api.request('POST', feedbackPath(s.store), { body });
      form.reset();
      setText(status, 'Thank you: your feedback was sent to the store’s administrators.');
    } catch (err) {
      setText(status, `Not sent: ${err.message}`);
    }
  });
  return h('details', { class: 'card feedback', id: 'feedback' }, h('summary', { text: 'Send feedback' }), form);
}

/**
 * What users sent about the current store, newest first (store admins).
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function feedbackList(client) {
  const list = h('ol', { class: 'feedback-list' });
  const status = h('p', { class: 'muted', role: 'status' });
  const load = async () => {
    const store = client.state.get().store;
    if (!store) return;
    try {
      const reports = await client.api.request('GET', `${feedbackPath(store)}?limit=50`);
      replace(list, ...reports.map(item));
      setText(status, reports.length ? '' : 'No feedback yet.');
    } catch (err) {
      replace(list);
      setText(status, err.code === 'forbidden' ? 'Only the store’s administrators see feedback.' : `Not loaded: ${err.message}`);
    }
  };
  // Loaded for each store shown: at start and after a switch.
  let shown = null;
  const follow = (s) => {
    if (!s.store || s.store === shown) return;
    shown = s.store;
    load();
  };
  client.state.subscribe(follow);
  const el = h('section', { class: 'card feedback-reports', 'aria-labelledby': 'feedback-title' },
    h('h2', { id: 'feedback-title', text: 'Feedback' }),
    h('button', { type: 'button', class: 'small', text: 'Refresh feedback', on: { click: load } }),
    status, list);
  follow(client.state.get());
  return el;
}

/** One report: rating, comment, who and when, and its sync statistics. */
function item(r) {
  const latency = r.stats.last_latency_ms === null || r.stats.last_latency_ms === undefined
    ? 'no latency measured' : `last latency ${r.stats.last_latency_ms} ms`;
  const path = r.stats.states.map((c) => c.state).join(' → ');
  return h('li', { dataset: { id: String(r.id) } },
    h('p', { text: `${r.rating}/5 – ${RATINGS[r.rating - 1] ?? ''} · ${r.by.replace(/^(user|token):/, '')} · ${formatTime(r.created_at)}` }),
    r.comment ? h('p', { class: 'feedback-comment', text: r.comment }) : null,
    h('p', { class: 'muted', text: `${latency} · ${r.stats.resyncs} resyncs · ${path || 'no state changes'}` }));
}
