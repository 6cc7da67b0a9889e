// views/health.js: sync health in human units: this client's connection,
// last seq, round trip (with a sparkline of the last pings), event delay,
// reconnects, consistency checks (and the mismatches repaired by a resync),
// queued writes and who is watching (and following); plus, for
// admins, the server's own figures from GET /api/v1/admin/health:
// connections, sync success, p99 delivery latency (sparkline), resident
// memory and memory per connection in MB, the alerts firing, the early
// warnings (a threshold the trend will cross soon, and its runbook), and a
// link to the week of sync performance and the daily reports on /manage.

import { h, svg, setText } from '../dom.js';
import { formatBytes, formatNumber, formatTime } from '../format.js';
import { notificationPermissionButton } from './notify.js';

/** Ping round trips kept for the sparkline. */
const RTT_KEEP = 30;

/** "1 admin", "2 viewers". */
function count(n, word) {
  return `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;
}

const ROWS = [
  ['connection', 'Connection', (s) => s.connection],
  ['last-update', 'Last update', (s) => (s.syncedAt ? formatTime(new Date(s.syncedAt).toISOString()) : '–')],
  ['seq', 'Last applied seq', (s) => (s.seq === null ? '–' : String(s.seq))],
  ['rtt', 'Round trip (ping)', (s) => (s.rttMs === null ? '–' : `${s.rttMs} ms`)],
  ['delay', 'Last event delay', (s) => (s.eventDelayMs === null ? '–' : `${Math.max(0, s.eventDelayMs)} ms`)],
  ['reconnects', 'Reconnects', (s) => String(s.reconnects)],
  ['consistency', 'Consistency checks', (s) => `${formatNumber(s.digestChecks)} checked, ${formatNumber(s.digestMismatches)} mismatched and resynced`],
  ['queued', 'Queued writes', (s) => String(s.queued)],
  ['presence', 'Watching now', (s) => (s.presence
    ? `${count(s.presence.admins, 'admin')}, ${count(s.presence.editors, 'editor')}, ${count(s.presence.viewers, 'viewer')}` : '–')],
  ['followers', 'Following the published page', (s) => (s.presence?.followers === undefined ? '–' : formatNumber(s.presence.followers))],
];

/**
 * A small line chart of recent values (no axes: the figure beside it gives the scale).
 * @param {string} label what the values are, for assistive tech
 * @returns {{el: SVGElement, render: (values: number[]) => void}}
 */
function sparkline(label) {
  const el = svg('svg', { viewBox: '0 0 100 24', class: 'sparkline', role: 'img', 'aria-label': label, preserveAspectRatio: 'none' });
  const line = svg('polyline', { 'vector-effect': 'non-scaling-stroke' });
  el.append(line);
  return {
    el,
    render(values) {
      const v = values.filter(Number.isFinite);
      if (v.length < 2) {
        line.setAttribute('points', '');
        return;
      }
      const max = Math.max(...v, 1);
      line.setAttribute('points', v.map((x, i) => `${(i / (v.length - 1)) * 100},${22 - (x / max) * 20}`).join(' '));
      el.setAttribute('aria-label', `${label}: ${v.length} values, last ${Math.round(v[v.length - 1])} ms, highest ${Math.round(max)} ms`);
    },
  };
}

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
  const rttLine = sparkline('Round trip of recent pings');
  cells.get('rtt').parentElement.after(h('div', {}, h('dt', { text: 'Recent round trips' }), h('dd', {}, rttLine.el)));
  const server = h('dl', { class: 'health server-health' });
  const serverNote = h('p', { class: 'muted' });
  const el = h('section', { class: 'card health-card', 'aria-labelledby': 'health-title' },
    h('h2', { id: 'health-title', text: 'Sync health' }), list, notificationPermissionButton(),
    serverHealth ? h('h3', { text: 'Server' }) : null, serverHealth ? serverNote : null, serverHealth ? server : null,
    serverHealth ? h('p', {}, h('a', { href: '/manage#operations', text: 'Sync performance and daily health reports' })) : null);

  const rtts = [];
  let lastRtt = null;
  const render = (s, reason) => {
    for (const [key, , fmt] of ROWS) setText(cells.get(key), fmt(s));
    if (reason === 'health' && s.rttMs !== null && s.rttMs !== lastRtt) {
      rtts.push(s.rttMs);
      if (rtts.length > RTT_KEEP) rtts.shift();
      rttLine.render(rtts);
    }
    lastRtt = s.rttMs;
  };
  render(client.state.get(), 'start');
  client.state.subscribe(render);

  if (serverHealth) {
    const latency = sparkline('p99 delivery latency, last 15 minutes');
    const poll = async () => {
      try {
        const body = await client.api.health();
        const samples = Array.isArray(body?.samples) ? body.samples : [];
        const last = samples[samples.length - 1] ?? {};
        const alerts = Array.isArray(body?.alerts) ? body.alerts : [];
        const warnings = Array.isArray(body?.warnings) ? body.warnings : [];
        const p99 = Number.isFinite(last.latency_p99_ms) ? `${last.latency_p99_ms.toFixed(1)} ms` : '–';
        const rows = [
          ['connections', 'WebSocket connections', formatNumber(body?.connections)],
          ['sync-success', 'Sync success', Number.isFinite(body?.sync_success) ? `${(body.sync_success * 100).toFixed(2)} %` : '–'],
          ['latency', 'p99 delivery latency', p99],
          ['memory', 'Server memory', formatBytes(last.resident_bytes)],
          ['memory-per-connection', 'Memory per connection', formatBytes(last.memory_per_connection_bytes)],
          ['alerts', 'Alerts', alerts.length ? alerts.map((a) => a?.message ?? String(a)).join('; ') : 'none'],
          ['warnings', 'Early warnings', warnings.length ? warnings.map((w) => w?.message ?? String(w)).join('; ') : 'none'],
          ['sampled', 'Sampled at', typeof last.at === 'string' ? formatTime(last.at) : '–'],
        ];
        server.replaceChildren(...rows.map(([key, k, v]) => h('div', {}, h('dt', { text: k }), h('dd', { text: v, dataset: { field: key } }))));
        server.querySelector('[data-field="latency"]').parentElement
          .after(h('div', {}, h('dt', { text: 'p99 latency, 15 min' }), h('dd', {}, latency.el)));
        latency.render(samples.map((x) => x.latency_p99_ms));
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
