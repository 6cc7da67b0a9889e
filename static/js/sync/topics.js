// sync/topics.js: selective sync. The user chooses which data types stay
// live (dashboard, products, sales, presence); the others are paused on the
// live subscription (`set_topics`) and keep what they showed. Resuming a
// topic sends the seq at which it was paused, and the server catches it up:
// a `topics` answer in mode `replay` (the client goes back to that seq and
// applies the missed events, which are harmless to apply again: versions
// guard products and the dashboard, day totals are absolute) or `snapshot`
// (too much was missed; a snapshot follows). Toggling needs the live
// socket; while long-polling, every topic stays live.

/** The topics a user can pause, in display order. */
export const TOPICS = Object.freeze(['dashboard', 'products', 'sales', 'presence']);

/**
 * @typedef {object} TopicSwitch
 * @property {() => string[]} live the topics live now
 * @property {(topic: string, live: boolean) => boolean} set pauses or resumes a topic; false when it cannot now
 * @property {(f: any) => void} onAnswer a `topics` frame
 * @property {(seq: number) => void} refreshedAt the whole state was replaced at `seq` (a snapshot)
 */

/**
 * @param {import('./core.js').SyncCore} core
 * @returns {TopicSwitch}
 */
export function createTopicSwitch(core) {
  const { state } = core;

  function set(topic, live) {
    const s = state.get();
    if (!TOPICS.includes(topic) || s.topics.includes(topic) === live || !core.socket.isLive()) return false;
    const topics = TOPICS.filter((t) => (t === topic ? live : s.topics.includes(t)));
    if (!topics.length) return false;
    const paused = { ...s.paused };
    const frame = { type: 'set_topics', id: core.newId(), store: s.store, topics };
    if (live) {
      frame.since = paused[topic];
      delete paused[topic];
    } else {
      // Everything up to the applied seq arrived with the topic live; what
      // is still in flight arrives too, so resuming from here misses nothing.
      paused[topic] = s.seq;
    }
    core.setState({ topics, paused }, 'topics');
    core.socket.send(frame);
    return true;
  }

  function onAnswer(f) {
    // Replayed batches start right after `since`: go back there to take them.
    if (f.mode === 'replay') core.setState({ seq: f.since }, 'catch-up');
  }

  function refreshedAt(seq) {
    const { paused } = state.get();
    if (Object.keys(paused).length) {
      core.setState({ paused: Object.fromEntries(Object.keys(paused).map((t) => [t, seq])) }, 'topics');
    }
  }

  return { live: () => state.get().topics, set, onAnswer, refreshedAt };
}
