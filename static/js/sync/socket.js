// sync/socket.js: the WebSocket and its reconnect loop: connecting with
// full-jitter backoff, the hello/subscribe handshake, protocol pings (round
// trip, and sockets that died without a close event), and routing each
// validated frame. While the socket is down it hands over to poller.js.

import { backoffDelay } from '../backoff.js';
import { parseServerFrame, frameStore } from '../protocol.js';

/**
 * @typedef {object} SyncSocket
 * @property {() => void} connect opens the socket unless stopped or already open
 * @property {() => void} reconnectNow skips the rest of the backoff
 * @property {() => void} close closes the socket and stops its timers (client stop)
 * @property {() => boolean} isLive open and past the hello
 * @property {(frame: object) => void} send sends a frame when the socket is open
 * @property {(opts?: {fresh?: boolean, resync?: string}) => void} subscribe (re)subscribes to the
 *   current store; `resync` tells the server why the client starts over
 * @property {() => void} switchStore moves the subscription to the current store
 */

/**
 * @param {import('./core.js').SyncCore} core
 * @returns {SyncSocket}
 */
export function createSocket(core) {
  const { opts, state } = core;
  let ws = null;
  let helloSeen = false;
  let everLive = false;
  let attempt = 0;
  let subId = null;
  let reconnectTimer;
  let pingTimer;
  /** @type {Map<string, number>} ping id → when it was sent */
  const pings = new Map();

  const isLive = () => ws?.readyState === 1 && helloSeen;

  // ---- connection and reconnect loop ----------------------------------------

  function connect() {
    if (core.stopped || ws) return;
    clearTimeout(reconnectTimer);
    const url = new URL('/ws', opts.baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (opts.token) url.searchParams.set('token', opts.token);
    let sock;
    try {
      sock = new opts.WebSocket(url);
    } catch {
      socketDown();
      return;
    }
    ws = sock;
    helloSeen = false;
    sock.onmessage = (ev) => onText(ev.data);
    sock.onclose = () => {
      if (ws === sock) socketDown();
    };
  }

  /** The socket closed or never opened: back off, and poll meanwhile. */
  function socketDown() {
    ws = null;
    helloSeen = false;
    clearInterval(pingTimer);
    pings.clear();
    if (core.stopped) return;
    if (state.get().connection !== 'polling') core.setConnection(everLive ? 'reconnecting' : 'connecting');
    const { baseMs, capMs } = opts.backoff;
    const delay = backoffDelay(attempt++, baseMs, capMs);
    reconnectTimer = setTimeout(() => connect(), delay);
    core.setState({ retryAt: Date.now() + delay }, 'retry');
    core.poller.start();
  }

  function reconnectNow() {
    if (core.stopped || ws) return;
    clearTimeout(reconnectTimer);
    connect();
  }

  function close() {
    clearTimeout(reconnectTimer);
    clearInterval(pingTimer);
    const old = ws;
    ws = null;
    if (old) {
      old.onclose = old.onmessage = old.onerror = null;
      old.close(1000);
    }
  }

  // ---- frames out -------------------------------------------------------------

  function send(frame) {
    if (ws?.readyState === 1) ws.send(JSON.stringify(frame));
  }

  function subscription({ fresh = false } = {}) {
    const s = state.get();
    const frame = { store: s.store, view: s.view, follow: s.follow };
    if (opts.topics || Object.keys(s.paused).length) frame.topics = s.topics;
    if (!fresh && s.seq !== null) frame.since = s.seq;
    return frame;
  }

  function subscribe({ fresh = false, resync } = {}) {
    if (!state.get().store) return;
    subId = core.newId();
    send({ type: 'subscribe', id: subId, ...subscription({ fresh }), ...(resync ? { resync } : {}) });
  }

  function switchStore() {
    send({ type: 'switch_store', id: (subId = core.newId()), ...subscription() });
  }

  // ---- frames in ----------------------------------------------------------------

  function onText(text) {
    const parsed = parseServerFrame(text);
    if (!parsed.ok) {
      core.emit('invalid-frame', { reason: parsed.reason });
      return;
    }
    const f = parsed.frame;
    if (f.type === 'hello') return onHello(f);
    if (f.type === 'pong') return onPong(f);
    if (f.type === 'error') return onServerError(f);
    if (f.type === 'stores') return core.setState({ stores: f.stores }, 'stores');
    // Frames of a store we just left may still be in flight.
    if (frameStore(f) !== state.get().store) return;
    if (f.type === 'subscribed') {
      if (f.ref === subId) {
        core.setConnection('live');
        core.queue.flush();
        core.digest.schedule();
      }
    } else if (f.type === 'resync') {
      core.setState({ resyncs: state.get().resyncs + 1 }, 'health');
      // An archived or deleted store is not subscribed again by itself.
      if (f.reason === 'store_archived' || f.reason === 'store_deleted') core.emit('store-ended', { store: f.store, reason: f.reason });
      else subscribe({ fresh: true });
    } else if (f.type === 'digest') {
      core.digest.onAnswer(f);
    } else if (f.type === 'topics') {
      core.topics.onAnswer(f);
    } else {
      core.frames.apply(f);
    }
  }

  function onHello(f) {
    helloSeen = true;
    core.poller.stop();
    if (everLive) core.setState({ reconnects: state.get().reconnects + 1 }, 'health');
    everLive = true;
    attempt = 0;
    core.setState({ user: f.user, stores: f.stores, retryAt: null, syncedAt: Date.now() }, 'hello');
    clearInterval(pingTimer);
    // Protocol pings measure latency and find sockets that died silently
    // (no close event, e.g. a laptop that slept).
    pingTimer = setInterval(() => ping(), opts.pingIntervalMs);
    ping();
    subscribe();
  }

  function ping() {
    const now = Date.now();
    for (const sent of pings.values()) {
      if (now - sent > 2 * opts.pingIntervalMs + 5_000) {
        const dead = ws;
        if (dead) {
          dead.onclose = dead.onmessage = null;
          dead.close(4000);
        }
        socketDown();
        return;
      }
    }
    const id = `p${core.newId()}`;
    pings.set(id, now);
    send({ type: 'ping', id });
  }

  function onPong(f) {
    const sent = pings.get(f.ref);
    if (sent === undefined) return;
    pings.delete(f.ref);
    core.setState({ rttMs: Date.now() - sent, syncedAt: Date.now() }, 'health');
  }

  function onServerError(f) {
    core.emit('server-error', { code: f.code, message: f.message, ref: f.ref });
    // The store actor is restarting: ask again shortly.
    if (f.ref === subId && f.code === 'unavailable') setTimeout(() => subscribe(), 1_000);
  }

  return { connect, reconnectNow, close, isLive, send, subscribe, switchStore };
}
