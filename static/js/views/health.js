// views/health.js: sync health as this client sees it (connection, last
// seq, latency, reconnects, queued writes, presence), plus the server's own
// figures from GET /api/v1/admin/health when the server offers them.

import { h, setText } from '../dom.js';
import { formatNumber, formatTime } from '../format.js';

const ROWS = [
  ['connection', 'Connection', (s) => s.connection],
  ['seq', 'Last applied seq', (s) => (s.seq === null ? '–' : String(s.seq))],
  ['rtt', 'Round trip (ping)', (s) => (s.rttMs === null ? '–' : `${s.rttMs} ms`)],
  ['delay', 'Last event delay', (s) => (s.eventDelayMs === null ? '–' : `${Math.max(0, s.eventDelayMs)} ms`)],
  ['reconnects', 'Reconnects', (s) => String(s.reconnects)],
  ['queued', 'Queued writes', (s) => String(s.queued)],
  ['presence', 'Watching now', (s) => (s.presence
    ? `${s.presence.admins} admins, ${s.presence.editors} editors, ${s.presence.viewers} viewers` : '–')],
];

/**
 * @param {import('../sync-client.js').SyncClient} client
 * @param {{serverHealth?: boolean}} [opts] poll the server's health endpoint (admins)
 * @returns {HTMLElement}
 */
export function healthView(client, { serverHealth = false } = {}) {
  const cells = new Map();
  const list = h('dl', { class: 'health' }, ...ROWS.map(([key, label]) => {
    const dd = h('dd', { dataset: { field: key } });
    cells.set(key, dd);
    return h('div', {}, h('dt', { text: label }), dd);
  }));
  const server = h('dl', { class: 'health server-health' });
  const serverNote = h('p', { class: 'muted' });
  const el = h('section', { class: 'card health-card', 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title', text: 'Sync health' }), list,
    serverHealth ? h('h3', { text: 'Server' }) : null, serverHealth ? serverNote : null, serverHealth ? server : null);

  const render = (s) => {
    for (const [key, , fmt] of ROWS) setText(cells.get(key), fmt(s));
  };
  render(client.state.get());
  client.state.subscribe(render);

  if (serverHealth) {
    // The endpoint's shape is the server's to evolve: show its scalar figures
    // by name, the fields of the latest sample of any time series, and any
    // alerts as text.
    const label = (k) => k.replace(/_/g, ' ');
    const scalar = (v) => (typeof v === 'number' ? formatNumber(v) : v === null ? '–' : String(v));
    const poll = async () => {
      try {
        const body = await client.api.health();
        const entries = [];
        for (const [k, v] of Object.entries(body ?? {})) {
          if (v === null || ['number', 'string', 'boolean'].includes(typeof v)) entries.push([label(k), scalar(v)]);
          else if (Array.isArray(v) && k.includes('alert')) {
            entries.push([label(k), v.length ? v.map((a) => (typeof a === 'string' ? a : a?.message ?? JSON.stringify(a))).join('; ') : 'none']);
          } else if (Array.isArray(v) && v.length && typeof v[v.length - 1] === 'object') {
            const latest = v[v.length - 1];
            for (const [sk, sv] of Object.entries(latest)) {
              if (sk === 'at' && typeof sv === 'string') entries.push([`${label(k)}: latest at`, formatTime(sv)]);
              else if (sv === null || ['number', 'string', 'boolean'].includes(typeof sv)) entries.push([label(sk), scalar(sv)]);
            }
          }
        }
        server.replaceChildren(...entries.slice(0, 24).map(([k, v]) => h('div', {}, h('dt', { text: k }), h('dd', { text: v }))));
        setText(serverNote, '');
      } catch (err) {
        server.replaceChildren();
        setText(serverNote, err.status === 404 ? 'This server does not report sync health.'
          : err.status === 403 ? 'Server health is for admins.' : 'Server health unavailable.');
      }
    };
    poll();
    const timer = setInterval(() => {
      if (client.state.get().connection === 'stopped') clearInterval(timer);
      else poll();
    }, 10_000);
  }
  return el;
}
