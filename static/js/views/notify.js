// views/notify.js: notifications of sync failures: a stack of in-page
// notices (a queued change refused on replay, the server's error frames, a
// lost live connection and its return), and, when the tab is hidden and the
// user allowed it, the same text as a system notification (Notification API).

import { h } from '../dom.js';
import { describeOp, failure } from './admin-forms.js';

/** How long a notice stays (ms); failures stay until closed. */
const INFO_MS = 6000;
/** A connection lost for less than this is not worth a notice (ms). */
const OUTAGE_NOTICE_MS = 5000;

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @returns {HTMLElement} the notice stack (fixed at the bottom of the page)
 */
export function notifications(client) {
  const el = h('div', { class: 'toasts', id: 'notifications', role: 'status', 'aria-live': 'polite' });

  function notify(text, { failure: failed = false } = {}) {
    const close = h('button', { type: 'button', class: 'small', text: 'Dismiss' });
    const item = h('div', { class: failed ? 'toast failed' : 'toast' }, h('p', { text }), close);
    close.addEventListener('click', () => item.remove());
    el.append(item);
    while (el.children.length > 4) el.firstElementChild.remove();
    if (!failed) setTimeout(() => item.remove(), INFO_MS);
    if (globalThis.document?.hidden && globalThis.Notification?.permission === 'granted') {
      new Notification('storesync', { body: text, tag: 'storesync-sync' });
    }
  }

  client.addEventListener('write-failed', (ev) => {
    notify(`A queued change to ${describeOp(ev.detail.op)} was refused: ${failure(ev.detail.error)}`, { failure: true });
  });
  client.addEventListener('server-error', (ev) => {
    if (ev.detail.code !== 'unavailable') notify(`The server refused a request: ${ev.detail.message}`, { failure: true });
  });

  // A lost connection is told once it lasts, and its return only if told.
  let downTimer = null;
  let toldDown = false;
  client.addEventListener('connection', (ev) => {
    const state = ev.detail.state;
    if (state === 'reconnecting' && !downTimer) {
      downTimer = setTimeout(() => {
        toldDown = true;
        notify('Lost the connection to the server. Changes are kept and sent when it is back.', { failure: true });
      }, OUTAGE_NOTICE_MS);
    } else if (state === 'live' || state === 'polling') {
      clearTimeout(downTimer);
      downTimer = null;
      if (toldDown) {
        for (const t of el.querySelectorAll('.toast.failed')) t.remove();
        notify('Connected again; the data is current.');
      }
      toldDown = false;
    }
  });
  return el;
}

/**
 * A button that asks for system notifications (shown only where the browser
 * has them and the user has not decided yet).
 * @returns {HTMLElement|null}
 */
export function notificationPermissionButton() {
  if (!globalThis.Notification || Notification.permission !== 'default') return null;
  const button = h('button', { type: 'button', class: 'small', text: 'Notify me of sync failures' });
  button.addEventListener('click', async () => {
    await Notification.requestPermission();
    button.remove();
  });
  return button;
}
