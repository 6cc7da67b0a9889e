// views/live-topics.js: the "Live data" switches (selective sync). Each data
// type (dashboard, products, sales, who is watching) stays live or is paused,
// e.g. products while editing a long form so rows do not move under the
// cursor; a paused type keeps what it showed and says so, and catches up when
// switched back on. The switches need the live connection.

import { h, setText, uniqueId } from '../dom.js';
import { TOPICS } from '../sync-client.js';

const LABELS = { dashboard: 'Dashboard', products: 'Products', sales: 'Sales', presence: 'Who is watching' };

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement}
 */
export function liveTopicsControl(client) {
  const boxes = {};
  const states = {};
  const note = h('p', { class: 'form-status', role: 'status' });
  const switches = TOPICS.map((topic) => {
    const id = uniqueId('live-topic');
    boxes[topic] = h('input', { id, type: 'checkbox', dataset: { topic }, on: { change: () => {
      if (!client.setTopicLive(topic, boxes[topic].checked)) render(client.state.get());
    } } });
    states[topic] = h('span', { class: 'topic-state', dataset: { topic } });
    return h('span', { class: 'field-inline' }, boxes[topic], h('label', { for: id, text: LABELS[topic] }), states[topic]);
  });
  const el = h('fieldset', { class: 'card live-topics', id: 'live-topics' },
    h('legend', { text: 'Live data' }), ...switches, note);

  function render(s) {
    const live = s.connection === 'live';
    for (const topic of TOPICS) {
      const on = s.topics.includes(topic);
      boxes[topic].checked = on;
      // The last live type stays on: a subscription needs one.
      boxes[topic].disabled = !live || (on && s.topics.length === 1);
      setText(states[topic], on ? '' : 'paused');
      states[topic].classList.toggle('badge', !on);
    }
    const paused = TOPICS.filter((t) => !s.topics.includes(t)).map((t) => LABELS[t]);
    setText(note, paused.length
      ? `Paused: ${paused.join(', ')}. Changes by others are not shown until you switch them back on.`
      : (live ? '' : 'The switches work while the connection is live.'));
  }
  client.state.subscribe(render);
  render(client.state.get());
  return el;
}
